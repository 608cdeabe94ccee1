/**
 * The fuzzing loop and the invariants it checks on every packet (docs/fuzzing.md lists them).
 * Shared by the CI test (test/unit/fuzz-core.test.ts) and the long run (test/fuzz/fuzz-core.ts).
 *
 * Counter invariant, derived from the code (core.ts, translate/*.ts, steps/*.ts): one process6 /
 * process4 call changes the counters of the shard that ran it, and no other shard's, by exactly:
 *   DROP                               +1 on one counter that is not an "outcome" counter below;
 *   translated (EMIT4/HAIRPIN from process6, EMIT6 from process4)
 *                                      +1 on translated-6to4 / translated-4to6, and +1 on
 *                                      mtu-fragmented when it left in fragments, nothing else;
 *   an ICMP error the core originates (EMIT6 from process6, EMIT4 from process4)
 *                                      +1 on icmp-error-sent and +1 on its reason, nothing else:
 *                                      ttl-expired (Time Exceeded), packet-too-big (an IPv6
 *                                      packet too long for IPv4's 16-bit Total Length),
 *                                      ext-header-unsupported (Parameter Problem for a Routing
 *                                      header), ipv4-source-route (Source Route Failed,
 *                                      RFC 7915 §4.1: IPv4 packets only, as the counter),
 *                                      pool4-exhausted, bib-table-full and
 *                                      session-table-full (Address Unreachable, RFC 6146
 *                                      §3.5.1.1: IPv6 packets only), and only
 *                                      with icmp-admin-prohibited the refusals answered with
 *                                      "administratively prohibited" (RFC 7915 §4.4/§5.4):
 *                                      bib4-not-found, adf-filtered, tcp-v4-syn-dropped,
 *                                      tcp-syn-needed, pool6-mismatch (pool6-strict).
 * ('hairpin' and 'packet-too-big' belong to the shard worker, not the core.)
 *
 * Before the core, every packet goes through the I/O layer's receive step for TCP/UDP checksums as
 * native/io.cc runs it on a "detect" port (net_af_packet): native/checksum.cc through
 * native.checksumFrame, checked against test/fuzz/l4sum.ts (docs/fuzzing.md "Receive step").
 */
import { COUNTERS, COUNTER_COUNT, C, type CounterName } from '../../src/dataplane/counters';
import type { CoreGlobals } from '../../src/dataplane/core-config';
import { Result } from '../../src/dataplane/core-api';
import { B_STRIDE, B_V6, HELD_CAPACITY } from '../../src/dataplane/tables/layout';
import type { ShardTables } from '../../src/dataplane/tables/shard-tables';
import { maskWord } from '../../src/dataplane/tables/subscribers';
import { readSubscribers } from '../../src/dataplane/tables/read-subscribers';
import { loadNative, native } from '../../src/native';
import { Prng } from './prng';
import { buildCorpus, establish, type Seed } from './corpus';
import { fixChecksums, mutate } from './mutate';
import { field, fold, isPartial, locatePartial, locateWhole, noChecksum, pseudoSum, sum, verifies, writeEthernet, type L4 } from './l4sum';
import { CANARY, CANARY_BYTE, HEADROOM, MAX_PKT, MAX_SLACK, NEXT_HOP_MAC, PORT_MAC, Rig, SINK_ROOM, SINK_SLOTS, SINK_STRIDE } from './rig';

const OUTCOME: readonly CounterName[] = ['translated-6to4', 'translated-4to6', 'icmp-error-sent', 'ttl-expired', 'packet-too-big',
  'mtu-fragmented',
  'hairpin', 'handoff', 'transmitted', 'received', 'session-expired', 'bib-expired', 'tcp-v4-syn-expired', 'tcp-v4-syn-stored'];
const IS_OUTCOME = new Uint8Array(COUNTER_COUNT);
for (const n of OUTCOME) IS_OUTCOME[C[n]] = 1;
const K_6TO4 = C['translated-6to4'], K_4TO6 = C['translated-4to6'], K_SENT = C['icmp-error-sent'];
const K_STORED = C['tcp-v4-syn-stored'];
const K_SUPPRESSED = C['icmp-error-suppressed'], K_RATE_LIMITED = C['icmp-error-rate-limited'];
const K_FRAGMENTED = C['mtu-fragmented'], K_TOO_BIG = C['packet-too-big'];
/** The neighbour a received frame comes from (its Ethernet source). */
const NEIGHBOUR_MAC = Uint8Array.of(0x02, 0, 0, 0, 0, 0x07);
const ETH_HLEN = 14;
/**
 * native/io.cc mayDefer(): a frame's largest translation is its IPv6 form (header 40, plus a
 * Fragment Header 8 for IPv4 without DF, which RFC 7915 §4.1 also fragments to lowest-ipv6-mtu,
 * at least 1280).
 */
const IPV6_HLEN = 40, FRAGMENT_HLEN = 8, IPV6_MIN_MTU = 1280;
/** What the receive step did to a frame. */
const enum Rx { UNTOUCHED, FINISHED, DEFERRED }
/** Drop reasons that call for an ICMP error the core builds itself (always). */
export const ERROR_REASONS: readonly CounterName[] = ['ttl-expired', 'packet-too-big', 'ext-header-unsupported', 'ipv4-source-route',
  'pool4-exhausted', 'bib-table-full', 'session-table-full', 'subscriber-port-limit', 'subscriber-rate-limit'];
/** Of those, the ones only an IPv6 packet may produce: no state could be created for it (RFC 6146 §3.5.1.1). */
const V6_ONLY_REASONS: readonly CounterName[] = ['pool4-exhausted', 'bib-table-full', 'session-table-full',
  'subscriber-port-limit', 'subscriber-rate-limit'];
const V6_ONLY = Int32Array.from(V6_ONLY_REASONS, (n) => C[n]);
/** ...and those that do only with icmp-admin-prohibited (RFC 7915 §4.4/§5.4, docs/design.md). */
const ADMIN_PROHIBITED_REASONS: readonly CounterName[] = ['bib4-not-found', 'adf-filtered', 'tcp-v4-syn-dropped', 'tcp-syn-needed',
  'pool6-mismatch'];

