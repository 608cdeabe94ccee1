/**
 * IPv4-embedded IPv6 addresses (RFC 6052 §2.2): the IPv4 address sits right after the prefix,
 * skipping bits 64-71 (the "u" octet, which must be zero), and the suffix is zero.
 *
 *   /32: PL(32)  V4(32)          u  suffix
 *   /40: PL(40)  V4 24 bits      u  V4 8 bits   suffix
 *   /48: PL(48)  V4 16 bits      u  V4 16 bits  suffix
 *   /56: PL(56)  V4 8 bits       u  V4 24 bits  suffix
 *   /64: PL(64)                  u  V4(32)      suffix
 *   /96: PL(96)  V4(32)
 */
import { parseIpv6Text } from './packet/addr-text';

export const VALID_PREFIX_LENGTHS: readonly number[] = [32, 40, 48, 56, 64, 96];
/** The Well-Known Prefix 64:ff9b::/96 (RFC 6052 §2.1). */
export const WELL_KNOWN_PREFIX = Uint8Array.of(0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
const U_OCTET = 8;

/** Byte position of the i-th IPv4 octet (0..3) in an address under a prefix of `prefixLen` bits. */
function v4Pos(prefixLen: number, i: number): number {
  const pos = (prefixLen >>> 3) + i;
  return prefixLen < 96 && pos >= U_OCTET ? pos + 1 : pos;
}

/** Writes the IPv6 address embedding `ipv4` (u32) under prefix16/prefixLen at out[outOff]. */
export function embed(prefix16: Uint8Array, prefixLen: number, ipv4: number, out: Uint8Array, outOff: number): void {
  const n = prefixLen >>> 3;
  for (let i = 0; i < 16; i++) out[outOff + i] = i < n ? prefix16[i] : 0;
  out[outOff + v4Pos(prefixLen, 0)] = ipv4 >>> 24;
  out[outOff + v4Pos(prefixLen, 1)] = ipv4 >>> 16;
  out[outOff + v4Pos(prefixLen, 2)] = ipv4 >>> 8;
  out[outOff + v4Pos(prefixLen, 3)] = ipv4;
}

/** The IPv4 address (u32) embedded in the IPv6 address at buf[off] (RFC 6052 §2.3). */
export function extract(buf: Uint8Array, off: number, prefixLen: number): number {
  return ((buf[off + v4Pos(prefixLen, 0)] << 24) | (buf[off + v4Pos(prefixLen, 1)] << 16) |
    (buf[off + v4Pos(prefixLen, 2)] << 8) | buf[off + v4Pos(prefixLen, 3)]) >>> 0;
}

/** Does the IPv6 address at buf[off] start with the prefix? (All valid lengths are whole bytes.) */
export function inPrefix(buf: Uint8Array, off: number, prefix16: Uint8Array, prefixLen: number): boolean {
  const n = prefixLen >>> 3;
  // Four bytes per branch (every valid length is 4 or 8 bytes more than a multiple of 4): on every
  // full-path packet, twice; a byte per branch was ~8 % of a refusal's time (bench/PROFILE.md).
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    if (((buf[off + i] ^ prefix16[i]) | (buf[off + i + 1] ^ prefix16[i + 1]) | (buf[off + i + 2] ^ prefix16[i + 2])
      | (buf[off + i + 3] ^ prefix16[i + 3])) !== 0) return false;
  }
  for (; i < n; i++) if (buf[off + i] !== prefix16[i]) return false;
  return true;
}

export type Rfc6052ErrorCode = 'EPREFIX_SYNTAX' | 'EPREFIX_LENGTH' | 'EPREFIX_HOST_BITS' | 'EPREFIX_U_OCTET';

/** Control path error for an unusable pool6 prefix. */
export class Rfc6052Error extends Error {
  constructor(readonly code: Rfc6052ErrorCode, message: string) {
    super(message);
    this.name = 'Rfc6052Error';
  }
}

export interface Prefix6 { prefix: Uint8Array; len: number }

/** Parses "64:ff9b::/96" into 16 bytes and a length, checking RFC 6052 §2.2's constraints. */
export function parsePrefix6(text: string): Prefix6 {
  const slash = text.indexOf('/');
  if (slash < 0) throw new Rfc6052Error('EPREFIX_SYNTAX', `pool6 "${text}" needs a prefix length ("/96")`);
  const lenText = text.slice(slash + 1);
  const len = /^\d{1,3}$/.test(lenText) ? Number(lenText) : NaN;
  if (!VALID_PREFIX_LENGTHS.includes(len)) {
    throw new Rfc6052Error('EPREFIX_LENGTH',
      `pool6 prefix length must be one of ${VALID_PREFIX_LENGTHS.join(', ')} (RFC 6052 §2.2), got "${lenText}"`);
  }
  const prefix = parseIpv6Text(text.slice(0, slash));
  if (prefix === null) throw new Rfc6052Error('EPREFIX_SYNTAX', `pool6 "${text}" is not an IPv6 prefix`);
  // RFC 6052 §2.2: bits 64-71 "MUST be set to zero". Only a /96 covers them with its prefix.
  if (len === 96 && prefix[U_OCTET] !== 0) {
    throw new Rfc6052Error('EPREFIX_U_OCTET', `pool6 "${text}": bits 64-71 (the u octet) must be zero (RFC 6052 §2.2)`);
  }
  for (let i = len >>> 3; i < 16; i++) {
    if (prefix[i] !== 0) throw new Rfc6052Error('EPREFIX_HOST_BITS', `pool6 "${text}" has bits set after /${len}`);
  }
  return { prefix, len };
}

/**
 * RFC 6052 §3.1: the Well-Known Prefix "MUST NOT be used to represent non-global IPv4 addresses".
 * True when prefix is 64:ff9b::/96 and ipv4 is non-global: the opt-in check (pool6Strict).
 */
export function wkpForbids(prefix16: Uint8Array, prefixLen: number, ipv4: number): boolean {
  return prefixLen === 96 && inPrefix(prefix16, 0, WELL_KNOWN_PREFIX, 96) && isNonGlobal4(ipv4);
}

/** Non-global IPv4 ranges: RFC 1918, RFC 5735 §3 (documentation, loopback, ...), RFC 6598. */
export function isNonGlobal4(a: number): boolean {
  const b0 = a >>> 24;
  const b1 = (a >>> 16) & 0xff;
  const b2 = (a >>> 8) & 0xff;
  return b0 === 0 || b0 === 10 || b0 === 127 || b0 >= 224 ||
    (b0 === 100 && (b1 & 0xc0) === 64) ||          // 100.64.0.0/10
    (b0 === 169 && b1 === 254) ||                   // 169.254.0.0/16
    (b0 === 172 && (b1 & 0xf0) === 16) ||           // 172.16.0.0/12
    (b0 === 192 && b1 === 0 && (b2 === 0 || b2 === 2)) || // 192.0.0.0/24, 192.0.2.0/24
    (b0 === 192 && b1 === 88 && b2 === 99) ||       // 192.88.99.0/24
    (b0 === 192 && b1 === 168) ||                   // 192.168.0.0/16
    (b0 === 198 && (b1 & 0xfe) === 18) ||           // 198.18.0.0/15
    (b0 === 198 && b1 === 51 && b2 === 100) ||      // 198.51.100.0/24
    (b0 === 203 && b1 === 0 && b2 === 113);         // 203.0.113.0/24
}
