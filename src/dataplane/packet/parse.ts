/**
 * Packet parsing for the fast path: one pass over the IPv6 or IPv4 header, the extension header
 * chain and the transport header, into a reusable Parsed object (no allocation, no throw). For an
 * ICMP error the quoted packet (RFC 792 / RFC 4443 §2.4) is parsed too, into `inner`.
 */
import { C } from '../counters';
import { get16, get32 } from './bytes';
import { fold, sumBytes } from './checksum';
import { IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, IPV4_DF, IPV4_HDR_LEN, IPV4_MF } from './ipv4';
import {
  IPPROTO_AH, IPPROTO_DSTOPTS, IPPROTO_ESP, IPPROTO_FRAGMENT, IPPROTO_HIP, IPPROTO_HOPOPTS, IPPROTO_ICMPV6,
  IPPROTO_MOBILITY, IPPROTO_ROUTING, IPPROTO_SHIM6, IPV6_HDR_LEN,
} from './ipv6';

/** The fields of one IP packet (outer, or the one quoted inside an ICMP error). Offsets are into buf. */
export class L3 {
  /** 4 or 6. */
  family = 0;
  /** Offset of the IP header. */
  off = 0;
  /** Length the IP header declares (IPv4 Total Length, IPv6 40 + Payload Length). */
  totalLen = 0;
  /** Bytes present from `off` (equals totalLen for an outer packet; less for a truncated quote). */
  avail = 0;
  /** Bytes from `off` to the transport header: IHL*4, or 40 + extension headers. */
  hdrLen = 0;
  /** TTL / Hop Limit. */
  ttl = 0;
  /** TOS / Traffic Class. */
  tos = 0;
  flowLabel = 0;
  /** IPv4 Identification, or the 32-bit Identification of an IPv6 Fragment Header. */
  id = 0;
  df = false;
  mf = false;
  /** Fragment offset in 8-byte units. */
  fragOffset = 0;
  /** Offset of the IPv6 Fragment Header, -1 when there is none. */
  fragHdrOff = -1;
  /** Offsets of the source and destination addresses in buf (4 or 16 bytes). */
  src = 0;
  dst = 0;
  /** IPv4 only: the addresses as u32. */
  src4 = 0;
  dst4 = 0;
  /** Transport protocol (6, 17, 1 or 58). */
  proto = 0;
  l4Off = 0;
  /** Transport length the IP header declares (may exceed what is present for a quoted packet). */
  l4Len = 0;
  /** TCP/UDP ports; for ICMP echo both are the identifier (RFC 6146 §3.4: ICMP id as "port"). */
  srcPort = 0;
  dstPort = 0;
  icmpType = 0;
  icmpCode = 0;
  icmpId = 0;
  isIcmpError = false;
}

export class Parsed extends L3 {
  /** The quoted packet, valid when isIcmpError. */
  readonly inner = new L3();
  /**
   * When parse6 dropped a packet for a Routing header with Segments Left != 0: the offset of that
   * field from the IPv6 header, for the Parameter Problem RFC 7915 §5.1 says SHOULD be returned
   * (buildIcmp6Error(..., 4, 0, badPointer, ...)). -1 otherwise.
   */
  badPointer = -1;
  /**
   * When parse4 dropped a packet for an unexpired Loose/Strict Source Route option
   * (ipv4-source-route): RFC 7915 §4.1 says the translator SHOULD answer with ICMPv4 Destination
   * Unreachable, Source Route Failed (type 3, code 5). src4/dst4 are filled then.
   */
  sourceRoute = false;
}

const K_V6_TRUNC = C['ipv6-hdr-truncated'];
const K_V4_TRUNC = C['ipv4-hdr-truncated'];
const K_V4_CSUM = C['ipv4-bad-checksum'];
const K_L4_TRUNC = C['l4-hdr-truncated'];
const K_UNKNOWN = C['unknown-l4-proto'];
const K_EXT = C['ext-header-unsupported'];
const K_FRAG = C['fragmented'];
const K_INNER = C['icmp-error-inner-bad'];
const K_SRR = C['ipv4-source-route'];
const K_UDP6_ZERO = C['udp6-zero-checksum'];
/** Internal "no error" status of the shared helpers. */
const OK = -1;

