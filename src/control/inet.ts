/**
 * Text <-> binary forms of the addresses the control plane handles. The data plane only ever sees
 * the binary forms (u32 for IPv4, 16 bytes for IPv6), so every parse here is strict and every
 * failure is a Nat64Error naming the field it came from.
 */
import { parsePrefix6 as rfc6052ParsePrefix6, Rfc6052Error } from '../dataplane/rfc6052';
import { Nat64Error, q } from './errors';

export interface Prefix4 { addr: number; len: number }
export interface Prefix6 { addr: Uint8Array; len: number }
export interface Transport4 { addr: number; port: number }
export interface Transport6 { addr: Uint8Array; port: number }

const DEC_OCTET = /^(0|[1-9][0-9]{0,2})$/;

export function tryParseIPv4(text: string): number | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let v = 0;
  for (const p of parts) {
    // Leading zeros are refused: "010" means 8 to inet_aton and 10 to humans.
    if (!DEC_OCTET.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    v = v * 256 + n;
  }
  return v >>> 0;
}

export function parseIPv4(text: string, field = 'address'): number {
  const v = typeof text === 'string' ? tryParseIPv4(text) : null;
  if (v === null) throw new Nat64Error('E_BAD_ADDRESS', `${field}: ${q(text)} is not an IPv4 address`);
  return v;
}

export function formatIPv4(v: number): string {
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

export function tryParseIPv6(text: string): Uint8Array | null {
  if (text.length === 0 || text.length > 45 || !/^[0-9a-fA-F:.]+$/.test(text)) return null;
  const out = new Uint8Array(16);
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const groups = (s: string): number[] | null => {
    if (s === '') return [];
    const words: number[] = [];
    const parts = s.split(':');
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i];
      if (i === parts.length - 1 && p.includes('.')) {
        const v4 = tryParseIPv4(p);
        if (v4 === null) return null;
        words.push(v4 >>> 16, v4 & 0xffff);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(p)) {
        words.push(parseInt(p, 16));
      } else {
        return null;
      }
    }
    return words;
  };
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  if (!head || !tail) return null;
  if (halves.length === 1 ? head.length !== 8 : head.length + tail.length > 7) return null;
  const words = [...head, ...new Array(8 - head.length - tail.length).fill(0), ...tail];
  words.forEach((w, i) => { out[2 * i] = w >> 8; out[2 * i + 1] = w & 255; });
  return out;
}

export function parseIPv6(text: string, field = 'address'): Uint8Array {
  const v = typeof text === 'string' ? tryParseIPv6(text) : null;
  if (!v) throw new Nat64Error('E_BAD_ADDRESS', `${field}: ${q(text)} is not an IPv6 address`);
  return v;
}

