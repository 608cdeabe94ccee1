/**
 * The stateful NAT64 core of one shard (RFC 6146 §3.4-3.8), in the order of the RFC:
 *
 *   process6/process4 -> steps/determine-incoming-tuple (§3.4)
 *                     -> steps/filtering-and-updating   (§3.5, BIB + session + TCP state)
 *                     -> steps/compute-outgoing-tuple   (§3.6)
 *                     -> steps/translating-the-packet   (§3.7, RFC 7915 in translate/)
 *                     -> steps/handling-hairpinning     (§3.8)
 *
 * All table state lives in the shard's SharedArrayBuffers (tables/): a new Nat64Core over the same
 * buffers continues with every BIB entry and session. What this object holds is derived from the
 * configuration and rebuilt by configure().
 */
import type { CoreConfig, CoreGlobals, StaticBibEntry } from './core-config';
import { Result, type OutSpan, type TranslationCore } from './core-api';
import { C } from './counters';
import { Parsed, parse4, parse6 } from './packet/parse';
import { inPrefix } from './rfc6052';
import { Self, Tuple } from './translate/tuple';
import { Classifier, protoNumber } from './classify';
import { ShardTables, type ShardTableBuffers } from './tables/shard-tables';
import { Pool4 } from './tables/pool4';
import { H_POOL6, H_POOL6_LEN, H_TIMEOUT, NIL } from './tables/layout';
import { word } from './tables/hash';
import { TCP_INCOMING_SYN_MS, TIMER_CLASSES, TimerClass, expirySlack } from './tables/expiry';
import { TcpState } from './tables/tcp-state';
import { IncomingTuple, PROTO_ICMP, determineIncoming4, determineIncoming6 } from './steps/determine-incoming-tuple';
import { FilteringAndUpdating } from './steps/filtering-and-updating';
import { refuseUnmapped4, refuseUnmapped6 } from './steps/refuse-unmapped';
import { sendTcpProbe } from './steps/tcp-probe';
import { outgoing4to6, outgoing6to4 } from './steps/compute-outgoing-tuple';
import { translatingThePacket4, translatingThePacket6 } from './steps/translating-the-packet';
import { handlingHairpinning, isHairpinned4, willHairpin } from './steps/handling-hairpinning';
import type { PacketSink } from './translate/fragment';
import type { HeldSynListener } from './tables/held-syn';
import { buildIcmp4Error, buildIcmp6Error } from './translate/icmp-error-build';
import { RedirectIndex } from './sync/redirect';
import { applyRecords } from './sync/apply';

const ICMP4_DEST_UNREACH = 3;
const ICMP6_DEST_UNREACH = 1;
const ICMP6_PARAM_PROBLEM = 4;
const ICMP4_PORT_UNREACH = 3;
/** RFC 792 / RFC 7915 §4.1: Destination Unreachable, Source Route Failed. */
const ICMP4_SOURCE_ROUTE_FAILED = 5;
/** RFC 4443 §3.1 code 3, what RFC 6146 §3.5.1.1 asks for when no state can be created. */
const ICMP6_ADDR_UNREACH = 3;
/** RFC 7915 §4.4: Destination Unreachable, Communication Administratively Prohibited. */
const ICMP4_ADMIN_PROHIBITED = 13;
/** RFC 7915 §5.4: Destination Unreachable, Communication with destination administratively prohibited. */
const ICMP6_ADMIN_PROHIBITED = 1;
const ICMP4_ECHO_REQUEST = 8;
const IPPROTO_ICMPV6 = 58;

const K_NO_INSTANCE = C['no-instance'];
const K_ERROR_SUPPRESSED = C['icmp-error-suppressed'];
const K_POOL4_MISMATCH = C['pool4-mismatch'];
const K_SESSION_EXPIRED = C['session-expired'];
const K_BIB_EXPIRED = C['bib-expired'];
const K_SYN_EXPIRED = C['tcp-v4-syn-expired'];
const K_TCP_PROBE = C['tcp-probe-sent'];
/**
 * Sessions handled per expire() call at most: bounded pause between bursts. When more were due
 * expire() says so and the shard goes on after every burst, EXPIRE_BURST_BUDGET at a time, until
 * it has caught up: at one call per 100 ms expiry was capped at ~10 k sessions/s per shard (and at
 * ~100 k/s with a call per 10 ms housekeeping), and under churn the table filled with sessions past
 * their timeout (session-table-full).
 */
