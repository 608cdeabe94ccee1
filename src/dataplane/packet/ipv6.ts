/** IPv6 header layout (RFC 8200) and a writer for the headers the translator emits. */
import { put16 } from './bytes';

export const IPV6_HDR_LEN = 40;
export const IPPROTO_HOPOPTS = 0;
export const IPPROTO_ROUTING = 43;
export const IPPROTO_FRAGMENT = 44;
export const IPPROTO_ESP = 50;
export const IPPROTO_AH = 51;
export const IPPROTO_ICMPV6 = 58;
export const IPPROTO_NONE = 59;
export const IPPROTO_DSTOPTS = 60;
export const IPPROTO_MOBILITY = 135;
export const IPPROTO_HIP = 139;
export const IPPROTO_SHIM6 = 140;
/** RFC 8200 §5: the minimum link MTU, and RFC 4443 §2.4(c): the cap of an ICMPv6 error. */
export const IPV6_MIN_MTU = 1280;

/**
 * Writes the fixed IPv6 header at b[o] except the addresses (flow label is always 0 here:
 * RFC 7915 §4.1 "Flow Label: 0 (all zero bits)").
 */
export function writeIpv6Fixed(
  b: Uint8Array, o: number, trafficClass: number, payloadLen: number, nextHeader: number, hopLimit: number,
): void {
  b[o] = 0x60 | (trafficClass >>> 4);
  b[o + 1] = (trafficClass & 0x0f) << 4;
  b[o + 2] = 0;
  b[o + 3] = 0;
  put16(b, o + 4, payloadLen);
  b[o + 6] = nextHeader;
  b[o + 7] = hopLimit;
}

/** ff00::/8 multicast or :: unspecified (RFC 4291 §2.5.2, §2.7). */
export function isMulticastOrUnspecified6(b: Uint8Array, o: number): boolean {
  if (b[o] === 0xff) return true;
  for (let i = 0; i < 16; i++) if (b[o + i] !== 0) return false;
  return true;
}