export function parse6(buf: Uint8Array, off: number, len: number, p: Parsed, counters: Float64Array): boolean {
  p.badPointer = -1;
  p.sourceRoute = false;
  let r = ip6(buf, off, len, p, false, p);
  if (r === OK && p.isIcmpError) r = quoted(buf, p);
  if (r === OK) return true;
  counters[r]++;
  return false;
}

export function parse4(buf: Uint8Array, off: number, len: number, p: Parsed, counters: Float64Array): boolean {
  p.badPointer = -1;
  let r = ip4(buf, off, len, p, false);
  p.sourceRoute = r === K_SRR;
  if (r === OK && p.isIcmpError) r = quoted(buf, p);
  if (r === OK) return true;
  counters[r]++;
  return false;
}

/**
 * Would parse6 accept the IPv6 packet at buf[off..off+len) as a plain TCP/UDP packet: next header
 * TCP or UDP (no extension header), version 6, the payload within len, the transport header whole
 * (20 bytes TCP, 8 UDP), a UDP checksum other than zero (RFC 8200 §8.1)? The checks ip6() and l4()
 * make, without filling a Parsed: for the paths that read such a packet at fixed offsets
 * (classify.ts ownerOf6, steps/refuse-unmapped.ts).
 */
export function plainTcpUdp6(buf: Uint8Array, off: number, len: number): boolean {
  const nh = buf[off + 6];
  if ((nh !== IPPROTO_TCP && nh !== IPPROTO_UDP) || len < IPV6_HDR_LEN || buf[off] >>> 4 !== 6) return false;
  const payload = get16(buf, off + 4);
  if (IPV6_HDR_LEN + payload > len || payload < (nh === IPPROTO_TCP ? 20 : 8)) return false;
  return nh === IPPROTO_TCP || get16(buf, off + IPV6_HDR_LEN + 6) !== 0;
}

/**
 * The same for parse4 and an option-less IPv4 TCP/UDP packet at buf[off..off+len): IHL 5, Total
 * Length within len, not a fragment, the transport header whole, the header checksum right
 * (steps/refuse-unmapped.ts).
 */
export function plainTcpUdp4(buf: Uint8Array, off: number, len: number): boolean {
  const proto = buf[off + 9];
  if ((proto !== IPPROTO_TCP && proto !== IPPROTO_UDP) || len < IPV4_HDR_LEN || buf[off] !== 0x45) return false;
  const totalLen = get16(buf, off + 2), frag = get16(buf, off + 6);
  if (totalLen > len || totalLen - IPV4_HDR_LEN < (proto === IPPROTO_TCP ? 20 : 8)) return false;
  if ((frag & 0x1fff) !== 0 || (frag & IPV4_MF) !== 0) return false;
  return fold(sumBytes(buf, off, IPV4_HDR_LEN, 0)) === 0xffff;
}

/** The packet quoted in an ICMP error starts 8 bytes into the ICMP message (RFC 792, RFC 4443). */
function quoted(buf: Uint8Array, p: Parsed): number {
  const o = p.l4Off + 8;
  const avail = p.off + p.totalLen - o;
  const q = p.inner;
  // RFC 7915 §4.2/§5.2: the quoted packet is translated as an IPv4<->IPv6 packet of its own family.
  const r = p.family === 6 ? ip6(buf, o, avail, q, true, null) : ip4(buf, o, avail, q, true);
  if (r !== OK) return K_INNER;
  // "This process MUST stop at the first embedded header": no error inside an error.
  if (q.isIcmpError) return K_INNER;
  return OK;
}

/**
 * IPv6 header and extension chain (RFC 8200 §4). `inner`: a quoted packet, which may be truncated
 * and may be a first fragment. `outer` receives badPointer for a routing header.
 */
