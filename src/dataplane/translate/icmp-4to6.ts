/**
 * RFC 7915 §4.2/§4.3: an ICMPv4 error becomes an ICMPv6 error. The new headers (88 bytes) are
 * written in front of the quoted transport header, which does not move: the packet grows into the
 * headroom by 40 bytes minus IPv4 options.
 *
 *   in:            [IPv4 20+opt][ICMP 8][quoted IPv4 20+opt][quoted transport ...]
 *   out: [IPv6 40][ICMPv6 8][quoted IPv6 40][quoted transport ...] (<= 1280 bytes)
 *
 * A quoted IPv4 fragment (MF set or a non-zero offset; only a first fragment reaches this point,
 * a later one has no ports and parse4 drops it) is quoted as RFC 7915 §4.1 translates a fragment:
 * with an IPv6 Fragment Header (Next Header = the translated protocol, offset and M copied,
 * Identification = the IPv4 one, high 16 bits zero), Payload Length = Total Length - IHL*4 + 8.
 * The new headers are then 96 bytes: 48 more than the IPv4 ones at least (the headroom). The
 * ICMPv6 checksum of the error covers the Fragment Header like the rest of the message. (A quoted
 * Echo fragment's own checksum gets the fragment's length in its pseudo-header: the datagram's is
 * not known.)
 *
 *   out: [IPv6 40][ICMPv6 8][quoted IPv6 40, nh 44][Fragment 8][quoted transport ...]
 *
 * An RFC 4884 extension structure after the quote is moved to follow the re-padded quote
 * (icmp-ext.ts), with the length attribute rewritten in 64-bit words.
 */
import { C } from '../counters';
import type { CoreGlobals } from '../core-config';
import { Result, type OutSpan } from '../core-api';
import { copy16, get32, put16, put32 } from '../packet/bytes';
import { finish, fold, sumAddr4, sumAddr6, sumBytes, sumPseudoTail } from '../packet/checksum';
import { IPPROTO_ICMP } from '../packet/ipv4';
import { IPPROTO_FRAGMENT, IPPROTO_ICMPV6, IPV6_HDR_LEN, IPV6_MIN_MTU, writeIpv6Fixed } from '../packet/ipv6';
import type { Parsed } from '../packet/parse';
import { embed } from '../rfc6052';
import { writeIpv6From4 } from './headers';
import { extensionStart, placeExtension } from './icmp-ext';
import { IcmpMapping, map4to6 } from './icmp-map';
import { rewriteL4 } from './l4';
import type { Self, Tuple } from './tuple';

const K_OK = C['translated-4to6'];
const K_UNTRANSLATABLE = C['icmp-type-untranslatable'];
const K_BAD_SUM = C['icmp-bad-checksum'];
const K_INNER = C['icmp-error-inner-bad'];
const ICMP_HDR = 8;
/** RFC 8200 §4.5: the IPv6 Fragment Header. */
const FRAG_HDR_LEN = 8;
const m = new IcmpMapping();

