/** IPv4 header layout (RFC 791) and a writer for the headers the translator emits. */
import { put16, put32 } from './bytes';
import { finish, sumBytes } from './checksum';

export const IPV4_HDR_LEN = 20;
export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPV4_DF = 0x4000;
export const IPV4_MF = 0x2000;
/** RFC 1812 §4.3.2.7 / RFC 7915 §4.2: an ICMPv4 error never exceeds 576 bytes. */
export const IPV4_ICMP_ERROR_MAX = 576;

/**
 * Writes a 20-byte option-less IPv4 header at b[o] with its header checksum. `fragField` is the
 * 16-bit flags + fragment offset word (IPV4_DF | IPV4_MF | offset in 8-byte units).
 */
export function writeIpv4Header(
  b: Uint8Array, o: number, tos: number, totalLen: number, id: number, fragField: number,
  ttl: number, proto: number, src: number, dst: number,
): void {
  b[o] = 0x45;
  b[o + 1] = tos;
  put16(b, o + 2, totalLen);
  put16(b, o + 4, id);
  put16(b, o + 6, fragField);
  b[o + 8] = ttl;
  b[o + 9] = proto;
  b[o + 10] = 0;
  b[o + 11] = 0;
  put32(b, o + 12, src);
  put32(b, o + 16, dst);
  put16(b, o + 10, finish(sumBytes(b, o, IPV4_HDR_LEN, 0)));
}

/** RFC 1112 / RFC 919: multicast (224/4), limited broadcast, "this host" (0.0.0.0). */
export function isMulticastOrBroadcast4(a: number): boolean {
  return (a >>> 28) === 0xe || a === 0xffffffff || a === 0;
}
