import { finish, sumAddr6, sumBytes, sumPseudoTail } from '../packet/checksum';

/**
 * Full checksums for the packets the translator itself originates or answers (ARP/ND, echo
 * replies): slow path, so a plain sum. Translation uses the incremental updates instead.
 */

/** ICMPv6 checksum (RFC 4443 §2.3) of the message after the IPv6 header at ip6 (no extension headers). */
export function icmp6Checksum(buf: Uint8Array, ip6: number, icmpLen: number): number {
  return finish(sumAddr6(buf, ip6 + 8) + sumAddr6(buf, ip6 + 24) + sumPseudoTail(icmpLen, 58) + sumBytes(buf, ip6 + 40, icmpLen, 0));
}

/** Checksum of a plain byte range (IPv4 header, ICMPv4 message). */
export function rangeChecksum(buf: Uint8Array, off: number, len: number): number {
  return finish(sumBytes(buf, off, len, 0));
}
