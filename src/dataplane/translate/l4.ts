/**
 * Transport header rewrite shared by both directions and by quoted packets in ICMP errors:
 * new ports / ICMP identifier and type, checksum updated incrementally (RFC 1624).
 */
import { get16, put16 } from '../packet/bytes';
import { adjust } from '../packet/checksum';
import { IPPROTO_TCP, IPPROTO_UDP } from '../packet/ipv4';

/** Where the checksum sits in the transport header (TCP 16, UDP 6, ICMP/ICMPv6 2). */
export function checksumOffset(proto: number): number {
  return proto === IPPROTO_TCP ? 16 : proto === IPPROTO_UDP ? 6 : 2;
}

/**
 * Rewrites the transport header at buf[o] (bytes up to `end` are present).
 *
 * `oldPseudo` / `newPseudo`: sums of the pseudo-header words that change. TCP/UDP: the address
 * sums (length and protocol are the same in both families' pseudo-headers, RFC 8200 §8.1 vs RFC 768,
 * so they cancel). ICMP: ICMPv6 has a pseudo-header and ICMPv4 has none (RFC 4443 §2.3 vs RFC 792),
 * so one side is the full ICMPv6 pseudo-header sum and the other is 0.
 *
 * TCP/UDP get srcPort/dstPort; ICMP echo gets `icmpType` and identifier srcPort.
 * A UDP checksum of 0 ("none", IPv4 only) is left alone: the caller decides (RFC 7915 §4.5).
 * A quoted packet may be cut before its checksum: then only what is present is rewritten.
 */
export function rewriteL4(
  buf: Uint8Array, o: number, end: number, proto: number, oldPseudo: number, newPseudo: number,
  srcPort: number, dstPort: number, icmpType: number,
): void {
  const co = o + checksumOffset(proto);
  const hasSum = co + 2 <= end;
  const check = hasSum ? get16(buf, co) : 0;
  let oldSum = oldPseudo;
  let newSum = newPseudo;
  if (proto === IPPROTO_TCP || proto === IPPROTO_UDP) {
    oldSum += get16(buf, o) + get16(buf, o + 2);
    newSum += srcPort + dstPort;
    put16(buf, o, srcPort);
    put16(buf, o + 2, dstPort);
  } else {
    // Type and code share a word; the identifier is word 2.
    oldSum += get16(buf, o) + get16(buf, o + 4);
    newSum += ((icmpType << 8) | buf[o + 1]) + srcPort;
    buf[o] = icmpType;
    put16(buf, o + 4, srcPort);
  }
  if (!hasSum) return;
  if (proto === IPPROTO_UDP) {
    if (check === 0) return;
    const c = adjust(check, oldSum, newSum);
    // RFC 768: a computed zero is sent as all ones; zero means "no checksum".
    put16(buf, co, c === 0 ? 0xffff : c);
    return;
  }
  put16(buf, co, adjust(check, oldSum, newSum));
}
