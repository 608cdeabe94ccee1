/**
 * Test frames for a tester (and the benchmark): Ethernet + IPv6 or IPv4 + UDP or TCP with valid
 * checksums, sized as RFC 9693 §4 / RFC 8219 count them (FCS included: an 84-byte IPv6 frame holds
 * 80 bytes in a pcap or an mbuf). Pure functions, no I/O.
 */
export type Proto = 'UDP' | 'TCP';
export const FCS = 4;
export const ETH = 14;
export const TCP_SYN = 0x02;
export const TCP_ACK = 0x10;
export const TCP_SYNACK = 0x12;

export interface Ends {
  dstMac: Uint8Array; srcMac: Uint8Array;
  sport: number; dport: number;
}
export interface Ends6 extends Ends { src: Uint8Array; dst: Uint8Array }
export interface Ends4 extends Ends { src: number; dst: number }

export function sum16(b: Uint8Array, off: number, len: number, acc = 0): number {
  for (let i = 0; i + 1 < len; i += 2) acc += (b[off + i] << 8) | b[off + i + 1];
  if (len & 1) acc += b[off + len - 1] << 8;
  return acc;
}

export function finish(acc: number): number {
  while (acc > 0xffff) acc = (acc & 0xffff) + Math.floor(acc / 0x10000);
  return ~acc & 0xffff;
}

/** "02:00:00:00:00:01" -> 6 bytes. */
export function macBytes(text: string): Uint8Array {
  return Uint8Array.from(text.split(':').map((h) => parseInt(h, 16)));
}

function l4(f: Uint8Array, off: number, proto: Proto, e: Ends, len: number, flags: number, pseudo: number): number {
  const v = new DataView(f.buffer, f.byteOffset);
  v.setUint16(off, e.sport); v.setUint16(off + 2, e.dport);
  if (proto === 'UDP') v.setUint16(off + 4, len);
  else { v.setUint32(off + 4, 1); v.setUint8(off + 12, 0x50); v.setUint8(off + 13, flags); v.setUint16(off + 14, 65535); }
  const csumOff = off + (proto === 'UDP' ? 6 : 16);
  let c = finish(sum16(f, off, len, pseudo));
  // RFC 768: a computed UDP checksum of zero is sent as all ones (zero means "none").
  if (proto === 'UDP' && c === 0) c = 0xffff;
  v.setUint16(csumOff, c);
  return csumOff;
}

/** An IPv6 frame of `frameBytes` on the wire; returns it and the offset of its L4 checksum. */
export function ipv6Frame(frameBytes: number, proto: Proto, e: Ends6, flags = TCP_ACK): { frame: Uint8Array; l4CsumOff: number } {
  const len = frameBytes - FCS, off = ETH + 40, l4len = len - off;
  const f = new Uint8Array(len);
  const v = new DataView(f.buffer);
  f.set(e.dstMac, 0); f.set(e.srcMac, 6); v.setUint16(12, 0x86dd);
  v.setUint32(ETH, 0x60000000); v.setUint16(ETH + 4, l4len); f[ETH + 6] = proto === 'UDP' ? 17 : 6; f[ETH + 7] = 64;
  f.set(e.src, ETH + 8); f.set(e.dst, ETH + 24);
  const pseudo = sum16(f, ETH + 8, 32) + l4len + f[ETH + 6];
  return { frame: f, l4CsumOff: l4(f, off, proto, e, l4len, flags, pseudo) };
}

/** An IPv4 frame (DF set, TTL 64) of `frameBytes` on the wire. */
export function ipv4Frame(frameBytes: number, proto: Proto, e: Ends4, flags = TCP_ACK): { frame: Uint8Array; l4CsumOff: number } {
  const len = frameBytes - FCS, off = ETH + 20, l4len = len - off;
  const f = new Uint8Array(len);
  const v = new DataView(f.buffer);
  f.set(e.dstMac, 0); f.set(e.srcMac, 6); v.setUint16(12, 0x0800);
  f[ETH] = 0x45; v.setUint16(ETH + 2, len - ETH); v.setUint16(ETH + 6, 0x4000); f[ETH + 8] = 64;
  f[ETH + 9] = proto === 'UDP' ? 17 : 6;
  v.setUint32(ETH + 12, e.src >>> 0); v.setUint32(ETH + 16, e.dst >>> 0);
  v.setUint16(ETH + 10, finish(sum16(f, ETH, 20)));
  const pseudo = sum16(f, ETH + 12, 8) + l4len + f[ETH + 9];
  return { frame: f, l4CsumOff: l4(f, off, proto, e, l4len, flags, pseudo) };
}