export interface FuzzOptions {
  seed: number;
  shards: number;
  /** Stop after this many packets (hairpin second passes not included)... */
  packets?: number;
  /** ...or after this many seconds, whichever comes first. */
  seconds?: number;
  /** Session/BIB capacity per shard; default 2048 with 1 shard, 256 with more (table-full paths). */
  capacity?: number;
  /**
   * Globals over Jool's defaults for every shard, e.g. { icmpAdminProhibited: true,
   * addressDependentFiltering: true }; the counter invariant then admits the refusals among the
   * reasons of generated ICMP errors.
   */
  globals?: Partial<CoreGlobals>;
  /**
   * Packets go through each shard's flow cache first, as in shard.ts (default true): a hit is
   * translated by the cache, a miss by the core, whose plain translations fill the cache.
   */
  flowCache?: boolean;
  /** Called every `progressEvery` packets (long runs print from it). */
  onProgress?: (s: FuzzStats) => void;
  progressEvery?: number;
}

export interface Failure {
  invariant: string;
  detail: string;
  /** The input packet as given to the core, hex. */
  hex: string;
  direction: 4 | 6;
  seedName: string;
  /** Options and iteration reproduce it: the run is deterministic. */
  seed: number;
  shards: number;
  iteration: number;
}

export interface FuzzStats {
  packets: number;
  secondPasses: number;
  verdicts: Record<'DROP' | 'EMIT4' | 'EMIT6' | 'HAIRPIN' | 'STORE', number>;
  /** Counters summed over the shards. */
  counters: Record<string, number>;
  maxBib: number;
  maxSessions: number;
  maxHeld: number;
  /** Packets the flow caches translated (counted in the verdicts too). */
  cacheHits: number;
  /** ICMP errors the core originated (icmp-error-sent), by the drop reason that called for them. */
  errorsByReason: Record<string, number>;
  /** The I/O layer's receive step (native/io.cc, rxChecksum "detect") and what became of partial frames. */
  checksum: ChecksumStats;
  elapsedMs: number;
  failure: Failure | null;
}

export interface ChecksumStats {
  /** Classified 'none' (not TCP/UDP as checksum.h locates it: other protocols, fragments, bad lengths). */
  none: number;
  /** Classified 'complete': left as they are, right or wrong. */
  complete: number;
  /** Classified 'partial' (partialSeen): each is then finished on receive or deferred to transmit. */
  partial: number;
  /** Partial frames finished before the core (receive path: 'complete' over the received frame). */
  finishedRx: number;
  /** Partial frames left partial for transmit (native mayDefer() holds, and one in two of those here). */
  deferred: number;
  /** Deferred frames finished on transmit from the translated headers (the output still TCP/UDP). */
  finishedTx: number;
  /** Deferred frames with nothing to finish: dropped, held, or answered with an ICMP error. */
  unfinished: number;
  /** Translated TCP/UDP outputs of a corrupt, not partial input ('checksum-never-repaired' checked them). */
  corruptTranslated: number;
  /** Translated TCP/UDP outputs of IPv6 UDP with checksum 0: not checked (a known core issue, see checkNotRepaired). */
}

export class InvariantViolation extends Error {
  constructor(readonly invariant: string, detail: string) { super(`${invariant}: ${detail}`); }
}

/** Runs one fuzzing campaign; stops at the first invariant violation (stats.failure). */
export function fuzz(o: FuzzOptions): FuzzStats {
  return new Fuzzer(o).run();
}

class Fuzzer {
  private readonly rig: Rig;
  private readonly r: Prng;
  private corpus: Seed[] = [];
  private readonly before: Float64Array[];
  private readonly input = new Uint8Array(MAX_PKT);
  private readonly stats: FuzzStats;
  private seedName = '';
  /** The output of the last call(): the core's out span, or the frame a cache hit wrote. */
  private outOff = 0;
  private outLen = 0;
  /** The last call() was a flow cache hit (the cache wrote the Ethernet header). */
  private cacheHit = false;
  /** The input (as received) is partial by l4sum.ts's definition, whatever the classifier said. */
  private inputPartial = false;
  /** The neighbour table's generation the caches see (bumped now and then: every entry misses). */
  private neighGen = 0;
  /** Counter indices of the drop reasons that may call for an ICMP error in this run's configuration. */
  private readonly errorReasons: Int32Array;

  constructor(private readonly o: FuzzOptions) {
    this.rig = new Rig(o.shards, o.capacity ?? (o.shards > 1 ? 256 : 2048), o.globals);
    const reasons = o.globals?.icmpAdminProhibited === true ? [...ERROR_REASONS, ...ADMIN_PROHIBITED_REASONS] : ERROR_REASONS;
    this.errorReasons = Int32Array.from(reasons, (n) => C[n]);
    this.r = new Prng(o.seed);
    this.before = this.rig.shards.map(() => new Float64Array(COUNTER_COUNT));
    this.stats = {
      packets: 0, secondPasses: 0, verdicts: { DROP: 0, EMIT4: 0, EMIT6: 0, HAIRPIN: 0, STORE: 0 }, counters: {},
      maxBib: 0, maxSessions: 0, maxHeld: 0, cacheHits: 0, errorsByReason: {}, elapsedMs: 0, failure: null,
      checksum: { none: 0, complete: 0, partial: 0, finishedRx: 0, deferred: 0, finishedTx: 0, unfinished: 0, corruptTranslated: 0 },
    };
    loadNative(); // native.checksumFrame: the receive and transmit steps (no EAL needed)
    const lo = this.rig.off - HEADROOM - CANARY;
    this.rig.buf.fill(CANARY_BYTE, lo, lo + CANARY);
  }