export const EXPIRE_BUDGET = 1024;
/** Sessions expired after each burst while expiry is behind: a few µs per burst. */
export const EXPIRE_BURST_BUDGET = 64;

export class CoreConfigError extends Error {
  constructor(readonly code: 'ERR_BIB_FULL' | 'ERR_STATIC_BIB_CONFLICT', message: string) {
    super(message);
    this.name = 'CoreConfigError';
  }
}

export class Nat64Core implements TranslationCore {
  readonly out: OutSpan = { off: 0, len: 0 };
  readonly tables: ShardTables;
  private readonly classifier: Classifier;
  private readonly filtering: FilteringAndUpdating;
  private readonly parsed = new Parsed();
  private readonly incoming = new IncomingTuple();
  private readonly tuple = new Tuple();
  readonly self = new Self();
  /**
   * After process6/process4: the session of a packet that took the plain exit (a TCP/UDP query
   * without extension headers or options, translated whole, not hairpinned), whose outgoing tuple
   * is flowTuple: what the shard's flow cache may remember (flow-cache.ts). -1 otherwise.
   */
  flowSession = -1;
  /**
   * After process6: the packet was refused for want of state (no pool4 transport address, BIB or
   * session table full: RFC 6146 §3.5.1.1, answered Address Unreachable) or by a per-subscriber
   * limit (RFC 6888 REQ-4). The shard remembers such flows for a second (flow-cache.ts refused6).
   */
  refusedNoState = false;
  /**
   * ...and that refusal was a per-subscriber limit: its answers are paced per subscriber
   * (subscribers.ts), not by the shard's error bucket, so the remembered flow is not retried when
   * that bucket has a token (it always would: the subscriber's refusals do not spend it).
   */
  refusedBySubscriber = false;
  /**
   * After process6/process4: the counter of a filtering refusal of a packet with no session
   * (steps/filtering-and-updating.ts `refusal`), which the shard remembers until state opens on
   * the packet's transport address (flow-cache.ts filtered4/filtered6); -1 otherwise.
   */
  refusedFilter = -1;
  /** ...and its ICMP error (icmp-admin-prohibited) went to the rate limiter: sent or rate-limited, not suppressed. */
  refusalPaced = false;
  get flowTuple(): Tuple { return this.tuple; }
  get globals(): CoreConfig['globals'] | null { return this.cfg === null ? null : this.cfg.globals; }
  private cfg: CoreConfig | null = null;
  private enabled = false;
  private pool6 = new Uint8Array(16);
  private pool6Len = 96;
  private pool4Set = new Set<number>();
  /** pool4Set sorted ascending, for the per-packet membership test (binary search, no hashing). */
  private pool4Sorted = new Uint32Array(0);
  /** The translator's own IPv4 port addresses, sorted (the shard answers echo requests to them). */
  private ownSorted = new Uint32Array(0);
  private readonly timeouts = new Float64Array(TIMER_CLASSES);
  /** Made once: handed to the steps, no closure per packet. */
  private readonly isPool4 = (a: number): boolean => this.isPool4Address(a);

  constructor(private readonly shard: number, private readonly shards: number, buffers: ShardTableBuffers,
    private readonly counters: Float64Array) {
    this.tables = new ShardTables(buffers);
    this.tables.subscribers.counters = counters;
    this.classifier = new Classifier(shard, shards);
    this.filtering = new FilteringAndUpdating(this.tables, counters, this.classifier);
  }

  /** The translator's own addresses: sources of the ICMP errors it generates (RFC 7915 §4.2/§5.2). */
  setSelf(ipv6: Uint8Array, ipv4: number): void {
    this.self.ipv6.set(ipv6.subarray(0, 16));
    this.self.ipv4 = ipv4 >>> 0;
  }

