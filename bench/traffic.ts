/**
 * RFC 9693-style test traffic, built here (bench/ owns its packets; no test helper in the way):
 * N flows with unique 4-tuples. Flow k is IPv6 client `2001:db8:1::<host>` port `10000 + k % 256`
 * (host = k / 256 + 1) talking to one IPv4 server embedded in the well-known prefix. The clients sit
 * behind one router (2001:db8::2), so the translator needs one IPv6 neighbour, not N.
 *
 * Frame sizes follow RFC 9693 §4 / RFC 8219: an 84-byte IPv6 frame is a 64-byte IPv4 frame, both
 * counting the 4-byte FCS the wire adds (a pcap and an mbuf hold the frame without it).
 */
export const SERVER4 = '198.18.0.16';
export const SERVER4_NUM = 0xc6120010;
export const SERVER6 = `64:ff9b::${SERVER4}`;
export const SERVER_PORT = { UDP: 5353, TCP: 80 } as const;
export const CLIENT_PREFIX = '2001:db8:1::/64';
export const CLIENT_ROUTER = '2001:db8::2';
export const PORTS_PER_HOST = 256;
export const CLIENT_PORT_BASE = 10000;
export const FCS = 4;
const ETH = 14;
export const TCP_SYN = 0x02;
export const TCP_ACK = 0x10;
export const TCP_SYNACK = 0x12;

export type Proto = 'UDP' | 'TCP';

export function clientHost(k: number): number { return Math.floor(k / PORTS_PER_HOST) + 1; }
export function clientPort(k: number): number { return CLIENT_PORT_BASE + (k % PORTS_PER_HOST); }
/** The 16 bytes of flow k's IPv6 source. */
export function clientAddress6(k: number): Uint8Array {
  const a = Uint8Array.from([0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  new DataView(a.buffer).setUint32(12, clientHost(k));
  return a;
}

const SERVER6_BYTES = Uint8Array.from([0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0, 198, 18, 0, 16]);

function sum16(b: Uint8Array, off: number, len: number, acc = 0): number {
  for (let i = 0; i + 1 < len; i += 2) acc += (b[off + i] << 8) | b[off + i + 1];
  if (len & 1) acc += b[off + len - 1] << 8;
  return acc;
}
function finish(acc: number): number {
  while (acc > 0xffff) acc = (acc & 0xffff) + Math.floor(acc / 0x10000);
  return ~acc & 0xffff;
}
function l4Header(f: Uint8Array, l4: number, proto: Proto, sport: number, dport: number, len: number, flags: number): void {
  const v = new DataView(f.buffer, f.byteOffset);
  v.setUint16(l4, sport); v.setUint16(l4 + 2, dport);
  if (proto === 'UDP') v.setUint16(l4 + 4, len);
  else { v.setUint32(l4 + 4, 1); v.setUint8(l4 + 12, 0x50); v.setUint8(l4 + 13, flags); v.setUint16(l4 + 14, 65535); }
}

/** Where the generator varies a frame (offsets from the Ethernet header). */
export interface Template {
  frame: Uint8Array;
  addrOff: number; portOff: number; l4CsumOff: number; ipCsumOff: number; udp: boolean;
}

/**
 * IPv6 -> IPv4 frame of `frameBytes` on the wire (FCS included). With `k` the flow's fields are
 * filled (pcap files); without, they are zero (the generator's template) and the checksum is the
 * one of those zeros.
 */
export function frame6(frameBytes: number, proto: Proto, k?: number, flags = TCP_ACK): Template {
  const len = frameBytes - FCS, l4 = ETH + 40, l4len = len - l4;
  const f = new Uint8Array(len);
  const v = new DataView(f.buffer);
  f.fill(0xff, 0, 6); f.set([0x02, 0, 0, 0, 0, 0x99], 6); v.setUint16(12, 0x86dd);
  v.setUint32(ETH, 0x60000000); v.setUint16(ETH + 4, l4len); f[ETH + 6] = proto === 'UDP' ? 17 : 6; f[ETH + 7] = 64;
  if (k !== undefined) f.set(clientAddress6(k), ETH + 8);
  else f.set(clientAddress6(0).subarray(0, 12), ETH + 8);
  f.set(SERVER6_BYTES, ETH + 24);
  l4Header(f, l4, proto, k !== undefined ? clientPort(k) : 0, SERVER_PORT[proto], l4len, flags);
  const csumOff = l4 + (proto === 'UDP' ? 6 : 16);
  let acc = sum16(f, ETH + 8, 32) + l4len + f[ETH + 6];
  acc = sum16(f, l4, l4len, acc);
  let c = finish(acc);
  if (proto === 'UDP' && c === 0) c = 0xffff;
  v.setUint16(csumOff, c);
  return { frame: f, addrOff: ETH + 20, portOff: l4, l4CsumOff: csumOff, ipCsumOff: 0, udp: proto === 'UDP' };
}

/**
 * IPv4 -> IPv6 frame (the server's reply) of `frameBytes` on the wire to the pool4 transport
 * address (a4, p4), or with both zero (the generator's template).
 */
export function frame4(frameBytes: number, proto: Proto, a4 = 0, p4 = 0, flags = TCP_ACK): Template {
  const len = frameBytes - FCS, l4 = ETH + 20, l4len = len - l4;
  const f = new Uint8Array(len);
  const v = new DataView(f.buffer);
  f.fill(0xff, 0, 6); f.set([0x02, 0, 0, 0, 0, 0x10], 6); v.setUint16(12, 0x0800);
  f[ETH] = 0x45; v.setUint16(ETH + 2, len - ETH); v.setUint16(ETH + 6, 0x4000); f[ETH + 8] = 64;
  f[ETH + 9] = proto === 'UDP' ? 17 : 6;
  v.setUint32(ETH + 12, SERVER4_NUM); v.setUint32(ETH + 16, a4 >>> 0);
  v.setUint16(ETH + 10, finish(sum16(f, ETH, 20)));
  l4Header(f, l4, proto, SERVER_PORT[proto], p4, l4len, flags);
  const csumOff = l4 + (proto === 'UDP' ? 6 : 16);
  let acc = sum16(f, ETH + 12, 8) + l4len + f[ETH + 9];
  acc = sum16(f, l4, l4len, acc);
  let c = finish(acc);
  if (proto === 'UDP' && c === 0) c = 0xffff;
  v.setUint16(csumOff, c);
  return { frame: f, addrOff: ETH + 16, portOff: l4 + 2, l4CsumOff: csumOff, ipCsumOff: ETH + 10, udp: proto === 'UDP' };
}
