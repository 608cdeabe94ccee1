import {
  BF_IN_USE, BF_STATIC, B_FLAGS, B_NEXT4, B_NEXT6, B_PORTS, B_SEQ, B_SESSIONS, B_STRIDE, B_V4, B_V6,
  H_B_COUNT, H_B_FREE, NIL,
} from './layout';
import { finish, hashAddr6, mix, word } from './hash';
import type { ShardTableBuffers } from './shard-tables';
import { MappingEvent, type EventRing } from '../events';
import type { Subscribers } from './subscribers';

/** Told of every (protocol, IPv4 address, port) the BIB takes or frees (pool4's free-port bitmap). */
export interface BibOccupancy {
  mark(proto: number, addr4: number, port4: number, used: boolean): void;
}

/**
 * Told of every BIB entry created (dynamic, static or synchronised) or removed: remembered
 * refusals of its transport addresses may no longer hold (flow-cache.ts).
 */
export interface BibWatcher {
  transportChanged(bib: number): void;
}

/**
 * The Binding Information Base (RFC 6146 §3.1): (protocol, IPv6 transport address, IPv4
 * transport address, static flag), indexed both by the IPv6 side (6 -> 4 packets) and by the IPv4
 * side (4 -> 6 packets). Chained hashing over power-of-two bucket arrays; records and chains in
 * shared memory. Single writer: the shard.
 */
export class Bib {
  readonly rec: Int32Array;
  /** Hash heads by the IPv6 side and by the IPv4 side (read by miss-prefetch.ts as well). */
  readonly heads6: Int32Array;
  readonly heads4: Int32Array;
  private readonly mask: number;
  /** RFC 6888 mapping log (logging-bib): set by the shard while the global is on, else null. */
  log: EventRing | null = null;
  /** pool4 of the current configuration (its per-port bitmap follows inserts and removals), or null. */
  occupancy: BibOccupancy | null = null;
  /** The shard worker's flow cache (told of every entry created or removed), or null. */
  watcher: BibWatcher | null = null;
  /** Per-subscriber counts (RFC 6888 REQ-4) of dynamic entries, while accounting is on; else null. */
  subscribers: Subscribers | null = null;

  constructor(b: ShardTableBuffers, private readonly header: Int32Array) {
    this.rec = new Int32Array(b.bib);
    this.heads6 = new Int32Array(b.bibHash6);
    this.heads4 = new Int32Array(b.bibHash4);
    this.mask = b.capacity - 1;
  }

  get count(): number { return this.header[H_B_COUNT]; }
  get capacity(): number { return this.mask + 1; }

  /** Entry for (proto, IPv6 address at a6[o6..o6+16), port), or NIL. */
  lookup6(proto: number, a6: Uint8Array, o6: number, port6: number): number {
    const w0 = word(a6, o6), w1 = word(a6, o6 + 4), w2 = word(a6, o6 + 8), w3 = word(a6, o6 + 12);
    const r = this.rec;
    let i = this.heads6[this.bucket6(proto, a6, o6, port6)];
    while (i !== NIL) {
      const p = i * B_STRIDE;
      // is6's compare, written out: lookup6 is inlined into filter6 and a call per link there
      // measured ~9 % slower on the full path (6to4 64 k, no flow cache).
      if ((r[p + B_FLAGS] & 0xff) === proto && (r[p + B_PORTS] >>> 16) === port6 && r[p + B_V6] === w0
        && r[p + B_V6 + 1] === w1 && r[p + B_V6 + 2] === w2 && r[p + B_V6 + 3] === w3) return i;
      i = r[p + B_NEXT6];
    }
    return NIL;
  }

  /** Entry for (proto, IPv4 address, port), or NIL. */
  lookup4(proto: number, addr4: number, port4: number): number {
    const r = this.rec;
    const a = addr4 | 0;
    let i = this.heads4[this.bucket4(proto, a, port4)];
    while (i !== NIL) {
      const p = i * B_STRIDE;
      if ((r[p + B_FLAGS] & 0xff) === proto && r[p + B_V4] === a && (r[p + B_PORTS] & 0xffff) === port4) return i; // is4's compare
      i = r[p + B_NEXT4];
    }
    return NIL;
  }