  /** Egress MTUs for the RFC 7915 MTU arithmetic. */
  setMtu(mtu6: number, mtu4: number): void {
    this.self.mtu6 = mtu6;
    this.self.mtu4 = mtu4;
  }

  /**
   * Where fragments of translated packets beyond the first go (RFC 7915 §4.1/§5.1.1): the shard's
   * buffers and transmit path. Without one, a packet that needs fragmenting is dropped
   * (fragment-alloc-failed).
   */
  /**
   * Answer the offending IPv6 packet with an ICMPv6 error. Its reason counter was already bumped;
   * the builder adds what became of the error (icmp-error-sent, -rate-limited or -suppressed).
   */
  private answer6(buf: Uint8Array, off: number, len: number, type: number, code: number, param: number): Result {
    return buildIcmp6Error(buf, off, len, type, code, param, this.self, this.out, this.counters);
  }

  /** The same for an offending IPv4 packet (RFC 1812 §4.3.2.7 decides when not to answer). */
  private answer4(buf: Uint8Array, off: number, len: number, type: number, code: number, param: number): Result {
    return buildIcmp4Error(buf, off, len, type, code, param, this.self, this.out, this.counters);
  }

  /**
   * RFC 7915 §5.4: an IPv6 packet the translator refused (t.refused: filtering, pool6-strict) gets
   * ICMPv6 Destination Unreachable code 1 when icmp-admin-prohibited is on, "unless the discarded
   * packet is itself an ICMPv6 message". The builder applies RFC 4443 §2.4(e) and the rate limit.
   * docs/design.md lists which drops are refusals and why the others are not.
   */
  private prohibited6(buf: Uint8Array, off: number, len: number, g: CoreConfig['globals']): Result {
    if (!g.icmpAdminProhibited || this.parsed.proto === IPPROTO_ICMPV6) return Result.DROP;
    const suppressed = this.counters[K_ERROR_SUPPRESSED];
    const r = this.answer6(buf, off, len, ICMP6_DEST_UNREACH, ICMP6_ADMIN_PROHIBITED, 0);
    this.refusalPaced = this.counters[K_ERROR_SUPPRESSED] === suppressed;
    return r;
  }

  /**
   * RFC 7915 §4.4 / RFC 6146 §3.5.1, §3.5.3: an IPv4 packet the translator refused gets ICMPv4
   * Destination Unreachable code 13 when icmp-admin-prohibited is on (never an ICMPv4 error:
   * errors are never refused, they fail their lookup silently). Not from one of our own addresses
   * (the second pass of a hairpinned packet comes from our pool4: the error would be addressed to
   * ourselves), and not an echo request to one of our own addresses (the shard answers it as the
   * host's, as Jool leaves it to the kernel).
   */
  private prohibited4(buf: Uint8Array, off: number, len: number, g: CoreConfig['globals']): Result {
    const p = this.parsed;
    if (!g.icmpAdminProhibited || this.fromOurAddress4(p.src4) ||
        (p.proto === PROTO_ICMP && p.icmpType === ICMP4_ECHO_REQUEST && sortedHas(this.ownSorted, p.dst4))) {
      return Result.DROP;
    }
    const suppressed = this.counters[K_ERROR_SUPPRESSED];
    const r = this.answer4(buf, off, len, ICMP4_DEST_UNREACH, ICMP4_ADMIN_PROHIBITED, 0);
    this.refusalPaced = this.counters[K_ERROR_SUPPRESSED] === suppressed;
    return r;
  }