export function icmpError4to6(
  buf: Uint8Array, p: Parsed, t: Tuple, g: CoreGlobals, self: Self, out: OutSpan, counters: Float64Array,
  hop: number, cap: number,
): Result {
  const q = p.inner;
  if (!map4to6(p.icmpType, p.icmpCode, get32(buf, p.l4Off + 4), q.totalLen, g, self, m)) {
    counters[K_UNTRANSLATABLE]++;
    return Result.DROP;
  }
  // ICMPv4's checksum covers the message only (RFC 792); the ICMPv6 one is recomputed below.
  if (fold(sumBytes(buf, p.l4Off, p.l4Len, 0)) !== 0xffff) {
    counters[K_BAD_SUM]++;
    return Result.DROP;
  }
  const l4 = q.l4Off;
  const end = p.off + p.totalLen;
  // RFC 4884: Destination Unreachable, Time Exceeded and Parameter Problem may carry an extension
  // structure after an "original datagram" field of buf[icmp + 5] 32-bit words. The quoted packet
  // then ends at that field (its zero padding is not quoted data).
  const t4 = p.icmpType;
  let ext = t4 === 3 || t4 === 11 || t4 === 12 ? extensionStart(buf, p.l4Off, end, buf[p.l4Off + 5], 4) : -1;
  let dataEnd = end;
  if (ext >= 0) {
    const qEnd = q.off + q.avail;
    dataEnd = qEnd < ext ? qEnd : ext;
    if (dataEnd < l4 + ICMP_HDR) { ext = -1; dataEnd = end; } // field cuts the quoted header: none
  }
  const newAddrs = sumAddr6(t.src6, 0) + sumAddr6(t.dst6, 0);
  if (q.proto === IPPROTO_ICMP) {
    const type6 = q.icmpType === 8 ? 128 : q.icmpType === 0 ? 129 : -1;
    if (type6 < 0) {
      counters[K_INNER]++;
      return Result.DROP;
    }
    rewriteL4(buf, l4, dataEnd, q.proto, 0, newAddrs + sumPseudoTail(q.l4Len, IPPROTO_ICMPV6), t.srcPort, t.dstPort, type6);
  } else {
    rewriteL4(buf, l4, dataEnd, q.proto, sumAddr4(q.src4) + sumAddr4(q.dst4), newAddrs, t.srcPort, t.dstPort, 0);
  }
  // The quoted header keeps its declared length and TTL. A quoted fragment keeps its fragment
  // information in a Fragment Header (RFC 7915 §4.1/§4.3), written between the quoted IPv6
  // header and the transport header, which does not move.
  const frag = q.mf || q.fragOffset !== 0 ? FRAG_HDR_LEN : 0;
  const qh = l4 - frag - IPV6_HDR_LEN;
  writeIpv6From4(buf, qh, q, t.src6, t.dst6, frag + q.l4Len, q.ttl, g);
  if (frag !== 0) {
    const fh = l4 - FRAG_HDR_LEN;
    buf[fh] = buf[qh + 6]; // the translated protocol (ICMP 1 -> 58)
    buf[fh + 1] = 0;
    put16(buf, fh + 2, (q.fragOffset << 3) | (q.mf ? 1 : 0));
    put32(buf, fh + 4, q.id);
    buf[qh + 6] = IPPROTO_FRAGMENT;
  }
  const icmp = qh - ICMP_HDR;
  const quoted = IPV6_HDR_LEN + frag + (dataEnd - l4);
  let word = m.word;
  let len6 = IPV6_HDR_LEN + ICMP_HDR + quoted;
  // RFC 7915 §4.2 / RFC 4884 §4.2: only ICMPv6 Destination Unreachable and Time Exceeded carry an
  // extension (octet 4, 64-bit words); for the others it is dropped with the padding.
  if (ext >= 0 && (m.type === 1 || m.type === 3)) {
    const field = placeExtension(buf, icmp, quoted, ext, end, 8,
      IPV6_MIN_MTU - IPV6_HDR_LEN, p.off + cap);
    if (field >= 0) {
      word = (word | ((field >>> 3) << 24)) >>> 0;
      len6 = IPV6_HDR_LEN + ICMP_HDR + field + (end - ext);
    }
  }
  if (len6 > IPV6_MIN_MTU) len6 = IPV6_MIN_MTU; // RFC 7915 §4.2 / RFC 4443 §2.4(c)
  const o = icmp - IPV6_HDR_LEN;
  // Outer: back to the IPv6 host that sent the quoted packet, from the reporting IPv4 router's
  // embedded address (source-icmpv6-errors-better, Jool's default) or, RFC 6146 §3.6.2 read
  // literally, from the outgoing tuple's source: the quoted packet's destination, t.dst6.
  writeIpv6Fixed(buf, o, g.zeroizeTrafficClass ? 0 : p.tos, len6 - IPV6_HDR_LEN, IPPROTO_ICMPV6, hop);
  if (g.sourceIcmpv6ErrorsBetter) embed(g.pool6, g.pool6Len, p.src4, buf, o + 8);
  else copy16(buf, o + 8, t.dst6, 0);
  copy16(buf, o + 24, t.src6, 0);
  buf[icmp] = m.type;
  buf[icmp + 1] = m.code;
  put16(buf, icmp + 2, 0);
  put32(buf, icmp + 4, word);
  const pseudo = sumAddr6(buf, o + 8) + sumAddr6(buf, o + 24) + sumPseudoTail(len6 - IPV6_HDR_LEN, IPPROTO_ICMPV6);
  put16(buf, icmp + 2, finish(sumBytes(buf, icmp, len6 - IPV6_HDR_LEN, pseudo)));
  out.off = o;
  out.len = len6;
  counters[K_OK]++;
  return Result.EMIT6;
}
