/**
 * Packet builders for the RFC vectors, written from the RFC header diagrams and independent of
 * src/: checksums here are a plain full one's-complement sum, never the translator's incremental
 * update. Other engineers' tests may use them too.
 */

export const PROTO = { ICMP: 1, TCP: 6, UDP: 17, ICMPV6: 58, HOPOPTS: 0, ROUTING: 43, FRAGMENT: 44, DSTOPTS: 60 } as const;

/** RFC 1071: the one's-complement of the one's-complement sum of 16-bit words. */
export function inetChecksum(...parts: Uint8Array[]): number {
  let sum = 0;
  for (const b of parts) {
    for (let i = 0; i < b.length; i += 2) sum += (b[i] << 8) + (i + 1 < b.length ? b[i + 1] : 0);
  }
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 65536);
  return ~sum & 0xffff;
}

export function a6(text: string): Uint8Array {
  // Small independent parser: full or "::"-compressed hex groups only.
  const [h, t] = text.includes('::') ? text.split('::') : [text, undefined];
  const head = h ? h.split(':') : [];
  const tail = t ? t.split(':') : [];
  const groups = t === undefined ? head : [...head, ...Array(8 - head.length - tail.length).fill('0'), ...tail];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => { const v = parseInt(g, 16); out[2 * i] = v >> 8; out[2 * i + 1] = v & 0xff; });
  return out;
}

export function a4(text: string): number {
  return text.split('.').reduce((acc, b) => acc * 256 + Number(b), 0);
}

function u16(v: number): number[] { return [(v >> 8) & 0xff, v & 0xff]; }
function u32(v: number): number[] { return [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff]; }
function a4bytes(v: number): Uint8Array { return Uint8Array.from(u32(v)); }

export function udp(srcPort: number, dstPort: number, data: number[] = [1, 2, 3, 4]): Uint8Array {
  return Uint8Array.from([...u16(srcPort), ...u16(dstPort), ...u16(8 + data.length), 0, 0, ...data]);
}

export function tcp(srcPort: number, dstPort: number, data: number[] = [], flags = 0x02): Uint8Array {
  return Uint8Array.from([...u16(srcPort), ...u16(dstPort), ...u32(0x01020304), ...u32(0), 0x50, flags,
    ...u16(65535), 0, 0, 0, 0, ...data]);
}

/** ICMP / ICMPv6 message: type, code, checksum 0 (filled by the IP builder), second word, body. */
export function icmp(type: number, code: number, word: number, body: number[] | Uint8Array = []): Uint8Array {
  return Uint8Array.from([type, code, 0, 0, ...u32(word), ...body]);
}

export function echo(type: number, id: number, seq: number, data: number[] = [0xde, 0xad, 0xbe, 0xef]): Uint8Array {
  return icmp(type, 0, ((id << 16) | seq) >>> 0, data);
}

function csumOffset(proto: number): number {
  return proto === PROTO.TCP ? 16 : proto === PROTO.UDP ? 6 : 2;
}

export interface V6Opts {
  src: string | Uint8Array; dst: string | Uint8Array; nh: number; l4: Uint8Array;
  tc?: number; flow?: number; hop?: number;
  /** Extension headers in order: [type, body] where body excludes next-header/length bytes. */
  ext?: Array<[number, number[]]>;
  /** 'fill' (default): compute the transport checksum; 'keep': leave the bytes of l4 as given. */
  l4sum?: 'fill' | 'keep';
  /** Override the Payload Length field (for quoted packets that are truncated later). */
  payloadLen?: number;
}