  /**
   * Is entry i the one of (proto, IPv6 address as four int32 words, port)? lookup6's compare (kept
   * written out there, see above), for miss-prefetch.ts's walk of the same chain ahead of the full path.
   */
  is6(i: number, proto: number, w0: number, w1: number, w2: number, w3: number, port6: number): boolean {
    const r = this.rec, p = i * B_STRIDE;
    return (r[p + B_FLAGS] & 0xff) === proto && (r[p + B_PORTS] >>> 16) === port6 && r[p + B_V6] === w0
      && r[p + B_V6 + 1] === w1 && r[p + B_V6 + 2] === w2 && r[p + B_V6 + 3] === w3;
  }

  /** Is entry i the one of (proto, IPv4 address as int32, port)? lookup4's compare. */
  is4(i: number, proto: number, addr4: number, port4: number): boolean {
    const r = this.rec, p = i * B_STRIDE;
    return (r[p + B_FLAGS] & 0xff) === proto && r[p + B_V4] === addr4 && (r[p + B_PORTS] & 0xffff) === port4;
  }

  /** The next entry of i's chain by the IPv6 side / by the IPv4 side (NIL at the end). */
  next6(i: number): number { return this.rec[i * B_STRIDE + B_NEXT6]; }
  next4(i: number): number { return this.rec[i * B_STRIDE + B_NEXT4]; }

  /** New entry; the caller has checked both sides are free. NIL when the table is full. */
  insert(proto: number, a6: Uint8Array, o6: number, port6: number, addr4: number, port4: number, isStatic: boolean): number {
    const h = this.header;
    const i = h[H_B_FREE];
    if (i === NIL) return NIL;
    const r = this.rec;
    const p = i * B_STRIDE;
    h[H_B_FREE] = r[p + B_NEXT6];
    Atomics.add(r, p + B_SEQ, 1); // odd: being written
    r[p + B_FLAGS] = proto | BF_IN_USE | (isStatic ? BF_STATIC : 0);
    r[p + B_V6] = word(a6, o6);
    r[p + B_V6 + 1] = word(a6, o6 + 4);
    r[p + B_V6 + 2] = word(a6, o6 + 8);
    r[p + B_V6 + 3] = word(a6, o6 + 12);
    r[p + B_PORTS] = (port6 << 16) | port4;
    r[p + B_V4] = addr4 | 0;
    r[p + B_SESSIONS] = 0;
    const b6 = this.bucket6(proto, a6, o6, port6);
    r[p + B_NEXT6] = this.heads6[b6];
    this.heads6[b6] = i;
    const b4 = this.bucket4(proto, addr4 | 0, port4);
    r[p + B_NEXT4] = this.heads4[b4];
    this.heads4[b4] = i;
    Atomics.add(r, p + B_SEQ, 1);
    h[H_B_COUNT]++;
    if (this.occupancy !== null) this.occupancy.mark(proto, addr4, port4, true);
    if (this.subscribers !== null && !isStatic) this.subscribers.add(proto, r, p, 1);
    if (this.log !== null) this.log.bib(MappingEvent.BIB_CREATE, r, p);
    if (this.watcher !== null) this.watcher.transportChanged(i);
    return i;
  }