  run(): FuzzStats {
    const o = this.o, rig = this.rig, r = this.r, buf = rig.buf, off = rig.off;
    const limit = o.packets ?? Infinity;
    const deadline = o.seconds !== undefined ? Date.now() + o.seconds * 1000 : Infinity;
    const t0 = Date.now();
    this.refresh();
    let i = 0;
    try {
      for (; i < limit; i++) {
        if ((i & 1023) === 0) {
          if (Date.now() >= deadline) break;
          this.housekeeping(i);
        }
        const seed = r.pick(this.corpus);
        this.seedName = seed.name;
        buf.set(seed.bytes, off);
        let len = seed.bytes.length;
        const pristine = r.chance(0.05);
        if (!pristine) len = mutate(r, buf, off, len, MAX_PKT, this.corpus);
        // Mostly the seed's own direction; sometimes the other one (the core must not care).
        const family: 4 | 6 = r.chance(0.04) ? (seed.family === 4 ? 6 : 4) : seed.family;
        const slack = r.chance(0.3) ? 0 : r.chance(0.5) ? r.int(64) : MAX_SLACK;
        this.packet(i, family, len, len + slack, pristine && family === seed.family);
        rig.now += 10;
      }
    } catch (e) {
      if (!(e instanceof InvariantViolation)) throw e;
      this.stats.failure = {
        invariant: e.invariant, detail: e.message, hex: Buffer.from(this.input.subarray(0, this.inputLen)).toString('hex'),
        direction: this.inputFamily, seedName: this.seedName, seed: o.seed, shards: o.shards, iteration: i,
      };
    }
    this.stats.packets = i;
    if (this.stats.failure === null) {
      try { this.drain(); } catch (e) {
        if (!(e instanceof InvariantViolation)) throw e;
        this.stats.failure = { invariant: e.invariant, detail: e.message, hex: '', direction: 6, seedName: '',
          seed: o.seed, shards: o.shards, iteration: i };
      }
    }
    this.stats.elapsedMs = Date.now() - t0;
    const sums = new Float64Array(COUNTER_COUNT);
    for (const s of rig.shards) for (let k = 0; k < COUNTER_COUNT; k++) sums[k] += s.counters[k];
    for (let k = 0; k < COUNTER_COUNT; k++) if (sums[k] !== 0) this.stats.counters[COUNTERS[k].name] = sums[k];
    return this.stats;
  }

  private inputLen = 0;
  private inputFamily: 4 | 6 = 6;

  /** One packet through its owner shard, with every invariant checked. */
  private packet(i: number, family: 4 | 6, len: number, cap: number, pristine: boolean): void {
    const rig = this.rig, buf = rig.buf, off = rig.off, n = rig.n;
    this.input.set(buf.subarray(off, off + len));
    this.inputLen = len;
    this.inputFamily = family;
    buf.fill(CANARY_BYTE, off + cap, off + cap + CANARY);
    rig.sink.reset(this.r.chance(0.9) ? SINK_SLOTS : this.r.int(4));
    const rx = this.receive(family, off, len);
    let owner = -1, agree = true;
    for (const s of rig.shards) {
      // Every shard may be asked (the I/O layer asks whichever received the frame); both methods on any bytes.
      const a = s.core.ownerOf6(buf, off, len), b = s.core.ownerOf4(buf, off, len);
      if (!isShard(a, n) || !isShard(b, n)) throw new InvariantViolation('owner-range', `ownerOf6=${a} ownerOf4=${b} with ${n} shards`);
      const mine = family === 6 ? a : b;
      if (owner < 0) owner = mine; else if (mine !== owner) agree = false;
    }
    const sentBefore = rig.shards[owner].counters[K_SENT];
    const r = this.call(owner, family, off, len, cap, rig.now);
    // A packet the core accepts must have the same owner whichever shard classified it (a packet
    // that does not parse stays where it is, by design, and may only be answered statelessly with
    // an ICMP error, e.g. a Parameter Problem for a Routing header).
    const answered = rig.shards[owner].counters[K_SENT] !== sentBefore;
    if (!agree && r !== Result.DROP && !answered) throw new InvariantViolation('owner-agreement', `shards disagree on the owner of a translated packet`);
    // A partial frame's translation must verify once finished, whether on receive or on transmit
    // (checkResult's 'out-checksum'); one deferred and hairpinned is finished after its second pass.
    const deferred = rx === Rx.DEFERRED;
    if (deferred) this.checkDeferred(owner);
    if (deferred && r !== Result.HAIRPIN) this.transmit(r);
    const stillPartial = deferred && r === Result.HAIRPIN; // a first pass's IPv4 output still carries the partial sum
    this.checkResult(r, family, owner, off, cap, !stillPartial && (pristine || rx !== Rx.UNTOUCHED));
    this.checkNotRepaired(family === 6 ? r === Result.EMIT4 || r === Result.HAIRPIN : r === Result.EMIT6, r === Result.EMIT6 ? 6 : 4);
    this.checkCanaries(off, cap);
    if (r === Result.HAIRPIN) {
      // RFC 6146 §3.8, as the shard worker does: the IPv4 output goes back in to the shard owning it.
      const off2 = this.outOff, len2 = this.outLen, cap2 = off + cap - off2;
      const owner2 = rig.shards[0].core.ownerOf4(buf, off2, len2);
      if (!isShard(owner2, n)) throw new InvariantViolation('owner-range', `hairpin ownerOf4=${owner2}`);
      this.stats.secondPasses++;
      const r2 = this.call(owner2, 4, off2, len2, cap2, rig.now, true);
      if (r2 === Result.HAIRPIN) throw new InvariantViolation('result', 'a hairpinned packet hairpinned again');
      if (deferred) {
        this.checkDeferred(owner2);
        this.transmit(r2);
      }
      this.checkResult(r2, 4, owner2, off2, cap2, pristine || rx !== Rx.UNTOUCHED);
      this.checkNotRepaired(r2 === Result.EMIT6, 6);
      this.checkCanaries(off, cap);
    }
    this.checkSink();
  }

