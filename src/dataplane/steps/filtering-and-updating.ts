/**
 * RFC 6146 §3.5 Filtering and Updating Binding and Session Information.
 *
 * Finds (or creates) the BIB entry and the session of a packet, applies the filtering policy
 * (address-dependent filtering, drop-icmpv6-info, drop-externally-initiated-tcp), runs the TCP
 * state machine (§3.5.2.2) and refreshes the session's lifetime. Returns the session index, or
 * NIL after counting exactly one reason for the drop; t.refused tells the core the drop was a
 * refusal it may answer with "administratively prohibited" (RFC 7915 §4.4/§5.4), and
 * addressUnreachable that an IPv6 packet found no room for its state (Address Unreachable).
 */
import type { CoreGlobals } from '../core-config';
import { C } from '../counters';
import { NIL } from '../tables/layout';
import type { ShardTables } from '../tables/shard-tables';
import type { Pool4 } from '../tables/pool4';
import { TimerClass } from '../tables/expiry';
import { SUB_OK, SUB_PORT_LIMIT } from '../tables/subscribers';
import { HELD_ALREADY } from '../tables/held-syn';
import { TCP_KEEP, TCP_NO_SESSION, TCP_RST, TCP_SYN, TcpState, nextState, nextTimer, tcpTransition } from '../tables/tcp-state';
import { PROTO_ICMP, PROTO_TCP, type IncomingTuple } from './determine-incoming-tuple';

/** The static BIB entries of the instance by IPv6 transport address (classify.ts Classifier). */
export interface StaticIndex6 {
  /** Shard of the static entry for (proto, IPv6 address at a6[o6..], port), or -1: none. */
  staticOwner6(proto: number, a6: Uint8Array, o6: number, port: number): number;
}

const K_BIB6 = C['bib6-not-found'];
const K_BIB4 = C['bib4-not-found'];
const K_POOL4_EXHAUSTED = C['pool4-exhausted'];
const K_BIB_FULL = C['bib-table-full'];
const K_SESSION_FULL = C['session-table-full'];
const K_ADF = C['adf-filtered'];
const K_SYN_NEEDED = C['tcp-syn-needed'];
const K_V4_SYN_DROPPED = C['tcp-v4-syn-dropped'];
const K_V4_SYN_STORED = C['tcp-v4-syn-stored'];
const K_SO_FULL = C['tcp-so-full'];
const K_SYN_RETRANSMIT = C['tcp-v4-syn-retransmit'];
const K_INFO = C['icmp-info-filtered'];
const K_SESSION_MISSING = C['session-not-found'];
const K_SUB_PORTS = C['subscriber-port-limit'];
const K_SUB_RATE = C['subscriber-rate-limit'];
const K_ERROR_RATE_LIMITED = C['icmp-error-rate-limited'];
/** filter6: the subscriber's record was not looked up before the BIB (pool4 has room). */
const UNKNOWN = -2;

export class FilteringAndUpdating {
  globals: CoreGlobals | null = null;
  pool4: Pool4 | null = null;
  /** Set by filter4: the held-SYN slot that now stores the packet (RFC 6146 §3.5.2.2), else -1. */
  stored = -1;
  /**
   * Set by filter6: the state this packet needed could not be created, i.e. no IPv4 transport
   * address (pool4-exhausted), no room in the BIB (bib-table-full) or in the session table
   * (session-table-full), or the subscriber is at its limit (subscriber-port-limit,
   * subscriber-rate-limit: RFC 6888 REQ-4). RFC 6146 §3.5.1.1, §3.5.2.2 (V6 SYN in CLOSED), §3.5.3: "the packet is
   * discarded. The NAT64 SHOULD send an ICMPv6 Destination Unreachable error message with Code 3
   * (Address Unreachable)"; the core does. Never set by filter4: nothing asks to answer the IPv4
   * side for a full table (docs/design.md).
   */
  addressUnreachable = false;
  /** Set by filter6: refused by a per-subscriber limit, answered or not (the shard remembers the flow). */
  subscriberLimited = false;
  /**
   * Set by filter6/filter4: the counter of a refusal (t.refused) of a packet that had no session
   * (4->6: bib4-not-found, adf-filtered, tcp-v4-syn-dropped, tcp-syn-needed; 6->4:
   * tcp-syn-needed), else -1. Such a refusal holds until a BIB entry or session is created on
   * the packet's transport address (or the configuration changes): the shard remembers the flow
   * (flow-cache.ts filtered4/filtered6). Not a refusal of an existing session's TCP state machine.
   */
  refusal = -1;

