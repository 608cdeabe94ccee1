/**
 * The shard's flow cache (VPP / OVS "fast path"): for the common packet, an unfragmented TCP or
 * UDP packet without IPv6 extension headers or IPv4 options, the exact addresses, ports and
 * protocol map to the session and to a precomputed rewrite: the new addresses and ports, the
 * transport checksum delta (RFC 1624), the constant part of the IPv4 header checksum, the output
 * port and the next hop's MAC. A hit translates with a few typed-array reads and writes and
 * refreshes the session exactly as RFC 6146 §3.5 does (same timer call, same TCP transition); a
 * miss, or anything unusual (TTL <= 1, a packet over an MTU, a TCP packet that changes the
 * session's state, a zero UDP checksum from IPv4, a stale neighbour...), takes the full path,
 * which fills the cache when its outcome was the plain one. The full path stays the reference:
 * a hit leaves the same bytes and bumps the same counters (test/unit/flow-cache.test.ts).
 *
 * Validity: the session table tells the cache (SessionWatcher) when a session is removed or its
 * TCP state changes, and the cache clears the entries of that session at once (one per direction:
 * a per-session back pointer), so a hit never reads the session record to check it, and a UDP hit
 * does not read it at all. Everything else an entry depends on (configuration, MTUs, the neighbour
 * table) is checked through an epoch: configure()/MTU changes call invalidate(), and a change of
 * the neighbour table's generation invalidates every entry at the next lookup.
 *
 * Layout: one entry is 16 words, one 64-byte cache line: the key and what the rewrite needs; the
 * output port, next hop MAC, neighbour age and MTU limits, shared by many flows, sit in a small
 * next-hop table (a few hundred bytes, always in L1) that the entry indexes.
 *
 * Refusals (issue 11): an IPv6 TCP/UDP flow the core refused for want of state (pool4-exhausted,
 * bib-table-full, session-table-full) gets an entry too, with no session and a deadline REFUSAL_MS
 * ahead: hit6 then answers -1, and the shard drops the packet at the cost of a hit unless its
 * ICMPv6 error could go out now (refused-recently). Without it every packet of an unmappable flow
 * took the whole RFC 6146 path, several times a translation: a few such flows at full rate took
 * most of a shard from the flows that have mappings. A refused flow is tried again on the full
 * path after REFUSAL_MS, and whenever the ICMP error limiter has a token.
 *
 * Filtering refusals (issue 11, refusal paths): a TCP/UDP packet refused with no session of its
 * own (4->6: bib4-not-found, adf-filtered, tcp-v4-syn-dropped, tcp-syn-needed; 6->4:
 * tcp-syn-needed) leaves an entry too (REFUSED_FILTER) that remembers its reason counter, whether
 * its ICMP error went to the rate limiter (icmp-admin-prohibited) and the TCP SYN bit it was
 * refused with. A hit bumps exactly the counters the full path would (the reason, and
 * icmp-error-rate-limited when no token is free; with a token the full path runs and answers), so
 * it stays invisible but for its cost. It stops applying at once when state appears that could let
 * the packet through: every BIB entry and session created (dynamic, static, synchronised), and
 * every BIB entry removed (the reason would change: tcp-syn-needed -> bib4-not-found), bumps a
 * stamp of its IPv4 and of its IPv6 transport address (transportChanged()), and the entry is
 * valid only while the stamp of its own is the one it was made under. The SYN bit keeps a refused ACK's
 * entry from swallowing a SYN of the same 4-tuple (stored for a simultaneous open, RFC 6146
 * §3.5.2.2, or opening the session from IPv6).
 *
 * Per shard, in the worker's own memory (not shared): it is derived state, rebuilt by misses after
 * a restart (docs/design.md). Four-way set associative (WAYS adjacent lines): a new entry goes to
 * the first way and pushes the others one way down.
 */
import { BURST, RX_DATA } from './abi';
import { ETH_HLEN } from './l2/ethernet';
import { C } from './counters';
import type { Nat64Core } from './core';
import { word } from './tables/hash';
import { B_FLAGS, B_PORTS, B_STRIDE, B_V4, B_V6, S_MISC, S_STRIDE } from './tables/layout';
import type { BibWatcher } from './tables/bib';
import { icmpErrorBucket } from './translate/icmp-rate-limit';
import { TimerClass } from './tables/expiry';
import type { SessionWatcher } from './tables/session';
import { TCP_KEEP, TCP_NO_SESSION, nextState, nextTimer, tcpTransition } from './tables/tcp-state';

const UDP = 17;
const TCP = 6;
const IPV4_DF = 0x4000;
/** RFC 7915 §5.1: DF is set above lowest-ipv6-mtu - 20. */
const HDR_DELTA = 20;
const IPV6_MIN_MTU = 1280;
/** A learned neighbour is re-solicited after 30 s (l2/neighbors.ts REACHABLE_MS): then the full path runs. */
const REACHABLE_SEC = 30;
const K_6TO4 = C['translated-6to4'];
const K_4TO6 = C['translated-4to6'];
/**
 * hit6's answer for a remembered refusal (its entry's E6_SESSION): REFUSED is retried on the full
 * path when the shard's ICMP error bucket has a token (so the sender gets its rate-limited
 * Address Unreachable, or the flow is mapped once it can be); REFUSED_QUIET (a per-subscriber
 * limit, whose answers are paced per subscriber instead) is dropped until its deadline.
 */
export const REFUSED = -1;
export const REFUSED_QUIET = -2;
/**
 * hit6/hit4's answer for a remembered filtering refusal (its entry's E*_SESSION): the packet was
 * dropped and counted as the full path would have (see the header comment); nothing written.
 */
export const REFUSED_FILTER = -3;
const K_RATE_LIMITED = C['icmp-error-rate-limited'];
/** A filtering refusal's word (E6_SRC4 / E4_SRC6): reason counter | PACED | SYN bit. */
const F_REASON = 0xffff;
const F_PACED = 1 << 16;
const F_SYN = 1 << 17;
/** Stamps of changed transport addresses (transportChanged()): 2^16 int32 words, 256 KB. */
const STAMP_BITS = 16;
/** TCP flags that make a packet a SYN for the filtering step (SYN without RST). */
const SYN_RST = 0x06;
const SYN = 0x02;

/**
 * How long a refusal is remembered. Deadlines are int32 milliseconds compared modulo 2^32 (valid
 * for 24 days; an entry untouched longer may at worst hold a refused flow back one more second).
 */
export const REFUSAL_MS = 1000;
/** Largest table: 2^21 entries per direction (128 MB each): 4 per session slot up to 512 k sessions, 2 at 1 M. */
const MAX_ENTRIES = 1 << 21;