  /**
   * The I/O layer's receive step on a "detect" port (native/io.cc checkChecksum): the frame as
   * received, its Ethernet header in the headroom right before the packet, classified by
   * native/checksum.cc; a partial frame is finished now ('complete', the receive path) or left
   * partial for transmit when no translation of it can be fragmented or answered with Packet Too
   * Big (mayDefer), here one time in two, so both paths run for the same seeds.
   *
   * 'checksum-classify': the classifier agrees with l4sum.ts: 'none' exactly when there is no
   * TCP/UDP header a partial sum could be for, and 'partial' exactly when the field equals the
   * folded pseudo-header sum and the segment does not verify with it. So a field that differs from
   * that sum is never called partial, and a real checksum equal to it is left alone.
   * 'checksum-finished': a frame finished on receive verifies.
   */
  private receive(family: 4 | 6, off: number, len: number): Rx {
    const buf = this.rig.buf, st = this.stats.checksum;
    writeEthernet(buf, off - ETH_HLEN, PORT_MAC, NEIGHBOUR_MAC, family);
    const frame = buf.subarray(off - ETH_HLEN, off + len);
    const c = native.checksumFrame(frame, 'classify');
    const w = locatePartial(buf, off, len, family);
    const partial = w !== null && isPartial(buf, w);
    this.inputPartial = partial;
    if ((c === 'none') !== (w === null) || (c === 'partial') !== partial) {
      const why = w === null ? 'no TCP/UDP header a partial sum could be for'
        : `field ${hex16(field(buf, w))}, pseudo-header sum ${hex16(pseudoSum(buf, w))}, segment ${verifies(buf, w) ? 'verifies' : 'does not verify'}`;
      throw new InvariantViolation('checksum-classify', `classified '${c}': ${why}`);
    }
    if (c === 'none') { st.none++; return Rx.UNTOUCHED; }
    if (c === 'complete') { st.complete++; return Rx.UNTOUCHED; }
    st.partial++;
    if (this.mayDefer(buf, w!) && this.r.chance(0.5)) { st.deferred++; return Rx.DEFERRED; }
    const after = native.checksumFrame(frame, 'complete');
    if (after !== 'complete' || !verifies(buf, w!)) {
      throw new InvariantViolation('checksum-finished', `finished on receive, then '${after}', field ${hex16(field(buf, w!))}`);
    }
    st.finishedRx++;
    return Rx.FINISHED;
  }

  /** native/io.cc mayDefer(): the IPv6 form fits the smallest MTU (the rig's, every shard's core has the same). */
  private mayDefer(buf: Uint8Array, w: L4): boolean {
    const self = this.rig.shards[0].core.self;
    const df = w.family === 6 || (buf[w.ip + 6] & 0x40) !== 0;
    const need = w.len + IPV6_HLEN + (df ? 0 : FRAGMENT_HLEN);
    if (need > Math.min(self.mtu4, self.mtu6)) return false;
    return df || need <= IPV6_MIN_MTU;
  }

  /**
   * 'checksum-defer': a frame left partial for transmit is neither fragmented nor answered with
   * Packet Too Big (its checksum could not be finished then), as mayDefer() promises.
   */
  private checkDeferred(owner: number): void {
    const a = this.rig.shards[owner].counters, b = this.before[owner];
    if (this.rig.sink.sent > 0 || a[K_FRAGMENTED] !== b[K_FRAGMENTED] || a[K_TOO_BIG] !== b[K_TOO_BIG]) {
      throw new InvariantViolation('checksum-defer', `a frame left partial for transmit was fragmented or too big: {${describeDelta(a, b)}}`);
    }
  }

  /**
   * The transmit step for a frame still partial (native/io.cc finishChecksum, software): the
   * output framed (the core's output gets its Ethernet header in the headroom; a cache hit framed
   * it itself) and finished from the headers it leaves with, if it is still TCP/UDP.
   * 'checksum-finished': it then verifies.
   */
  private transmit(r: Result): void {
    const st = this.stats.checksum;
    if (r === Result.DROP || r === Result.STORE) { st.unfinished++; return; }
    const rig = this.rig, buf = rig.buf, o = this.outOff, n = this.outLen;
    const outFamily = r === Result.EMIT6 ? 6 : 4;
    let frame: Uint8Array;
    const inPlace = o - ETH_HLEN >= rig.off - HEADROOM; // never in the canaries (the worker has 14 more bytes)
    if (inPlace) {
      if (!this.cacheHit) writeEthernet(buf, o - ETH_HLEN, NEXT_HOP_MAC, PORT_MAC, outFamily);
      frame = buf.subarray(o - ETH_HLEN, o + n);
    } else {
      frame = new Uint8Array(ETH_HLEN + n);
      writeEthernet(frame, 0, NEXT_HOP_MAC, PORT_MAC, outFamily);
      frame.set(buf.subarray(o, o + n), ETH_HLEN);
    }
    const c = native.checksumFrame(frame, 'complete');
    if (!inPlace) buf.set(frame.subarray(ETH_HLEN), o);
    if (c === 'none') { st.unfinished++; return; }
    st.finishedTx++;
    const w = locatePartial(buf, o, n, outFamily);
    if (c !== 'complete' || w === null || !verifies(buf, w)) {
      throw new InvariantViolation('checksum-finished', `finished on transmit, then '${c}'; output ${Buffer.from(buf.subarray(o, o + Math.min(n, 128))).toString('hex')}`);
    }
  }