  constructor(private readonly tables: ShardTables, private readonly counters: Float64Array,
    private readonly statics: StaticIndex6 | null = null) {}

  /** IPv6 -> IPv4 (§3.5.1 UDP, §3.5.2 TCP, §3.5.3 ICMP query). */
  filter6(buf: Uint8Array, t: IncomingTuple, now: number): number {
    this.addressUnreachable = false;
    this.subscriberLimited = false;
    this.refusal = -1;
    const g = this.globals!, c = this.counters, bibs = this.tables.bib, sessions = this.tables.sessions;
    const proto = t.proto;
    // §3.5.3: "If the NAT64 is configured to filter ICMPv6 informational messages, drop". Not
    // t.refused: RFC 7915 §5.4 never answers an ICMPv6 message.
    if (proto === PROTO_ICMP && !t.isError && g.dropIcmpv6Info) { c[K_INFO]++; return NIL; }
    // Under pool4 exhaustion the subscriber's record first (knownUnmapped); else found by check() if needed.
    const sub = !t.isError && this.exhausted(proto) ? this.tables.subscribers.find6(buf, t.addr6Off) : UNKNOWN;
    let bib = sub !== UNKNOWN && this.knownUnmapped(proto, buf, t.addr6Off, t.port6, sub) ? NIL : bibs.lookup6(proto, buf, t.addr6Off, t.port6);
    if (t.isError) return this.errorSession(bib, t, K_BIB6);
    const rport = proto === PROTO_ICMP ? -1 : t.remotePort;
    let s = bib === NIL ? NIL : sessions.lookup(bib, t.remote4, rport < 0 ? bibs.port4(bib) : rport);
    if (s !== NIL) return this.update(s, proto, true, t, now) ? s : NIL;
    // No session. TCP opens one only with a SYN (§3.5.2.2 CLOSED state).
    const syn = (t.tcpFlags & (TCP_SYN | TCP_RST)) === TCP_SYN;
    if (proto === PROTO_TCP && !syn) { c[K_SYN_NEEDED]++; t.refused = true; this.refusal = K_SYN_NEEDED; return NIL; }
    let created = false;
    if (bib === NIL) {
      // RFC 6888 REQ-4: the subscriber's share of pool4 (and its rate of new mappings) first, so a
      // subscriber at its limit is refused like an exhausted pool4, but only that subscriber.
      if (this.subscriberRefuses(proto, sub, buf, t.addr6Off, now)) return NIL;
      // §3.5.1.1: endpoint-independent mapping, a new IPv4 transport address from pool4; for a SYN
      // that an IPv4 SYN is already waiting for, the address that SYN was sent to.
      if (!(proto === PROTO_TCP && this.meetHeldSyn(t)) &&
          !this.pool4!.allocate(proto, bibs, buf, t.addr6Off, t.port6, t.remote4, t.remotePort, g.fArgs)) {
        c[K_POOL4_EXHAUSTED]++;
        this.addressUnreachable = true; // the core answers Address Unreachable (§3.5.1.1)
        return NIL;
      }
      bib = bibs.insert(proto, buf, t.addr6Off, t.port6, this.pool4!.addr, this.pool4!.port, false);
      // §3.5.1.1: "... or create a BIB entry, then the packet is discarded": Address Unreachable too.
      if (bib === NIL) { c[K_BIB_FULL]++; this.addressUnreachable = true; return NIL; }
      created = true;
    }
    const port4 = bibs.port4(bib);
    const state = proto === PROTO_TCP ? TcpState.V6_INIT : 0;
    const cls = proto === PROTO_TCP ? TimerClass.TCP_TRANS : proto === PROTO_ICMP ? TimerClass.ICMP : TimerClass.UDP;
    s = sessions.insert(bib, t.remote4, rport < 0 ? port4 : rport, state, cls, now);
    if (s === NIL) {
      // No session, no state at all (a new BIB entry goes with it): answered as a BIB entry that
      // could not be created.
      if (created) bibs.remove(bib);
      c[K_SESSION_FULL]++;
      this.addressUnreachable = true;
      return NIL;
    }
    if (proto === PROTO_TCP) {
      // An IPv4 SYN of the same connection may be waiting (simultaneous open): it is answered now.
      const h = this.tables.held.find(bibs.addr4(bib), port4, t.remote4, t.remotePort);
      if (h >= 0) this.tables.held.release(h);
    }
    return s;
  }