  /**
   * RFC 7915 §4.1: "if an unexpired source route option is present, then the packet MUST instead be
   * discarded, and an ICMPv4 "Destination Unreachable, Source Route Failed" (Type 3, Code 5) error
   * message SHOULD be returned to the sender" (parse4 dropped it: ipv4-source-route). Always on (a
   * SHOULD of the translation, like Time Exceeded, not a policy refusal), for a packet the
   * translator would otherwise have translated: addressed to a pool4 address, not from one of our
   * own addresses (the error would be addressed to ourselves). The builder applies RFC 1812
   * §4.3.2.7 (no error about an ICMP error, a later fragment, or from/to multicast, broadcast,
   * unspecified, loopback) and the rate limit.
   */
  private sourceRouteFailed4(buf: Uint8Array, off: number, len: number): Result {
    const p = this.parsed;
    if (!this.isPool4Address(p.dst4) || this.fromOurAddress4(p.src4)) return Result.DROP;
    return this.answer4(buf, off, len, ICMP4_DEST_UNREACH, ICMP4_SOURCE_ROUTE_FAILED, 0);
  }

  /**
   * An IPv4 source that is the translator itself: a pool4 address (the second pass of a
   * hairpinned packet) or a port address. An error to it would be addressed to ourselves.
   */
  private fromOurAddress4(src4: number): boolean {
    return isHairpinned4(src4, this.isPool4) || sortedHas(this.ownSorted, src4);
  }

  /** After Result.STORE: the held-SYN slot the packet belongs to. */
  storedSlot = -1;
  /**
   * After Result.STORE: where the stored IPv4 packet is in buf. Not always where its frame came
   * in: the second pass of a hairpinned SYN is the IPv4 translation of an IPv6 one (§3.8).
   */
  storedOff = -1;

  /** Who keeps stored IPv4 SYNs (the shard): told when a slot expires or is released. */
  setHeldSynListener(l: HeldSynListener | null): void {
    this.tables.held.listener = l;
  }

  /**
   * RFC 6146 §3.5.2.2: "If the timer expires, the NAT64 SHOULD send an ICMP Port Unreachable
   * error to the IPv4 sender" — built in place around the stored SYN at buf[off, off+len), into out.
   * HAIRPIN when that sender is our own pool4: the SYN was a hairpinned IPv6 SYN (§3.8), and the
   * error goes back in as IPv4 (process4) to reach the IPv6 node as ICMPv6 Port Unreachable, as
   * Jool answers it.
   */
  portUnreachable4(buf: Uint8Array, off: number, len: number): Result {
    const r = this.answer4(buf, off, len, ICMP4_DEST_UNREACH, ICMP4_PORT_UNREACH, 0);
    return r === Result.EMIT4 && this.isPool4Address(word(buf, this.out.off + 16) >>> 0) ? Result.HAIRPIN : r;
  }

  /** The arena the sink's buffers live in (for the TCP probe, which the core writes itself). */
  private probeBuf: Uint8Array | null = null;

  /** Where sink.alloc() offsets point: the shard's packet arena. */
  setSinkBuffer(buf: Uint8Array): void { this.probeBuf = buf; }

  setSink(sink: PacketSink | null): void {
    this.self.sink = sink;
  }

  configure(cfg: CoreConfig | null, ownIpv4: number[]): void {
    if (cfg === null) {
      this.cfg = null;
      this.enabled = false;
      this.pool4Set = new Set();
      this.pool4Sorted = new Uint32Array(0);
      this.ownSorted = new Uint32Array(0);
      this.filtering.globals = null;
      this.filtering.pool4 = null;
      this.tables.bib.occupancy = null;
      this.tables.bib.subscribers = null;
      this.tables.subscribers.clear();
      this.classifier.setStatic([]);
      this.removeWhere(() => true);
      this.tables.held.clear();
      return;
    }
    const g = cfg.globals;
    const pool4 = new Pool4(cfg.pool4, ownIpv4, this.shard, this.shards, this.tables.header);
    this.cfg = cfg;
    this.pool6 = g.pool6.slice(0, 16);
    this.pool6Len = g.pool6Len;
    // Ours for translation: pool4 (or the port addresses standing in for it) and static BIB addresses.
    this.pool4Set = new Set([...pool4.allAddresses(), ...cfg.bib.map((e) => e.ipv4 >>> 0)]);
    this.pool4Sorted = Uint32Array.from(this.pool4Set).sort();
    this.ownSorted = Uint32Array.from(ownIpv4, (a) => a >>> 0).sort();
    this.classifier.setStatic(cfg.bib);
    this.filtering.globals = g;
    this.filtering.pool4 = pool4;
    pool4.track(this.tables.bib);
    this.configureSubscribers(g, pool4);
    this.timeouts[TimerClass.UDP] = g.udpTimeout;
    this.timeouts[TimerClass.ICMP] = g.icmpTimeout;
    this.timeouts[TimerClass.TCP_EST] = g.tcpEstTimeout;
    this.timeouts[TimerClass.TCP_TRANS] = g.tcpTransTimeout;
    this.timeouts[TimerClass.TCP_SYN4] = TCP_INCOMING_SYN_MS;
    for (let cls = 0; cls < TIMER_CLASSES; cls++) this.tables.expiry.slack[cls] = expirySlack(this.timeouts[cls]);
    this.publishForReaders();
    this.reconcile(cfg.bib, pool4);
    this.tables.held.filter((a) => this.pool4Set.has(a));
    this.enabled = g.manuallyEnabled;
  }

