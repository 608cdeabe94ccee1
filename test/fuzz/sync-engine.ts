/**
 * Fuzzing the session-sync receiver (docs/fuzzing.md "Session sync"): seeded mutations of valid
 * sync datagrams (and plain garbage, and forged sources) handed to SyncService.onMessage, which a
 * real UDP socket would call, over real shard tables (test/unit/helpers/sync-rig.ts). Invariants:
 *
 *  - onMessage never throws; every datagram is counted once, as one refusal reason or accepted;
 *  - an accepted datagram's records are all accounted for (applied or refused by a named reason);
 *  - the tables stay consistent: every BIB entry is findable from both sides, dynamic entries lie
 *    in this shard's slice of pool4, every session belongs to a live BIB entry and is findable,
 *    per-entry session counts and the header counts are right, and pool4's port bitmap agrees
 *    with the BIB (its free-port count per address).
 */
import { SyncService } from '../../src/control/sync/service';
import { validateSync } from '../../src/control/sync/config';
import { FLAG_DUMP, FLAG_LOSS, FLAG_MAC, HEADER_BYTES, MAC_BYTES, MsgType, RECORD_BYTES, encodeRecord, sign, writeHeader } from '../../src/control/sync/wire';
import { SR_KIND, SR_PORTS, SR_R4, SR_RPORT, SR_STRIDE, SR_V4, SR_V6 } from '../../src/dataplane/sync/record';
import { BF_IN_USE, BF_STATIC, B_FLAGS, B_SESSIONS, B_STRIDE, NIL } from '../../src/dataplane/tables/layout';
import type { Pool4 } from '../../src/dataplane/tables/pool4';
import { makeConfig, range } from '../unit/helpers/core-harness';
import { SyncRig } from '../unit/helpers/sync-rig';
import { Prng } from './prng';

export class SyncInvariantViolation extends Error {
  constructor(readonly invariant: string, detail: string) { super(`${invariant}: ${detail}`); }
}

export interface SyncFuzzOptions { seed: number; datagrams: number; shards: number; key: boolean; capacity?: number }
export interface SyncFuzzStats { datagrams: number; counters: Record<string, number>; bib: number; sessions: number; ms: number }

const PEER = '192.0.2.2';
const KEY = 'fuzzing key: long enough to count';
const POOL_LO = 61001, POOL_HI = 61128;
const REFUSALS = ['sync-rejected-source', 'sync-rejected-auth', 'sync-rejected-malformed', 'sync-rejected-replay', 'sync-rejected-disabled'] as const;
const RECORD_OUTCOMES = ['sync-applied', 'sync-rejected-not-pool4', 'sync-rejected-conflict', 'sync-rejected-table-full',
  'sync-rejected-bad-record', 'sync-rejected-stale', 'sync-rejected-backlog', 'sync-rejected-disabled'] as const;

/** A plausible record: few IPv6 hosts and ports (so records meet), pool4 ports mostly inside pool4. */
function seedRecord(r: Prng, w: Int32Array): void {
  const proto = r.pick([6, 17, 1]);
  const kind = r.chance(0.8) ? 1 : 2;
  const state = proto === 6 ? r.range(1, 7) : 0;
  w[SR_KIND] = kind | (proto << 8) | (state << 16);
  w[SR_V6] = 0x20010db8; w[SR_V6 + 1] = 0; w[SR_V6 + 2] = 0; w[SR_V6 + 3] = r.range(1, 6);
  const port4 = r.chance(0.9) ? r.range(POOL_LO, POOL_HI) : r.range(0, 65535);
  w[SR_PORTS] = (r.range(40000, 40007) << 16) | port4;
  w[SR_V4] = r.chance(0.95) ? 0xcb007101 | 0 : r.next() | 0;
  w[SR_R4] = r.chance(0.5) ? 0xcb007110 | 0 : r.next() | 0;
  w[SR_RPORT] = proto === 1 ? port4 : r.pick([53, 80, 443, 5353]);
}