  /**
   * 'checksum-never-repaired': a TCP/UDP input whose checksum does not verify, and which is not
   * partial (l4sum.ts's definition, not the classifier's word), must not leave translated as
   * TCP/UDP with a checksum a receiver accepts: the receive step leaves it alone and the core's
   * RFC 1624 update carries the error over. Not a repair: an IPv4 UDP datagram without a checksum
   * (RFC 768) gets one computed for IPv6 (RFC 7915 §4.5; its input counts as having no checksum,
   * not a wrong one); ICMP errors are recomputed (not TCP/UDP outputs); fragments cannot be
   * checked alone. The residual risk of detection (a damaged field that happens to equal the
   * pseudo-header sum is finished like a partial one) is excluded by "not partial".
   * An IPv6 UDP datagram with checksum 0 (invalid, RFC 8200 §8.1) is dropped by the core
   * (udp6-zero-checksum), so it is checked like any other wrong checksum.
   */
  private checkNotRepaired(translated: boolean, outFamily: 4 | 6): void {
    if (!translated || this.inputPartial) return;
    const buf = this.rig.buf, o = this.outOff, n = this.outLen;
    const out = locateWhole(buf, o, n, outFamily);
    if (out === null) return;
    const inp = locateWhole(this.input, 0, this.inputLen, this.inputFamily);
    if (inp === null || noChecksum(this.input, inp) || verifies(this.input, inp)) return;
    this.stats.checksum.corruptTranslated++;
    if (noChecksum(buf, out) || verifies(buf, out)) {
      throw new InvariantViolation('checksum-never-repaired', `input checksum ${hex16(field(this.input, inp))} does not verify, output's ` +
        `${hex16(field(buf, out))} ${noChecksum(buf, out) ? 'is IPv4 UDP "no checksum"' : 'verifies'}; output ` +
        Buffer.from(buf.subarray(o, o + Math.min(n, 128))).toString('hex'));
    }
  }

  /** Fragments sent through the sink: in a buffer it handed out, well-formed, canaries intact. */
  private checkSink(): void {
    const sink = this.rig.sink, buf = this.rig.buf;
    if (sink.sent > sink.used) throw new InvariantViolation('sink', `${sink.sent} packets sent from ${sink.used} buffers`);
    // Offset 0 first (translate/fragment.ts): the first fragment is announced before any other is sent.
    if (sink.sent > 0 && sink.leads !== 1) throw new InvariantViolation('sink', `${sink.sent} fragments sent after ${sink.leads} leads`);
    for (let i = 0; i < sink.sent; i++) {
      const o = sink.sentOff[i], n = sink.sentLen[i], fam = sink.sentFamily[i];
      const slot = (o - sink.slot(0)) / SINK_STRIDE;
      if (!Number.isInteger(slot) || slot < 0 || slot >= sink.used) throw new InvariantViolation('sink', `sent from offset ${o}, not an allocated buffer`);
      if (n <= 0 || n > SINK_ROOM) throw new InvariantViolation('sink', `sent ${n} bytes from a buffer of ${SINK_ROOM}`);
      const bad = fam === 4 ? checkIpv4(buf, o, n) : fam === 6 ? checkIpv6(buf, o, n) : `family ${fam}`;
      if (bad !== null) throw new InvariantViolation('sink', `fragment: ${bad}; ${Buffer.from(buf.subarray(o, o + Math.min(n, 64))).toString('hex')}`);
      const isFrag = fam === 4 ? (buf[o + 6] & 0x3f) !== 0 || buf[o + 7] !== 0 : buf[o + 6] === 44;
      if (!isFrag) throw new InvariantViolation('sink', `sent a packet that is not a fragment`);
    }
    for (let i = 0; i < sink.used; i++) {
      const l3 = sink.slot(i);
      for (let k = l3 - HEADROOM - CANARY; k < l3 - HEADROOM; k++) {
        if (buf[k] !== CANARY_BYTE) throw new InvariantViolation('window', `sink buffer ${i}: byte ${k - l3} written`);
      }
      for (let k = l3 + SINK_ROOM; k < l3 + SINK_ROOM + CANARY; k++) {
        if (buf[k] !== CANARY_BYTE) throw new InvariantViolation('window', `sink buffer ${i}: byte +${k - l3} written`);
      }
    }
  }

  /**
   * One packet through shard `owner`: its flow cache when shard.ts would try it (second passes of
   * hairpinning never do), else the core, then the cache fill shard.ts does after a plain
   * translation that it transmitted (one output port of a random MTU, a static or learnt next hop).
   */
  private call(owner: number, family: 4 | 6, off: number, len: number, cap: number, now: number, secondPass = false): Result {
    const rig = this.rig, buf = rig.buf, sh = rig.shards[owner];
    for (let s = 0; s < rig.n; s++) this.before[s].set(rig.shards[s].counters);
    const core = sh.core;
    let r: Result;
    let tried = false, flen = 0;
    try {
      if (this.o.flowCache !== false && !secondPass) {
        if (family === 6) {
          const payload = (buf[off + 4] << 8) | buf[off + 5], nh = buf[off + 6];
          tried = len >= 40 && buf[off] >>> 4 === 6 && 40 + payload <= len && (nh === 17 || nh === 6);
          if (tried) flen = sh.flows.hit6(buf, off, payload, now, this.neighGen);
        } else {
          const total = (buf[off + 2] << 8) | buf[off + 3], ihl = (buf[off] & 15) * 4, proto = buf[off + 9];
          tried = len >= 20 && buf[off] >>> 4 === 4 && ihl === 20 && total >= ihl && total <= len && (proto === 17 || proto === 6);
          if (tried) flen = sh.flows.hit4(buf, off, total, now, this.neighGen);
        }
      }
      this.cacheHit = flen > 0;
      if (flen > 0) {
        r = family === 6 ? Result.EMIT4 : Result.EMIT6;
        this.outOff = sh.flows.frame + 14;
        this.outLen = flen - 14;
        this.stats.cacheHits++;
        // The cache wrote the Ethernet header: next hop and port MAC, the output family's type.
        const f = sh.flows.frame;
        for (let k = 0; k < 6; k++) {
          if (buf[f + k] !== NEXT_HOP_MAC[k]) throw new InvariantViolation('cache-frame', `destination MAC byte ${k} is ${buf[f + k]}`);
        }
        if (((buf[f + 12] << 8) | buf[f + 13]) !== (family === 6 ? 0x0800 : 0x86dd)) {
          throw new InvariantViolation('cache-frame', `EtherType ${((buf[f + 12] << 8) | buf[f + 13]).toString(16)}`);
        }
      } else {
        r = family === 6 ? core.process6(buf, off, len, cap, now) : core.process4(buf, off, len, cap, now);
        this.outOff = core.out.off;
        this.outLen = core.out.len;
        if (tried && r === (family === 6 ? Result.EMIT4 : Result.EMIT6) && core.flowSession >= 0) this.fill(sh, family, now);
      }
    } catch (e) {
      if (e instanceof InvariantViolation) throw e;
      throw new InvariantViolation('no-throw', `process${family} threw ${(e as Error)?.stack ?? String(e)}`);
    }
    const v = this.stats.verdicts;
    if (r === Result.DROP) v.DROP++; else if (r === Result.EMIT4) v.EMIT4++; else if (r === Result.EMIT6) v.EMIT6++;
    else if (r === Result.HAIRPIN) v.HAIRPIN++;
    else if (r === Result.STORE) v.STORE++;
    else throw new InvariantViolation('result', `process${family} returned ${String(r)}`);
    if (family === 4 && r === Result.HAIRPIN) throw new InvariantViolation('result', 'process4 returned HAIRPIN');
    this.checkCounters(owner, family, r);
    return r;
  }