/** RFC 5952 §4 canonical text: lower case, no leading zeros, longest zero run (first on ties) as "::". */
export function formatIPv6(b: Uint8Array): string {
  const w: number[] = [];
  for (let i = 0; i < 8; i++) w.push((b[2 * i] << 8) | b[2 * i + 1]);
  // RFC 5952 §5: IPv4-mapped addresses keep their dotted-quad tail.
  if (w.slice(0, 5).every((x) => x === 0) && w[5] === 0xffff) {
    return `::ffff:${formatIPv4(((w[6] << 16) | w[7]) >>> 0)}`;
  }
  let bestAt = -1, bestLen = 1; // §4.2.2: a single zero group is never compressed
  for (let i = 0; i < 8;) {
    if (w[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) { bestAt = i; bestLen = j - i; }
    i = j;
  }
  const hex = (xs: number[]) => xs.map((x) => x.toString(16)).join(':');
  if (bestAt < 0) return hex(w);
  return `${hex(w.slice(0, bestAt))}::${hex(w.slice(bestAt + bestLen))}`;
}

function splitLen(text: string, max: number, defaultLen: number | null, field: string, kind: string): [string, number] {
  const bad = () => new Nat64Error('E_BAD_PREFIX', `${field}: ${q(text)} is not an ${kind} prefix`);
  if (typeof text !== 'string') throw bad();
  const slash = text.indexOf('/');
  if (slash < 0) {
    if (defaultLen === null) throw bad();
    return [text, defaultLen];
  }
  const lenText = text.slice(slash + 1);
  if (!/^(0|[1-9][0-9]{0,2})$/.test(lenText) || Number(lenText) > max) throw bad();
  return [text.slice(0, slash), Number(lenText)];
}

function mask4(len: number): number {
  return len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
}

/**
 * "192.0.2.0/24" (the length defaults to 32, as in Jool's pool4). With `allowHostBits`, the text is
 * an interface address ("203.0.113.1/24") and keeps its host part; otherwise host bits are refused
 * because "192.0.2.1/24" is almost always a typo for one of two different things.
 */
export function parsePrefix4(text: string, field = 'prefix', opts: { defaultLen?: number | null; allowHostBits?: boolean } = {}): Prefix4 {
  const [a, len] = splitLen(text, 32, opts.defaultLen === undefined ? 32 : opts.defaultLen, field, 'IPv4');
  const addr = tryParseIPv4(a);
  if (addr === null) throw new Nat64Error('E_BAD_PREFIX', `${field}: ${q(text)} is not an IPv4 prefix`);
  if (!opts.allowHostBits && (addr & ~mask4(len)) !== 0) {
    throw new Nat64Error('E_BAD_PREFIX', `${field}: ${q(text)} has bits set after its /${len} length`);
  }
  return { addr, len };
}

export function parsePrefix6(text: string, field = 'prefix', opts: { defaultLen?: number | null; allowHostBits?: boolean } = {}): Prefix6 {
  const [a, len] = splitLen(text, 128, opts.defaultLen === undefined ? 128 : opts.defaultLen, field, 'IPv6');
  const addr = tryParseIPv6(a);
  if (!addr) throw new Nat64Error('E_BAD_PREFIX', `${field}: ${q(text)} is not an IPv6 prefix`);
  if (!opts.allowHostBits && !hostBitsZero6(addr, len)) {
    throw new Nat64Error('E_BAD_PREFIX', `${field}: ${q(text)} has bits set after its /${len} length`);
  }
  return { addr, len };
}

function hostBitsZero6(addr: Uint8Array, len: number): boolean {
  for (let bit = len; bit < 128; bit++) {
    if (addr[bit >> 3] & (0x80 >> (bit & 7))) return false;
  }
  return true;
}

/** Interface address of either family, "2001:db8::1/96" or "203.0.113.1/24" (host bits expected). */
export function parseInterfaceAddress(text: string, field: string): { family: 4 | 6; text: string } {
  if (typeof text === 'string' && text.includes('/')) {
    const ip = text.slice(0, text.indexOf('/'));
    const opts = { defaultLen: null, allowHostBits: true };
    try {
      if (tryParseIPv4(ip) !== null) { parsePrefix4(text, field, opts); return { family: 4, text }; }
      if (tryParseIPv6(ip)) { parsePrefix6(text, field, opts); return { family: 6, text }; }
    } catch { /* same message as any other malformed address below */ }
  }
  throw new Nat64Error('E_BAD_PREFIX', `${field}: ${q(text)} is not an IPv4/IPv6 prefix`);
}

/**
 * pool6: the RFC 6052 rules (lengths 32/40/48/56/64/96, zero u octet, no host bits) are the
 * translator's own (dataplane/rfc6052.ts), so the control plane asks it instead of restating them,
 * and only turns its verdict into a message that names the field.
 */
export function parsePool6(text: string, field = 'pool6'): Prefix6 {
  try {
    const p = rfc6052ParsePrefix6(typeof text === 'string' ? text : String(text));
    return { addr: p.prefix, len: p.len };
  } catch (e) {
    if (!(e instanceof Rfc6052Error)) throw e;
    const why: Record<string, string> = {
      EPREFIX_SYNTAX: 'is not an IPv6 prefix (such as 64:ff9b::/96)',
      EPREFIX_LENGTH: 'has a length RFC 6052 does not allow (/32, /40, /48, /56, /64 or /96)',
      EPREFIX_HOST_BITS: 'has bits set after its length',
      EPREFIX_U_OCTET: 'sets bits 64-71, the u octet RFC 6052 reserves (it must be zero)',
    };
    throw new Nat64Error('E_BAD_PREFIX', `${field}: ${q(text)} ${why[e.code] ?? e.message}`);
  }
}

export function formatPrefix4(p: Prefix4): string { return `${formatIPv4(p.addr)}/${p.len}`; }
export function formatPrefix6(p: Prefix6): string { return `${formatIPv6(p.addr)}/${p.len}`; }

export function prefix4Contains(p: Prefix4, addr: number): boolean {
  const m = mask4(p.len);
  return ((addr & m) >>> 0) === ((p.addr & m) >>> 0);
}

/** Every address of an IPv4 prefix, in order (callers bound the size first). */
export function prefix4Addresses(p: Prefix4): number[] {
  const count = 2 ** (32 - p.len);
  const out: number[] = new Array(count);
  for (let i = 0; i < count; i++) out[i] = (p.addr + i) >>> 0;
  return out;
}

export function parsePort(text: string | number, field = 'port'): number {
  const s = String(text);
  if (!/^(0|[1-9][0-9]{0,4})$/.test(s) || Number(s) > 65535) {
    throw new Nat64Error('E_BAD_PORT', `${field}: ${q(text)} is not a port number (0-65535)`);
  }
  return Number(s);
}

/** Jool's "<min>-<max>" or a single port. */
export function parsePortRange(text: string, field = 'port range'): { min: number; max: number } {
  const bad = () => new Nat64Error('E_BAD_PORT_RANGE', `${field}: ${q(text)} is not a port range (such as 61001-65535)`);
  if (typeof text !== 'string') throw bad();
  const m = /^\s*([0-9]+)\s*(?:-\s*([0-9]+)\s*)?$/.exec(text);
  if (!m) throw bad();
  const min = Number(m[1]);
  const max = m[2] === undefined ? min : Number(m[2]);
  if (min > 65535 || max > 65535) throw bad();
  if (min > max) throw new Nat64Error('E_BAD_PORT_RANGE', `${field}: ${q(text)} starts after it ends`);
  return { min, max };
}

/** "192.0.2.1#80" (Jool's transport address notation). */
export function parseTransport4(text: string, field: string): Transport4 {
  const i = typeof text === 'string' ? text.lastIndexOf('#') : -1;
  if (i < 0) throw new Nat64Error('E_BAD_ADDRESS', `${field}: ${q(text)} is not an IPv4 transport address (such as 192.0.2.1#80)`);
  return { addr: parseIPv4(text.slice(0, i), field), port: parsePort(text.slice(i + 1), field) };
}

/** "2001:db8::8#80". */
export function parseTransport6(text: string, field: string): Transport6 {
  const i = typeof text === 'string' ? text.lastIndexOf('#') : -1;
  if (i < 0) throw new Nat64Error('E_BAD_ADDRESS', `${field}: ${q(text)} is not an IPv6 transport address (such as 2001:db8::8#80)`);
  return { addr: parseIPv6(text.slice(0, i), field), port: parsePort(text.slice(i + 1), field) };
}

export function formatTransport4(addr: number, port: number): string { return `${formatIPv4(addr)}#${port}`; }
export function formatTransport6(addr: Uint8Array, port: number): string { return `${formatIPv6(addr)}#${port}`; }

/** "02:00:00:00:00:10", normalised to lower case. Multicast MACs cannot be a neighbour. */
export function parseMac(text: string, field = 'mac'): string {
  if (typeof text !== 'string' || !/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(text)) {
    throw new Nat64Error('E_BAD_MAC', `${field}: ${q(text)} is not a MAC address (such as 02:00:00:00:00:10)`);
  }
  if (parseInt(text.slice(0, 2), 16) & 1) {
    throw new Nat64Error('E_BAD_MAC', `${field}: ${q(text)} is a multicast/broadcast MAC address`);
  }
  return text.toLowerCase();
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