function ip6(buf: Uint8Array, off: number, len: number, q: L3, inner: boolean, outer: Parsed | null): number {
  if (len < IPV6_HDR_LEN || buf[off] >>> 4 !== 6) return K_V6_TRUNC;
  const totalLen = IPV6_HDR_LEN + get16(buf, off + 4);
  if (!inner && totalLen > len) return K_V6_TRUNC;
  const end = off + (inner ? (totalLen < len ? totalLen : len) : totalLen);
  q.family = 6;
  q.off = off;
  q.totalLen = totalLen;
  q.avail = end - off;
  q.tos = ((buf[off] & 0x0f) << 4) | (buf[off + 1] >>> 4);
  q.flowLabel = ((buf[off + 1] & 0x0f) << 16) | get16(buf, off + 2);
  q.ttl = buf[off + 7];
  q.src = off + 8;
  q.dst = off + 24;
  q.src4 = 0;
  q.dst4 = 0;
  q.id = 0;
  q.df = false;
  q.mf = false;
  q.fragOffset = 0;
  q.fragHdrOff = -1;
  let nh = buf[off + 6];
  let cur = off + IPV6_HDR_LEN;
  for (;;) {
    if (nh === IPPROTO_TCP || nh === IPPROTO_UDP || nh === IPPROTO_ICMPV6) break;
    if (nh === IPPROTO_HOPOPTS || nh === IPPROTO_DSTOPTS || nh === IPPROTO_ROUTING) {
      if (cur + 8 > end) return inner ? K_INNER : K_V6_TRUNC;
      const hlen = (buf[cur + 1] + 1) << 3;
      if (cur + hlen > end) return inner ? K_INNER : K_V6_TRUNC;
      // RFC 7915 §5.1: a Routing header with Segments Left != 0 MUST NOT be translated.
      if (nh === IPPROTO_ROUTING && buf[cur + 3] !== 0) {
        if (outer !== null) outer.badPointer = cur + 3 - off;
        return inner ? K_INNER : K_EXT;
      }
      nh = buf[cur];
      cur += hlen;
    } else if (nh === IPPROTO_FRAGMENT) {
      if (cur + 8 > end || q.fragHdrOff >= 0) return inner ? K_INNER : K_V6_TRUNC;
      const w = get16(buf, cur + 2);
      q.fragHdrOff = cur;
      q.fragOffset = w >>> 3;
      q.mf = (w & 1) !== 0;
      q.id = get32(buf, cur + 4);
      // RFC 8021: an atomic fragment (offset 0, M 0) is a whole packet. A quoted first fragment
      // still carries its transport header; anything else needs reassembly.
      if (q.fragOffset !== 0 || (q.mf && !inner)) return inner ? K_INNER : K_FRAG;
      nh = buf[cur];
      cur += 8;
    } else if (nh === IPPROTO_AH || nh === IPPROTO_ESP || nh === IPPROTO_MOBILITY ||
               nh === IPPROTO_HIP || nh === IPPROTO_SHIM6) {
      return inner ? K_INNER : K_EXT;
    } else {
      return inner ? K_INNER : K_UNKNOWN;
    }
  }
  q.hdrLen = cur - off;
  const r = l4(buf, cur, end, totalLen - q.hdrLen, nh, q, inner);
  // RFC 8200 §8.1: IPv6 receivers discard UDP with a zero checksum. A quoted datagram is only read.
  if (r === OK && nh === IPPROTO_UDP && !inner && get16(buf, cur + 6) === 0) return K_UDP6_ZERO;
  return r;
}

/** IPv4 header (RFC 791). A quoted header is not checksum-verified: only its fields are used. */
function ip4(buf: Uint8Array, off: number, len: number, q: L3, inner: boolean): number {
  if (len < IPV4_HDR_LEN || buf[off] >>> 4 !== 4) return K_V4_TRUNC;
  const ihl = (buf[off] & 0x0f) << 2;
  const totalLen = get16(buf, off + 2);
  if (ihl < IPV4_HDR_LEN || ihl > len || totalLen < ihl || (!inner && totalLen > len)) {
    return inner ? K_INNER : K_V4_TRUNC;
  }
  if (!inner && fold(sumBytes(buf, off, ihl, 0)) !== 0xffff) return K_V4_CSUM;
  const end = off + (totalLen < len ? totalLen : len);
  const frag = get16(buf, off + 6);
  q.family = 4;
  q.off = off;
  q.totalLen = totalLen;
  q.avail = end - off;
  q.hdrLen = ihl;
  q.tos = buf[off + 1];
  q.flowLabel = 0;
  q.id = get16(buf, off + 4);
  q.df = (frag & IPV4_DF) !== 0;
  q.mf = (frag & IPV4_MF) !== 0;
  q.fragOffset = frag & 0x1fff;
  q.fragHdrOff = -1;
  q.ttl = buf[off + 8];
  q.src = off + 12;
  q.dst = off + 16;
  q.src4 = get32(buf, off + 12);
  q.dst4 = get32(buf, off + 16);
  if (q.fragOffset !== 0 || (q.mf && !inner)) return inner ? K_INNER : K_FRAG;
  const nh = buf[off + 9];
  if (nh !== IPPROTO_TCP && nh !== IPPROTO_UDP && nh !== IPPROTO_ICMP) return inner ? K_INNER : K_UNKNOWN;
  const r = l4(buf, off + ihl, end, totalLen - ihl, nh, q, inner);
  // Checked last: ipv4-source-route is a packet that would translate but for the option, so the
  // Source Route Failed error core.ts returns for it quotes a packet that parsed.
  if (r === OK && ihl > IPV4_HDR_LEN && hasSourceRoute(buf, off + IPV4_HDR_LEN, off + ihl)) return inner ? K_INNER : K_SRR;
  return r;
}

