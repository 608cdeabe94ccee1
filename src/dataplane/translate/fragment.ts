/**
 * Egress MTU of translated packets (RFC 7915 §4.1, §5.1, §5.1.1; RFC 6146 §3.7).
 *
 * Decided before the packet is translated in place, so that an ICMP error can still quote the
 * original: `mtuVerdict6to4` / `mtuVerdict4to6` say whether the translated packet fits, must be
 * fragmented (DF clear) or must be refused with Packet Too Big / Fragmentation Needed (DF set).
 * After translation `fragment4` / `fragment6` split it: the first fragment stays where the packet
 * was (the caller's mbuf, emitted by the normal path), every further one is written into a fresh
 * buffer from the shard's PacketSink and sent from there. Payload bytes are moved with
 * copyWithin (a native memmove inside the arena); nothing is allocated in JS.
 *
 * Fragments reach the sink in offset order, offset 0 first (`lead`, then `send` for each further
 * one): RFC 791 and RFC 8200 allow any order, but stateless filters and middleboxes that need the
 * transport header drop or delay later fragments that arrive before the first, and Jool, the
 * Linux stack and most routers send offset 0 first. The shard keeps that order on the wire
 * (egress.ts).
 */
import { C } from '../counters';
import { get16, put16, put32 } from '../packet/bytes';
import { finish, sumBytes } from '../packet/checksum';
import { IPV4_HDR_LEN, IPV4_MF } from '../packet/ipv4';
import { IPPROTO_FRAGMENT, IPV6_HDR_LEN, IPV6_MIN_MTU } from '../packet/ipv6';
import type { L3 } from '../packet/parse';

/**
 * Extra packets for the translator: the shard implements it over native.alloc()/send(). Offsets
 * are into the same byte array the core works on (the arena).
 */
export interface PacketSink {
  /** L3 offset of a fresh buffer (at least 114 writable bytes before it, `room` after it), or -1. */
  alloc(): number;
  /** Bytes writable from an offset alloc() returned. */
  readonly room: number;
  /**
   * The first fragment (offset 0) of a packet being fragmented, before any send() of the others:
   * it stays in the caller's buffer at [off, off+len) and leaves as the core's output (`out`). The
   * sink transmits the fragments sent after it behind it, and gives them back if the core then
   * drops the packet (a later fragment found no buffer).
   */
  lead(family: number, off: number, len: number): void;
  /** Route and transmit buf[off, off+len), an IPv4 (family 4) or IPv6 (6) packet in an alloc()ed buffer. */
  send(family: number, off: number, len: number): void;
}

/** What to do with a packet whose translation may not fit the egress MTU. */
export const enum MtuVerdict {
  FITS = 0,
  /** DF clear (or an IPv6 Fragment Header): translate, then fragment. */
  FRAGMENT = 1,
  /** DF set: answer with an ICMP error carrying `mtuReport` and drop. */
  TOO_BIG = 2,
}

const FRAG_HDR_LEN = 8;
const HDR_DELTA = 20;
/** RFC 791: every IPv4 link carries 68 bytes; the floor of a Next-Hop MTU we report. */
const IPV4_MIN_MTU = 68;
const K_FRAGMENTED = C['mtu-fragmented'];
const K_NO_BUFFER = C['fragment-alloc-failed'];

/** Filled by the verdict functions: the MTU to put in the ICMP error (one object, no allocation). */
export const mtuReport = { value: 0 };

/**
 * IPv6 -> IPv4. The IPv4 packet is 20 + transport bytes (extension headers are not carried over).
 * DF is clear when the IPv6 packet had a Fragment Header (RFC 7915 §5.1.1; reassembled datagrams
 * carry an atomic one, see native/frag.cc) or is at most lowest-ipv6-mtu - 20 bytes (§5.1): then we
 * fragment. Otherwise Packet Too Big with the IPv6 size that will fit: the IPv4 MTU + 20 + the
 * extension headers that translation removes, never below 1280 (RFC 8200 §5).
 */
export function mtuVerdict6to4(p: L3, mtu4: number, lowestIpv6Mtu: number): MtuVerdict {
  const len4 = IPV4_HDR_LEN + p.l4Len;
  if (len4 <= mtu4) return MtuVerdict.FITS;
  if (p.fragHdrOff >= 0 || len4 <= lowestIpv6Mtu - HDR_DELTA) return MtuVerdict.FRAGMENT;
  const report = mtu4 + HDR_DELTA + (p.hdrLen - IPV6_HDR_LEN);
  mtuReport.value = report < IPV6_MIN_MTU ? IPV6_MIN_MTU : report;
  return MtuVerdict.TOO_BIG;
}

/**
 * IPv4 -> IPv6. The IPv6 packet is 40 + transport bytes. DF set and too big for the IPv6 next hop:
 * Fragmentation Needed with Next-Hop MTU = mtu6 - 20 (RFC 7915 §4 / RFC 1191). DF clear: RFC 7915
 * §4.1 fragments to lowest-ipv6-mtu ("SHOULD be fragmented so the resulting IPv6 packet ... will be
 * less than or equal to lowest-ipv6-mtu"), or to the IPv6 next hop's MTU when that is smaller.
 */
export function mtuVerdict4to6(p: L3, mtu6: number, lowestIpv6Mtu: number): MtuVerdict {
  const len6 = IPV6_HDR_LEN + p.l4Len;
  if (p.df) {
    if (len6 <= mtu6) return MtuVerdict.FITS;
    const report = mtu6 - HDR_DELTA;
    mtuReport.value = report < IPV4_MIN_MTU ? IPV4_MIN_MTU : report;
    return MtuVerdict.TOO_BIG;
  }
  return len6 <= fragmentSize6(mtu6, lowestIpv6Mtu) ? MtuVerdict.FITS : MtuVerdict.FRAGMENT;
}