  /** shard.ts remember(): the frame went out on a port of MTU portMtu to a next hop (static, or learnt `age` s ago). */
  private fill(sh: Rig['shards'][number], family: 4 | 6, now: number): void {
    const r = this.r;
    const portMtu = r.chance(0.7) ? 1500 : 1280 + r.int(400);
    if (this.outLen > portMtu) return; // forward() drops it (packet-too-big): not transmitted, not remembered
    const updated = r.chance(0.8) ? -1 : Math.floor(now / 1000) - r.int(40);
    if (family === 6) sh.flows.fill6(0, NEXT_HOP_MAC, 0, portMtu, updated, this.neighGen);
    else sh.flows.fill4(0, NEXT_HOP_MAC, 0, portMtu, updated, this.neighGen);
  }

  private checkCounters(owner: number, family: 4 | 6, r: Result): void {
    const rig = this.rig;
    for (let s = 0; s < rig.n; s++) {
      const a = rig.shards[s].counters, b = this.before[s];
      let total = 0;
      for (let k = 0; k < COUNTER_COUNT; k++) {
        const d = a[k] - b[k];
        if (d < 0) throw new InvariantViolation('counters', `${COUNTERS[k].name} decreased by ${-d}`);
        total += d;
      }
      if (s !== owner) {
        if (total !== 0) throw new InvariantViolation('counters', `shard ${s} counters changed by a packet of shard ${owner}`);
        continue;
      }
      const changed = describeDelta(a, b);
      const translated = family === 6 ? (r === Result.EMIT4 || r === Result.HAIRPIN) : r === Result.EMIT6;
      if (r === Result.STORE) {
        // RFC 6146 §3.5.2.2: an IPv4 SYN kept by the core; counted once as stored, nothing else.
        if (family !== 4 || total !== 1 || a[K_STORED] - b[K_STORED] !== 1) {
          throw new InvariantViolation('counters', `STORE must bump tcp-v4-syn-stored only, got {${changed}}`);
        }
      } else if (r === Result.DROP) {
        // One drop reason; a reason that calls for an ICMP error (TTL, MTU, Routing header, IPv4
        // source route, pool4 exhausted or a full table on the IPv6 side, a refusal with
        // icmp-admin-prohibited) also gets what became of the error when it was not sent
        // (suppressed, rate-limited).
        const unsent = a[K_SUPPRESSED] - b[K_SUPPRESSED] + a[K_RATE_LIMITED] - b[K_RATE_LIMITED];
        const errorReason = this.errorReasonDelta(a, b);
        let reason = -1;
        for (let k = 0; k < COUNTER_COUNT; k++) if (a[k] !== b[k] && k !== K_SUPPRESSED && k !== K_RATE_LIMITED) reason = k;
        const ok = unsent === 0 ? total === 1 && IS_OUTCOME[reason] !== 1
          : unsent === 1 && errorReason === 1 && total === 2 && (family === 6 || !moved(V6_ONLY, a, b));
        if (!ok) {
          throw new InvariantViolation('counters', `DROP must bump exactly one drop reason (and the fate of its ICMP error), got {${changed}}`);
        }
      } else if (translated) {
        const k = family === 6 ? K_6TO4 : K_4TO6;
        const frag = a[K_FRAGMENTED] - b[K_FRAGMENTED];
        if (total !== 1 + frag || frag > 1 || a[k] - b[k] !== 1) {
          throw new InvariantViolation('counters', `translated: want ${COUNTERS[k].name}+1 (and mtu-fragmented+1) only, got {${changed}}`);
        }
      } else if (total !== 2 || a[K_SENT] - b[K_SENT] !== 1 || this.errorReasonDelta(a, b) !== 1 || (family === 4 && moved(V6_ONLY, a, b))) {
        const names = Array.from(this.errorReasons, (k) => COUNTERS[k].name).join(', ');
        throw new InvariantViolation('counters', `generated ICMP error: want icmp-error-sent+1 and one reason (${names}; ${V6_ONLY_REASONS.join(', ')} from IPv6 only), got {${changed}}`);
      } else {
        const e = this.stats.errorsByReason;
        for (const k of this.errorReasons) if (a[k] !== b[k]) e[COUNTERS[k].name] = (e[COUNTERS[k].name] ?? 0) + 1;
      }
    }
  }

  /** How much the reasons that may call for an ICMP error moved, together. */
  private errorReasonDelta(a: Float64Array, b: Float64Array): number {
    let d = 0;
    for (const k of this.errorReasons) d += a[k] - b[k];
    return d;
  }

