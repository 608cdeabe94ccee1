import {
  H_S_COUNT, H_S_FREE, NIL, S_ANEXT, S_BIB, S_HNEXT, S_MISC, S_NEXT, S_PREV, S_R4, S_SEQ, S_STRIDE,
} from './layout';
import { finish, mix } from './hash';
import type { Bib } from './bib';
import type { ExpiryLists } from './expiry';
import type { ShardTableBuffers } from './shard-tables';
import { MappingEvent, type EventRing } from '../events';
import { B_STRIDE } from './layout';
import { SyncKind } from '../sync/record';
import type { SyncRing } from '../sync/ring';

/**
 * Told when a session is removed or its TCP state changes (the shard's flow cache drops its
 * entries), and when one is created on a BIB entry (transportChanged: remembered refusals of its
 * transport addresses stop applying, flow-cache.ts).
 */
export interface SessionWatcher {
  sessionChanged(i: number): void;
  transportChanged(bib: number): void;
}

/**
 * The session table (RFC 6146 §3.2). A session is (BIB entry, remote IPv4 transport address):
 * the IPv6 remote is pool6 + the remote IPv4 address (RFC 6052), so it is not stored. Two
 * indexes: (bib, r4, rport) finds the session of a packet; (bib, r4) answers address-dependent
 * filtering ("is there any session of this BIB entry with that IPv4 address?", §3.5.1).
 */
export class Sessions {
  readonly rec: Int32Array;
  /** Hash heads by (BIB entry, remote IPv4 transport address) (read by miss-prefetch.ts as well). */
  readonly heads: Int32Array;
  /** Hash heads by (BIB entry, remote IPv4 address), for address-dependent filtering (read by miss-prefetch.ts as well). */
  readonly addrHeads: Int32Array;
  private readonly mask: number;
  /** RFC 6888 mapping log (logging-session): set by the shard while the global is on, else null. */
  log: EventRing | null = null;
  /** The shard worker's flow cache, or null. */
  watcher: SessionWatcher | null = null;
  /** Session synchronisation (ss-enabled): set by the shard while the global is on, else null. */
  sync: SyncRing | null = null;
  /** SF_* flags per session (layout.ts). */
  readonly flags: Uint8Array;

  constructor(b: ShardTableBuffers, private readonly header: Int32Array, private readonly bib: Bib,
    private readonly expiry: ExpiryLists) {
    this.rec = new Int32Array(b.session);
    this.heads = new Int32Array(b.sessionHash);
    this.addrHeads = new Int32Array(b.sessionAddrHash);
    this.flags = new Uint8Array(b.sessionFlags);
    this.mask = b.capacity - 1;
  }

  get count(): number { return this.header[H_S_COUNT]; }

  lookup(bib: number, r4: number, rport: number): number {
    const r = this.rec;
    const a = r4 | 0;
    let i = this.heads[this.bucket(bib, a, rport)];
    while (i !== NIL) {
      const p = i * S_STRIDE;
      // is()'s compare, written out: this lookup is inlined into the full path, where a call per
      // chain link measured slower.
      if (r[p + S_BIB] === bib && r[p + S_R4] === a && (r[p + S_MISC] >>> 16) === rport) return i;
      i = r[p + S_HNEXT];
    }
    return NIL;
  }

  /**
   * Is session i the one of (BIB entry, remote IPv4 address as int32, remote port)? lookup's
   * compare (written out there), for miss-prefetch.ts's walk of the same chain ahead of the full path.
   */
  is(i: number, bib: number, r4: number, rport: number): boolean {
    const r = this.rec, p = i * S_STRIDE;
    return r[p + S_BIB] === bib && r[p + S_R4] === r4 && (r[p + S_MISC] >>> 16) === rport;
  }

  /** The next session of i's chain by (BIB entry, remote transport address); NIL at the end. */
  next(i: number): number { return this.rec[i * S_STRIDE + S_HNEXT]; }

  /** Does BIB entry `bib` have a session with IPv4 address r4 (any port)? */
  anyWithAddress(bib: number, r4: number): boolean {
    const r = this.rec;
    const a = r4 | 0;
    let i = this.addrHeads[this.addrBucket(bib, a)];
    while (i !== NIL) {
      const p = i * S_STRIDE;
      if (r[p + S_BIB] === bib && r[p + S_R4] === a) return true;
      i = r[p + S_ANEXT];
    }
    return false;
  }

