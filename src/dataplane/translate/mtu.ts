/**
 * MTU arithmetic of the Packet Too Big <-> Fragmentation Needed translation.
 */
import { IPV6_MIN_MTU } from '../packet/ipv6';

/** IPv6 header minus IPv4 header. */
const HDR_DELTA = 20;

/**
 * RFC 7915 §4.2 (ICMPv4 Fragmentation Needed -> ICMPv6 Packet Too Big):
 * minimum(advertised MTU + 20, MTU_of_IPv6_nexthop, MTU_of_IPv4_nexthop + 20). An advertised MTU of
 * zero (a pre-RFC 1191 router) is replaced by the greatest plateau below the quoted packet's Total
 * Length (RFC 1191 §7, Jool's mtu-plateaus). IPv6 links carry at least 1280 bytes (RFC 8200 §5),
 * so a smaller figure is raised to 1280: the IPv6 host sends 1280, we emit <= 1260 bytes with DF=0
 * and the IPv4 router may fragment (RFC 7915 §5.1).
 */
export function mtu4to6(advertised: number, quotedTotalLen: number, plateaus: readonly number[],
  mtu6: number, mtu4: number): number {
  let m = advertised;
  if (m === 0) m = plateau(quotedTotalLen, plateaus);
  let r = m + HDR_DELTA;
  if (mtu6 < r) r = mtu6;
  if (mtu4 + HDR_DELTA < r) r = mtu4 + HDR_DELTA;
  return r < IPV6_MIN_MTU ? IPV6_MIN_MTU : r;
}

/**
 * RFC 7915 §5.2 (ICMPv6 Packet Too Big -> ICMPv4 Fragmentation Needed):
 * minimum(advertised MTU - 20, MTU_of_IPv4_nexthop, MTU_of_IPv6_nexthop - 20), capped to the
 * 16-bit Next-Hop MTU field of RFC 1191.
 */
export function mtu6to4(advertised: number, mtu6: number, mtu4: number): number {
  let r = advertised - HDR_DELTA;
  if (mtu4 < r) r = mtu4;
  if (mtu6 - HDR_DELTA < r) r = mtu6 - HDR_DELTA;
  if (r > 0xffff) r = 0xffff;
  return r < 0 ? 0 : r;
}

/** The greatest plateau strictly smaller than totalLen (RFC 1191 §7); the smallest one if none is. */
export function plateau(totalLen: number, plateaus: readonly number[]): number {
  let best = 0;
  let smallest = 0;
  for (let i = 0; i < plateaus.length; i++) {
    const v = plateaus[i];
    if (v < totalLen && v > best) best = v;
    if (smallest === 0 || v < smallest) smallest = v;
  }
  return best !== 0 ? best : smallest !== 0 ? smallest : 68;
}