/**
 * RFC 7915 §4.1: an unexpired Loose/Strict Source Route option (pointer not past the option)
 * means the packet must not be translated.
 */
function hasSourceRoute(buf: Uint8Array, o: number, end: number): boolean {
  while (o < end) {
    const t = buf[o];
    if (t === 0) return false; // End of Option List
    if (t === 1) { o++; continue; } // No Operation
    if (o + 1 >= end) return false;
    const olen = buf[o + 1];
    if (olen < 2) return false;
    if ((t === 131 || t === 137) && o + 2 < end && buf[o + 2] <= olen) return true;
    o += olen;
  }
  return false;
}

/** Transport header: enough of it to read ports / ICMP type, code, identifier. */
function l4(buf: Uint8Array, o: number, end: number, declared: number, nh: number, q: L3, inner: boolean): number {
  q.proto = nh;
  q.l4Off = o;
  q.l4Len = declared;
  q.isIcmpError = false;
  q.icmpType = 0;
  q.icmpCode = 0;
  q.icmpId = 0;
  // A quoted packet needs only the 8 bytes RFC 792 guarantees (ports, or ICMP type..identifier).
  const need = inner ? 8 : nh === IPPROTO_TCP ? 20 : 8;
  if (end - o < need) return inner ? K_INNER : K_L4_TRUNC;
  if (nh === IPPROTO_TCP || nh === IPPROTO_UDP) {
    q.srcPort = get16(buf, o);
    q.dstPort = get16(buf, o + 2);
    return OK;
  }
  const type = buf[o];
  q.icmpType = type;
  q.icmpCode = buf[o + 1];
  q.isIcmpError = nh === IPPROTO_ICMPV6 ? type < 128 : isIcmp4Error(type);
  q.icmpId = q.isIcmpError ? 0 : get16(buf, o + 4);
  q.srcPort = q.icmpId;
  q.dstPort = q.icmpId;
  return OK;
}

/** RFC 792: Destination Unreachable, Source Quench, Redirect, Time Exceeded, Parameter Problem. */
function isIcmp4Error(type: number): boolean {
  return type === 3 || type === 4 || type === 5 || type === 11 || type === 12;
}

/**
 * For the ICMP error builders: is the IPv6 packet at buf[off] an ICMPv6 error or a non-first
 * fragment (RFC 4443 §2.4(e))? A light walk over the common extension headers.
 */
export function isErrorOrLaterFragment6(buf: Uint8Array, off: number, len: number): boolean {
  if (len < IPV6_HDR_LEN) return true;
  let nh = buf[off + 6];
  let cur = off + IPV6_HDR_LEN;
  const end = off + len;
  while (cur + 8 <= end) {
    if (nh === IPPROTO_ICMPV6) return buf[cur] < 128;
    if (nh === IPPROTO_FRAGMENT) {
      if ((get16(buf, cur + 2) >>> 3) !== 0) return true;
      nh = buf[cur];
      cur += 8;
    } else if (nh === IPPROTO_HOPOPTS || nh === IPPROTO_DSTOPTS || nh === IPPROTO_ROUTING) {
      nh = buf[cur];
      cur += (buf[cur + 1] + 1) << 3;
    } else {
      return false;
    }
  }
  return false;
}

/** The IPv4 counterpart: an ICMPv4 error or a non-first fragment (RFC 1812 §4.3.2.7). */
export function isErrorOrLaterFragment4(buf: Uint8Array, off: number, len: number): boolean {
  if (len < IPV4_HDR_LEN) return true;
  if ((get16(buf, off + 6) & 0x1fff) !== 0) return true;
  const ihl = (buf[off] & 0x0f) << 2;
  if (buf[off + 9] !== IPPROTO_ICMP || ihl + 1 > len) return false;
  return isIcmp4Error(buf[off + ihl]);
}