/** Entry: 16 Int32Array words, one cache line, both directions. */
const STRIDE = 16;
/**
 * Ways per set: four adjacent lines. With two, a full default table (2 entries per flow at 1 M
 * flows) left ~10 % of random flows thrashing in sets of three or more, each miss a ~3 us trip
 * through the full path; with four ~3 %.
 */
const WAYS = 4;
/** Ways of each noted set the burst prefetch loads first (FlowCache.scan: the rest only when needed). */
const FIRST_WAYS = 2;
/** An entry's word offset -> its set's first word (sets are WAYS aligned entries). */
const SET_MASK = ~(WAYS * STRIDE - 1);
const E_TAG = 0;        // epoch << 8 | protocol; 0 = empty
// 6->4: key, then value.
const K6_SRC = 1;       // 4 words: IPv6 source
const K6_DST = 5;       // 4 words: IPv6 destination
const K6_PORTS = 9;     // source port << 16 | destination port
const E6_SESSION = 10;
const E6_PORTS = 11;    // new source port << 16 | new destination port
/**
 * ~old sum + new sum of the transport checksum's changed words (RFC 1624, < 2^17) | the next-hop
 * record's word offset in nh << 17.
 */
const E6_DELTA_NH = 12;
/**
 * A refusal's entry (E6_SESSION < 0): the deadline, int32 ms. Otherwise, UDP: the expiry slot (tables/expiry.ts) of the session's last use when this entry last saw it,
 * int32; NO_SLOT: unknown. A hit in that slot writes lastUse without reading it (see udpTouch).
 */
const E6_SLOT = 13;
const E6_SRC4 = 14;
const E6_DST4 = 15;
// 4->6: key, then value.
const K4_SRC = 1;
const K4_DST = 2;
const K4_PORTS = 3;
const E4_SESSION = 4;
const E4_PORTS = 5;
const E4_DELTA_NH = 6;
const E4_SLOT = 7;
const E4_SRC6 = 8;      // 4 words
const E4_DST6 = 12;     // 4 words

// Next-hop record (Int32Array words): what many entries share.
const NH_PORT = 0;      // output port index
const NH_MACHI = 1;     // next hop MAC
const NH_MACLO = 2;
const NH_UPDATED = 3;   // neighbour's learn time in s, -1 for a static neighbour
const NH_MAXLEN = 4;    // largest L3 packet that needs no fragmentation nor Packet Too Big (6->4; 4->6 with DF)
const NH_MAXNODF = 5;   // 4->6 with DF clear: largest IPv6 packet before fragmentation
const NH_FAMILY = 6;
const NH_STRIDE = 8;
/** Distinct next hops remembered at once; a full table starts over (invalidate()). */
const NH_MAX = 64;
const DELTA_BITS = 17;
const DELTA_MASK = (1 << DELTA_BITS) - 1;
/** pf[] value of a frame with nothing to prefetch (no set's word offset, -1 - one, reaches it). */
const NO_PREFETCH = -0x80000000;
/** Never an expiry slot an entry records (a real one is floor(now / slack) | 0 with slack > 0). */
const NO_SLOT = -0x80000000;

/** One's-complement fold of a sum below 2^31 (packet/checksum.ts fold, for the small sums here). */
function fold(acc: number): number {
  acc = (acc & 0xffff) + (acc >>> 16);
  return (acc & 0xffff) + (acc >>> 16);
}

/**
 * First way of the set of a 6->4 key (a multiple of WAYS: the other ways follow), before the table's mask.
 * Each varying word through its own multiplier: XOR-ing two fields first (address ^ ports)
 * makes whole families of flows collide exactly when their bits overlap. Not hashed, to keep the
 * burst prefetch short (FlowCache.note6): the source's first word (a /32 allocation, the same
 * for a whole data centre) and the destination's first word (pool6 prefix bits for every prefix
 * length of RFC 6052 §2.2: the IPv4 address starts in the second word at the earliest). The key
 * compare still covers all of them.
 */
function set6(s1: number, s2: number, s3: number, d1: number, d2: number, d3: number, ports: number,
  proto: number): number {
  let h = Math.imul(s3, 0x9e3779b1) + Math.imul(ports, 0x85ebca6b) + Math.imul(d3, 0xc2b2ae35)
    + Math.imul(s2, 0x27d4eb2f) + Math.imul(s1 ^ proto, 0x165667b1);
  h ^= h >>> 15;
  h = Math.imul(h ^ d2 ^ d1, 0x27d4eb2f);
  h ^= h >>> 13;
  return h & ~(WAYS - 1);
}

/**
 * The same for a 4->6 key. Not dst ^ ports: a pool4 address and its ports overlap in the low
 * bits, and whole families of flows then share a set (23 % of 64 k flows missed that way).
 */
function set4(src: number, dst: number, ports: number, proto: number): number {
  let h = Math.imul(dst, 0x9e3779b1) + Math.imul(ports, 0x85ebca6b) + Math.imul(src ^ proto, 0xc2b2ae35);
  h ^= h >>> 15;
  h = Math.imul(h, 0x27d4eb2f);
  h ^= h >>> 13;
  return h & ~(WAYS - 1);
}

/** Stamp of an IPv4 transport address (proto, address, port) of pool4. */
function stamp4(proto: number, a4: number, p4: number): number {
  let h = Math.imul(a4, 0x9e3779b1) + Math.imul(p4 | (proto << 16), 0x85ebca6b);
  h ^= h >>> 15;
  h = Math.imul(h, 0x27d4eb2f);
  return (h ^ (h >>> 13)) >>> (32 - STAMP_BITS);
}

/** Stamp of an IPv6 transport address (proto, address words, port). */
function stamp6(proto: number, w0: number, w1: number, w2: number, w3: number, p6: number): number {
  let h = Math.imul(w3, 0x9e3779b1) + Math.imul(w2, 0xc2b2ae35) + Math.imul(w1 ^ w0, 0x165667b1) + Math.imul(p6 | (proto << 16), 0x27d4eb2f);
  h ^= h >>> 15;
  h = Math.imul(h, 0x85ebca6b);
  return (h ^ (h >>> 13)) >>> (32 - STAMP_BITS);
}

/** Entries per direction of a shard's cache for `sessions` slots and dataplane.flowCacheEntries. */
export function flowCacheEntries(sessions: number, configured?: number): number {
  const want = configured ?? Math.min(4 * sessions, MAX_ENTRIES);
  let n = WAYS;
  while (n < want) n *= 2;
  return n;
}

/** Bytes of one entry (both directions' tables have as many). */
export const FLOW_CACHE_ENTRY_BYTES = 64;

/** What the native addon offers for laying out big tables (src/native/types.ts). */
export interface TableMemory {
  adviseHugePages(view: ArrayBufferView): number;
  pageOffset(view: ArrayBufferView): number;
}

const LINE = 64;

