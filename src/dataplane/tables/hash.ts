/**
 * Integer hashing for the table indexes and for shard selection (murmur3-style 32-bit mixing,
 * written from its published description). Pure integer arithmetic: no allocation, and the same
 * value in every worker, which shard selection relies on.
 */

export function mix(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

export function finish(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Big-endian 32-bit word of b at off, as a signed int32 (how the tables store it). */
export function word(b: Uint8Array, off: number): number {
  return (b[off] << 24) | (b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3];
}

/** Hash of an IPv6 address (16 bytes at off) with a seed. */
export function hashAddr6(seed: number, b: Uint8Array, off: number): number {
  let h = mix(seed, word(b, off));
  h = mix(h, word(b, off + 4));
  h = mix(h, word(b, off + 8));
  return mix(h, word(b, off + 12));
}

/**
 * h % n for an unsigned 32-bit h (as finish() returns it) and 0 < n: the same value, in small
 * integers when n <= 2^23 (16 bits, then 8 and 8, each step below 2^31). V8 takes the remainder of an unsigned 32-bit value
 * as a double, a runtime call (~12 % of a 2-shard shard refusing new 5-tuples in hashOwner6).
 */
export function modU32(h: number, n: number): number {
  if (n <= 0x8000) return ((((h >>> 16) % n) << 16) + (h & 0xffff)) % n;
  if (n <= 0x800000) return (((((((h >>> 16) % n) << 8) | ((h >>> 8) & 0xff)) % n) << 8) | (h & 0xff)) % n;
  return h % n;
}
