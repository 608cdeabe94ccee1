/**
 * The mutator: turns a valid seed packet (already copied to buf[off, off+len)) into a hostile one,
 * in place, and returns its new length. Blind mutations (bit flips, byte sets, truncation,
 * extension) find what nobody thought of; structure-aware ones (lengths that lie, IHL, extension
 * header chains, the packet quoted inside an ICMP error) get past the first length check so the
 * deeper code is reached. Afterwards the checksums the core verifies (IPv4 header, ICMP error) are
 * usually recomputed, or every mutant would die at 'ipv4-bad-checksum' / 'icmp-bad-checksum'.
 */
import type { Prng } from './prng';
import type { Seed } from './corpus';
import { fold, sum } from './l4sum';

const INTERESTING8 = [0, 1, 0x7f, 0x80, 0xfe, 0xff];
const NEXT_HEADERS = [0, 6, 17, 58, 1, 43, 44, 50, 51, 59, 60, 135, 139, 140, 255];
const ICMP6_TYPES = [1, 2, 3, 4, 0, 127, 128, 129, 130, 133, 135, 255];
const ICMP4_TYPES = [0, 3, 4, 5, 8, 11, 12, 13, 255];
const CUTS = [0, 1, 8, 19, 20, 21, 27, 28, 39, 40, 41, 47, 48, 55, 56, 60, 67, 68, 75, 76, 87, 88, 95, 96];

function get16(b: Uint8Array, o: number): number { return (b[o] << 8) | b[o + 1]; }
function put16(b: Uint8Array, o: number, v: number): void { b[o] = v >>> 8; b[o + 1] = v; }

/** Offset of the transport header by a naive walk (IPv4 IHL, IPv6 hop/dst/routing/fragment), or -1. */
export function l4Offset(buf: Uint8Array, off: number, len: number): number {
  const v = buf[off] >>> 4;
  if (v === 4) {
    const ihl = (buf[off] & 15) * 4;
    return ihl >= 20 && ihl <= len ? off + ihl : -1;
  }
  if (v !== 6 || len < 40) return -1;
  let nh = buf[off + 6], cur = off + 40;
  for (let i = 0; i < 64 && cur + 8 <= off + len; i++) {
    if (nh === 0 || nh === 60 || nh === 43) { nh = buf[cur]; cur += (buf[cur + 1] + 1) * 8; }
    else if (nh === 44) { nh = buf[cur]; cur += 8; }
    else return cur;
  }
  return cur <= off + len ? cur : -1;
}

/** Transport protocol of the packet (after the naive walk), -1 when unknown. */
function l4Proto(buf: Uint8Array, off: number, l4: number): number {
  if (buf[off] >>> 4 === 4) return buf[off + 9];
  let nh = buf[off + 6], cur = off + 40;
  while (cur < l4) {
    const next = buf[cur];
    cur += nh === 44 ? 8 : (buf[cur + 1] + 1) * 8;
    nh = next;
  }
  return nh;
}

function fin(acc: number): number { return ~fold(acc) & 0xffff; }

/** Recomputes the IPv4 header checksum and the ICMP / ICMPv6 checksum when the headers allow it. */
export function fixChecksums(buf: Uint8Array, off: number, len: number): void {
  const v = buf[off] >>> 4;
  const l4 = l4Offset(buf, off, len);
  if (v === 4) {
    const ihl = (buf[off] & 15) * 4;
    if (ihl < 20 || ihl > len) return;
    const end = off + Math.min(get16(buf, off + 2), len);
    if (buf[off + 9] === 1 && l4 >= 0 && end - l4 >= 4) {
      put16(buf, l4 + 2, 0);
      put16(buf, l4 + 2, fin(sum(buf, l4, end - l4, 0)));
    }
    put16(buf, off + 10, 0);
    put16(buf, off + 10, fin(sum(buf, off, ihl, 0)));
  } else if (v === 6 && len >= 40 && l4 >= 0) {
    const end = off + Math.min(40 + get16(buf, off + 4), len);
    if (l4Proto(buf, off, l4) !== 58 || end - l4 < 4) return;
    put16(buf, l4 + 2, 0);
    const n = end - l4;
    const pseudo = sum(buf, off + 8, 32, 0) + (n >>> 16) + (n & 0xffff) + 58;
    put16(buf, l4 + 2, fin(sum(buf, l4, n, pseudo)));
  }
}

/**
 * Applies 1..4 mutations; `maxLen` bounds growth. Returns the new length. `corpus` feeds the
 * splice mutation (a chunk of another seed pasted in).
 */
