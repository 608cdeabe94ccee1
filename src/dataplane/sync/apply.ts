/**
 * Applying a peer's sync records to this shard's tables (control path: called between bursts from
 * the shard's mailbox, so translation never stops and the tables keep their single writer). Every
 * record is checked against this translator's own configuration before it touches a table: a
 * record cannot claim an IPv4 transport address outside this shard's slice of pool4, nor take over
 * a mapping this shard already has for either side. What it changes goes through the same Bib and
 * Sessions methods as translation (so pool4's port bitmap and the flow cache follow).
 */
import { NIL, SF_PEER } from '../tables/layout';
import type { ShardTables } from '../tables/shard-tables';
import type { Pool4 } from '../tables/pool4';
import { TimerClass } from '../tables/expiry';
import { TcpState } from '../tables/tcp-state';
import {
  SR_AGE, SR_PORTS, SR_R4, SR_RPORT, SR_STRIDE, SR_V4, SR_V6, SyncKind, recordKind, recordProto, recordState, recordTime,
} from './record';

/** Outcome counts of one batch, by index (APPLY_RESULTS names them). */
export const enum ApplyResult { APPLIED = 0, DISABLED = 1, NOT_POOL4 = 2, CONFLICT = 3, TABLE_FULL = 4, BAD_RECORD = 5, STALE = 6 }
export const APPLY_RESULTS = ['applied', 'disabled', 'not-pool4', 'conflict', 'table-full', 'bad-record', 'stale'] as const;
/**
 * A removal leaves a session this translator used more than this long after the peer's last use:
 * it serves that flow now (the addresses moved here while the peer lives on and expires its copy).
 * Transit and queueing only make the peer's last use look later, so this absorbs jitter only.
 */
export const STALE_REMOVE_MS = 50;

/** Timer class of a synced session: from its state (TCP) or protocol, as filtering-and-updating.ts sets it. */
export function timerClassOf(proto: number, state: number): number {
  if (proto === 17) return TimerClass.UDP;
  if (proto === 1) return TimerClass.ICMP;
  switch (state) {
    case TcpState.ESTABLISHED: case TcpState.V4_FIN_RCV: case TcpState.V6_FIN_RCV: return TimerClass.TCP_EST;
    case TcpState.V4_INIT: return TimerClass.TCP_SYN4;
    default: return TimerClass.TCP_TRANS;
  }
}

export interface ApplyContext {
  tables: ShardTables;
  /** The current configuration's pool4 (null: no instance). */
  pool4: Pool4 | null;
  /** ss-enabled of the current instance. */
  enabled: boolean;
  shard: number;
  shards: number;
  /** Timeout per timer class in ms (a record's age never makes a session older than its timeout). */
  timeouts: Float64Array;
}

const a6 = new Uint8Array(16);

/** Apply n records from recs (SR_STRIDE words each); returns counts by ApplyResult. */
export function applyRecords(ctx: ApplyContext, recs: Int32Array, n: number, now: number): number[] {
  const out = APPLY_RESULTS.map(() => 0);
  for (let k = 0; k < n; k++) out[applyOne(ctx, recs, k * SR_STRIDE, now)]++;
  return out;
}

function applyOne(ctx: ApplyContext, w: Int32Array, o: number, now: number): ApplyResult {
  if (!ctx.enabled || ctx.pool4 === null) return ApplyResult.DISABLED;
  const kind = recordKind(w, o), proto = recordProto(w, o), state = recordState(w, o);
  if ((kind !== SyncKind.UPSERT && kind !== SyncKind.REMOVE) || (proto !== 6 && proto !== 17 && proto !== 1)
    || (proto === 6 ? state > TcpState.TRANS || state === TcpState.CLOSED : state !== 0)) return ApplyResult.BAD_RECORD;
  const port6 = w[o + SR_PORTS] >>> 16, port4 = w[o + SR_PORTS] & 0xffff;
  const v4 = w[o + SR_V4] >>> 0, r4 = w[o + SR_R4] >>> 0, rport = w[o + SR_RPORT];
  if (rport < 0 || rport > 0xffff) return ApplyResult.BAD_RECORD;
  // The IPv4 transport address must be ours to give in this shard (docs/design.md "Which shard owns a flow").
  if (!ctx.pool4.contains(proto, v4, port4) || port4 % ctx.shards !== ctx.shard) return ApplyResult.NOT_POOL4;
  for (let k = 0; k < 4; k++) {
    const x = w[o + SR_V6 + k];
    a6[4 * k] = x >>> 24; a6[4 * k + 1] = x >>> 16; a6[4 * k + 2] = x >>> 8; a6[4 * k + 3] = x;
  }
  const t = ctx.tables, bibs = t.bib, sessions = t.sessions;
  let b = bibs.lookup6(proto, a6, 0, port6);
  if (b !== NIL && (bibs.addr4(b) !== v4 || bibs.port4(b) !== port4)) return ApplyResult.CONFLICT;
  // The peer's last use on this host's clock: the record's time (when it was received, or written by
  // the shard) minus its age then; never in the future.
  const stamp = recordTime(w, o);
  const peerLast = Math.min(now, (stamp > 0 ? stamp : now) - Math.max(0, w[o + SR_AGE]));
  if (kind === SyncKind.REMOVE) {
    const s = b === NIL ? NIL : sessions.lookup(b, r4, rport);
    if (s !== NIL && t.expiry.lastUse[s] > peerLast + STALE_REMOVE_MS) return ApplyResult.STALE;
    if (s !== NIL) {
      sessions.remove(s);
      if (bibs.sessions(b) === 0 && !bibs.isStatic(b)) bibs.remove(b);
    }
    return ApplyResult.APPLIED; // already gone is what the peer asked for
  }
  let created = false;
  if (b === NIL) {
    if (bibs.lookup4(proto, v4, port4) !== NIL) return ApplyResult.CONFLICT;
    b = bibs.insert(proto, a6, 0, port6, v4, port4, false);
    if (b === NIL) return ApplyResult.TABLE_FULL;
    created = true;
  }
  const cls = timerClassOf(proto, state);
  const lastUse = Math.max(peerLast, now - (ctx.timeouts[cls] || 0));
  let s = sessions.lookup(b, r4, rport);
  if (s === NIL) {
    s = sessions.insert(b, r4, rport, state, cls, lastUse);
    if (s === NIL) {
      if (created) bibs.remove(b);
      return ApplyResult.TABLE_FULL;
    }
    sessions.flags[s] |= SF_PEER;
    return ApplyResult.APPLIED;
  }
  if (sessions.state(s) !== state) sessions.setState(s, state);
  const exp = t.expiry;
  exp.touch(s, cls, Math.max(lastUse, exp.lastUse[s]));
  return ApplyResult.APPLIED;
}