  /**
   * Is it certain, without the BIB lookup, that (proto, IPv6 source transport address) has no BIB
   * entry, while pool4 has no free port for proto (anyFree, O(1))? Then the packet is refused
   * (pool4-exhausted, or a subscriber limit first) whatever else it is, and the lookup, one or two
   * random lines of the BIB per packet, is the largest part of that refusal: a flood of new
   * 5-tuples against a full pool4 spent ~35 % of the shard in it (bench/PROFILE.md). Known from
   * the subscriber's exact count of dynamic entries (the subscriber check reads the same record
   * next) and the instance's static entries by IPv6 transport address. Unsure: false, and the
   * lookup decides. Not for ICMP errors (their BIB entry is the quoted packet's).
   */
  private knownUnmapped(proto: number, buf: Uint8Array, o6: number, port6: number, sub: number): boolean {
    return this.tables.subscribers.holdsNone(proto, sub)
      && this.statics !== null && this.statics.staticOwner6(proto, buf, o6, port6) < 0;
  }

  /**
   * RFC 6888 REQ-4 for a new mapping: the subscriber's share of pool4 and its rate of new mappings
   * (record `sub` from find6, or UNKNOWN: looked up here). Refused: counted, subscriberLimited,
   * answered (addressUnreachable) or, paced per subscriber (subscribers.ts SUB_ERROR_INTERVAL_MS),
   * icmp-error-rate-limited.
   */
  private subscriberRefuses(proto: number, sub: number, buf: Uint8Array, o6: number, now: number): boolean {
    const subs = this.tables.subscribers;
    const verdict = sub !== UNKNOWN ? subs.checkRecord(proto, sub, now) : subs.check(proto, buf, o6, now);
    if (verdict === SUB_OK) return false;
    this.counters[verdict === SUB_PORT_LIMIT ? K_SUB_PORTS : K_SUB_RATE]++;
    this.subscriberLimited = true;
    if (subs.answer) this.addressUnreachable = true;
    else this.counters[K_ERROR_RATE_LIMITED]++;
    return true;
  }

  /**
   * Issue 11, before the full path: what filter6 decides for a UDP packet or TCP SYN from
   * (proto, IPv6 address at buf[o6..], port6) that no session knows, when pool4 has no free port
   * for proto and the source is known to hold no mapping (knownUnmapped): the subscriber's limits,
   * else pool4-exhausted; counters and flags (addressUnreachable, subscriberLimited) as filter6
   * leaves them. False, nothing counted or changed: pool4 has room, or the source may hold one.
   */
  refuseUnmapped6(proto: number, buf: Uint8Array, o6: number, port6: number, now: number): boolean {
    this.addressUnreachable = false;
    this.subscriberLimited = false;
    this.refusal = -1;
    if (!this.exhausted(proto)) return false;
    const sub = this.tables.subscribers.find6(buf, o6);
    if (!this.knownUnmapped(proto, buf, o6, port6, sub)) return false;
    // filter6's path without a BIB entry: the subscriber first, then pool4 (a held IPv4 SYN's port
    // cannot be taken either: no port is free).
    if (!this.subscriberRefuses(proto, sub, buf, o6, now)) {
      this.counters[K_POOL4_EXHAUSTED]++;
      this.addressUnreachable = true;
    }
    return true;
  }