  /** Unlink from both indexes and free. The caller has removed the entry's sessions. */
  remove(i: number): void {
    const r = this.rec;
    const p = i * B_STRIDE;
    if ((r[p + B_FLAGS] & BF_IN_USE) === 0) return;
    const proto = r[p + B_FLAGS] & 0xff;
    if (this.subscribers !== null && (r[p + B_FLAGS] & BF_STATIC) === 0) this.subscribers.add(proto, r, p, -1);
    // Logged before the flags are cleared: the record still says what the mapping was.
    if (this.log !== null) this.log.bib(MappingEvent.BIB_REMOVE, r, p);
    if (this.watcher !== null) this.watcher.transportChanged(i);
    this.unlink(this.heads6, B_NEXT6, this.bucket6w(proto, p), i);
    this.unlink(this.heads4, B_NEXT4, this.bucket4(proto, r[p + B_V4], r[p + B_PORTS] & 0xffff), i);
    Atomics.add(r, p + B_SEQ, 1);
    r[p + B_FLAGS] = 0;
    Atomics.add(r, p + B_SEQ, 1);
    r[p + B_NEXT6] = this.header[H_B_FREE];
    this.header[H_B_FREE] = i;
    this.header[H_B_COUNT]--;
    if (this.occupancy !== null) this.occupancy.mark(proto, r[p + B_V4], r[p + B_PORTS] & 0xffff, false);
  }

  inUse(i: number): boolean { return (this.rec[i * B_STRIDE + B_FLAGS] & BF_IN_USE) !== 0; }
  isStatic(i: number): boolean { return (this.rec[i * B_STRIDE + B_FLAGS] & BF_STATIC) !== 0; }
  proto(i: number): number { return this.rec[i * B_STRIDE + B_FLAGS] & 0xff; }
  addr4(i: number): number { return this.rec[i * B_STRIDE + B_V4] >>> 0; }
  port4(i: number): number { return this.rec[i * B_STRIDE + B_PORTS] & 0xffff; }
  port6(i: number): number { return this.rec[i * B_STRIDE + B_PORTS] >>> 16; }
  sessions(i: number): number { return this.rec[i * B_STRIDE + B_SESSIONS]; }
  addSession(i: number, delta: number): number { return (this.rec[i * B_STRIDE + B_SESSIONS] += delta); }

  /** Writes the entry's IPv6 address into out[off..off+16) (no allocation). */
  copyAddr6(i: number, out: Uint8Array, off: number): void {
    const p = i * B_STRIDE + B_V6;
    for (let k = 0; k < 4; k++) {
      const w = this.rec[p + k];
      out[off + 4 * k] = w >>> 24;
      out[off + 4 * k + 1] = (w >>> 16) & 0xff;
      out[off + 4 * k + 2] = (w >>> 8) & 0xff;
      out[off + 4 * k + 3] = w & 0xff;
    }
  }

  /** Does entry i hold this IPv6 address? */
  sameAddr6(i: number, a6: Uint8Array, o6: number): boolean {
    const p = i * B_STRIDE + B_V6;
    const r = this.rec;
    return r[p] === word(a6, o6) && r[p + 1] === word(a6, o6 + 4) && r[p + 2] === word(a6, o6 + 8)
      && r[p + 3] === word(a6, o6 + 12);
  }

  bucket6(proto: number, a6: Uint8Array, o6: number, port6: number): number {
    return finish(mix(hashAddr6(proto, a6, o6), port6)) & this.mask;
  }

  /** bucket6 of a stored record (same hash, words read from the record). */
  private bucket6w(proto: number, p: number): number {
    const r = this.rec;
    let h = mix(proto, r[p + B_V6]);
    h = mix(h, r[p + B_V6 + 1]);
    h = mix(h, r[p + B_V6 + 2]);
    h = mix(h, r[p + B_V6 + 3]);
    return finish(mix(h, r[p + B_PORTS] >>> 16)) & this.mask;
  }

  bucket4(proto: number, addr4: number, port4: number): number {
    return finish(mix(mix(proto ^ 0x5bd1e995, addr4), port4)) & this.mask;
  }

  private unlink(heads: Int32Array, field: number, bucket: number, i: number): void {
    const r = this.rec;
    let cur = heads[bucket];
    if (cur === i) { heads[bucket] = r[i * B_STRIDE + field]; return; }
    while (cur !== NIL) {
      const next = r[cur * B_STRIDE + field];
      if (next === i) { r[cur * B_STRIDE + field] = r[i * B_STRIDE + field]; return; }
      cur = next;
    }
  }
}