export function ipv6(o: V6Opts): Uint8Array {
  const src = typeof o.src === 'string' ? a6(o.src) : o.src;
  const dst = typeof o.dst === 'string' ? a6(o.dst) : o.dst;
  const l4 = Uint8Array.from(o.l4);
  if ((o.l4sum ?? 'fill') === 'fill' && (o.nh === PROTO.TCP || o.nh === PROTO.UDP || o.nh === PROTO.ICMPV6)) {
    const co = csumOffset(o.nh);
    l4[co] = 0; l4[co + 1] = 0;
    const pseudo = Uint8Array.from([...src, ...dst, ...u32(l4.length), 0, 0, 0, o.nh]);
    let c = inetChecksum(pseudo, l4);
    if (o.nh === PROTO.UDP && c === 0) c = 0xffff;
    l4[co] = c >> 8; l4[co + 1] = c & 0xff;
  }
  const ext: number[] = [];
  const exts = o.ext ?? [];
  for (let i = 0; i < exts.length; i++) {
    const next = i + 1 < exts.length ? exts[i + 1][0] : o.nh;
    const [type, body] = exts[i];
    if (type === PROTO.FRAGMENT) ext.push(next, 0, ...body);
    else ext.push(next, (body.length + 2) / 8 - 1, ...body);
  }
  const first = exts.length ? exts[0][0] : o.nh;
  const tc = o.tc ?? 0;
  const flow = o.flow ?? 0;
  const plen = o.payloadLen ?? ext.length + l4.length;
  return Uint8Array.from([0x60 | (tc >> 4), ((tc & 15) << 4) | (flow >> 16), ...u16(flow & 0xffff), ...u16(plen),
    first, o.hop ?? 64, ...src, ...dst, ...ext, ...l4]);
}

export interface V4Opts {
  src: string | number; dst: string | number; proto: number; l4: Uint8Array;
  tos?: number; ttl?: number; id?: number; df?: boolean; mf?: boolean; fragOffset?: number;
  options?: number[]; l4sum?: 'fill' | 'keep'; totalLen?: number;
}

export function ipv4(o: V4Opts): Uint8Array {
  const src = typeof o.src === 'string' ? a4(o.src) : o.src;
  const dst = typeof o.dst === 'string' ? a4(o.dst) : o.dst;
  const l4 = Uint8Array.from(o.l4);
  if ((o.l4sum ?? 'fill') === 'fill') {
    const co = csumOffset(o.proto);
    l4[co] = 0; l4[co + 1] = 0;
    let c: number;
    if (o.proto === PROTO.ICMP) c = inetChecksum(l4);
    else c = inetChecksum(Uint8Array.from([...u32(src), ...u32(dst), 0, o.proto, ...u16(l4.length)]), l4);
    if (o.proto === PROTO.UDP && c === 0) c = 0xffff;
    l4[co] = c >> 8; l4[co + 1] = c & 0xff;
  }
  const opts = o.options ?? [];
  const ihl = 5 + opts.length / 4;
  const frag = (o.df ? 0x4000 : 0) | (o.mf ? 0x2000 : 0) | (o.fragOffset ?? 0);
  const hdr = Uint8Array.from([0x40 | ihl, o.tos ?? 0, ...u16(o.totalLen ?? ihl * 4 + l4.length), ...u16(o.id ?? 0),
    ...u16(frag), o.ttl ?? 64, o.proto, 0, 0, ...u32(src), ...u32(dst), ...opts]);
  const c = inetChecksum(hdr);
  hdr[10] = c >> 8; hdr[11] = c & 0xff;
  return Uint8Array.from([...hdr, ...l4]);
}

export { a4bytes };

/**
 * RFC 4884 §7/§8: an ICMP Extension Structure, version 2 header (checksum over the whole
 * structure) followed by objects [Class-Num, C-Type, payload] with their 16-bit Length.
 */
export function icmpExtension(objects: Array<[number, number, number[]]>): Uint8Array {
  const body: number[] = [];
  for (const [classNum, cType, payload] of objects) body.push(...u16(4 + payload.length), classNum, cType, ...payload);
  const s = Uint8Array.from([0x20, 0, 0, 0, ...body]);
  const c = inetChecksum(s);
  s[2] = c >> 8; s[3] = c & 0xff;
  return s;
}

/** The bytes followed by zeros up to `len` (RFC 4884 "original datagram" padding). */
export function zeroPad(b: Uint8Array, len: number): Uint8Array {
  const out = new Uint8Array(Math.max(len, b.length));
  out.set(b);
  return out;
}
