/**
 * RFC 7915 §4: translating an IPv4 packet to IPv6, in place. The IPv6 header is written just in
 * front of the transport header, 20 bytes (minus IPv4 options) before the IPv4 header was.
 */
import { C } from '../counters';
import type { CoreGlobals } from '../core-config';
import { Result, type OutSpan } from '../core-api';
import { get16, put16 } from '../packet/bytes';
import { finish, sumAddr4, sumAddr6, sumBytes, sumPseudoTail } from '../packet/checksum';
import { IPPROTO_ICMP, IPPROTO_UDP } from '../packet/ipv4';
import { IPPROTO_ICMPV6, IPV6_HDR_LEN } from '../packet/ipv6';
import type { Parsed } from '../packet/parse';
import { writeIpv6From4 } from './headers';
import { buildIcmp4Error } from './icmp-error-build';
import { icmpError4to6 } from './icmp-4to6';
import { MtuVerdict, fragment6, fragmentSize6, mtuReport, mtuVerdict4to6 } from './fragment';
import { rewriteL4 } from './l4';
import type { Self, Tuple } from './tuple';

const K_OK = C['translated-4to6'];
const K_TTL = C['ttl-expired'];
const K_UNTRANSLATABLE = C['icmp-type-untranslatable'];
const ICMP_ECHO_REPLY = 0;
const ICMP_ECHO_REQUEST = 8;
const ICMP_TIME_EXCEEDED = 11;
const ICMP_DEST_UNREACH = 3;
const ICMP_FRAG_NEEDED = 4;
const K_TOO_BIG = C['packet-too-big'];

/**
 * Translates the parsed IPv4 packet p (buf[off, off+len)) to IPv6 with the outgoing tuple t.
 * EMIT6 with `out` on success (counts translated-4to6); EMIT4 with an ICMP Time Exceeded when the
 * TTL expires (counts ttl-expired); DROP with one counter otherwise. Needs 20 bytes of headroom
 * (48 for an ICMP error whose quote is a fragment: its 96 bytes of new headers replace at least
 * 48 of IPv4 and ICMPv4), which the memory contract of core-api.ts guarantees.
 *
 * Egress MTU (self.mtu6): DF set and too big -> ICMPv4 Fragmentation Needed built from the
 * original packet; DF clear and bigger than lowest-ipv6-mtu -> IPv6 fragments (translate/fragment.ts).
 */
export function translate4to6(
  buf: Uint8Array, off: number, len: number, cap: number, p: Parsed, t: Tuple, g: CoreGlobals, self: Self,
  out: OutSpan, counters: Float64Array, decrementTtl: boolean,
): Result {
  // RFC 7915 §4.1 "Hop Limit" / RFC 1812 §5.3.1: never forward a datagram whose TTL reaches 0.
  if (decrementTtl && p.ttl <= 1) {
    const r = buildIcmp4Error(buf, off, len, ICMP_TIME_EXCEEDED, 0, 0, self, out, counters);
    counters[K_TTL]++; // the reason, whether or not the error could be sent
    return r;
  }
  const hop = decrementTtl ? p.ttl - 1 : p.ttl;
  const l4 = p.l4Off;
  const end = p.off + p.totalLen;
  let type6 = -1;
  if (p.proto === IPPROTO_ICMP) {
    if (p.isIcmpError) return icmpError4to6(buf, p, t, g, self, out, counters, hop, cap);
    // RFC 7915 §4.2: Echo Request/Reply only; the other informational types are obsolete or single-hop.
    type6 = p.icmpType === ICMP_ECHO_REQUEST ? 128 : p.icmpType === ICMP_ECHO_REPLY ? 129 : -1;
    if (type6 < 0) {
      counters[K_UNTRANSLATABLE]++;
      return Result.DROP;
    }
  }
  const mtu = mtuVerdict4to6(p, self.mtu6, g.lowestIpv6Mtu);
  if (mtu === MtuVerdict.TOO_BIG) {
    // RFC 1191 / RFC 7915 §4: the low 16 bits of the second word carry the Next-Hop MTU.
    const r = buildIcmp4Error(buf, off, len, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, mtuReport.value, self, out, counters);
    counters[K_TOO_BIG]++; // the reason, whether or not the error could be sent
    return r;
  }
  if (p.proto === IPPROTO_ICMP) {
    const pseudo6 = sumAddr6(t.src6, 0) + sumAddr6(t.dst6, 0) + sumPseudoTail(p.l4Len, IPPROTO_ICMPV6);
    rewriteL4(buf, l4, end, p.proto, 0, pseudo6, t.srcPort, t.dstPort, type6);
  } else {
    rewriteL4(buf, l4, end, p.proto, sumAddr4(p.src4) + sumAddr4(p.dst4),
      sumAddr6(t.src6, 0) + sumAddr6(t.dst6, 0), t.srcPort, t.dstPort, 0);
  }
  const o = l4 - IPV6_HDR_LEN;
  writeIpv6From4(buf, o, p, t.src6, t.dst6, p.l4Len, hop, g);
  if (p.proto === IPPROTO_UDP && get16(buf, l4 + 6) === 0) fillUdpChecksum6(buf, l4, p.l4Len, t);
  out.off = o;
  out.len = IPV6_HDR_LEN + p.l4Len;
  if (mtu === MtuVerdict.FRAGMENT &&
      !fragment6(buf, out, fragmentSize6(self.mtu6, g.lowestIpv6Mtu), p.id, self.sink, counters)) return Result.DROP;
  counters[K_OK]++;
  return Result.EMIT6;
}

/**
 * RFC 7915 §4.5 / RFC 6146 §3.4: IPv6 forbids a zero UDP checksum (RFC 8200 §8.1), so a stateful
 * translator computes the full checksum of a checksum-less IPv4 UDP datagram.
 */
function fillUdpChecksum6(buf: Uint8Array, l4: number, l4Len: number, t: Tuple): void {
  const acc = sumAddr6(t.src6, 0) + sumAddr6(t.dst6, 0) + sumPseudoTail(l4Len, IPPROTO_UDP);
  const c = finish(sumBytes(buf, l4, l4Len, acc));
  put16(buf, l4 + 6, c === 0 ? 0xffff : c);
}