  /**
   * Per-subscriber limits (RFC 6888 REQ-4) as this shard enforces them: its share of the limit over
   * its share of the ports (docs/design.md "Per-subscriber limits"). Accounting runs only while a
   * limit is on; the table is rebuilt from the BIB each time, so a change applies to what exists.
   */
  private configureSubscribers(g: CoreGlobals, pool4: Pool4): void {
    const bib = this.tables.bib, subs = this.tables.subscribers;
    const perShard = (proto: number): number => {
      if (g.subscriberPortShare > 0) return Math.max(1, Math.ceil(pool4.averageSlicePorts(proto) * g.subscriberPortShare / 100));
      return g.subscriberPortLimit > 0 ? Math.ceil(g.subscriberPortLimit / this.shards) : 0;
    };
    const ports: [number, number, number] = [perShard(6), perShard(17), perShard(1)];
    const rate = g.subscriberMappingRate > 0 ? Math.ceil(g.subscriberMappingRate / this.shards) : 0;
    const on = ports[0] > 0 || ports[1] > 0 || ports[2] > 0 || rate > 0;
    bib.subscribers = null;
    subs.configure({ prefixLength: on ? g.subscriberPrefixLength : 0, ports, rate }, bib.rec, bib.capacity);
    if (on) bib.subscribers = subs;
  }

  process6(buf: Uint8Array, off: number, len: number, cap: number, now: number): Result {
    const c = this.counters;
    this.flowSession = -1;
    this.refusedNoState = false;
    this.refusedBySubscriber = false;
    this.refusedFilter = -1;
    this.refusalPaced = false;
    if (!this.enabled) { c[K_NO_INSTANCE]++; return Result.DROP; }
    const p = this.parsed, t = this.incoming, tuple = this.tuple, g = this.cfg!.globals;
    if (!parse6(buf, off, len, p, c)) {
      // RFC 7915 §5.1: a Routing header with Segments Left != 0 is not translated, and a Parameter
      // Problem pointing at Segments Left SHOULD be returned.
      return p.badPointer >= 0 ? this.answer6(buf, off, len, ICMP6_PARAM_PROBLEM, 0, p.badPointer) : Result.DROP;
    }
    if (!determineIncoming6(buf, p, this.pool6, this.pool6Len, g.pool6Strict, t, c)) {
      return t.refused ? this.prohibited6(buf, off, len, g) : Result.DROP;
    }
    const s = this.filtering.filter6(buf, t, now);
    if (s === NIL) {
      // RFC 6146 §3.5.1.1 / §3.5.2.2 / §3.5.3: no IPv4 transport address, or no room for the BIB
      // entry or the session (pool4-exhausted, bib-table-full, session-table-full): "SHOULD send an
      // ICMPv6 Destination Unreachable error message with Code 3 (Address Unreachable)".
      // Refused for want of state (or by the subscriber's limit): the shard remembers the flow.
      if (this.filtering.subscriberLimited) { this.refusedNoState = true; this.refusedBySubscriber = true; }
      if (this.filtering.addressUnreachable) {
        this.refusedNoState = true;
        return this.answer6(buf, off, len, ICMP6_DEST_UNREACH, ICMP6_ADDR_UNREACH, 0);
      }
      if (!t.refused) return Result.DROP;
      this.refusedFilter = this.filtering.refusal;
      return this.prohibited6(buf, off, len, g);
    }
    outgoing6to4(this.tables, s, t, tuple);
    const r = handlingHairpinning(translatingThePacket6(buf, off, len, cap, p, tuple, g, this.self, this.out, c,
      willHairpin(tuple, t.isError, this.isPool4)), tuple, t.isError, this.isPool4);
    if (r === Result.EMIT4 && !t.isError && t.proto !== PROTO_ICMP && p.hdrLen === 40 && this.out.len === 20 + p.l4Len) {
      this.flowSession = s;
    }
    return r;
  }

