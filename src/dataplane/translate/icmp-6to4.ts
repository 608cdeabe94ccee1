/**
 * RFC 7915 §5.2/§5.3: an ICMPv6 error becomes an ICMPv4 error, the quoted IPv6 packet becoming the
 * IPv4 packet it once was. Both IPv4 headers and the ICMPv4 header are written in front of the
 * quoted transport header, which does not move: no copy.
 *
 *   in:  [IPv6 40 + ext][ICMPv6 8][quoted IPv6 40 + ext][quoted transport ...]
 *   out:           [IPv4 20][ICMPv4 8][quoted IPv4 20][quoted transport ...] (<= 576 bytes)
 *
 * An RFC 4884 extension structure after the quote is moved to follow the re-padded quote
 * (icmp-ext.ts), with the length attribute rewritten in 32-bit words.
 */
import { C } from '../counters';
import type { CoreGlobals } from '../core-config';
import { Result, type OutSpan } from '../core-api';
import { get32, put16, put32 } from '../packet/bytes';
import { finish, fold, sumAddr4, sumAddr6, sumBytes, sumPseudoTail } from '../packet/checksum';
import { IPV4_HDR_LEN, IPV4_ICMP_ERROR_MAX } from '../packet/ipv4';
import { IPPROTO_ICMPV6 } from '../packet/ipv6';
import type { Parsed } from '../packet/parse';
import { writeIpv4From6 } from './headers';
import { extensionStart, placeExtension } from './icmp-ext';
import { IcmpMapping, map6to4 } from './icmp-map';
import { rewriteL4 } from './l4';
import type { Self, Tuple } from './tuple';

const K_OK = C['translated-6to4'];
const K_UNTRANSLATABLE = C['icmp-type-untranslatable'];
const K_BAD_SUM = C['icmp-bad-checksum'];
const K_INNER = C['icmp-error-inner-bad'];
const ICMP_HDR = 8;
const m = new IcmpMapping();

export function icmpError6to4(
  buf: Uint8Array, p: Parsed, t: Tuple, g: CoreGlobals, self: Self, out: OutSpan, counters: Float64Array,
  ttl: number, cap: number,
): Result {
  if (!map6to4(p.icmpType, p.icmpCode, get32(buf, p.l4Off + 4), self, m)) {
    counters[K_UNTRANSLATABLE]++;
    return Result.DROP;
  }
  // The ICMPv4 checksum is recomputed below; verify first so damage is not laundered.
  const pseudo = sumAddr6(buf, p.src) + sumAddr6(buf, p.dst) + sumPseudoTail(p.l4Len, IPPROTO_ICMPV6);
  if (fold(sumBytes(buf, p.l4Off, p.l4Len, pseudo)) !== 0xffff) {
    counters[K_BAD_SUM]++;
    return Result.DROP;
  }
  const q = p.inner;
  const l4 = q.l4Off;
  const end = p.off + p.totalLen;
  // RFC 4884: Destination Unreachable and Time Exceeded may carry an extension structure after an
  // "original datagram" field of buf[icmp + 4] 64-bit words. The quoted packet then ends at that
  // field (its zero padding is not quoted data).
  const t6 = p.icmpType;
  let ext = t6 === 1 || t6 === 3 ? extensionStart(buf, p.l4Off, end, buf[p.l4Off + 4], 8) : -1;
  let dataEnd = end;
  if (ext >= 0) {
    const qEnd = q.off + q.avail;
    dataEnd = qEnd < ext ? qEnd : ext;
    if (dataEnd < l4 + ICMP_HDR) { ext = -1; dataEnd = end; } // field cuts the quoted header: none
  }
  const qPseudo = sumAddr6(buf, q.src) + sumAddr6(buf, q.dst);
  if (q.proto === IPPROTO_ICMPV6) {
    const type4 = q.icmpType === 128 ? 8 : q.icmpType === 129 ? 0 : -1;
    if (type4 < 0) {
      counters[K_INNER]++;
      return Result.DROP;
    }
    rewriteL4(buf, l4, dataEnd, q.proto, qPseudo + sumPseudoTail(q.l4Len, IPPROTO_ICMPV6), 0, t.srcPort, t.dstPort, type4);
  } else {
    rewriteL4(buf, l4, dataEnd, q.proto, qPseudo, sumAddr4(t.src4) + sumAddr4(t.dst4), t.srcPort, t.dstPort, 0);
  }
  // The quoted header keeps its declared lengths and hop limit: it describes the original packet.
  // A quoted Payload Length near 65535 does not fit IPv4's 16-bit Total Length: saturate it
  // rather than let it wrap below the header's own size.
  const qTotal = IPV4_HDR_LEN + q.l4Len;
  writeIpv4From6(buf, l4 - IPV4_HDR_LEN, q, t.src4, t.dst4, qTotal > 0xffff ? 0xffff : qTotal, q.ttl, g, self);
  const icmp = l4 - IPV4_HDR_LEN - ICMP_HDR;
  let word = m.word;
  let len4 = 2 * IPV4_HDR_LEN + ICMP_HDR + (dataEnd - l4);
  // RFC 7915 §5.2 / RFC 4884 §4.1: the ICMPv4 error (Destination Unreachable or Time Exceeded here)
  // keeps the extension, its length attribute in octet 5 in 32-bit words.
  if (ext >= 0) {
    const field = placeExtension(buf, icmp, IPV4_HDR_LEN + (dataEnd - l4), ext, end, 4,
      IPV4_ICMP_ERROR_MAX - IPV4_HDR_LEN, p.off + cap);
    if (field >= 0) {
      word = (word | ((field >>> 2) << 16)) >>> 0;
      len4 = IPV4_HDR_LEN + ICMP_HDR + field + (end - ext);
    }
  }
  if (len4 > IPV4_ICMP_ERROR_MAX) len4 = IPV4_ICMP_ERROR_MAX; // RFC 7915 §5.2 / RFC 1812 §4.3.2.3
  buf[icmp] = m.type;
  buf[icmp + 1] = m.code;
  put16(buf, icmp + 2, 0);
  put32(buf, icmp + 4, word);
  put16(buf, icmp + 2, finish(sumBytes(buf, icmp, len4 - IPV4_HDR_LEN, 0)));
  const o = icmp - IPV4_HDR_LEN;
  // The error returns to whoever sent the quoted packet: outer source = quoted destination.
  writeIpv4From6(buf, o, p, t.dst4, t.src4, len4, ttl, g, self);
  out.off = o;
  out.len = len4;
  counters[K_OK]++;
  return Result.EMIT4;
}
