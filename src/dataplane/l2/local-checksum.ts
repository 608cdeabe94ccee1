/**
 * Full Internet checksums (RFC 1071) for the packets the translator itself originates or answers
 * (ARP/ND, echo replies): slow path, so a plain sum over the bytes. Translation uses the
 * incremental updates of packet/checksum.ts instead.
 */
function sum(buf: Uint8Array, off: number, len: number, acc: number): number {
  let i = 0;
  for (; i + 1 < len; i += 2) acc += (buf[off + i] << 8) | buf[off + i + 1];
  if (i < len) acc += buf[off + i] << 8;
  return acc;
}

function fold(acc: number): number {
  while (acc > 0xffff) acc = (acc & 0xffff) + Math.floor(acc / 0x10000);
  return acc;
}

/** ICMPv6 checksum (RFC 4443 §2.3) of the message after the IPv6 header at ip6 (no extension headers). */
export function icmp6Checksum(buf: Uint8Array, ip6: number, icmpLen: number): number {
  let acc = sum(buf, ip6 + 8, 32, 0);
  acc += icmpLen + 58;
  acc = sum(buf, ip6 + 40, icmpLen, acc);
  return (~fold(acc)) & 0xffff;
}

/** Checksum of a plain byte range (IPv4 header, ICMPv4 message). */
export function rangeChecksum(buf: Uint8Array, off: number, len: number): number {
  return (~fold(sum(buf, off, len, 0))) & 0xffff;
}