  /**
   * Issue 11: a plain IPv6 TCP/UDP packet (the shard's own-address, pool6 and owner checks done)
   * that the flow cache does not know: refused before the full path when pool4 has no free port
   * for it and nothing about it could change the full path's outcome (steps/refuse-unmapped.ts).
   * True: counted as process6 would, dropped; refusedNoState / refusedBySubscriber set for the
   * shard to remember the flow. False: nothing counted, process6 decides.
   */
  refuseUnmapped6(buf: Uint8Array, ip: number, payload: number, now: number): boolean {
    if (!this.enabled || !refuseUnmapped6(buf, ip, payload, this.pool6, this.pool6Len, this.cfg!.globals.pool6Strict, this.filtering,
      this.counters, now)) return false;
    this.refusedNoState = true;
    this.refusedBySubscriber = this.filtering.subscriberLimited;
    return true;
  }

  /**
   * Issue 11, IPv4 side: a TCP/UDP packet to a pool4 transport address nobody holds, refused
   * before the full path as process4 would (steps/refuse-unmapped.ts refuseUnmapped4). True:
   * counted, dropped, refusedFilter set for the shard to remember the flow. False: process4 decides.
   */
  refuseUnmapped4(buf: Uint8Array, ip: number, total: number): boolean {
    this.refusedFilter = -1;
    this.refusalPaced = false;
    if (!this.enabled) return false;
    const r = refuseUnmapped4(buf, ip, total, this.cfg!.globals.icmpAdminProhibited, this.filtering);
    if (r < 0) return false;
    this.refusedFilter = r;
    return true;
  }

  process4(buf: Uint8Array, off: number, len: number, cap: number, now: number): Result {
    const c = this.counters;
    this.flowSession = -1;
    this.refusedFilter = -1;
    this.refusalPaced = false;
    if (!this.enabled) { c[K_NO_INSTANCE]++; return Result.DROP; }
    const p = this.parsed, t = this.incoming, tuple = this.tuple, g = this.cfg!.globals;
    if (!parse4(buf, off, len, p, c)) return p.sourceRoute ? this.sourceRouteFailed4(buf, off, len) : Result.DROP;
    if (!determineIncoming4(buf, p, t, c)) return Result.DROP;
    if (!this.isPool4Address(t.local4)) { c[K_POOL4_MISMATCH]++; return Result.DROP; }
    const s = this.filtering.filter4(t, now);
    if (s === NIL) {
      if (this.filtering.stored < 0) {
        if (!t.refused) return Result.DROP;
        this.refusedFilter = this.filtering.refusal;
        return this.prohibited4(buf, off, len, g);
      }
      this.storedSlot = this.filtering.stored;
      this.storedOff = off;
      return Result.STORE;
    }
    outgoing4to6(this.tables, s, t, this.pool6, this.pool6Len, tuple);
    const hairpinned = isHairpinned4(p.src4, this.isPool4);
    const r = translatingThePacket4(buf, off, len, cap, p, tuple, g, this.self, this.out, c, hairpinned);
    if (r === Result.EMIT6 && !t.isError && t.proto !== PROTO_ICMP && !hairpinned && p.hdrLen === 20
      && this.out.len === 40 + p.l4Len) {
      this.flowSession = s;
    }
    return r;
  }