  /**
   * Issue 11, before the full path, IPv4 side: what filter4 decides for a TCP/UDP packet to pool4
   * transport address (proto, local4, localPort) that pool4's bitmap says no BIB entry holds
   * (pool4.unmapped): bib4-not-found, or tcp-v4-syn-dropped for a SYN under
   * drop-externally-initiated-tcp; counted, `refusal` set as filter4 leaves it. False, nothing
   * counted: the address may be held, or a SYN is to be stored (RFC 6146 §3.5.2.2, not a refusal).
   */
  refuseUnmapped4(proto: number, local4: number, localPort: number, tcpFlags: number): boolean {
    this.refusal = -1;
    this.stored = -1;
    if (this.pool4 === null || !this.pool4.unmapped(proto, local4, localPort)) return false;
    let counter = K_BIB4;
    if (proto === PROTO_TCP && (tcpFlags & (TCP_SYN | TCP_RST)) === TCP_SYN) {
      if (!this.globals!.dropExternallyInitiatedTcp) return false;
      counter = K_V4_SYN_DROPPED;
    }
    this.counters[counter]++;
    this.refusal = counter;
    return true;
  }

  /** pool4 has no free port (or ICMP identifier) for proto in this shard's slice: O(1). */
  private exhausted(proto: number): boolean {
    return this.pool4 !== null && !this.pool4.anyFree(proto);
  }

  /**
   * RFC 6146 §3.5.2.2 simultaneous open: an IPv4 SYN from exactly the endpoint this IPv6 SYN calls
   * is stored, addressed to pool4 transport address A#P with no BIB entry. If A#P is free and this
   * shard's to give, the new mapping takes it (into pool4.addr/port), so that the two SYNs meet:
   * the session is found by the IPv4 SYN's retransmission and the stored copy is dropped (filter6,
   * RFC 5382 REQ-4). A stored SYN lives in the shard that owns P, and this one's held table is the
   * only one it reads: with several shards the SYNs meet when the IPv6 flow hashes to that shard
   * (see Pool4.allocate on port ownership).
   */
  private meetHeldSyn(t: IncomingTuple): boolean {
    const held = this.tables.held, bibs = this.tables.bib;
    for (let h = held.findFrom(t.remote4, t.remotePort, 0); h >= 0; h = held.findFrom(t.remote4, t.remotePort, h + 1)) {
      if (this.pool4!.take(PROTO_TCP, bibs, held.local4(h), held.localPort(h))) return true;
    }
    return false;
  }

