/**
 * The IP header translation proper (RFC 7915 §5.1 and §4.1), shared by the outer header and the
 * header quoted in an ICMP error ("the translation of the inner IP header can be done by invoking
 * the function that translated the outer IP headers", RFC 7915 §4.3/§5.3).
 */
import type { CoreGlobals } from '../core-config';
import { copy16 } from '../packet/bytes';
import { IPPROTO_ICMP, IPV4_DF, IPV4_MF, writeIpv4Header } from '../packet/ipv4';
import { IPPROTO_ICMPV6, writeIpv6Fixed } from '../packet/ipv6';
import type { L3 } from '../packet/parse';
import type { Self } from './tuple';

/** IPv6 header minus IPv4 header: 1280 - 20 is RFC 7915 §5.1's DF threshold for the default MTU. */
const HDR_DELTA = 20;

/**
 * RFC 7915 §5.1: writes the IPv4 header for IPv6 packet `q` at buf[o].
 *  - TOS: the Traffic Class, or `tos` with override-tos.
 *  - No Fragment Header: Identification from the IPv4 algorithm (RFC 6864), MF 0, DF 1 only when
 *    the packet is bigger than lowest-ipv6-mtu - 20 (1260 by default: below that an IPv6 path
 *    could not have sent a PTB, so IPv4 routers may fragment).
 *  - Fragment Header (§5.1.1; atomic fragments of RFC 8021 included): Identification = its low
 *    16 bits, MF = M, DF 0, offset copied.
 *  - Protocol: ICMPv6 (58) becomes ICMP (1); extension headers are not carried over.
 */
export function writeIpv4From6(
  buf: Uint8Array, o: number, q: L3, src4: number, dst4: number, totalLen: number, ttl: number,
  g: CoreGlobals, self: Self,
): void {
  const tos = g.overrideTos ? g.tos : q.tos;
  let id: number;
  let frag: number;
  if (q.fragHdrOff >= 0) {
    id = q.id & 0xffff;
    frag = (q.mf ? IPV4_MF : 0) | q.fragOffset;
  } else {
    id = self.nextId;
    self.nextId = (id + 1) & 0xffff;
    frag = totalLen > g.lowestIpv6Mtu - HDR_DELTA ? IPV4_DF : 0;
  }
  const proto = q.proto === IPPROTO_ICMPV6 ? IPPROTO_ICMP : q.proto;
  writeIpv4Header(buf, o, tos, totalLen, id, frag, ttl, proto, src4, dst4);
}

/**
 * RFC 7915 §4.1: writes the IPv6 header for IPv4 packet `q` at buf[o], addresses from src/dst
 * (16-byte arrays at offset 0). Traffic Class = TOS unless zeroize-traffic-class; Flow Label 0;
 * Payload Length = Total Length - IHL*4 (IPv4 options are dropped); ICMP (1) becomes ICMPv6 (58).
 */
export function writeIpv6From4(
  buf: Uint8Array, o: number, q: L3, src6: Uint8Array, dst6: Uint8Array, payloadLen: number, hopLimit: number,
  g: CoreGlobals,
): void {
  const nh = q.proto === IPPROTO_ICMP ? IPPROTO_ICMPV6 : q.proto;
  writeIpv6Fixed(buf, o, g.zeroizeTrafficClass ? 0 : q.tos, payloadLen, nh, hopLimit);
  copy16(buf, o + 8, src6, 0);
  copy16(buf, o + 24, dst6, 0);
}
