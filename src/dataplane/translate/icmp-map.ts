/**
 * ICMP error type/code mapping tables of RFC 7915 §4.2 (ICMPv4 -> ICMPv6) and §5.2 (ICMPv6 ->
 * ICMPv4). Each function fills `m` and returns false for "silently drop".
 */
import type { CoreGlobals } from '../core-config';
import { mtu4to6, mtu6to4 } from './mtu';
import type { Self } from './tuple';

/** The translated ICMP header: type, code and the 32-bit word after the checksum. */
export class IcmpMapping {
  type = 0;
  code = 0;
  word = 0;
}

/**
 * RFC 7915 §4.2 Figure 3: Parameter Problem pointer, IPv4 header byte -> IPv6 header byte.
 * -1: the field has no IPv6 counterpart (Identification, Flags/Offset, Checksum, options).
 */
export function pointer4to6(p: number): number {
  if (p === 0 || p === 1) return p;
  if (p === 2 || p === 3) return 4;   // Total Length -> Payload Length
  if (p === 8) return 7;              // TTL -> Hop Limit
  if (p === 9) return 6;              // Protocol -> Next Header
  if (p >= 12 && p <= 15) return 8;   // Source Address
  if (p >= 16 && p <= 19) return 24;  // Destination Address
  return -1;
}

/** RFC 7915 §5.2 Figure 6: Parameter Problem pointer, IPv6 header byte -> IPv4 header byte. */
export function pointer6to4(p: number): number {
  if (p === 0 || p === 1) return p;
  if (p === 4 || p === 5) return 2;   // Payload Length -> Total Length
  if (p === 6) return 9;              // Next Header -> Protocol
  if (p === 7) return 8;              // Hop Limit -> TTL
  if (p >= 8 && p <= 23) return 12;   // Source Address
  if (p >= 24 && p <= 39) return 16;  // Destination Address
  return -1;                          // Flow Label, extension headers
}

/**
 * RFC 7915 §4.2, ICMPv4 error -> ICMPv6 error. `word` is the ICMPv4 header's second 32-bit word,
 * `quotedTotalLen` the Total Length of the quoted packet (for the RFC 1191 plateaus).
 */
export function map4to6(type: number, code: number, word: number, quotedTotalLen: number,
  g: CoreGlobals, self: Self, m: IcmpMapping): boolean {
  m.word = 0;
  if (type === 3) { // Destination Unreachable
    m.type = 1;
    switch (code) {
      case 0: case 1: case 5: case 6: case 7: case 8: case 11: case 12:
        m.code = 0; return true;      // No route to destination
      case 9: case 10: case 13: case 15:
        m.code = 1; return true;      // Communication administratively prohibited
      case 3:
        m.code = 4; return true;      // Port unreachable
      case 2:                          // Protocol unreachable -> Parameter Problem, pointer to Next Header
        m.type = 4; m.code = 1; m.word = 6; return true;
      case 4:                          // Fragmentation Needed -> Packet Too Big
        m.type = 2; m.code = 0;
        m.word = mtu4to6(word & 0xffff, quotedTotalLen, g.mtuPlateaus, self.mtu6, self.mtu4);
        return true;
      default:
        return false;                  // 14 (Host Precedence Violation) and unknown codes
    }
  }
  if (type === 11) { // Time Exceeded: code unchanged
    m.type = 3; m.code = code; return true;
  }
  if (type === 12 && (code === 0 || code === 2)) { // Parameter Problem
    const ptr = pointer4to6(word >>> 24);
    if (ptr < 0) return false;
    m.type = 4; m.code = 0; m.word = ptr; return true;
  }
  return false; // Source Quench, Redirect, Parameter Problem code 1, unknown types
}

/** RFC 7915 §5.2, ICMPv6 error -> ICMPv4 error. `word` is the ICMPv6 header's second word. */
export function map6to4(type: number, code: number, word: number, self: Self, m: IcmpMapping): boolean {
  m.word = 0;
  if (type === 1) { // Destination Unreachable
    m.type = 3;
    switch (code) {
      case 0: case 2: case 3: m.code = 1; return true;  // -> Host unreachable
      case 1: m.code = 10; return true;                 // -> Communication with host administratively prohibited
      case 4: m.code = 3; return true;                  // -> Port unreachable
      default: return false;
    }
  }
  if (type === 2) { // Packet Too Big -> Fragmentation Needed (RFC 1191 next-hop MTU in the low 16 bits)
    m.type = 3; m.code = 4; m.word = mtu6to4(word, self.mtu6, self.mtu4); return true;
  }
  if (type === 3) { // Time Exceeded: code unchanged
    m.type = 11; m.code = code; return true;
  }
  if (type === 4) { // Parameter Problem
    if (code === 1) { m.type = 3; m.code = 2; return true; } // Unrecognized Next Header -> Protocol unreachable
    if (code !== 0) return false;                              // code 2 (unrecognized option) and others
    const ptr = pointer6to4(word);
    if (ptr < 0) return false;
    m.type = 12; m.code = 0; m.word = (ptr << 24) >>> 0; return true;
  }
  return false;
}