  /** `pristine`: the input's transport checksum is known right (an unmutated seed, or a partial frame finished). */
  private checkResult(r: Result, family: 4 | 6, owner: number, off: number, cap: number, pristine: boolean): void {
    if (r === Result.DROP || r === Result.STORE) return;
    const buf = this.rig.buf;
    const o = this.outOff, n = this.outLen;
    if (!Number.isInteger(o) || !Number.isInteger(n) || o < off - HEADROOM || n <= 0 || o + n > off + cap) {
      throw new InvariantViolation('out-window', `out ${o}+${n} outside [${off - HEADROOM}, ${off + cap}) (off ${off})`);
    }
    const outFamily = r === Result.EMIT6 ? 6 : 4;
    const bad = outFamily === 4 ? checkIpv4(buf, o, n) : checkIpv6(buf, o, n);
    if (bad !== null) {
      throw new InvariantViolation('out-wellformed', `${bad}; output ${Buffer.from(buf.subarray(o, o + Math.min(n, 128))).toString('hex')}`);
    }
    // Transport checksums survive translation when they were right to begin with (unmutated seeds),
    // and an ICMP error is always recomputed or verified, so its checksum must always verify.
    const l4 = o + (outFamily === 4 ? (buf[o] & 15) * 4 : 40);
    const proto = buf[outFamily === 4 ? o + 9 : o + 6];
    const isErr = (outFamily === 4 && proto === 1 && n > l4 - o && [3, 4, 5, 11, 12].includes(buf[l4])) ||
      (outFamily === 6 && proto === 58 && n > 40 && buf[l4] < 128);
    if (isErr) {
      const qbad = checkQuoted(buf, l4 + 8, o + n, outFamily);
      if (qbad !== null) {
        throw new InvariantViolation('out-quoted', `${qbad}; output ${Buffer.from(buf.subarray(o, o + Math.min(n, 128))).toString('hex')}`);
      }
    }
    if ((pristine || isErr) && !l4ChecksumOk(buf, o, n, outFamily)) {
      throw new InvariantViolation('out-checksum', `${family}->${outFamily} transport checksum wrong; output ` +
        Buffer.from(buf.subarray(o, o + Math.min(n, 128))).toString('hex'));
    }
  }

  private checkCanaries(off: number, cap: number): void {
    const buf = this.rig.buf;
    const lo = off - HEADROOM - CANARY;
    for (let k = lo; k < lo + CANARY; k++) {
      if (buf[k] !== CANARY_BYTE) throw new InvariantViolation('window', `byte ${k - off} (before off-${HEADROOM}) written`);
    }
    for (let k = off + cap; k < off + cap + CANARY; k++) {
      if (buf[k] !== CANARY_BYTE) throw new InvariantViolation('window', `byte off+${k - off} (cap ${cap}) written`);
    }
  }

  /** Every 1024 packets: timers, table bounds; every 8192: the flows the corpus quotes are refreshed. */
  private housekeeping(i: number): void {
    const rig = this.rig, st = this.stats;
    for (const s of rig.shards) {
      s.core.expire(rig.now);
      this.checkTables();
    }
    if ((i & 8191) === 0) this.refresh();
    if (this.r.chance(0.05)) this.neighGen++;
    if (this.o.onProgress && this.o.progressEvery && i % this.o.progressEvery === 0 && i > 0) {
      st.packets = i;
      this.o.onProgress(st);
    }
  }

  private checkTables(): void {
    const st = this.stats;
    for (const s of this.rig.shards) {
      const t = s.core.tables, cap = this.rig.capacity;
      const b = t.bib.count, se = t.sessions.count, h = t.held.count;
      if (!(b >= 0 && b <= cap && se >= 0 && se <= cap && h >= 0 && h <= HELD_CAPACITY)) {
        throw new InvariantViolation('tables', `bib ${b} sessions ${se} held ${h} (capacity ${cap})`);
      }
      this.checkSubscribers(t);
      if (b > st.maxBib) st.maxBib = b;
      if (se > st.maxSessions) st.maxSessions = se;
      if (h > st.maxHeld) st.maxHeld = h;
    }
  }

  /**
   * Per-subscriber accounting (issue 15): while a limit is on, the subscriber table holds exactly
   * the dynamic BIB entries, per protocol and per prefix (unless it ran full: subscriber-untracked),
   * and no subscriber holds more than the shard's limit.
   */
  private checkSubscribers(t: ShardTables): void {
    const subs = t.subscribers;
    if (!subs.on) return;
    const len = subs.prefixLength, want = new Map<string, number>();
    for (let b = 0; b < t.bib.capacity; b++) {
      if (!t.bib.inUse(b) || t.bib.isStatic(b)) continue;
      const r = t.bib.rec, p = b * B_STRIDE + B_V6;
      const key = `${[0, 1, 2, 3].map((k) => maskWord(r[p + k], k, len)).join(',')}/${t.bib.proto(b)}`;
      want.set(key, (want.get(key) ?? 0) + 1);
    }
    const got = new Map<string, number>();
    for (const u of readSubscribers(t.buffers).subscribers) {
      const words = [0, 1, 2, 3].map((k) => (u.prefix[4 * k] << 24) | (u.prefix[4 * k + 1] << 16) | (u.prefix[4 * k + 2] << 8) | u.prefix[4 * k + 3]);
      [6, 17, 1].forEach((proto, slot) => {
        if (u.held[slot] === 0) return;
        got.set(`${words.join(',')}/${proto}`, u.held[slot]);
        const limit = subs.limit(proto);
        if (limit > 0 && u.held[slot] > limit) throw new InvariantViolation('subscribers', `a subscriber holds ${u.held[slot]} > limit ${limit} (proto ${proto})`);
      });
    }
    if (this.untracked(t) > 0) return; // a full table undercounts by design (fail open)
    for (const [k, n] of want) {
      if (got.get(k) !== n) throw new InvariantViolation('subscribers', `${k}: BIB has ${n} dynamic entries, subscriber table says ${got.get(k) ?? 0}`);
    }
    if (got.size !== want.size) throw new InvariantViolation('subscribers', `subscriber table has ${got.size} (prefix, protocol) pairs, the BIB ${want.size}`);
  }

  private untracked(t: ShardTables): number {
    const s = this.rig.shards.find((x) => x.core.tables === t);
    return s ? s.counters[C['subscriber-untracked']] : 0;
  }