  /** Session sync: the shared index of IPv6 owners for mappings applied from peers (sync/redirect.ts). */
  setRedirect(buffer: SharedArrayBuffer | undefined): void {
    this.classifier.redirect = buffer ? new RedirectIndex(buffer) : null;
  }

  /**
   * Control path: apply n of a peer's sync records (sync/apply.ts) to this shard's tables. Returns
   * the counts by outcome (APPLY_RESULTS).
   */
  applyPeer(recs: Int32Array, n: number, now: number): number[] {
    return applyRecords({
      tables: this.tables, pool4: this.filtering.pool4, enabled: this.cfg !== null && this.cfg.globals.ssEnabled === true,
      shard: this.shard, shards: this.shards, timeouts: this.timeouts,
    }, recs, n, now);
  }

  ownerOf6(buf: Uint8Array, off: number, len: number): number { return this.classifier.ownerOf6(buf, off, len); }
  ownerOf4(buf: Uint8Array, off: number, len: number): number { return this.classifier.ownerOf4(buf, off, len); }
  isPool4Address(addr: number): boolean { return sortedHas(this.pool4Sorted, addr); }
  /** pool4 of the current configuration (null: none). */
  get pool4(): Pool4 | null { return this.filtering.pool4; }

  /** pool6's prefix length (RFC 6052 §2.2) of the current configuration. */
  get pool6Length(): number { return this.pool6Len; }

  inPool6(buf: Uint8Array, off: number): boolean {
    return this.cfg !== null && inPrefix(buf, off, this.pool6, this.pool6Len);
  }

  /**
   * Session timeouts (RFC 6146 §3.5.1-§3.5.3, §4), then held IPv4 SYNs. Lists are ordered by the
   * time a session was queued, which may precede its last use by up to the class's slack
   * (tables/expiry.ts): a head that is not due ends its class's scan, so a session is removed at
   * most slack after its timeout, never before. An ESTABLISHED TCP
   * session that goes idle for TCP_EST is not deleted at once: the RFC has the NAT64 probe the
   * endpoints; we send no probe (no packet buffer here) and move it to TRANS instead, so it lives
   * TCP_TRANS more and any packet brings it back to ESTABLISHED. At most `budget` sessions; true
   * when it ran out with sessions still due (the shard comes back after its next burst).
   */
  expire(now: number, budget = EXPIRE_BUDGET): boolean {
    const tables = this.tables, exp = tables.expiry, sessions = tables.sessions, c = this.counters;
    for (let cls = 0; cls < TIMER_CLASSES; cls++) {
      const timeout = this.timeouts[cls];
      for (;;) {
        const s = exp.head(cls);
        if (s === NIL || exp.lastUse[s] + timeout > now || budget-- <= 0) break;
        if (cls === TimerClass.TCP_EST && sessions.state(s) === TcpState.ESTABLISHED) {
          // §3.5.2.2: probe the endpoint; its answer brings the session back to ESTABLISHED,
          // silence lets it expire after tcp-trans-timeout.
          sessions.setState(s, TcpState.TRANS);
          exp.touch(s, TimerClass.TCP_TRANS, now);
          const sink = this.self.sink;
          if (sink !== null && this.probeBuf !== null && sendTcpProbe(tables, s, this.pool6, this.pool6Len, sink, this.probeBuf)) c[K_TCP_PROBE]++;
          continue;
        }
        this.removeSession(s);
        c[K_SESSION_EXPIRED]++;
      }
    }
    c[K_SYN_EXPIRED] += tables.held.expire(now, TCP_INCOMING_SYN_MS);
    return budget < 0;
  }

  /** Removes a session, and its BIB entry with it when that was the last one of a dynamic entry (§3.5.1). */
  private removeSession(s: number): void {
    const bibs = this.tables.bib;
    const b = this.tables.sessions.remove(s);
    if (b !== NIL && bibs.sessions(b) === 0 && !bibs.isStatic(b)) {
      bibs.remove(b);
      this.counters[K_BIB_EXPIRED]++;
    }
  }

