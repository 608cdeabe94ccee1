/**
 * TCP/UDP checksums as the fuzzer checks the I/O layer's receive step (issue 10, docs/fuzzing.md
 * "Receive step"): where the transport header is, the pseudo-header sum, whether a segment
 * verifies. Written from the RFCs (RFC 768 "Fields", RFC 793 §3.1, RFC 8200 §8.1), independently
 * of native/checksum.cc, whose verdicts they check.
 */

/** A TCP/UDP header in buf: offsets absolute, lengths in bytes. */
export interface L4 {
  /** Offset of the IP header. */
  ip: number;
  family: 4 | 6;
  proto: number;
  l4: number;
  /** Upper-layer packet length (the pseudo-header's length). */
  len: number;
  /** Offset of the checksum field. */
  sum: number;
}

const TCP = 6, UDP = 17;

function get16(b: Uint8Array, o: number): number { return (b[o] << 8) | b[o + 1]; }

/**
 * The TCP/UDP header of buf[o, o+n) read as `family`, when its checksum can be a
 * CHECKSUM_PARTIAL sender's: not a fragment, IPv6 Hop-by-Hop / Destination Options headers walked
 * (at most 8; a Routing header changes the pseudo-header's destination, a Fragment header means
 * no partial sum: neither qualifies), the IP length fields within the bytes present, a whole TCP
 * (20) or UDP (8) header inside them. The rule native/checksum.h's l4Locate states, restated.
 */
export function locatePartial(b: Uint8Array, o: number, n: number, family: 4 | 6): L4 | null {
  if (n < 20) return null;
  let l4: number, end: number, proto: number;
  if (family === 6) {
    if (n < 40 || b[o] >>> 4 !== 6) return null;
    end = 40 + get16(b, o + 4);
    if (end > n) return null;
    let nh = b[o + 6], p = 40;
    for (let k = 0; k < 8 && (nh === 0 || nh === 60); k++) {
      if (p + 8 > end) return null;
      nh = b[o + p];
      p += (b[o + p + 1] + 1) * 8;
    }
    if ((nh !== TCP && nh !== UDP) || p > end) return null;
    l4 = p;
    proto = nh;
  } else {
    const ihl = (b[o] & 15) * 4;
    end = get16(b, o + 2);
    if (b[o] >>> 4 !== 4 || ihl < 20 || end < ihl || end > n) return null;
    if ((get16(b, o + 6) & 0x3fff) !== 0) return null; // MF or an offset: a fragment
    proto = b[o + 9];
    if (proto !== TCP && proto !== UDP) return null;
    l4 = ihl;
  }
  const len = end - l4;
  if (len < (proto === TCP ? 20 : 8)) return null;
  return { ip: o, family, proto, l4: o + l4, len, sum: o + l4 + (proto === TCP ? 16 : 6) };
}

/**
 * The TCP/UDP header of a packet whose checksum a receiver can verify on its own, for the
 * "never repaired" invariant: as locatePartial, and also past an IPv6 Routing header with Segments
 * Left 0 (its destination is the final one) and an atomic fragment (offset 0, M clear: the whole
 * datagram), any number of extension headers.
 */
export function locateWhole(b: Uint8Array, o: number, n: number, family: 4 | 6): L4 | null {
  if (family === 4) return locatePartial(b, o, n, 4);
  if (n < 40 || b[o] >>> 4 !== 6) return null;
  const end = 40 + get16(b, o + 4);
  if (end > n) return null;
  let nh = b[o + 6], p = 40;
  for (;;) {
    if (nh === TCP || nh === UDP) break;
    if (nh !== 0 && nh !== 60 && nh !== 43 && nh !== 44) return null;
    if (p + 8 > end) return null;
    if (nh === 43 && b[o + p + 3] !== 0) return null;
    if (nh === 44 && (get16(b, o + p + 2) & 0xfff9) !== 0) return null;
    const next = b[o + p];
    p += nh === 44 ? 8 : (b[o + p + 1] + 1) * 8;
    nh = next;
  }
  const len = end - p;
  if (p > end || len < (nh === TCP ? 20 : 8)) return null;
  return { ip: o, family: 6, proto: nh, l4: o + p, len, sum: o + p + (nh === TCP ? 16 : 6) };
}

/** One's-complement sum (RFC 1071) of 16-bit big-endian words, unfolded; an odd last byte is padded. */
export function sum(b: Uint8Array, o: number, n: number, acc: number): number {
  const end = o + (n & ~1);
  for (let i = o; i < end; i += 2) acc += (b[i] << 8) | b[i + 1];
  if (n & 1) acc += b[o + n - 1] << 8;
  return acc;
}

/** End-around carry down to 16 bits (not complemented). */
export function fold(acc: number): number {
  while (acc > 0xffff) acc = (acc & 0xffff) + Math.floor(acc / 0x10000);
  return acc;
}

/** The pseudo-header's sum, unfolded: addresses, protocol, upper-layer length. */
function pseudo(b: Uint8Array, w: L4): number {
  const addrs = w.family === 4 ? sum(b, w.ip + 12, 8, 0) : sum(b, w.ip + 8, 32, 0);
  return addrs + w.proto + (w.len >>> 16) + (w.len & 0xffff);
}

/** What a CHECKSUM_PARTIAL sender leaves in the field: the pseudo-header sum, folded, not complemented. */
export function pseudoSum(b: Uint8Array, w: L4): number { return fold(pseudo(b, w)); }

export function field(b: Uint8Array, w: L4): number { return get16(b, w.sum); }

/** The segment verifies: pseudo-header + segment (checksum field included) sum to all ones. */
export function verifies(b: Uint8Array, w: L4): boolean { return fold(sum(b, w.l4, w.len, pseudo(b, w))) === 0xffff; }

/** An IPv4 UDP datagram sent without a checksum (RFC 768): nothing to verify, nothing to finish. */
export function noChecksum(b: Uint8Array, w: L4): boolean { return w.family === 4 && w.proto === UDP && field(b, w) === 0; }

/**
 * The frame is partial by definition: its field holds the pseudo-header sum and the segment does
 * not verify with it (a real checksum equal to that sum verifies, and is left alone).
 */
export function isPartial(b: Uint8Array, w: L4): boolean {
  return !noChecksum(b, w) && field(b, w) === pseudoSum(b, w) && !verifies(b, w);
}

/** Writes an Ethernet header (destination, source, EtherType of `family`) at b[o, o+14). */
export function writeEthernet(b: Uint8Array, o: number, dst: Uint8Array, src: Uint8Array, family: 4 | 6): void {
  b.set(dst.subarray(0, 6), o);
  b.set(src.subarray(0, 6), o + 6);
  b[o + 12] = family === 6 ? 0x86 : 0x08;
  b[o + 13] = family === 6 ? 0xdd : 0x00;
}
