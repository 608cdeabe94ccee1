/**
 * RFC 6146 §3.4 Determining the Incoming Tuple.
 *
 * TCP/UDP: the 5-tuple. ICMP queries: the 3-tuple with the identifier standing for both ports.
 * ICMP errors: the tuple of the packet quoted inside, read in the direction of the flow it belongs
 * to: the quoted packet is one we sent the other way, so its destination is "our" side (the IPv6
 * node for an ICMPv6 error, the pool4 transport address for an ICMPv4 error).
 */
import type { Parsed } from '../packet/parse';
import { C } from '../counters';
import { extract, inPrefix, wkpForbids } from '../rfc6052';

export const PROTO_TCP = 6;
export const PROTO_UDP = 17;
/** BIB/session protocol of ICMPv4 and ICMPv6 alike (RFC 6146 §3.5.3). */
export const PROTO_ICMP = 1;
const ICMP6 = 58;

const K_POOL6 = C['pool6-mismatch'];
const K_ICMP_TYPE = C['icmp-type-untranslatable'];
const K_INNER = C['icmp-error-inner-bad'];

/** One reusable object per core: the flow a packet belongs to, as the later steps need it. */
export class IncomingTuple {
  /** 6, 17 or 1 (ICMPv6 is 1 too: the BIB does not care about the IP family). */
  proto = 0;
  isError = false;
  /** TCP flags of a TCP query packet (0 otherwise). */
  tcpFlags = 0;
  /** 6->4: offset in buf of the IPv6 node's address, and its port or ICMP identifier. */
  addr6Off = 0;
  port6 = 0;
  /** The IPv4 node: 6->4 extracted from its pool6 address (RFC 6052 §2.3); 4->6 as is. */
  remote4 = 0;
  remotePort = 0;
  /** 4->6: the pool4 transport address the flow is addressed to. */
  local4 = 0;
  localPort = 0;
  /**
   * Set when the packet is dropped by a policy of the translator (pool6-strict here, filtering in
   * steps/filtering-and-updating.ts): a discard RFC 7915 §4.4/§5.4 answers with "administratively
   * prohibited" when icmp-admin-prohibited is on (core.ts decides whether it may be answered).
   */
  refused = false;
}

function isEcho6(type: number): boolean { return type === 128 || type === 129; }
function isEcho4(type: number): boolean { return type === 8 || type === 0; }

/** IPv6 packet, destination in pool6. False: dropped, counted. */
export function determineIncoming6(buf: Uint8Array, p: Parsed, pool6: Uint8Array, pool6Len: number, strict: boolean,
  t: IncomingTuple, counters: Float64Array): boolean {
  t.refused = false;
  const q = p.isIcmpError ? p.inner : p;
  if (q.proto === ICMP6 && !isEcho6(q.icmpType)) {
    counters[p.isIcmpError ? K_INNER : K_ICMP_TYPE]++;
    return false;
  }
  // Query: we are the destination. Error: the quoted packet came from a pool6 address (sent by us).
  const remoteOff = p.isIcmpError ? q.src : q.dst;
  if (!inPrefix(buf, p.dst, pool6, pool6Len) || (remoteOff !== p.dst && !inPrefix(buf, remoteOff, pool6, pool6Len))) {
    counters[p.isIcmpError ? K_INNER : K_POOL6]++;
    return false;
  }
  t.proto = q.proto === ICMP6 ? PROTO_ICMP : q.proto;
  t.isError = p.isIcmpError;
  t.remote4 = extract(buf, remoteOff, pool6Len);
  if (strict && wkpForbids(pool6, pool6Len, t.remote4)) {
    // Inside pool6, but RFC 6052 §3.1 forbids this address with the well-known prefix: a refusal.
    t.refused = !p.isIcmpError;
    counters[K_POOL6]++;
    return false;
  }
  if (p.isIcmpError) {
    t.addr6Off = q.dst;
    t.port6 = q.dstPort;
    t.remotePort = q.srcPort;
    t.tcpFlags = 0;
  } else {
    t.addr6Off = q.src;
    t.port6 = q.srcPort;
    t.remotePort = q.dstPort;
    t.tcpFlags = q.proto === PROTO_TCP ? buf[q.l4Off + 13] : 0;
  }
  return true;
}

/** IPv4 packet addressed to a pool4 address. False: dropped, counted. */
export function determineIncoming4(buf: Uint8Array, p: Parsed, t: IncomingTuple, counters: Float64Array): boolean {
  t.refused = false;
  const q = p.isIcmpError ? p.inner : p;
  if (q.proto === PROTO_ICMP && !isEcho4(q.icmpType)) {
    counters[p.isIcmpError ? K_INNER : K_ICMP_TYPE]++;
    return false;
  }
  t.proto = q.proto;
  t.isError = p.isIcmpError;
  if (p.isIcmpError) {
    t.local4 = q.src4;
    t.localPort = q.srcPort;
    t.remote4 = q.dst4;
    t.remotePort = q.dstPort;
    t.tcpFlags = 0;
  } else {
    t.local4 = q.dst4;
    t.localPort = q.dstPort;
    t.remote4 = q.src4;
    t.remotePort = q.srcPort;
    t.tcpFlags = q.proto === PROTO_TCP ? buf[q.l4Off + 13] : 0;
  }
  return true;
}