export async function fuzzSync(o: SyncFuzzOptions): Promise<SyncFuzzStats> {
  const t0 = Date.now();
  const r = new Prng(o.seed);
  const pool = [range('203.0.113.1', POOL_LO, POOL_HI)];
  const rig = new SyncRig(o.shards, makeConfig({ ssEnabled: true }, [], { TCP: pool, UDP: pool, ICMP: pool }), o.capacity ?? 64);
  const svc = new SyncService(validateSync({ peers: [PEER], ...(o.key ? { key: KEY } : {}) }), rig);
  svc.setGlobals(makeConfig({ ssEnabled: true }).globals);
  const key = o.key ? Buffer.from(KEY) : null;
  const st = svc.stats;
  let idHi = 0x100, idLo = 0x200;
  let seq = 0, dumpSeq = 0;
  // What the receiver now believes of the peer: the generator follows it (a mutated sequence number
  // or sender id that was accepted would otherwise turn every later datagram into a replay).
  const peer = (svc as unknown as { peers: { get(a: string): { idHi: number; idLo: number; seq: number; dumpSeq: number; known: boolean } } }).peers.get(PEER)!;
  const w = new Int32Array(SR_STRIDE);
  let lastGood: Buffer | null = null;
  for (let i = 0; i < o.datagrams; i++) {
    // A valid datagram first...
    const dump = r.chance(0.1);
    const type = r.chance(0.05) ? MsgType.DUMP_REQUEST : MsgType.RECORDS;
    const n = type === MsgType.DUMP_REQUEST ? 0 : r.range(0, 12);
    const body = type === MsgType.DUMP_REQUEST ? 8 : n * RECORD_BYTES;
    let b = Buffer.alloc(HEADER_BYTES + body + (key ? MAC_BYTES : 0));
    const s = dump ? dumpSeq++ : seq++;
    writeHeader(b, type, (key ? FLAG_MAC : 0) | (dump && type === MsgType.RECORDS ? FLAG_DUMP : 0) | (r.chance(0.02) ? FLAG_LOSS : 0),
      { hi: idHi, lo: idLo }, r.chance(0.05) ? r.next() : s, Date.now(), n);
    for (let k = 0; k < n; k++) { seedRecord(r, w); encodeRecord(w, 0, r.chance(0.1) ? r.next() : r.range(0, 5000), b, HEADER_BYTES + k * RECORD_BYTES); }
    // ...then, most of the time, hurt it: records' bytes (re-signed: a peer that holds the key
    // and lies), header and framing bytes (not re-signed), or garbage, a replay, a forged source.
    let from = PEER;
    const how = r.int(10);
    if (how <= 3 && n > 0) {
      for (let m = r.range(1, 6); m > 0; m--) b[HEADER_BYTES + r.int(body)] = r.byte();
    } else if (how === 4) {
      for (let m = r.range(1, 4); m > 0; m--) b[r.int(HEADER_BYTES)] ^= 1 << r.int(8);
    } else if (how === 5) {
      b = b.subarray(0, r.int(b.length + 1));
    } else if (how === 6) {
      b = Buffer.concat([b, Buffer.from(Array.from({ length: r.range(1, 40) }, () => r.byte()))]);
    } else if (how === 7) {
      b = Buffer.from(Array.from({ length: r.range(0, 300) }, () => r.byte()));
    } else if (how === 8 && lastGood) {
      b = Buffer.from(lastGood);
    } else if (how === 9) {
      from = r.pick(['192.0.2.3', '::ffff:192.0.2.2', '2001:db8::2', 'not an address', '']);
    }
    if (key && how <= 3 && b.length === HEADER_BYTES + body + MAC_BYTES) sign(b, HEADER_BYTES + body, key);
    if (how <= 3 || how > 8) lastGood = b;
    const before = REFUSALS.map((k) => st[k]);
    const recvBefore = st['sync-records-received'];
    try {
      svc.onMessage(b, from, 6400);
    } catch (e) {
      throw new SyncInvariantViolation('no-throw', `seed ${o.seed} datagram ${i}: ${(e as Error).stack}`);
    }
    const refused = REFUSALS.reduce((m, k, j) => m + st[k] - before[j], 0);
    if (refused > 1) throw new SyncInvariantViolation('one-reason', `datagram ${i} counted ${refused} refusals`);
    if (refused === 0 && st['sync-records-received'] - recvBefore !== (b.length >= 30 && b[5] === 1 ? b.readUInt16BE(28) : 0)) {
      throw new SyncInvariantViolation('records-counted', `datagram ${i}: accepted, but its record count was not`);
    }
    if (peer.known) { idHi = peer.idHi; idLo = peer.idLo; seq = Math.max(seq, peer.seq + 1); dumpSeq = Math.max(dumpSeq, peer.dumpSeq + 1); }
    if (i % 64 === 63) { await settle(); checkTables(rig, o.shards); }
  }
  await settle();
  checkTables(rig, o.shards);
  const outcomes = RECORD_OUTCOMES.reduce((m, k) => m + st[k], 0) - st['sync-rejected-disabled'];
  if (outcomes !== st['sync-records-received']) {
    throw new SyncInvariantViolation('records-accounted', `${st['sync-records-received']} records received, ${outcomes} applied or refused`);
  }
  const counters = Object.fromEntries(Object.entries(st).filter(([, v]) => v !== 0));
  return {
    datagrams: o.datagrams, counters, ms: Date.now() - t0,
    bib: rig.cores.reduce((m, c) => m + c.core.tables.bib.count, 0),
    sessions: rig.cores.reduce((m, c) => m + c.core.tables.sessions.count, 0),
  };
}

