/**
 * Per-subscriber accounting (RFC 6888 REQ-4: "A CGN MUST support limiting the number of external
 * ports (or, equivalently, "identifiers" for ICMP) that are assigned per subscriber"; REQ-5 on
 * state per subscriber). A subscriber is an IPv6 source prefix of `subscriber-prefix-length` bits.
 *
 * One table per shard, single writer (the shard), in shared memory so the control plane can show
 * the top consumers without stopping translation. Counted per shard, enforced per shard: the IPv6
 * flows of one subscriber hash to every shard (the shard key is address + port), and a shard owns
 * 1/shards of every pool4 address's ports, so each shard enforces its share of the limit over its
 * share of the ports (docs/design.md "Per-subscriber limits"). No cross-shard counter, no lock.
 *
 * Maintained by Bib.insert/remove (dynamic entries only: static BIB entries are the operator's) while
 * accounting is on; rebuilt from the BIB by configure(), so turning a limit on, or changing the
 * prefix length, at run time applies to the mappings that already exist.
 */
import {
  BF_IN_USE, BF_STATIC, B_FLAGS, B_STRIDE, B_V6, H_SUB_COUNT, H_SUB_FREE, H_SUB_LIMIT, H_SUB_PREFIX_LEN, H_SUB_RATE, NIL,
  SU_ANSWERED, SU_COUNT, SU_KEY, SU_LOGGED, SU_NEXT, SU_SEQ, SU_STAMP, SU_STRIDE, SU_TOKENS, subscriberCapacity,
} from './layout';
import { finish, mix, word } from './hash';
import { protoSlot } from './pool4';
import type { ShardTableBuffers } from './shard-tables';
import type { EventRing } from '../events';
import { C } from '../counters';

const K_UNTRACKED = C['subscriber-untracked'];

/** check() verdicts. */
export const SUB_OK = 0;
export const SUB_PORT_LIMIT = 1;
export const SUB_RATE_LIMIT = 2;

/**
 * At most one ICMPv6 Address Unreachable per subscriber and shard this often for its refusals (the
 * others are counted icmp-error-rate-limited): a subscriber hammering its limit must not spend the
 * shard's shared error budget (dataplane.icmpErrorsPerSecond), which the other hosts' Packet Too Big
 * and Time Exceeded need (PMTUD, traceroute).
 */
export const SUB_ERROR_INTERVAL_MS = 100;

/** One limit log line per subscriber and shard at most this often (RFC 6888-style event, events.ts). */
export const SUB_LOG_INTERVAL_S = 60;


/** Mask word k (0..3) of an address to a prefix of `len` bits. */
export function maskWord(w: number, k: number, len: number): number {
  const bits = len - 32 * k;
  if (bits >= 32) return w | 0;
  if (bits <= 0) return 0;
  return (w & (~0 << (32 - bits))) | 0;
}

export interface SubscriberLimits {
  /** Prefix length in bits (1..128); 0 turns accounting off. */
  prefixLength: number;
  /** Per protocol slot (TCP, UDP, ICMP): BIB entries one subscriber may hold in this shard; 0 = no limit. */
  ports: [number, number, number];
  /** New BIB entries per second one subscriber may create in this shard; 0 = no limit. */
  rate: number;
}

export class Subscribers {
  readonly rec: Int32Array;
  private readonly heads: Int32Array;
  private readonly mask: number;
  private readonly limits = new Int32Array(3);
  private rate = 0;
  private len = 0;
  /** Event ring for the limit log line (always set by the shard when it has one). */
  log: EventRing | null = null;
  /** The shard's counters (subscriber-untracked), set by the core; null in bare table tests. */
  counters: Float64Array | null = null;
  /** Set by check() on a refusal: may it be answered (false: this subscriber was answered < SUB_ERROR_INTERVAL_MS ago)? */
  answer = true;
  /**
   * Every dynamic BIB entry since the last configure() is counted (no subscriber-untracked): a
   * subscriber with no record, or a count of 0, then holds no entry of that protocol (holdsNone).
   */
  private exact = true;
  /** Time of the last check(): a record add() creates right after starts its bucket then. */
  private now = 0;
  // Masked key of the last check()/add(): no allocation per packet.
  private k0 = 0; private k1 = 0; private k2 = 0; private k3 = 0;