export function mutate(r: Prng, buf: Uint8Array, off: number, len: number, maxLen: number, corpus: readonly Seed[]): number {
  const rounds = 1 + r.int(4);
  for (let k = 0; k < rounds; k++) len = mutateOnce(r, buf, off, len, maxLen, corpus);
  if (r.chance(0.8)) fixChecksums(buf, off, len);
  return len;
}

function mutateOnce(r: Prng, buf: Uint8Array, off: number, len: number, maxLen: number, corpus: readonly Seed[]): number {
  const v = buf[off] >>> 4;
  const l4 = len > 0 ? l4Offset(buf, off, len) : -1;
  switch (r.int(16)) {
    case 0: // bit flips
      if (len > 0) for (let n = 1 + r.int(3); n > 0; n--) buf[off + r.int(len)] ^= 1 << r.int(8);
      return len;
    case 1: // a byte set to an interesting or random value, biased to the headers
      if (len > 0) buf[off + r.int(r.chance(0.7) ? Math.min(len, 96) : len)] = r.chance(0.5) ? r.pick(INTERESTING8) : r.byte();
      return len;
    case 2: // truncation, often exactly at a header boundary
      return Math.min(len, r.chance(0.6) ? r.pick(CUTS) : r.int(len + 1));
    case 3: { // extension: trailing bytes, the length fields updated or not
      const n = Math.min(1 + r.int(r.chance(0.9) ? 64 : 4096), maxLen - len);
      for (let i = 0; i < n; i++) buf[off + len + i] = r.chance(0.5) ? 0 : r.byte();
      if (r.chance(0.5)) fixLengths(buf, off, len + n);
      return len + n;
    }
    case 4: // IPv6 Payload Length / IPv4 Total Length that lie
      if (len >= 8) put16(buf, off + (v === 6 ? 4 : 2), lie(r, v === 6 ? len - 40 : len));
      return len;
    case 5: // IHL (or the version nibble)
      if (len > 0) buf[off] = r.chance(0.85) ? (buf[off] & 0xf0) | r.int(16) : (r.int(16) << 4) | (buf[off] & 15);
      return len;
    case 6: // UDP Length / TCP Data Offset that lie
      if (l4 >= 0 && l4 + 14 <= off + len) {
        if (r.chance(0.5)) put16(buf, l4 + 4, lie(r, off + len - l4));
        else buf[l4 + 12] = (r.int(16) << 4) | (buf[l4 + 12] & 15);
      }
      return len;
    case 7: // Next Header / Protocol
      if (len >= 10) buf[off + (v === 6 ? 6 : 9)] = r.chance(0.8) ? r.pick(NEXT_HEADERS) : r.byte();
      return len;
    case 8: // bogus extension header chain inserted after the IPv6 header
      return v === 6 && len >= 40 ? insertExtChain(r, buf, off, len, maxLen) : len;
    case 9: case 10: // the packet quoted inside an ICMP error
      return l4 >= 0 ? mutateQuoted(r, buf, off, len, l4) : len;
    case 11: // TTL / Hop Limit
      if (len >= 10) buf[off + (v === 6 ? 7 : 8)] = r.pick([0, 1, 2, 255]);
      return len;
    case 12: // ICMP type and code
      if (l4 >= 0 && l4 + 2 <= off + len) {
        buf[l4] = r.pick(v === 6 ? ICMP6_TYPES : ICMP4_TYPES);
        buf[l4 + 1] = r.chance(0.7) ? r.int(16) : r.byte();
      }
      return len;
    case 13: { // splice: a chunk of another seed pasted at a random place
      const s = r.pick(corpus).bytes;
      const from = r.int(s.length), n = Math.min(1 + r.int(64), s.length - from);
      const at = r.int(len + 1);
      const end = Math.min(at + n, maxLen);
      for (let i = at; i < end; i++) buf[off + i] = s[from + i - at];
      return Math.max(len, end);
    }
    case 14: { // insert or delete a few bytes in the middle (headers shift)
      const at = r.int(len + 1);
      if (r.chance(0.5)) {
        const n = Math.min(1 + r.int(16), maxLen - len);
        buf.copyWithin(off + at + n, off + at, off + len);
        for (let i = 0; i < n; i++) buf[off + at + i] = r.byte();
        return len + n;
      }
      const n = Math.min(1 + r.int(16), len - at);
      buf.copyWithin(off + at, off + at + n, off + len);
      return len - n;
    }
    default: // TCP flags
      if (l4 >= 0 && l4 + 14 <= off + len) buf[l4 + 13] = r.chance(0.5) ? r.byte() : r.pick([0x02, 0x12, 0x10, 0x11, 0x04, 0x14, 0x03, 0x06]);
      return len;
  }
}