  private refresh(): void {
    const rig = this.rig, lo = rig.off - HEADROOM - CANARY;
    this.corpus = buildCorpus(establish(rig));
    rig.buf.fill(CANARY_BYTE, lo, lo + CANARY); // set-up packets may legitimately write the headroom
  }

  /** After the run: once every timeout has passed the tables must be empty (no leaked entry). */
  private drain(): void {
    const rig = this.rig;
    const later = rig.now + 30 * 24 * 3600 * 1000;
    for (const s of rig.shards) {
      for (let k = 0; k < 4096 && (s.core.tables.sessions.count > 0 || s.core.tables.held.count > 0); k++) s.core.expire(later + k * 24 * 3600 * 1000);
      const t = s.core.tables;
      if (t.sessions.count !== 0 || t.bib.count !== 0 || t.held.count !== 0 || t.subscribers.count !== 0) {
        throw new InvariantViolation('tables-drain', `after every timeout: bib ${t.bib.count} sessions ${t.sessions.count} held ${t.held.count}`);
      }
    }
  }
}

/** Did any of these counters move? */
function moved(ks: Int32Array, a: Float64Array, b: Float64Array): boolean {
  for (const k of ks) if (a[k] !== b[k]) return true;
  return false;
}

function hex16(v: number): string { return `0x${v.toString(16).padStart(4, '0')}`; }

function isShard(x: number, n: number): boolean { return Number.isInteger(x) && x >= 0 && x < n; }

function describeDelta(a: Float64Array, b: Float64Array): string {
  const parts: string[] = [];
  for (let k = 0; k < COUNTER_COUNT; k++) if (a[k] !== b[k]) parts.push(`${COUNTERS[k].name}+${a[k] - b[k]}`);
  return parts.join(' ');
}


/** null when buf[o, o+n) is a well-formed IPv4 packet whose Total Length is n; else the reason. */
export function checkIpv4(buf: Uint8Array, o: number, n: number): string | null {
  if (n < 20) return `IPv4 output of ${n} bytes`;
  if (buf[o] >>> 4 !== 4) return `IPv4 output with version ${buf[o] >>> 4}`;
  const ihl = (buf[o] & 15) * 4;
  if (ihl < 20 || ihl > n) return `IPv4 output with IHL ${ihl}`;
  const total = (buf[o + 2] << 8) | buf[o + 3];
  if (total !== n) return `IPv4 Total Length ${total} != out.len ${n}`;
  if (fold(sum(buf, o, ihl, 0)) !== 0xffff) return 'IPv4 header checksum wrong';
  // RFC 791: a fragment may not carry a datagram past 65535 bytes.
  const fragEnd = (((buf[o + 6] & 0x1f) << 8) | buf[o + 7]) * 8 + total;
  if (fragEnd > 0xffff) return `IPv4 fragment ends at byte ${fragEnd} of its datagram`;
  return null;
}

/** null when buf[o, o+n) is a well-formed IPv6 packet whose 40 + Payload Length is n; else the reason. */
export function checkIpv6(buf: Uint8Array, o: number, n: number): string | null {
  if (n < 40) return `IPv6 output of ${n} bytes`;
  if (buf[o] >>> 4 !== 6) return `IPv6 output with version ${buf[o] >>> 4}`;
  const plen = (buf[o + 4] << 8) | buf[o + 5];
  if (40 + plen !== n) return `IPv6 40 + Payload Length ${40 + plen} != out.len ${n}`;
  return null;
}

/**
 * The packet quoted in an ICMP error we emit (translated, or generated about a packet that parsed):
 * of the error's family, with a header that parses and a length field covering at least the
 * header and the 8 transport bytes every quote carries (RFC 792). A quote may be cut short.
 */
export function checkQuoted(buf: Uint8Array, q: number, end: number, family: 4 | 6): string | null {
  if (end - q < (family === 4 ? 20 : 40)) return `quoted packet of ${end - q} bytes`;
  if (buf[q] >>> 4 !== family) return `quoted packet of version ${buf[q] >>> 4} in an ICMPv${family === 4 ? 4 : 6} error`;
  if (family === 6) {
    // A quoted fragment (RFC 7915 §4.1/§4.3) carries an 8-byte Fragment Header before its transport bytes.
    const plen = (buf[q + 4] << 8) | buf[q + 5], min = buf[q + 6] === 44 ? 16 : 8;
    return plen < min ? `quoted IPv6 Payload Length ${plen}` : null;
  }
  const ihl = (buf[q] & 15) * 4, total = (buf[q + 2] << 8) | buf[q + 3];
  if (ihl < 20 || total < ihl + 8) return `quoted IPv4 IHL ${ihl} Total Length ${total}`;
  if (end - q >= ihl && fold(sum(buf, q, ihl, 0)) !== 0xffff) return 'quoted IPv4 header checksum wrong';
  return null;
}

/** The transport checksum of an output packet (no extension headers; UDP checksum 0 accepted in IPv4). */
export function l4ChecksumOk(buf: Uint8Array, o: number, n: number, family: 4 | 6): boolean {
  if (family === 4) {
    const ihl = (buf[o] & 15) * 4, proto = buf[o + 9], l4 = o + ihl, len = n - ihl;
    if ((buf[o + 6] & 0x3f) !== 0 || buf[o + 7] !== 0) return true; // a fragment: not checkable alone
    if (proto === 1) return fold(sum(buf, l4, len, 0)) === 0xffff;
    if (proto !== 6 && proto !== 17) return true;
    if (proto === 17 && len >= 8 && buf[l4 + 6] === 0 && buf[l4 + 7] === 0) return true;
    return fold(sum(buf, l4, len, sum(buf, o + 12, 8, 0) + proto + len)) === 0xffff;
  }
  const nh = buf[o + 6], len = n - 40;
  if (nh !== 6 && nh !== 17 && nh !== 58) return true;
  return fold(sum(buf, o + 40, len, sum(buf, o + 8, 32, 0) + (len >>> 16) + (len & 0xffff) + nh)) === 0xffff;
}

export { fixChecksums };