  /** IPv4 -> IPv6. */
  filter4(t: IncomingTuple, now: number): number {
    const g = this.globals!, c = this.counters, bibs = this.tables.bib, sessions = this.tables.sessions;
    this.stored = -1;
    this.refusal = -1;
    const proto = t.proto;
    // A pool4 transport address nobody holds (a scan, a late reply): known from pool4's port bitmap
    // without the BIB's hash head and records.
    const known = this.pool4 !== null && this.pool4.unmapped(proto, t.local4, t.localPort);
    const bib = known ? NIL : bibs.lookup4(proto, t.local4, t.localPort);
    if (t.isError) return this.errorSession(bib, t, K_BIB4);
    const rport = proto === PROTO_ICMP ? t.localPort : t.remotePort;
    let s = bib === NIL ? NIL : sessions.lookup(bib, t.remote4, rport);
    if (s !== NIL) return this.update(s, proto, false, t, now) ? s : NIL;
    const syn = (t.tcpFlags & (TCP_SYN | TCP_RST)) === TCP_SYN;
    // t.refused: the discards RFC 7915 §4.4 answers with Communication Administratively Prohibited
    // (icmp-admin-prohibited). Not a SYN that is stored, a retransmission of one, or one beyond
    // maximum-simultaneous-opens: RFC 6146 §3.5.2.2 / RFC 5382 REQ-4, nothing answers an unsolicited
    // SYN within 6 s. Not a full table either: nothing was refused.
    if (proto === PROTO_TCP) {
      if (!syn) { return this.refuse4(bib === NIL ? K_BIB4 : K_SYN_NEEDED, t); }
      if (g.dropExternallyInitiatedTcp) return this.refuse4(K_V4_SYN_DROPPED, t);
      // §3.5.2.2 CLOSED: no BIB entry, or filtered by ADF: the SYN "is stored" for 6 s.
      if (bib === NIL || (g.addressDependentFiltering && !sessions.anyWithAddress(bib, t.remote4))) {
        const slot = this.tables.held.hold(t.local4, t.localPort, t.remote4, t.remotePort, now, g.maximumSimultaneousOpens);
        if (slot >= 0) { c[K_V4_SYN_STORED]++; this.stored = slot; } else c[slot === HELD_ALREADY ? K_SYN_RETRANSMIT : K_SO_FULL]++;
        return NIL;
      }
      s = sessions.insert(bib, t.remote4, rport, TcpState.V4_INIT, TimerClass.TCP_SYN4, now);
    } else {
      // §3.5.1 / §3.5.3: no BIB entry -> drop; ADF: only hosts the IPv6 node already talked to.
      if (bib === NIL) return this.refuse4(K_BIB4, t);
      if (g.addressDependentFiltering && !sessions.anyWithAddress(bib, t.remote4)) return this.refuse4(K_ADF, t);
      s = sessions.insert(bib, t.remote4, rport, 0, proto === PROTO_ICMP ? TimerClass.ICMP : TimerClass.UDP, now);
    }
    if (s === NIL) c[K_SESSION_FULL]++;
    return s;
  }

  /** filter4's refusal of a packet without a session: counted, answerable, remembered (this.refusal). */
  private refuse4(counter: number, t: IncomingTuple): number {
    this.counters[counter]++;
    t.refused = true;
    this.refusal = counter;
    return NIL;
  }

  /**
   * §3.5 (ICMP error messages): translated only on an existing session, which they neither
   * create nor refresh (an error says nothing about the flow being alive).
   */
  private errorSession(bib: number, t: IncomingTuple, noBib: number): number {
    if (bib === NIL) { this.counters[noBib]++; return NIL; }
    const bibs = this.tables.bib;
    const rport = t.proto === PROTO_ICMP ? bibs.port4(bib) : t.remotePort;
    const s = this.tables.sessions.lookup(bib, t.remote4, rport);
    if (s === NIL) this.counters[K_SESSION_MISSING]++;
    return s;
  }

  /** Existing session: TCP state machine, then refresh its lifetime. Never drops UDP/ICMP. */
  private update(s: number, proto: number, from6: boolean, t: IncomingTuple, now: number): boolean {
    const sessions = this.tables.sessions, expiry = this.tables.expiry;
    if (proto !== PROTO_TCP) {
      expiry.touch(s, proto === PROTO_ICMP ? TimerClass.ICMP : TimerClass.UDP, now);
      return true;
    }
    const state = sessions.state(s);
    const tr = tcpTransition(state, from6, t.tcpFlags, this.globals!.handleRstDuringFinRcv);
    if (tr === TCP_NO_SESSION) { this.counters[K_SYN_NEEDED]++; t.refused = true; return false; }
    if (nextState(tr) !== state) sessions.setState(s, nextState(tr));
    if (nextTimer(tr) !== TCP_KEEP) expiry.touch(s, nextTimer(tr), now);
    return true;
  }
}