  /** New session on `bib`, last used now, in timer class cls. NIL when the table is full. */
  insert(bib: number, r4: number, rport: number, state: number, cls: number, now: number): number {
    const h = this.header;
    const i = h[H_S_FREE];
    if (i === NIL) return NIL;
    const r = this.rec;
    const p = i * S_STRIDE;
    h[H_S_FREE] = r[p + S_NEXT];
    Atomics.add(r, p + S_SEQ, 1);
    r[p + S_BIB] = bib;
    r[p + S_R4] = r4 | 0;
    r[p + S_MISC] = (rport << 16) | (state << 8) | cls;
    const b = this.bucket(bib, r4 | 0, rport);
    r[p + S_HNEXT] = this.heads[b];
    this.heads[b] = i;
    const ab = this.addrBucket(bib, r4 | 0);
    r[p + S_ANEXT] = this.addrHeads[ab];
    this.addrHeads[ab] = i;
    r[p + S_PREV] = NIL;
    r[p + S_NEXT] = NIL;
    this.expiry.append(i, cls, now);
    Atomics.add(r, p + S_SEQ, 1);
    this.flags[i] = 0;
    this.bib.addSession(bib, 1);
    h[H_S_COUNT]++;
    if (this.watcher !== null) this.watcher.transportChanged(bib);
    if (this.log !== null) this.log.session(MappingEvent.SESSION_CREATE, this.bib.rec, bib * B_STRIDE, r4, rport);
    if (this.sync !== null) this.sync.session(SyncKind.UPSERT, this.bib.rec, bib * B_STRIDE, this.bib.proto(bib), r4, rport, state, now);
    return i;
  }

  /** Remove session i; returns its BIB entry (whose session count is decremented). */
  remove(i: number): number {
    const r = this.rec;
    const p = i * S_STRIDE;
    const bib = r[p + S_BIB];
    if (bib === NIL) return NIL;
    const a = r[p + S_R4];
    this.unlink(this.heads, S_HNEXT, this.bucket(bib, a, r[p + S_MISC] >>> 16), i);
    this.unlink(this.addrHeads, S_ANEXT, this.addrBucket(bib, a), i);
    this.expiry.unlink(i);
    if (this.watcher !== null) this.watcher.sessionChanged(i);
    Atomics.add(r, p + S_SEQ, 1);
    r[p + S_BIB] = NIL;
    Atomics.add(r, p + S_SEQ, 1);
    r[p + S_NEXT] = this.header[H_S_FREE];
    this.header[H_S_FREE] = i;
    this.header[H_S_COUNT]--;
    this.bib.addSession(bib, -1);
    if (this.log !== null) this.log.session(MappingEvent.SESSION_REMOVE, this.bib.rec, bib * B_STRIDE, a, r[p + S_MISC] >>> 16);
    if (this.sync !== null) {
      this.sync.session(SyncKind.REMOVE, this.bib.rec, bib * B_STRIDE, this.bib.proto(bib), a, r[p + S_MISC] >>> 16,
        (r[p + S_MISC] >>> 8) & 0xff, this.expiry.lastUse[i]);
    }
    return bib;
  }

  bibOf(i: number): number { return this.rec[i * S_STRIDE + S_BIB]; }
  remote4(i: number): number { return this.rec[i * S_STRIDE + S_R4] >>> 0; }
  remotePort(i: number): number { return this.rec[i * S_STRIDE + S_MISC] >>> 16; }
  state(i: number): number { return (this.rec[i * S_STRIDE + S_MISC] >>> 8) & 0xff; }
  timerClass(i: number): number { return this.rec[i * S_STRIDE + S_MISC] & 0xff; }

  setState(i: number, state: number): void {
    const r = this.rec;
    const p = i * S_STRIDE;
    Atomics.add(r, p + S_SEQ, 1);
    r[p + S_MISC] = (r[p + S_MISC] & ~0xff00) | (state << 8);
    Atomics.add(r, p + S_SEQ, 1);
    if (this.watcher !== null) this.watcher.sessionChanged(i);
    // A TCP state change is what a peer must know (not every packet's refresh: docs/session-sync.md).
    if (this.sync !== null) {
      const bib = r[p + S_BIB];
      this.sync.session(SyncKind.UPSERT, this.bib.rec, bib * B_STRIDE, this.bib.proto(bib), r[p + S_R4], r[p + S_MISC] >>> 16,
        state, this.expiry.lastUse[i]);
    }
  }

  bucket(bib: number, r4: number, rport: number): number {
    return finish(mix(mix(bib, r4), rport)) & this.mask;
  }

  addrBucket(bib: number, r4: number): number {
    return finish(mix(mix(0x2545f491, bib), r4)) & this.mask;
  }

  private unlink(heads: Int32Array, field: number, bucket: number, i: number): void {
    const r = this.rec;
    let cur = heads[bucket];
    if (cur === i) { heads[bucket] = r[i * S_STRIDE + field]; return; }
    while (cur !== NIL) {
      const next = r[cur * S_STRIDE + field];
      if (next === i) { r[cur * S_STRIDE + field] = r[i * S_STRIDE + field]; return; }
      cur = next;
    }
  }
}
