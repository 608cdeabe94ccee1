/**
 * RFC 7915 §5: translating an IPv6 packet to IPv4, in place. The IPv4 header is written just in
 * front of the transport header, so the packet starts 20 bytes (plus extension headers) later.
 */
import { C } from '../counters';
import type { CoreGlobals } from '../core-config';
import { Result, type OutSpan } from '../core-api';
import { sumAddr4, sumAddr6, sumPseudoTail } from '../packet/checksum';
import { IPV4_HDR_LEN } from '../packet/ipv4';
import { IPPROTO_ICMPV6 } from '../packet/ipv6';
import type { Parsed } from '../packet/parse';
import { writeIpv4From6 } from './headers';
import { buildIcmp6Error } from './icmp-error-build';
import { icmpError6to4 } from './icmp-6to4';
import { MtuVerdict, fragment4, mtuReport, mtuVerdict6to4 } from './fragment';
import { rewriteL4 } from './l4';
import type { Self, Tuple } from './tuple';

const K_OK = C['translated-6to4'];
const K_TTL = C['ttl-expired'];
const K_INFO = C['icmp-info-filtered'];
const K_UNTRANSLATABLE = C['icmp-type-untranslatable'];
const K_TOO_BIG = C['packet-too-big'];
/** RFC 791: Total Length is 16 bits. */
const IPV4_MAX_LEN = 0xffff;
const ICMP6_PACKET_TOO_BIG = 2;
const ICMP6_ECHO_REQUEST = 128;
const ICMP6_ECHO_REPLY = 129;
const ICMP6_TIME_EXCEEDED = 3;

/**
 * Translates the parsed IPv6 packet p (buf[off, off+len)) to IPv4 with the outgoing tuple t.
 * EMIT4 with `out` on success (counts translated-6to4); EMIT6 with an ICMPv6 Time Exceeded when
 * the hop limit expires (counts ttl-expired); DROP with one counter otherwise.
 * `cap`: buf[off, off+cap) is writable; only an RFC 4884 extension re-padded in an ICMP error can
 * move past the end of the packet (icmp-ext.ts).
 *
 * `mtu4` is the egress MTU (a hairpinned packet never leaves: the caller passes 65535). Larger
 * packets get ICMPv6 Packet Too Big when DF would be set, else leave as IPv4 fragments
 * (translate/fragment.ts): the decision is made before the packet is rewritten in place.
 */
export function translate6to4(
  buf: Uint8Array, off: number, len: number, cap: number, p: Parsed, t: Tuple, g: CoreGlobals, self: Self,
  out: OutSpan, counters: Float64Array, decrementTtl: boolean, mtu4: number = self.mtu4,
): Result {
  // RFC 7915 §5.1 "Hop Limit" / RFC 8200: a router never forwards a packet whose hop limit would reach 0.
  if (decrementTtl && p.ttl <= 1) {
    const r = buildIcmp6Error(buf, off, len, ICMP6_TIME_EXCEEDED, 0, 0, self, out, counters);
    counters[K_TTL]++; // the reason, whether or not the error could be sent
    return r;
  }
  const ttl = decrementTtl ? p.ttl - 1 : p.ttl;
  let type4 = -1;
  if (p.proto === IPPROTO_ICMPV6) {
    if (p.isIcmpError) return icmpError6to4(buf, p, t, g, self, out, counters, ttl, cap);
    // RFC 6146 §3.5.3: a NAT64 may filter ICMPv6 informational messages (Jool's drop-icmpv6-info).
    if (g.dropIcmpv6Info) {
      counters[K_INFO]++;
      return Result.DROP;
    }
    // RFC 7915 §5.2: only Echo Request/Reply are translated; MLD, ND and the rest are single-hop or unknown.
    type4 = p.icmpType === ICMP6_ECHO_REQUEST ? 8 : p.icmpType === ICMP6_ECHO_REPLY ? 0 : -1;
    if (type4 < 0) {
      counters[K_UNTRANSLATABLE]++;
      return Result.DROP;
    }
  }
  const mtu = mtuVerdict6to4(p, mtu4, g.lowestIpv6Mtu);
  if (mtu === MtuVerdict.TOO_BIG) {
    // RFC 7915 §5 / RFC 6146 §3.7: the IPv6 source learns the size that fits (RFC 8201).
    const r = buildIcmp6Error(buf, off, len, ICMP6_PACKET_TOO_BIG, 0, mtuReport.value, self, out, counters);
    counters[K_TOO_BIG]++; // the reason, whether or not the error could be sent
    return r;
  }
  // RFC 791: Total Length is 16 bits. An IPv6 packet with a Fragment Header is fragmented whatever
  // its size (or fits a huge MTU), but over 65535 - 20 transport bytes it makes no IPv4 datagram
  // at all: Packet Too Big with the largest IPv6 packet that translates.
  if (IPV4_HDR_LEN + p.l4Len > IPV4_MAX_LEN) {
    const r = buildIcmp6Error(buf, off, len, ICMP6_PACKET_TOO_BIG, 0, IPV4_MAX_LEN - IPV4_HDR_LEN + p.hdrLen, self, out, counters);
    counters[K_TOO_BIG]++; // the reason, whether or not the error could be sent
    return r;
  }
  if (p.proto === IPPROTO_ICMPV6) {
    const pseudo6 = sumAddr6(buf, p.src) + sumAddr6(buf, p.dst) + sumPseudoTail(p.l4Len, IPPROTO_ICMPV6);
    rewriteL4(buf, p.l4Off, p.off + p.totalLen, p.proto, pseudo6, 0, t.srcPort, t.dstPort, type4);
  } else {
    rewriteL4(buf, p.l4Off, p.off + p.totalLen, p.proto, sumAddr6(buf, p.src) + sumAddr6(buf, p.dst),
      sumAddr4(t.src4) + sumAddr4(t.dst4), t.srcPort, t.dstPort, 0);
  }
  const o = p.l4Off - IPV4_HDR_LEN;
  const totalLen = IPV4_HDR_LEN + p.l4Len;
  writeIpv4From6(buf, o, p, t.src4, t.dst4, totalLen, ttl, g, self);
  out.off = o;
  out.len = totalLen;
  if (mtu === MtuVerdict.FRAGMENT && !fragment4(buf, out, mtu4, self.sink, counters)) return Result.DROP;
  counters[K_OK]++;
  return Result.EMIT4;
}
