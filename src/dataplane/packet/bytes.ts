/**
 * Big-endian (network order) field access on a byte array. Plain functions over Uint8Array rather
 * than a DataView: no view object per packet, and V8 inlines them in the hot loops.
 */
export function get16(b: Uint8Array, o: number): number {
  return (b[o] << 8) | b[o + 1];
}

export function put16(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 8;
  b[o + 1] = v;
}

/** Unsigned 32-bit read (>>> 0 keeps addresses such as 203.0.113.1 positive). */
export function get32(b: Uint8Array, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}

export function put32(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24;
  b[o + 1] = v >>> 16;
  b[o + 2] = v >>> 8;
  b[o + 3] = v;
}

/** 16 bytes from src[so] to dst[d] without a subarray (no allocation). The ranges must not overlap. */
export function copy16(dst: Uint8Array, d: number, src: Uint8Array, so: number): void {
  for (let i = 0; i < 16; i++) dst[d + i] = src[so + i];
}