  constructor(b: ShardTableBuffers, private readonly header: Int32Array) {
    this.rec = new Int32Array(b.subscriber);
    this.heads = new Int32Array(b.subscriberHash);
    this.mask = subscriberCapacity(b.capacity) - 1;
  }

  get on(): boolean { return this.len !== 0; }
  get prefixLength(): number { return this.len; }
  get count(): number { return this.header[H_SUB_COUNT]; }

  /**
   * Control path (the shard's configure()): new limits; the table is rebuilt from `bib` when
   * accounting is on, so counts always describe the mappings that exist now.
   */
  configure(l: SubscriberLimits, bibRec: Int32Array, bibCapacity: number): void {
    this.limits[0] = l.ports[0]; this.limits[1] = l.ports[1]; this.limits[2] = l.ports[2];
    this.rate = l.rate;
    this.clear();
    this.now = 0; // rebuilt records get a full bucket at their first check()
    this.len = l.prefixLength;
    for (let k = 0; k < 3; k++) this.header[H_SUB_LIMIT + k] = l.ports[k];
    this.header[H_SUB_RATE] = l.rate;
    this.header[H_SUB_PREFIX_LEN] = l.prefixLength;
    if (this.len === 0) return;
    for (let b = 0; b < bibCapacity; b++) {
      const p = b * B_STRIDE, f = bibRec[p + B_FLAGS];
      if ((f & BF_IN_USE) !== 0 && (f & BF_STATIC) === 0) this.add(f & 0xff, bibRec, p, 1);
    }
  }

  /** Empty table, accounting off. */
  clear(): void {
    const r = this.rec, n = this.mask + 1;
    this.heads.fill(NIL);
    for (let i = 0; i < n; i++) {
      const p = i * SU_STRIDE;
      Atomics.add(r, p + SU_SEQ, 1);
      r[p + SU_COUNT] = 0; r[p + SU_COUNT + 1] = 0; r[p + SU_COUNT + 2] = 0;
      r[p + SU_NEXT] = i + 1 < n ? i + 1 : NIL;
      Atomics.add(r, p + SU_SEQ, 1);
    }
    this.header[H_SUB_FREE] = 0;
    this.header[H_SUB_COUNT] = 0;
    this.header[H_SUB_PREFIX_LEN] = 0;
    this.len = 0;
    this.exact = true;
  }

  /**
   * Fast path, before a new BIB entry is allocated for (proto, IPv6 source at a6[o6..]): may the
   * subscriber have one more? O(1): one hash chain walk. SUB_RATE_LIMIT consumes nothing;
   * SUB_OK consumes a token of the rate bucket when one is configured.
   */
  check(proto: number, a6: Uint8Array, o6: number, now: number): number {
    if (this.len === 0 || protoSlot(proto) < 0) return SUB_OK;
    return this.checkRecord(proto, this.find6(a6, o6), now);
  }