/** `words` zeroed Int32 words starting on a cache line, on huge pages where the kernel allows. */
export function entryTable(words: number, memory?: TableMemory): Int32Array {
  if (!memory) return new Int32Array(words);
  const raw = new Int32Array(words + LINE / 4);
  memory.adviseHugePages(raw); // before the first write, or the kernel would map 4 KB pages
  const skip = ((LINE - (memory.pageOffset(raw) % LINE)) % LINE) / 4;
  return raw.subarray(skip, skip + words);
}

/** Sum of the two 16-bit halves of a 32-bit word. */
function sum32(w: number): number { return (w >>> 16) + (w & 0xffff); }

export class FlowCache implements SessionWatcher, BibWatcher {
  private readonly t6: Int32Array;
  private readonly t4: Int32Array;
  private readonly mask: number;
  private epoch = 1;
  /** The neighbour table generation the entries were made under. */
  private neighGen = 0;
  /** Source MAC per port index (two words). */
  private readonly srcMac: Int32Array;
  /** Next-hop records (NH_STRIDE words each), nhCount in use; valid for the current epoch. */
  private readonly nh = new Int32Array(NH_MAX * NH_STRIDE);
  private nhCount = 0;
  /** Per session slot: word offset + 1 of the set of its 6->4 / 4->6 entry (0: none), for sessionChanged(). */
  private readonly ent6: Int32Array;
  private readonly ent4: Int32Array;
  /**
   * Set by a miss of hit6/hit4, for fill6/fill4: the first word of the entry to write, and whether
   * it is a new key (pushed into the set's first way) or an entry of the same key that could not
   * be used (rewritten in place).
   */
  private missEntry = -1;
  private missNew = false;
  private missFamily = 0;
  private readonly key = new Int32Array(10);
  /** Per transport address (hashed): bumped whenever a BIB entry or session is created on it, or the entry removed. */
  private readonly stamps = new Int32Array(1 << STAMP_BITS);
  /** Output of a hit: port index and frame offset. */
  port = 0;
  frame = 0;
  hits = 0;
  /** udpTouch's expiry slot of `slotNow` (NaN: none yet; the slack is fixed per table). */
  private slotNow = NaN;
  private slot = NO_SLOT;
  /** Per burst slot: word offset of the 6->4 set noted (>= 0), -1 - the 4->6 set's, or NO_PREFETCH. */
  private readonly pf = new Int32Array(BURST).fill(NO_PREFETCH);
  private viewOf: Uint8Array | null = null;
  private dv: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));

  /**
   * `memory` (the native addon in a shard; absent in tests): puts each entry on one cache line of
   * its own and the tables on transparent huge pages. Without it V8's allocation leaves a table
   * 16-byte aligned, so most entries straddle two lines (two cache misses per lookup instead of
   * one), and 4 KB pages make every lookup at 64 k+ flows a TLB miss as well.
   */
  constructor(capacity: number, macs: Uint8Array[], private readonly core: Nat64Core,
    private readonly counters: Float64Array, memory?: TableMemory, entries?: number) {
    // Default: four entries per session slot (2 at 1 M sessions, the most MAX_ENTRIES gives); with
    // four ways, sets that more flows map to than they hold are rare (see WAYS).
    // `entries` (dataplane.flowCacheEntries) trades that for memory: 64 bytes an entry, per direction.
    const n = flowCacheEntries(capacity, entries);
    this.mask = n - 1;
    this.t6 = entryTable(n * STRIDE, memory);
    this.t4 = entryTable(n * STRIDE, memory);
    const sessions = core.tables.buffers.capacity;
    this.ent6 = new Int32Array(sessions);
    this.ent4 = new Int32Array(sessions);
    this.srcMac = new Int32Array(macs.length * 2);
    macs.forEach((m, i) => {
      this.srcMac[2 * i] = (m[0] << 8) | m[1];
      this.srcMac[2 * i + 1] = (m[2] << 24) | (m[3] << 16) | (m[4] << 8) | m[5];
    });
    core.tables.sessions.watcher = this;
    core.tables.bib.watcher = this;
  }

  /**
   * SessionWatcher / BibWatcher: BIB entry `bib` was created, got a session or is being removed
   * (its record still readable). Filtering refusals of its transport addresses may no longer
   * hold (a packet may pass now, or be refused for another reason): their entries stop hitting.
   */
  transportChanged(bib: number): void {
    const r = this.core.tables.bib.rec, p = bib * B_STRIDE;
    const proto = r[p + B_FLAGS] & 0xff, ports = r[p + B_PORTS];
    this.stamps[stamp4(proto, r[p + B_V4], ports & 0xffff)]++;
    this.stamps[stamp6(proto, r[p + B_V6], r[p + B_V6 + 1], r[p + B_V6 + 2], r[p + B_V6 + 3], ports >>> 16)]++;
  }

  /** Every entry becomes a miss (configure(), MTU change, neighbour change). */
  invalidate(): void {
    this.epoch = (this.epoch + 1) & 0xffffff;
    if (this.epoch === 0) { this.epoch = 1; this.t6.fill(0); this.t4.fill(0); }
    this.missEntry = -1;
    this.nhCount = 0;
    this.slotNow = NaN; // the timeouts (and so the expiry slack) may have changed
  }

  /** SessionWatcher: session i was removed or changed state; its entries must not hit again. */
  sessionChanged(i: number): void {
    const e6 = this.ent6[i] - 1, e4 = this.ent4[i] - 1;
    if (e6 >= 0) { this.forget(this.t6, e6, E6_SESSION, i, -1); this.ent6[i] = 0; }
    if (e4 >= 0) { this.forget(this.t4, e4, E4_SESSION, i, -1); this.ent4[i] = 0; }
  }

  /** Called before a lookup with the neighbour table's current generation. */
  private checkNeighbors(gen: number): void {
    if (gen !== this.neighGen) { this.neighGen = gen; this.invalidate(); }
  }

  /** The next-hop record for these values (found or added), or -1 when the table had to start over. */
  private nextHop(family: number, pi: number, buf: Uint8Array, frame: number, updated: number, maxLen: number,
    maxNoDf: number): number {
    const nh = this.nh, hi = (buf[frame] << 8) | buf[frame + 1], lo = word(buf, frame + 2);
    for (let k = 0; k < this.nhCount; k++) {
      const o = k * NH_STRIDE;
      if (nh[o + NH_PORT] === pi && nh[o + NH_MACLO] === lo && nh[o + NH_MACHI] === hi && nh[o + NH_UPDATED] === updated
        && nh[o + NH_MAXLEN] === maxLen && nh[o + NH_MAXNODF] === maxNoDf && nh[o + NH_FAMILY] === family) return o;
    }
    if (this.nhCount === NH_MAX) { this.invalidate(); return -1; }
    const o = this.nhCount++ * NH_STRIDE;
    nh[o + NH_PORT] = pi; nh[o + NH_MACHI] = hi; nh[o + NH_MACLO] = lo; nh[o + NH_UPDATED] = updated;
    nh[o + NH_MAXLEN] = maxLen; nh[o + NH_MAXNODF] = maxNoDf; nh[o + NH_FAMILY] = family;
    return o;
  }

  /**
   * The first way of the set at e takes a new entry: the entries before the first empty (or
   * cleared) way move one way down (most recently filled first); when every way is taken, the last
   * one's entry is dropped. Back pointers name the set, not the way, so nothing else changes: a
   * moved entry's session would otherwise be a random line to update per moved way (three per
   * fill in a full set: 15 % of the shard at 4 M sessions).
   */
  private push(t: Int32Array, e: number): void {
    if (t[e] === 0) return; // an empty (or cleared) first way: the others keep their entries
    const last = e + (WAYS - 1) * STRIDE;
    let j = e + STRIDE;
    while (j < last && t[j] !== 0) j += STRIDE;
    t.copyWithin(e + STRIDE, e, j);
  }

  /**
   * Entry e now caches session s: any other entry of s in this direction is cleared. Normally it
   * can only be in e's own set (a session has one key per direction); with a pool6 prefix shorter
   * than /96 the suffix bits of the IPv6 destination are part of the key (RFC 6052 §2.2), so the
   * previous entry may sit in another set, which is then scanned too.
   */
  private own(t: Int32Array, e: number, sessionWord: number, back: Int32Array, s: number): void {
    const set = e & SET_MASK, old = back[s] - 1;
    if (old >= 0 && old !== set) this.forget(t, old, sessionWord, s, -1);
    this.forget(t, set, sessionWord, s, e);
    t[e + sessionWord] = s;
    back[s] = set + 1;
  }

  /** Clears the ways of the set at `set` that cache session s, except way `keep`. */
  private forget(t: Int32Array, set: number, sessionWord: number, s: number, keep: number): void {
    for (let x = set; x < set + WAYS * STRIDE; x += STRIDE) if (x !== keep && t[x + sessionWord] === s) t[x] = 0;
  }

  // ---- burst prefetch --------------------------------------------------------------------------

  /**
   * The shard's first pass over a burst notes, for every TCP/UDP frame i, the set its key maps to
   * (note6/note4; skip for anything else). Then the addon prefetches every way of the noted sets
   * (native flowPrefetch over prefetchPlan(): non-blocking rte_prefetch0; JS has no prefetch
   * instruction and a JS load that misses holds the reorder window) and touchSessions() loads the
   * sessions' last-use words, so a burst of cache misses is in flight at once instead of being paid
   * one after the other inside hit6/hit4 (at 64 k+ flows an entry is a random line of a 16-128 MB
   * table). Without the addon, touch() does both with loads. Only hashing happens here; hit6/hit4
   * still decide everything.
   */
  note6(i: number, buf: Uint8Array, ip: number): void {
    const v = this.view(buf);
    this.pf[i] = (set6(v.getInt32(ip + 12), v.getInt32(ip + 16), v.getInt32(ip + 20), v.getInt32(ip + 28),
      v.getInt32(ip + 32), v.getInt32(ip + 36), v.getInt32(ip + 40), buf[ip + 6]) & this.mask) * STRIDE;
  }

  note4(i: number, buf: Uint8Array, ip: number): void {
    const v = this.view(buf);
    this.pf[i] = -1 - (set4(v.getInt32(ip + 12), v.getInt32(ip + 16), v.getInt32(ip + 20), buf[ip + 9]) & this.mask) * STRIDE;
  }

  skip(i: number): void { this.pf[i] = NO_PREFETCH; }

  /** Loads what note6/note4 pointed at for frames 0..n-1; the result means nothing (keep it alive). */
  touch(n: number): number {
    return this.touchLines(n) + this.touchSessions(n);
  }

  /**
   * What a native prefetcher needs to do touchLines' job without blocking (native flowPrefetch:
   * rte_prefetch0 of each way): the two entry tables and the list note6/note4 fill.
   */
  prefetchPlan(staged = true): { table6: Int32Array; table4: Int32Array; list: Int32Array; ways: number } {
    return { table6: this.t6, table4: this.t4, list: this.pf, ways: staged ? FIRST_WAYS : WAYS };
  }

  /** The sets' lines, by loads (JS has no prefetch instruction): every way of every noted set. */
  touchLines(n: number): number {
    const pf = this.pf, t6 = this.t6, t4 = this.t4;
    let sink = 0;
    for (let i = 0; i < n; i++) {
      const e = pf[i];
      // Every way (WAYS = 4 adjacent lines: a flow pushed down a way is looked up there).
      if (e >= 0) sink |= t6[e] | t6[e + STRIDE] | t6[e + 2 * STRIDE] | t6[e + 3 * STRIDE];
      else if (e !== NO_PREFETCH) { const f = -1 - e; sink |= t4[f] | t4[f + STRIDE] | t4[f + 2 * STRIDE] | t4[f + 3 * STRIDE]; }
    }
    return sink;
  }

  /**
   * The session's last use (a hit stores to it) and, for TCP, its record (a hit reads the state),
   * of each noted set's first way. Reads the entry lines: run after they were loaded or prefetched.
   */
  touchSessions(n: number): number {
    const pf = this.pf, t6 = this.t6, t4 = this.t4;
    const lastUse = this.core.tables.expiry.lastUse, rec = this.core.tables.sessions.rec;
    let sink = 0, f = 0;
    for (let i = 0; i < n; i++) {
      const e = pf[i];
      let s: number, tag: number;
      if (e >= 0) { s = t6[e + E6_SESSION]; tag = t6[e]; } else if (e !== NO_PREFETCH) { s = t4[-1 - e + E4_SESSION]; tag = t4[-1 - e]; } else continue;
      if (s < 0) continue; // a refusal
      f += lastUse[s];
      if ((tag & 0xff) === TCP) sink |= rec[s * S_STRIDE + S_MISC];
    }
    return sink + f;
  }

  /**
   * The shard's passes over a burst whose noted sets' first FIRST_WAYS lines were prefetched
   * (native flowPrefetch): for each noted frame, the way of its set that holds its key, if any.
   * A hit's session is named in list as (lastUseTable, s) and, for TCP, (recordTable, s's record):
   * what hit6/hit4 will touch (miss-prefetch.ts prefetches them: a JS load here would hold the
   * reorder window at 1 M+ flows). scan() looks at the first ways only; a frame not found there
   * goes to `later`, and its set's other ways are named in list as (table6/table4, word offset)
   * for the same prefetch; scanLater() then looks there, and a frame found nowhere goes to misses
   * (miss-prefetch.ts stages its full path's lookups). Most hits are in the first two ways (new
   * entries go first: 90 % at 64 k flows, 76 % at 1 M), and every line prefetched costs memory
   * throughput the other frames wait for. Both return the pairs written from k on. The 6->4
   * compare covers the tag, the ports and the addresses' last words only: a frame it takes for a
   * hit is just not prefetched as a miss.
   */
  scan(n: number, rx: Uint32Array, buf: Uint8Array, list: Int32Array, lastUseTable: number, recordTable: number,
    table6: number, table4: number, later: Int32Array): number {
    const pf = this.pf;
    let k = 0, l = 0;
    for (let i = 0; i < n; i++) {
      const e = pf[i];
      if (e === NO_PREFETCH) continue;
      const x = this.find(i, rx, buf, e, 0, FIRST_WAYS);
      if (x >= 0) { k = this.pairs(e, x, list, k, lastUseTable, recordTable); continue; }
      later[l++] = i;
      const first = e >= 0 ? e : -1 - e;
      for (let w = FIRST_WAYS; w < WAYS; w++) { list[2 * k] = e >= 0 ? table6 : table4; list[2 * k + 1] = first + w * STRIDE; k++; }
    }
    this.laterCount = l;
    return k;
  }

  /** scan()'s second pass over its `later` frames (their other ways were prefetched). */
  scanLater(rx: Uint32Array, buf: Uint8Array, list: Int32Array, lastUseTable: number, recordTable: number,
    later: Int32Array, misses: Int32Array): number {
    const pf = this.pf;
    let k = 0, m = 0;
    for (let j = 0; j < this.laterCount; j++) {
      const i = later[j], e = pf[i];
      const x = this.find(i, rx, buf, e, FIRST_WAYS, WAYS);
      if (x >= 0) k = this.pairs(e, x, list, k, lastUseTable, recordTable);
      else misses[m++] = i;
    }
    this.missCount = m;
    return k;
  }

  /** The word offset of the way in [from, to) of frame i's noted set e that holds its key, or -1. */
  private find(i: number, rx: Uint32Array, buf: Uint8Array, e: number, from: number, to: number): number {
    const v = this.view(buf), ip = rx[i * 4 + RX_DATA] + ETH_HLEN, epoch = this.epoch << 8;
    if (e >= 0) {
      const t6 = this.t6, tag = epoch | buf[ip + 6], ports = v.getInt32(ip + 40), s3 = v.getInt32(ip + 20), d3 = v.getInt32(ip + 36);
      for (let x = e + from * STRIDE; x < e + to * STRIDE; x += STRIDE) {
        if (t6[x] === tag && t6[x + K6_PORTS] === ports && t6[x + K6_SRC + 3] === s3 && t6[x + K6_DST + 3] === d3) return x;
      }
      return -1;
    }
    const t4 = this.t4, f = -1 - e, tag = epoch | buf[ip + 9], src = v.getInt32(ip + 12), dst = v.getInt32(ip + 16), ports = v.getInt32(ip + 20);
    for (let x = f + from * STRIDE; x < f + to * STRIDE; x += STRIDE) {
      if (t4[x] === tag && t4[x + K4_PORTS] === ports && t4[x + K4_SRC] === src && t4[x + K4_DST] === dst) return x;
    }
    return -1;
  }

  /** The pairs of a hit at way x of set e (a remembered refusal touches nothing). */
  private pairs(e: number, x: number, list: Int32Array, k: number, lastUseTable: number, recordTable: number): number {
    const t = e >= 0 ? this.t6 : this.t4;
    const s = t[x + (e >= 0 ? E6_SESSION : E4_SESSION)];
    if (s < 0) return k;
    list[2 * k] = lastUseTable; list[2 * k + 1] = s; k++;
    if ((t[x] & 0xff) === TCP) { list[2 * k] = recordTable; list[2 * k + 1] = s * S_STRIDE; k++; }
    return k;
  }

  /** Set by scan(): how many burst indexes it wrote to later. */
  laterCount = 0;
  /** Set by scan(): how many burst indexes it wrote to misses. */
  missCount = 0;

  /** The per-session back pointers (miss-prefetch.ts prefetches a missing flow's, which fill6/fill4 write). */
  backPointers(): { ent6: Int32Array; ent4: Int32Array } {
    return { ent6: this.ent6, ent4: this.ent4 };
  }

  /** A DataView over buf (made again only when the caller's buffer changes: tests). */
  private view(buf: Uint8Array): DataView<ArrayBufferLike> {
    if (buf !== this.viewOf) {
      this.viewOf = buf;
      this.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    }
    return this.dv;
  }

  // ---- IPv6 -> IPv4 --------------------------------------------------------------------------

  /**
   * IPv6 packet at buf[ip] (header checked by the shard: version 6, payload present) whose next
   * header is TCP or UDP. Hit: translated in place, the Ethernet frame written; returns the frame
   * length (this.port, this.frame tell where). Miss: 0, nothing written. -1: the flow was refused
   * for want of state less than REFUSAL_MS ago (refused6), nothing written.
   */
  hit6(buf: Uint8Array, ip: number, payload: number, now: number, neighGen: number): number {
    this.checkNeighbors(neighGen);
    const v = this.view(buf);
    const proto = buf[ip + 6];
    const k = this.key;
    const s0 = v.getInt32(ip + 8), s1 = v.getInt32(ip + 12), s2 = v.getInt32(ip + 16), s3 = v.getInt32(ip + 20);
    const d0 = v.getInt32(ip + 24), d1 = v.getInt32(ip + 28), d2 = v.getInt32(ip + 32), d3 = v.getInt32(ip + 36);
    const ports = v.getInt32(ip + 40);
    const b = set6(s1, s2, s3, d1, d2, d3, ports, proto) & this.mask;
    const tag = (this.epoch << 8) | proto;
    const t = this.t6;
    let e = b * STRIDE;
    const end = e + WAYS * STRIDE;
    while (t[e] !== tag || t[e + K6_PORTS] !== ports || t[e + K6_SRC + 3] !== s3 || t[e + K6_SRC + 2] !== s2
      || t[e + K6_SRC + 1] !== s1 || t[e + K6_SRC] !== s0 || t[e + K6_DST + 3] !== d3 || t[e + K6_DST + 2] !== d2
      || t[e + K6_DST + 1] !== d1 || t[e + K6_DST] !== d0) {
      e += STRIDE;
      if (e === end) {
        k[0] = tag; k[1] = s0; k[2] = s1; k[3] = s2; k[4] = s3; k[5] = d0; k[6] = d1; k[7] = d2; k[8] = d3; k[9] = ports;
        this.missEntry = b * STRIDE;
        this.missNew = true;
        this.missFamily = 6;
        return 0;
      }
    }
    // A known key: if the checks below send the packet to the full path, it refreshes this entry.
    this.missEntry = e;
    this.missNew = false;
    this.missFamily = 6;
    const s = t[e + E6_SESSION];
    const l4 = ip + 40;
    if (s === REFUSED_FILTER) return payload < 20 ? 0 : this.filtered(t, e, E6_SLOT, E6_PORTS, E6_DELTA_NH, E6_SRC4, proto, buf[l4 + 13], now);
    if (s < 0) return ((t[e + E6_SLOT] - (now | 0)) | 0) > 0 ? s : 0; // a refusal (REFUSED / REFUSED_QUIET): still valid?
    // Conditions under which the full path would not take its plain exit.
    if (payload < (proto === TCP ? 20 : 8)) return 0;             // l4-hdr-truncated
    if (proto === UDP && v.getUint16(l4 + 6) === 0) return 0;      // udp6-zero-checksum (RFC 8200 §8.1)
    const ttl = buf[ip + 7];
    if (ttl <= 1) return 0;                                         // Time Exceeded
    const len4 = 20 + payload;
    const dnh = t[e + E6_DELTA_NH];
    const nh = this.nh, n = dnh >>> DELTA_BITS;
    if (len4 > nh[n + NH_MAXLEN]) return 0;                         // fragment / Packet Too Big
    const upd = nh[n + NH_UPDATED];
    if (upd >= 0 && now / 1000 - upd > REACHABLE_SEC) return 0;     // neighbour to re-solicit
    if (proto === TCP) {
      const timer = this.tcpRefresh(s, true, buf[l4 + 13]);
      if (timer < 0) return 0;
      if (timer !== TCP_KEEP) this.core.tables.expiry.touch(s, timer, now);
    } else {
      this.udpTouch(t, e + E6_SLOT, s, now);
    }
    // Commit: from here on the packet is rewritten, as translate6to4 would.
    const g = this.core.globals!, self = this.core.self;
    this.rewriteL4(v, l4, proto, t[e + E6_PORTS], dnh & DELTA_MASK);
    const o = ip + 20;
    const tos = g.overrideTos ? g.tos : (v.getUint16(ip) >>> 4) & 0xff;
    const id = self.nextId;
    self.nextId = (id + 1) & 0xffff;
    const frag = len4 > g.lowestIpv6Mtu - HDR_DELTA ? IPV4_DF : 0;
    const src4 = t[e + E6_SRC4], dst4 = t[e + E6_DST4];
    const ttlProto = ((ttl - 1) << 8) | proto;
    const sum = 0x4500 + tos + len4 + id + frag + ttlProto + sum32(src4) + sum32(dst4);
    v.setInt32(o, (0x4500 | tos) << 16 | len4);
    v.setInt32(o + 4, id << 16 | frag);
    v.setInt32(o + 8, ttlProto << 16 | (~fold(sum) & 0xffff));
    v.setInt32(o + 12, src4);
    v.setInt32(o + 16, dst4);
    this.ethernet(v, o - 14, n, 0x0800);
    this.counters[K_6TO4]++;
    this.hits++;
    this.missEntry = -1;
    return len4 + 14;
  }

  /**
   * After the full path translated the packet of the last miss to IPv4 and transmitted it: the
   * core's session and tuple, the MAC the frame went to (bytes 0..5 at `frame`), the port index,
   * the egress MTU and the neighbour's learn time (-1: static).
   */
  fill6(frame: number, buf: Uint8Array, pi: number, portMtu: number, neighUpdated: number, neighGen: number): void {
    if (this.missEntry < 0 || this.missFamily !== 6 || neighGen !== this.neighGen) return;
    const core = this.core, s = core.flowSession, tu = core.flowTuple;
    if (s < 0) return;
    const n = this.nextHop(6, pi, buf, frame, neighUpdated, Math.min(core.self.mtu4, portMtu, 0xffff), 0);
    if (n < 0) return;
    const k = this.key, t = this.t6, e = this.missEntry;
    this.missEntry = -1;
    if (this.missNew) {
      this.push(t, e);
      for (let i = 0; i < 10; i++) t[e + i] = k[i];
    } else {
      for (let i = 0; i < 10; i++) k[i] = t[e + i];
    }
    const ports = k[9];
    const oldSum = sum32(k[1]) + sum32(k[2]) + sum32(k[3]) + sum32(k[4]) + sum32(k[5]) + sum32(k[6]) + sum32(k[7])
      + sum32(k[8]) + (ports >>> 16) + (ports & 0xffff);
    const newSum = sum32(tu.src4) + sum32(tu.dst4) + tu.srcPort + tu.dstPort;
    this.own(t, e, E6_SESSION, this.ent6, s);
    t[e + E6_PORTS] = (tu.srcPort << 16) | tu.dstPort;
    t[e + E6_DELTA_NH] = ((~fold(oldSum) & 0xffff) + fold(newSum)) | (n << DELTA_BITS);
    t[e + E6_SLOT] = this.slotOf(s);
    t[e + E6_SRC4] = tu.src4 | 0;
    t[e + E6_DST4] = tu.dst4 | 0;
  }

  /**
   * After the full path refused the packet of the last 6->4 miss for want of state
   * (core.refusedNoState): its flow is remembered as refused until now + REFUSAL_MS (hit6: -1).
   */
  refused6(now: number, quiet = false): void {
    if (this.missEntry < 0 || this.missFamily !== 6) return;
    const e = this.refusalEntry(this.t6, 10, E6_SESSION, E6_SLOT, now);
    if (e < 0) return;
    this.t6[e + E6_SESSION] = quiet ? REFUSED_QUIET : REFUSED;
    this.t6[e + E6_SLOT] = (now + REFUSAL_MS) | 0;
  }

  /**
   * After the full path refused the packet of the last 6->4 miss in filtering, with no session
   * of its own (core.refusedFilter: tcp-syn-needed): remembered as REFUSED_FILTER until
   * now + REFUSAL_MS or until a BIB entry or session is created on its IPv6 transport address.
   * `reason`: the counter the full path bumped; `paced`: its ICMP error went to the rate limiter;
   * `flags`: the packet's TCP flags byte (ignored for UDP).
   */
  filtered6(now: number, reason: number, paced: boolean, flags: number): void {
    if (this.missEntry < 0 || this.missFamily !== 6) return;
    const t = this.t6;
    const e = this.refusalEntry(t, 10, E6_SESSION, E6_SLOT, now);
    if (e < 0) return;
    const proto = t[e] & 0xff;
    const st = stamp6(proto, t[e + K6_SRC], t[e + K6_SRC + 1], t[e + K6_SRC + 2], t[e + K6_SRC + 3], t[e + K6_PORTS] >>> 16);
    this.filterEntry(t, e, E6_SESSION, E6_SLOT, E6_PORTS, E6_DELTA_NH, E6_SRC4, st, reason, paced, proto === TCP ? flags : 0, now);
  }

  /** The same for the last 4->6 miss (bib4-not-found, adf-filtered, tcp-v4-syn-dropped, tcp-syn-needed): its pool4 transport address. */
  filtered4(now: number, reason: number, paced: boolean, flags: number): void {
    if (this.missEntry < 0 || this.missFamily !== 4) return;
    const t = this.t4;
    const e = this.refusalEntry(t, 4, E4_SESSION, E4_SLOT, now);
    if (e < 0) return;
    const proto = t[e] & 0xff;
    const st = stamp4(proto, t[e + K4_DST], t[e + K4_PORTS] & 0xffff);
    this.filterEntry(t, e, E4_SESSION, E4_SLOT, E4_PORTS, E4_DELTA_NH, E4_SRC6, st, reason, paced, proto === TCP ? flags : 0, now);
  }

  private filterEntry(t: Int32Array, e: number, sw: number, dw: number, vw: number, iw: number, fw: number, st: number,
    reason: number, paced: boolean, flags: number, now: number): void {
    t[e + sw] = REFUSED_FILTER;
    t[e + dw] = (now + REFUSAL_MS) | 0;
    t[e + vw] = this.stamps[st];
    t[e + iw] = st;
    t[e + fw] = reason | (paced ? F_PACED : 0) | ((flags & SYN_RST) === SYN ? F_SYN : 0);
  }

  /**
   * A remembered filtering refusal met again (entry e): the counters the full path would bump,
   * REFUSED_FILTER; or 0 (full path) when it expired, its transport address opened state since,
   * the packet's SYN bit differs, or its ICMP error could go out now.
   */
  private filtered(t: Int32Array, e: number, dw: number, vw: number, iw: number, fw: number, proto: number, flags: number,
    now: number): number {
    if (((t[e + dw] - (now | 0)) | 0) <= 0 || this.stamps[t[e + iw]] !== t[e + vw]) return 0;
    const w = t[e + fw];
    if (proto === TCP && ((flags & SYN_RST) === SYN) !== ((w & F_SYN) !== 0)) return 0;
    if ((w & F_PACED) !== 0) {
      if (icmpErrorBucket.ready()) return 0;
      this.counters[K_RATE_LIMITED]++;
    }
    this.counters[w & F_REASON]++;
    this.missEntry = -1;
    return REFUSED_FILTER;
  }

  /**
   * The entry the refusal of the last miss goes to (its key written), or -1. A new refusal never
   * evicts a live translation: a flood of refused new 5-tuples must not push the translations of
   * established flows out (measured: pushed into the first way, a 94 % flood cut the established
   * flows' rate by 2-3x). It takes, from the last way up, a free or stale way or an expired
   * refusal, else the live refusal nearest the end, else nothing. (Only the last way: two refused
   * flows of one set evicted each other, a quarter of the refused packets at 50 % refused flows
   * took the full path.)
   */
  private refusalEntry(t: Int32Array, keyWords: number, sw: number, dw: number, now: number): number {
    const k = this.key;
    let e = this.missEntry;
    this.missEntry = -1;
    if (this.missNew) {
      let take = -1, refusal = -1;
      for (let q = e + (WAYS - 1) * STRIDE; q >= e; q -= STRIDE) {
        if (t[q] === 0 || (t[q] >>> 8) !== this.epoch) { take = q; break; }
        if (t[q + sw] >= 0) continue;
        if (((t[q + dw] - (now | 0)) | 0) <= 0) { take = q; break; }
        if (refusal < 0) refusal = q;
      }
      e = take >= 0 ? take : refusal;
      if (e < 0) return -1;
      for (let i = 0; i < keyWords; i++) t[e + i] = k[i];
    }
    // (The key's own entry, now a refusal: its session's back pointer still names this set, where
    // sessionChanged will find nothing of it. Harmless.)
    return e;
  }

  // ---- IPv4 -> IPv6 --------------------------------------------------------------------------

  /**
   * Option-less IPv4 packet at buf[ip] (checked by the shard: version 4, IHL 5, Total Length
   * present) with protocol TCP or UDP. Hit: translated in place and framed; returns the frame
   * length. Miss: 0, nothing written. REFUSED_FILTER: a remembered refusal, dropped and counted
   * (filtered4), nothing written.
   */
  hit4(buf: Uint8Array, ip: number, total: number, now: number, neighGen: number): number {
    this.checkNeighbors(neighGen);
    const v = this.view(buf);
    const proto = buf[ip + 9];
    const src = v.getInt32(ip + 12), dst = v.getInt32(ip + 16), ports = v.getInt32(ip + 20);
    const b = set4(src, dst, ports, proto) & this.mask;
    const tag = (this.epoch << 8) | proto;
    const t = this.t4;
    let e = b * STRIDE;
    const end = e + WAYS * STRIDE;
    while (t[e] !== tag || t[e + K4_PORTS] !== ports || t[e + K4_DST] !== dst || t[e + K4_SRC] !== src) {
      e += STRIDE;
      if (e === end) {
        const k = this.key;
        k[0] = tag; k[1] = src; k[2] = dst; k[3] = ports;
        this.missEntry = b * STRIDE;
        this.missNew = true;
        this.missFamily = 4;
        return 0;
      }
    }
    this.missEntry = e;
    this.missNew = false;
    this.missFamily = 4;
    const fragWord = v.getUint16(ip + 6);
    if ((fragWord & 0x3fff) !== 0) return 0;                        // a fragment
    const w0 = v.getInt32(ip), w2 = v.getInt32(ip + 8);
    if (fold(sum32(w0) + sum32(v.getInt32(ip + 4)) + sum32(w2) + sum32(src) + sum32(dst)) !== 0xffff) return 0; // ipv4-bad-checksum
    const l4Len = total - 20;
    const l4 = ip + 20;
    if (l4Len < (proto === TCP ? 20 : 8)) return 0;                 // l4-hdr-truncated
    const s = t[e + E4_SESSION];
    if (s < 0) return this.filtered(t, e, E4_SLOT, E4_PORTS, E4_DELTA_NH, E4_SRC6, proto, buf[l4 + 13], now); // REFUSED_FILTER
    if (proto === UDP && v.getUint16(l4 + 6) === 0) return 0;      // checksum to compute
    const ttl = w2 >>> 24;
    if (ttl <= 1) return 0;
    const len6 = 40 + l4Len;
    const dnh = t[e + E4_DELTA_NH];
    const nh = this.nh, n = dnh >>> DELTA_BITS;
    if (len6 > nh[n + ((fragWord & IPV4_DF) !== 0 ? NH_MAXLEN : NH_MAXNODF)]) return 0;
    const upd = nh[n + NH_UPDATED];
    if (upd >= 0 && now / 1000 - upd > REACHABLE_SEC) return 0;
    if (proto === TCP) {
      const timer = this.tcpRefresh(s, false, buf[l4 + 13]);
      if (timer < 0) return 0;
      if (timer !== TCP_KEEP) this.core.tables.expiry.touch(s, timer, now);
    } else {
      this.udpTouch(t, e + E4_SLOT, s, now);
    }
    const g = this.core.globals!;
    this.rewriteL4(v, l4, proto, t[e + E4_PORTS], dnh & DELTA_MASK);
    const tc = g.zeroizeTrafficClass ? 0 : (w0 >>> 16) & 0xff;
    const o = l4 - 40;
    v.setInt32(o, 0x60000000 | tc << 20);
    v.setInt32(o + 4, l4Len << 16 | proto << 8 | (ttl - 1));
    v.setInt32(o + 8, t[e + E4_SRC6]); v.setInt32(o + 12, t[e + E4_SRC6 + 1]);
    v.setInt32(o + 16, t[e + E4_SRC6 + 2]); v.setInt32(o + 20, t[e + E4_SRC6 + 3]);
    v.setInt32(o + 24, t[e + E4_DST6]); v.setInt32(o + 28, t[e + E4_DST6 + 1]);
    v.setInt32(o + 32, t[e + E4_DST6 + 2]); v.setInt32(o + 36, t[e + E4_DST6 + 3]);
    this.ethernet(v, o - 14, n, 0x86dd);
    this.counters[K_4TO6]++;
    this.hits++;
    this.missEntry = -1;
    return len6 + 14;
  }

  fill4(frame: number, buf: Uint8Array, pi: number, portMtu: number, neighUpdated: number, neighGen: number): void {
    if (this.missEntry < 0 || this.missFamily !== 4 || neighGen !== this.neighGen) return;
    const core = this.core, s = core.flowSession, tu = core.flowTuple;
    if (s < 0) return;
    const mtu6 = core.self.mtu6, lowest = core.globals!.lowestIpv6Mtu;
    const frag = Math.max(Math.min(lowest, mtu6), IPV6_MIN_MTU);
    const n = this.nextHop(4, pi, buf, frame, neighUpdated, Math.min(mtu6, portMtu), Math.min(frag, portMtu));
    if (n < 0) return;
    const k = this.key, t = this.t4, e = this.missEntry;
    this.missEntry = -1;
    if (this.missNew) {
      this.push(t, e);
      t[e] = k[0]; t[e + K4_SRC] = k[1]; t[e + K4_DST] = k[2]; t[e + K4_PORTS] = k[3];
    } else {
      k[0] = t[e]; k[1] = t[e + K4_SRC]; k[2] = t[e + K4_DST]; k[3] = t[e + K4_PORTS];
    }
    const ports = k[3];
    const oldSum = sum32(k[1]) + sum32(k[2]) + (ports >>> 16) + (ports & 0xffff);
    let newSum = tu.srcPort + tu.dstPort;
    for (let i = 0; i < 4; i++) {
      const a = word(tu.src6, 4 * i), d = word(tu.dst6, 4 * i);
      t[e + E4_SRC6 + i] = a;
      t[e + E4_DST6 + i] = d;
      newSum += sum32(a) + sum32(d);
    }
    this.own(t, e, E4_SESSION, this.ent4, s);
    t[e + E4_PORTS] = (tu.srcPort << 16) | tu.dstPort;
    t[e + E4_DELTA_NH] = ((~fold(oldSum) & 0xffff) + fold(newSum)) | (n << DELTA_BITS);
    t[e + E4_SLOT] = this.slotOf(s);
  }

  // ---- shared ----------------------------------------------------------------------------------

  /**
   * The refresh of a UDP session on a hit: expiry.touchInClass(s, UDP, now), without reading
   * lastUse when the entry knows the session's last use is already in now's slot. The entry's
   * slot is never ahead of the truth (time only moves on, and every refresh through this entry
   * records it), so when it equals now's slot so does lastUse's, and touchInClass would only
   * have written lastUse: the store needs no load before it (no dependent cache miss).
   */
  private udpTouch(t: Int32Array, w: number, s: number, now: number): void {
    const exp = this.core.tables.expiry;
    if (now !== this.slotNow) { // once per burst (the shard's clock is read per burst), not per packet
      this.slotNow = now;
      this.slot = this.udpSlot(now);
    }
    const cur = this.slot;
    if (cur !== NO_SLOT && t[w] === cur) { exp.lastUse[s] = now; return; }
    exp.touchInClass(s, TimerClass.UDP, now); // a UDP session never changes class
    t[w] = cur;
  }

  /** Expiry slot of session s's last use (fill: the full path has just refreshed it, or kept it). */
  private slotOf(s: number): number {
    return this.udpSlot(this.core.tables.expiry.lastUse[s]);
  }

  /** The UDP expiry slot (tables/expiry.ts) time t falls in; NO_SLOT when the slack is 0. */
  private udpSlot(t: number): number {
    const g = this.core.tables.expiry.slack[TimerClass.UDP];
    return g > 0 ? Math.floor(t / g) | 0 : NO_SLOT;
  }

  /**
   * RFC 6146 §3.5 "update" of a TCP session for a hit: the timer class to touch (TCP_KEEP: none),
   * or -1 when the full path must run (this packet changes the session's state). The entry is
   * valid (sessionChanged() clears it on removal and on every state change), so the state read
   * here is the one the entry was made under. Nothing is written here.
   */
  private tcpRefresh(s: number, from6: boolean, flags: number): number {
    const state = (this.core.tables.sessions.rec[s * S_STRIDE + S_MISC] >>> 8) & 0xff;
    const tr = tcpTransition(state, from6, flags, this.core.globals!.handleRstDuringFinRcv);
    if (tr === TCP_NO_SESSION || nextState(tr) !== state) return -1;
    return nextTimer(tr);
  }

  /** New ports and RFC 1624 checksum update (translate/l4.ts rewriteL4 with a precomputed delta). */
  private rewriteL4(v: DataView<ArrayBufferLike>, l4: number, proto: number, np: number, delta: number): void {
    const co = l4 + (proto === TCP ? 16 : 6);
    const check = v.getUint16(co);
    v.setInt32(l4, np);
    if (proto === UDP && check === 0) return;
    let c = ~fold((~check & 0xffff) + delta) & 0xffff;
    if (proto === UDP && c === 0) c = 0xffff;
    v.setUint16(co, c);
  }

  private ethernet(v: DataView<ArrayBufferLike>, f: number, n: number, type: number): void {
    const nh = this.nh, pi = nh[n + NH_PORT];
    v.setUint16(f, nh[n + NH_MACHI]); v.setInt32(f + 2, nh[n + NH_MACLO]);
    v.setUint16(f + 6, this.srcMac[2 * pi]); v.setInt32(f + 8, this.srcMac[2 * pi + 1]);
    v.setUint16(f + 12, type);
    this.port = pi;
    this.frame = f;
  }
}