/** Let the (promise-based) per-shard apply queues run dry. */
async function settle(): Promise<void> {
  for (let k = 0; k < 8; k++) await new Promise((res) => setImmediate(res));
}

function fail(what: string, detail: string): never { throw new SyncInvariantViolation(what, detail); }

/** The tables after hostile input: every structure agrees with every other. */
export function checkTables(rig: SyncRig, shards: number): void {
  rig.cores.forEach(({ core }, shard) => {
    const t = core.tables, bib = t.bib, ses = t.sessions;
    const pool4 = (core as unknown as { filtering: { pool4: Pool4 } }).filtering.pool4;
    const perBib = new Map<number, number>();
    let sCount = 0;
    for (let s = 0; s < t.buffers.capacity; s++) {
      const b = ses.bibOf(s);
      if (b === NIL) continue;
      sCount++;
      if (!bib.inUse(b)) fail('session-bib', `shard ${shard} session ${s} on a free BIB entry ${b}`);
      if (ses.lookup(b, ses.remote4(s), ses.remotePort(s)) !== s) fail('session-index', `shard ${shard} session ${s} not findable`);
      perBib.set(b, (perBib.get(b) ?? 0) + 1);
    }
    if (sCount !== ses.count) fail('session-count', `shard ${shard}: header ${ses.count}, table ${sCount}`);
    let bCount = 0;
    const a6 = new Uint8Array(16);
    const used = new Map<string, number>();
    for (let b = 0; b < bib.capacity; b++) {
      const flags = bib.rec[b * B_STRIDE + B_FLAGS];
      if ((flags & BF_IN_USE) === 0) continue;
      bCount++;
      const proto = flags & 0xff, v4 = bib.addr4(b), p4 = bib.port4(b);
      if (![1, 6, 17].includes(proto)) fail('bib-proto', `shard ${shard} entry ${b} protocol ${proto}`);
      if ((flags & BF_STATIC) === 0 && (!pool4.contains(proto, v4, p4) || p4 % shards !== shard)) {
        fail('bib-slice', `shard ${shard} entry ${b}: ${proto} ${v4}#${p4} is not this shard's to give`);
      }
      bib.copyAddr6(b, a6, 0);
      if (bib.lookup6(proto, a6, 0, bib.port6(b)) !== b) fail('bib-index6', `shard ${shard} entry ${b}`);
      if (bib.lookup4(proto, v4, p4) !== b) fail('bib-index4', `shard ${shard} entry ${b}`);
      if ((perBib.get(b) ?? 0) !== bib.rec[b * B_STRIDE + B_SESSIONS]) fail('bib-sessions', `shard ${shard} entry ${b}`);
      if ((flags & BF_STATIC) === 0 && (perBib.get(b) ?? 0) === 0) fail('bib-orphan', `shard ${shard} dynamic entry ${b} has no session`);
      const k = `${proto}|${v4}`;
      used.set(k, (used.get(k) ?? 0) + 1);
    }
    if (bCount !== bib.count) fail('bib-count', `shard ${shard}: header ${bib.count}, table ${bCount}`);
    for (const proto of [1, 6, 17]) {
      const slice = pool4.slicePorts(proto, 0xcb007101).length;
      const free = pool4.freePorts(proto, 0xcb007101);
      if (free !== slice - (used.get(`${proto}|${0xcb007101}`) ?? 0)) fail('pool4-bitmap', `shard ${shard} proto ${proto}: ${free} free of ${slice}`);
    }
  });
}