  /** check() of the record find6() returned for the same address (NIL: none). */
  checkRecord(proto: number, i: number, now: number): number {
    const slot = protoSlot(proto);
    if (this.len === 0 || slot < 0) return SUB_OK;
    this.now = now;
    if (i === NIL) return SUB_OK; // holds nothing yet: below any limit, full token bucket
    const r = this.rec, p = i * SU_STRIDE, limit = this.limits[slot];
    if (limit > 0 && r[p + SU_COUNT + slot] >= limit) {
      this.logLimit(p, proto, SUB_PORT_LIMIT, limit, now);
      this.pace(p, now);
      return SUB_PORT_LIMIT;
    }
    if (this.rate > 0) {
      // Token bucket in milli-tokens, one second of burst; `now | 0` wraps, differences do not.
      const t = now | 0, cap = this.rate * 1000;
      let tokens = r[p + SU_TOKENS] + ((t - r[p + SU_STAMP]) | 0) * this.rate;
      if (tokens > cap || tokens < 0) tokens = cap; // also a clock step backwards or a long idle
      r[p + SU_STAMP] = t;
      if (tokens < 1000) {
        r[p + SU_TOKENS] = tokens;
        this.logLimit(p, proto, SUB_RATE_LIMIT, this.rate, now);
        this.pace(p, now);
        return SUB_RATE_LIMIT;
      }
      r[p + SU_TOKENS] = tokens - 1000;
    }
    return SUB_OK;
  }

  /**
   * A dynamic BIB entry (record at bibRec[p..]) was created (+1) or removed (-1). A new
   * subscriber record starts with a full bucket less the token this entry took.
   */
  add(proto: number, bibRec: Int32Array, p: number, delta: number): void {
    const slot = protoSlot(proto);
    if (slot < 0 || this.len === 0) return;
    const len = this.len;
    this.k0 = maskWord(bibRec[p + B_V6], 0, len);
    this.k1 = maskWord(bibRec[p + B_V6 + 1], 1, len);
    this.k2 = maskWord(bibRec[p + B_V6 + 2], 2, len);
    this.k3 = maskWord(bibRec[p + B_V6 + 3], 3, len);
    let i = this.find();
    const r = this.rec;
    if (i === NIL) {
      if (delta < 0) return; // entry from before accounting started: rebuilt by configure()
      i = this.create(this.now);
      if (i === NIL) { // full: fail open (subscriberCapacity()), and the counts no longer tell who holds nothing
        this.exact = false;
        if (this.counters !== null) this.counters[K_UNTRACKED]++;
        return;
      }
    }
    const q = i * SU_STRIDE;
    Atomics.add(r, q + SU_SEQ, 1);
    const c = r[q + SU_COUNT + slot] + delta;
    r[q + SU_COUNT + slot] = c < 0 ? 0 : c;
    const empty = r[q + SU_COUNT] === 0 && r[q + SU_COUNT + 1] === 0 && r[q + SU_COUNT + 2] === 0;
    Atomics.add(r, q + SU_SEQ, 1);
    if (empty) this.free(i);
  }

  /**
   * Fast path: does the subscriber whose record find6() returned (NIL: none) certainly hold no
   * dynamic BIB entry of `proto` in this shard? Then no dynamic entry has that IPv6 address either (a subscriber is a prefix of
   * it), and filter6 need not look one up (filtering-and-updating.ts). False when unsure:
   * accounting off, or an entry went uncounted since the last configure().
   */
  holdsNone(proto: number, i: number): boolean {
    const slot = protoSlot(proto);
    if (this.len === 0 || slot < 0 || !this.exact) return false;
    return i === NIL || this.rec[i * SU_STRIDE + SU_COUNT + slot] === 0;
  }

  /** The subscriber record of the IPv6 address at a6[o6..] (NIL: none, or accounting off). */
  find6(a6: Uint8Array, o6: number): number {
    if (this.len === 0) return NIL;
    this.key6(a6, o6);
    return this.find();
  }

  /** Entries subscriber of (a6, o6) holds for `proto` in this shard (tests, diagnostics). */
  held(proto: number, a6: Uint8Array, o6: number): number {
    const slot = protoSlot(proto);
    if (this.len === 0 || slot < 0) return 0;
    this.key6(a6, o6);
    const i = this.find();
    return i === NIL ? 0 : this.rec[i * SU_STRIDE + SU_COUNT + slot];
  }

  limit(proto: number): number { const s = protoSlot(proto); return s < 0 ? 0 : this.limits[s]; }