/** Largest IPv6 fragment we emit for a DF-clear IPv4 packet. */
export function fragmentSize6(mtu6: number, lowestIpv6Mtu: number): number {
  const m = lowestIpv6Mtu < mtu6 ? lowestIpv6Mtu : mtu6;
  return m < IPV6_MIN_MTU ? IPV6_MIN_MTU : m;
}

/**
 * Splits the translated IPv6 packet out.off/out.len (no extension headers) into fragments of at
 * most `size` bytes, each with a Fragment Header (RFC 8200 §4.5) whose Identification is the IPv4
 * one (RFC 7915 §4.1). The first fragment grows 8 bytes into the headroom and stays in `out`.
 * False (counted) when no buffer was available for a later fragment.
 */
export function fragment6(buf: Uint8Array, out: { off: number; len: number }, size: number, id: number,
  sink: PacketSink | null, counters: Float64Array): boolean {
  const off = out.off, payload = out.len - IPV6_HDR_LEN;
  let per = ((size - IPV6_HDR_LEN - FRAG_HDR_LEN) >>> 3) << 3;
  if (sink !== null && per > sink.room - IPV6_HDR_LEN - FRAG_HDR_LEN) per = ((sink.room - IPV6_HDR_LEN - FRAG_HDR_LEN) >>> 3) << 3;
  if (sink === null || per <= 0) { counters[K_NO_BUFFER]++; return false; }
  // The header moves back 8 bytes; the Fragment Header lands on the tail of the old one, the
  // payload does not move.
  const o = off - FRAG_HDR_LEN;
  buf.copyWithin(o, off, off + IPV6_HDR_LEN);
  const fh = o + IPV6_HDR_LEN;
  buf[fh] = buf[o + 6];
  buf[fh + 1] = 0;
  put32(buf, fh + 4, id);
  buf[o + 6] = IPPROTO_FRAGMENT;
  put16(buf, o + 4, FRAG_HDR_LEN + per);
  put16(buf, fh + 2, 1); // offset 0, M = 1
  out.off = o;
  out.len = IPV6_HDR_LEN + FRAG_HDR_LEN + per;
  sink.lead(6, o, out.len);
  const data = off + IPV6_HDR_LEN;
  for (let k = per; k < payload; k += per) {
    const n = payload - k < per ? payload - k : per;
    const d = sink.alloc();
    if (d < 0) { counters[K_NO_BUFFER]++; return false; }
    buf.copyWithin(d, o, o + IPV6_HDR_LEN + FRAG_HDR_LEN);
    put16(buf, d + 4, FRAG_HDR_LEN + n);
    put16(buf, d + IPV6_HDR_LEN + 2, k | (k + n < payload ? 1 : 0));
    buf.copyWithin(d + IPV6_HDR_LEN + FRAG_HDR_LEN, data + k, data + k + n);
    sink.send(6, d, IPV6_HDR_LEN + FRAG_HDR_LEN + n);
  }
  counters[K_FRAGMENTED]++;
  return true;
}

/**
 * Splits the translated IPv4 packet out.off/out.len (20-byte header, DF clear) into fragments of
 * at most `mtu` bytes (RFC 791 §3.2 "fragmentation"): same header, offsets in 8-byte units, MF on
 * all but the last (which keeps the packet's own MF), header checksum recomputed.
 */
export function fragment4(buf: Uint8Array, out: { off: number; len: number }, mtu: number,
  sink: PacketSink | null, counters: Float64Array): boolean {
  const o = out.off, payload = out.len - IPV4_HDR_LEN;
  let per = ((mtu - IPV4_HDR_LEN) >>> 3) << 3;
  if (sink !== null && per > sink.room - IPV4_HDR_LEN) per = ((sink.room - IPV4_HDR_LEN) >>> 3) << 3;
  if (sink === null || per <= 0) { counters[K_NO_BUFFER]++; return false; }
  const field = get16(buf, o + 6);
  const base = field & 0x1fff, flags = field & 0xe000;
  const data = o + IPV4_HDR_LEN;
  setLengthAndFrag4(buf, o, IPV4_HDR_LEN + per, flags | IPV4_MF | base);
  out.len = IPV4_HDR_LEN + per;
  sink.lead(4, o, out.len);
  for (let k = per; k < payload; k += per) {
    const n = payload - k < per ? payload - k : per;
    const d = sink.alloc();
    if (d < 0) { counters[K_NO_BUFFER]++; return false; }
    buf.copyWithin(d, o, o + IPV4_HDR_LEN);
    buf.copyWithin(d + IPV4_HDR_LEN, data + k, data + k + n);
    setLengthAndFrag4(buf, d, IPV4_HDR_LEN + n, (k + n < payload ? flags | IPV4_MF : flags) | (base + (k >>> 3)));
    sink.send(4, d, IPV4_HDR_LEN + n);
  }
  counters[K_FRAGMENTED]++;
  return true;
}

function setLengthAndFrag4(buf: Uint8Array, o: number, totalLen: number, field: number): void {
  put16(buf, o + 2, totalLen);
  put16(buf, o + 6, field);
  put16(buf, o + 10, 0);
  put16(buf, o + 10, finish(sumBytes(buf, o, IPV4_HDR_LEN, 0)));
}