  /** Control path: remove every BIB entry for which `drop(bib)` holds, with its sessions. */
  private removeWhere(drop: (b: number) => boolean): void {
    const bibs = this.tables.bib, sessions = this.tables.sessions;
    const doomed = new Set<number>();
    for (let b = 0; b < bibs.capacity; b++) if (bibs.inUse(b) && drop(b)) doomed.add(b);
    if (doomed.size === 0) return;
    const cap = this.tables.buffers.capacity;
    for (let s = 0; s < cap; s++) {
      const b = sessions.bibOf(s);
      if (b !== NIL && doomed.has(b)) sessions.remove(s);
    }
    for (const b of doomed) bibs.remove(b);
  }

  /**
   * Control path: bring the tables in line with a new configuration. Static entries this shard
   * owns (ipv4Port % shards) are added or removed; dynamic entries whose pool4 transport address
   * is gone (or belongs to another shard after a change of shard count) are removed with their
   * sessions; a dynamic entry in the way of a static one gives way to it.
   */
  private reconcile(bib: readonly StaticBibEntry[], pool4: Pool4): void {
    const bibs = this.tables.bib;
    const mine = bib.filter((e) => e.ipv4Port % this.shards === this.shard);
    const wanted = new Set(mine.map(staticKey));
    this.removeWhere((b) => bibs.isStatic(b)
      ? !wanted.has(storedKey(bibs, b))
      : !pool4.contains(bibs.proto(b), bibs.addr4(b), bibs.port4(b)) || bibs.port4(b) % this.shards !== this.shard);
    for (const e of mine) {
      const proto = protoNumber(e.protocol);
      const by6 = bibs.lookup6(proto, e.ipv6, 0, e.ipv6Port);
      const by4 = bibs.lookup4(proto, e.ipv4, e.ipv4Port);
      if (by6 !== NIL && by6 === by4 && bibs.isStatic(by6)) continue;
      if ((by6 !== NIL && bibs.isStatic(by6)) || (by4 !== NIL && bibs.isStatic(by4))) {
        throw new CoreConfigError('ERR_STATIC_BIB_CONFLICT',
          `static BIB entry ${e.protocol} ${e.ipv4 >>> 0}#${e.ipv4Port} clashes with another static entry`);
      }
      this.removeWhere((b) => b === by6 || b === by4);
      if (bibs.insert(proto, e.ipv6, 0, e.ipv6Port, e.ipv4, e.ipv4Port, true) === NIL) {
        throw new CoreConfigError('ERR_BIB_FULL', `shard ${this.shard}: BIB table full adding static entries`);
      }
    }
  }

  private publishForReaders(): void {
    const h = this.tables.header;
    for (let k = 0; k < 4; k++) h[H_POOL6 + k] = word(this.pool6, 4 * k);
    h[H_POOL6_LEN] = this.pool6Len;
    for (let cls = 0; cls < TIMER_CLASSES; cls++) h[H_TIMEOUT + cls] = Math.min(this.timeouts[cls], 0x7fffffff);
  }
}

/** Binary search of an unsigned address in an ascending array (per packet: no hashing, no allocation). */
function sortedHas(xs: Uint32Array, addr: number): boolean {
  const a = addr >>> 0;
  let lo = 0, hi = xs.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1, x = xs[mid];
    if (x === a) return true;
    if (x < a) lo = mid + 1; else hi = mid - 1;
  }
  return false;
}

function staticKey(e: StaticBibEntry): string {
  return `${protoNumber(e.protocol)}|${Array.from(e.ipv6.subarray(0, 16)).join('.')}|${e.ipv6Port}|${e.ipv4 >>> 0}|${e.ipv4Port}`;
}

function storedKey(bibs: ShardTables['bib'], b: number): string {
  const a6 = new Uint8Array(16);
  bibs.copyAddr6(b, a6, 0);
  return `${bibs.proto(b)}|${Array.from(a6).join('.')}|${bibs.port6(b)}|${bibs.addr4(b)}|${bibs.port4(b)}`;
}
