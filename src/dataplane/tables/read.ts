/**
 * Control-plane readers of a shard's tables (main thread, while the shard keeps translating).
 * Every record carries a sequence number the shard makes odd while rewriting it: a reader retries
 * a record that changed under it a few times, then skips it. Fields are validated before use, so
 * a torn or stale read can show an outdated row but never throws.
 */
import type { BibRow, Protocol, SessionRow } from '../manager-api';
import { embed } from '../rfc6052';
import { formatIpv4 } from '../packet/addr-text';
import {
  BF_IN_USE, BF_STATIC, B_FLAGS, B_PORTS, B_SEQ, B_STRIDE, B_V4, B_V6, H_POOL6, H_POOL6_LEN, H_TIMEOUT, NIL,
  S_BIB, S_MISC, S_R4, S_SEQ, S_STRIDE, SF_PEER,
} from './layout';
import { TIMER_CLASSES } from './expiry';
import { TCP_STATE_NAMES } from './tcp-state';
import { checkBuffers, type ShardTableBuffers } from './shard-tables';

const RETRIES = 4;

function protoName(n: number): Protocol | null {
  return n === 6 ? 'TCP' : n === 17 ? 'UDP' : n === 1 ? 'ICMP' : null;
}

/** RFC 5952 text of 16 bytes. */
export function formatIpv6(b: Uint8Array, off = 0): string {
  const w: number[] = [];
  for (let i = 0; i < 8; i++) w.push((b[off + 2 * i] << 8) | b[off + 2 * i + 1]);
  let best = -1, bestLen = 1;
  for (let i = 0; i < 8;) {
    if (w[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = (a: number[]) => a.map((x) => x.toString(16)).join(':');
  return best < 0 ? hex(w) : `${hex(w.slice(0, best))}::${hex(w.slice(best + bestLen))}`;
}

interface BibSnapshot { proto: number; isStatic: boolean; a6: Uint8Array; port6: number; v4: number; port4: number }

/** One consistent copy of BIB record b, or null (free, invalid, or kept changing). */
function snapshotBib(rec: Int32Array, b: number): BibSnapshot | null {
  const p = b * B_STRIDE;
  for (let attempt = 0; attempt < RETRIES; attempt++) {
    const seq = Atomics.load(rec, p + B_SEQ);
    if (seq & 1) continue;
    const flags = rec[p + B_FLAGS];
    const a6 = new Uint8Array(16);
    for (let k = 0; k < 4; k++) {
      const x = rec[p + B_V6 + k];
      a6[4 * k] = x >>> 24; a6[4 * k + 1] = x >>> 16; a6[4 * k + 2] = x >>> 8; a6[4 * k + 3] = x;
    }
    const ports = rec[p + B_PORTS];
    const v4 = rec[p + B_V4] >>> 0;
    if (Atomics.load(rec, p + B_SEQ) !== seq) continue;
    if ((flags & BF_IN_USE) === 0 || protoName(flags & 0xff) === null) return null;
    return { proto: flags & 0xff, isStatic: (flags & BF_STATIC) !== 0, a6, port6: ports >>> 16, v4, port4: ports & 0xffff };
  }
  return null;
}

/** A subscriber filter (`--subscriber`): an IPv6 prefix. */
export interface Within6 { addr: Uint8Array; len: number }

/** Is a inside prefix w (none: everything is)? */
export function within6(a: Uint8Array, w: Within6 | undefined): boolean {
  if (w === undefined) return true;
  const full = w.len >> 3, rest = w.len & 7;
  for (let i = 0; i < full; i++) if (a[i] !== w.addr[i]) return false;
  if (rest === 0) return true;
  const m = (0xff00 >> rest) & 0xff;
  return (a[full] & m) === (w.addr[full] & m);
}

export function readBib(buffers: ShardTableBuffers, shard: number, protocol?: Protocol, within?: Within6): BibRow[] {
  checkBuffers(buffers);
  const rec = new Int32Array(buffers.bib);
  const rows: BibRow[] = [];
  for (let b = 0; b < buffers.capacity; b++) {
    const e = snapshotBib(rec, b);
    if (e === null) continue;
    const name = protoName(e.proto)!;
    if (protocol !== undefined && name !== protocol) continue;
    if (!within6(e.a6, within)) continue;
    rows.push({
      protocol: name, ipv6: formatIpv6(e.a6), ipv6Port: e.port6, ipv4: formatIpv4(e.v4), ipv4Port: e.port4,
      static: e.isStatic, shard,
    });
  }
  return rows;
}

export function readSessions(buffers: ShardTableBuffers, shard: number, nowMs: number, protocol?: Protocol, within?: Within6): SessionRow[] {
  checkBuffers(buffers);
  const h = new Int32Array(buffers.header);
  const rec = new Int32Array(buffers.session);
  const lastUse = new Float64Array(buffers.sessionTime);
  const bibRec = new Int32Array(buffers.bib);
  const flags = new Uint8Array(buffers.sessionFlags);
  const pool6 = new Uint8Array(16);
  for (let k = 0; k < 4; k++) {
    const x = h[H_POOL6 + k];
    pool6[4 * k] = x >>> 24; pool6[4 * k + 1] = x >>> 16; pool6[4 * k + 2] = x >>> 8; pool6[4 * k + 3] = x;
  }
  const pool6Len = h[H_POOL6_LEN];
  const validLen = [32, 40, 48, 56, 64, 96].includes(pool6Len);
  const remote6 = new Uint8Array(16);
  const rows: SessionRow[] = [];
  for (let s = 0; s < buffers.capacity; s++) {
    const p = s * S_STRIDE;
    let got = false, bib = NIL, r4 = 0, misc = 0, used = 0, fl = 0;
    for (let attempt = 0; attempt < RETRIES && !got; attempt++) {
      const seq = Atomics.load(rec, p + S_SEQ);
      if (seq & 1) continue;
      bib = rec[p + S_BIB]; r4 = rec[p + S_R4] >>> 0; misc = rec[p + S_MISC]; used = lastUse[s]; fl = flags[s];
      got = Atomics.load(rec, p + S_SEQ) === seq;
    }
    if (!got || bib < 0 || bib >= buffers.capacity) continue;
    const e = snapshotBib(bibRec, bib);
    if (e === null) continue;
    const name = protoName(e.proto)!;
    if (protocol !== undefined && name !== protocol) continue;
    if (!within6(e.a6, within)) continue;
    const cls = misc & 0xff, state = (misc >>> 8) & 0xff, rport = misc >>> 16;
    const timeout = cls < TIMER_CLASSES ? h[H_TIMEOUT + cls] : 0;
    if (validLen) embed(pool6, pool6Len, r4, remote6, 0); else remote6.fill(0);
    rows.push({
      protocol: name,
      ipv6Local: formatIpv6(e.a6), ipv6LocalPort: e.port6,
      ipv6Remote: formatIpv6(remote6), ipv6RemotePort: e.proto === 1 ? e.port6 : rport,
      ipv4Local: formatIpv4(e.v4), ipv4LocalPort: e.port4,
      ipv4Remote: formatIpv4(r4), ipv4RemotePort: rport,
      state: e.proto === 6 ? (TCP_STATE_NAMES[state] ?? 'UNKNOWN') : '-',
      expiresInMs: Number.isFinite(used) ? Math.max(0, used + timeout - nowMs) : 0,
      shard,
      origin: (fl & SF_PEER) !== 0 ? 'peer' : 'local',
    });
  }
  return rows;
}
