/**
 * The Internet checksum (RFC 1071) and its incremental update (RFC 1624).
 *
 * Sums are kept as plain non-negative numbers of 16-bit words and folded only at the end: for any
 * packet up to 64 KiB the unfolded sum stays below 2^31, so no carry is lost.
 */
import { get16 } from './bytes';

/** Adds the 16-bit big-endian words of b[off, off+len) to acc; an odd last byte is padded with zero. */
export function sumBytes(b: Uint8Array, off: number, len: number, acc: number): number {
  const end = off + (len & ~1);
  for (let i = off; i < end; i += 2) acc += (b[i] << 8) | b[i + 1];
  if (len & 1) acc += b[off + len - 1] << 8;
  return acc;
}

/** Sum of the eight words of the IPv6 address at b[off]. */
export function sumAddr6(b: Uint8Array, off: number): number {
  let acc = 0;
  for (let i = 0; i < 16; i += 2) acc += get16(b, off + i);
  return acc;
}

/** Sum of the two words of an IPv4 address held as a u32. */
export function sumAddr4(a: number): number {
  return (a >>> 16) + (a & 0xffff);
}

/** One's-complement fold to 16 bits. */
export function fold(acc: number): number {
  while (acc > 0xffff) acc = (acc & 0xffff) + Math.floor(acc / 0x10000);
  return acc;
}

/** The checksum field value for a sum that covers everything except the checksum field. */
export function finish(acc: number): number {
  return ~fold(acc) & 0xffff;
}

/**
 * RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'). `oldSum`/`newSum` are the sums of every 16-bit word that
 * changed (old and new values). A checksum that was wrong before stays wrong by the same amount,
 * which is the point of updating instead of recomputing (RFC 7915 §4.5/§5.5 leave verification
 * to the end host).
 */
export function adjust(check: number, oldSum: number, newSum: number): number {
  const acc = (~check & 0xffff) + (~fold(oldSum) & 0xffff) + fold(newSum);
  return ~fold(acc) & 0xffff;
}

/** Pseudo-header sum (RFC 8200 §8.1) without addresses: upper-layer length and next header. */
export function sumPseudoTail(len: number, proto: number): number {
  return (len >>> 16) + (len & 0xffff) + proto;
}