/** A length field value: the truth, off by a little, zero, all ones or anything. */
function lie(r: Prng, truth: number): number {
  switch (r.int(6)) {
    case 0: return 0;
    case 1: return 0xffff;
    case 2: return (truth + r.range(-8, 8)) & 0xffff;
    case 3: return (truth + r.range(1, 64)) & 0xffff;
    case 4: return r.int(0x10000);
    default: return r.int(128);
  }
}

/** Sets IPv6 Payload Length / IPv4 Total Length to the bytes present. */
function fixLengths(buf: Uint8Array, off: number, len: number): void {
  const v = buf[off] >>> 4;
  if (v === 6 && len >= 40) put16(buf, off + 4, Math.min(len - 40, 0xffff));
  else if (v === 4 && len >= 20) put16(buf, off + 2, Math.min(len, 0xffff));
}

/**
 * Inserts 1..40 Hop-by-Hop / Destination Options / Routing / Fragment headers after the fixed
 * header: loops of dest-opts, huge Hdr Ext Len values that point past the packet, chains that end
 * in nothing. The payload length is updated most of the time.
 */
function insertExtChain(r: Prng, buf: Uint8Array, off: number, len: number, maxLen: number): number {
  const count = 1 + r.int(r.chance(0.7) ? 4 : 40);
  let at = off + 40, ins = 0;
  const sizes: number[] = [];
  for (let i = 0; i < count; i++) {
    const hugeLen = r.chance(0.1);
    const extLen = hugeLen ? r.pick([255, 128, 31]) : r.chance(0.8) ? 0 : r.int(4);
    const size = hugeLen ? 8 : (extLen + 1) * 8; // a huge claim with only 8 bytes behind it
    if (len + ins + size > maxLen) break;
    sizes.push(size);
    ins += size;
  }
  if (ins === 0) return len;
  buf.copyWithin(at + ins, at, off + len);
  let prevNhAt = off + 6;
  const finalNh = buf[off + 6];
  for (const size of sizes) {
    const type = r.chance(0.6) ? 60 : r.pick([0, 43, 44, 60]);
    buf[prevNhAt] = type;
    buf[at] = finalNh; // next header, overwritten by the next one in the chain
    buf[at + 1] = type === 44 ? 0 : size === 8 && r.chance(0.3) ? r.pick([255, 128, 31]) : size / 8 - 1;
    for (let i = 2; i < size; i++) buf[at + i] = type === 60 || type === 0 ? (i === 2 ? 1 : 0) : 0;
    if (type === 60 || type === 0) buf[at + 3] = size - 4; // PadN over the rest
    if (type === 44 && r.chance(0.5)) buf[at + 3] = r.byte();
    prevNhAt = at;
    at += size;
  }
  if (r.chance(0.2)) buf[prevNhAt] = 60; // the last points to another dest-opts: a chain into the payload
  len += ins;
  if (r.chance(0.8)) fixLengths(buf, off, len);
  return len;
}

/** Field-aware damage to the packet quoted 8 bytes into an ICMP message. */
function mutateQuoted(r: Prng, buf: Uint8Array, off: number, len: number, l4: number): number {
  const q = l4 + 8, end = off + len;
  if (q >= end) return len;
  const qv = buf[q] >>> 4;
  switch (r.int(6)) {
    case 0: // its length field
      if (q + 6 <= end) put16(buf, q + (qv === 6 ? 4 : 2), lie(r, end - q - (qv === 6 ? 40 : 0)));
      break;
    case 1: // its IHL / version
      buf[q] = r.chance(0.8) ? (buf[q] & 0xf0) | r.int(16) : (r.int(16) << 4) | (buf[q] & 15);
      break;
    case 2: // its protocol / next header
      if (q + 10 <= end) buf[q + (qv === 6 ? 6 : 9)] = r.pick(NEXT_HEADERS);
      break;
    case 3: { // its transport header (ports, ICMP type, identifier)
      const ql4 = l4Offset(buf, q, end - q);
      if (ql4 >= 0 && ql4 < end) buf[ql4 + r.int(Math.min(8, end - ql4))] = r.chance(0.5) ? r.byte() : r.pick(INTERESTING8);
      break;
    }
    case 4: // its fragment fields (IPv4) or flow/traffic class (IPv6)
      if (q + 8 <= end) buf[q + 6 + r.int(2)] = r.byte();
      break;
    default: // anywhere in it
      buf[q + r.int(end - q)] ^= 1 << r.int(8);
  }
  return len;
}