  private key6(a6: Uint8Array, o6: number): void {
    const len = this.len;
    this.k0 = maskWord(word(a6, o6), 0, len);
    this.k1 = maskWord(word(a6, o6 + 4), 1, len);
    this.k2 = maskWord(word(a6, o6 + 8), 2, len);
    this.k3 = maskWord(word(a6, o6 + 12), 3, len);
  }

  private bucket(): number {
    return finish(mix(mix(mix(mix(0x5ab5, this.k0), this.k1), this.k2), this.k3)) & this.mask;
  }

  private find(): number {
    const r = this.rec;
    let i = this.heads[this.bucket()];
    while (i !== NIL) {
      const p = i * SU_STRIDE;
      if (r[p + SU_KEY] === this.k0 && r[p + SU_KEY + 1] === this.k1 && r[p + SU_KEY + 2] === this.k2
        && r[p + SU_KEY + 3] === this.k3) return i;
      i = r[p + SU_NEXT];
    }
    return NIL;
  }

  private create(now: number): number {
    const h = this.header, r = this.rec;
    const i = h[H_SUB_FREE];
    if (i === NIL) return NIL;
    const p = i * SU_STRIDE;
    h[H_SUB_FREE] = r[p + SU_NEXT];
    Atomics.add(r, p + SU_SEQ, 1);
    r[p + SU_KEY] = this.k0; r[p + SU_KEY + 1] = this.k1; r[p + SU_KEY + 2] = this.k2; r[p + SU_KEY + 3] = this.k3;
    r[p + SU_COUNT] = 0; r[p + SU_COUNT + 1] = 0; r[p + SU_COUNT + 2] = 0;
    r[p + SU_TOKENS] = this.rate > 0 ? this.rate * 1000 - 1000 : 0;
    r[p + SU_STAMP] = now | 0;
    r[p + SU_LOGGED] = 0;
    r[p + SU_ANSWERED] = 0;
    const b = this.bucket();
    r[p + SU_NEXT] = this.heads[b];
    this.heads[b] = i;
    Atomics.add(r, p + SU_SEQ, 1);
    h[H_SUB_COUNT]++;
    return i;
  }

  private free(i: number): void {
    const r = this.rec, p = i * SU_STRIDE;
    // The key words of record i are still this.k0..k3 (found by them).
    const b = this.bucket();
    let cur = this.heads[b];
    if (cur === i) this.heads[b] = r[p + SU_NEXT];
    else {
      while (cur !== NIL) {
        const next = r[cur * SU_STRIDE + SU_NEXT];
        if (next === i) { r[cur * SU_STRIDE + SU_NEXT] = r[p + SU_NEXT]; break; }
        cur = next;
      }
    }
    r[p + SU_NEXT] = this.header[H_SUB_FREE];
    this.header[H_SUB_FREE] = i;
    this.header[H_SUB_COUNT]--;
  }

  /** Sets `answer` for a refusal: one Address Unreachable per subscriber per SUB_ERROR_INTERVAL_MS. */
  private pace(p: number, now: number): void {
    const r = this.rec, t = (now | 0) || 1; // 0 means "never answered"
    const last = r[p + SU_ANSWERED];
    this.answer = last === 0 || ((t - last) | 0) >= SUB_ERROR_INTERVAL_MS || ((t - last) | 0) < 0;
    if (this.answer) r[p + SU_ANSWERED] = t;
  }

  /** RFC 6888-style log record when a subscriber meets its limit: once per SUB_LOG_INTERVAL_S. */
  private logLimit(p: number, proto: number, reason: number, limit: number, now: number): void {
    if (this.log === null) return;
    const r = this.rec, sec = (now / 1000) | 0;
    if (r[p + SU_LOGGED] !== 0 && ((sec - r[p + SU_LOGGED]) | 0) < SUB_LOG_INTERVAL_S) return;
    r[p + SU_LOGGED] = sec;
    this.log.subscriber(reason, proto, r, p + SU_KEY, this.len, r[p + SU_COUNT + protoSlot(proto)], limit, now);
  }
}
