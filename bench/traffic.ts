import { ipv4, ipv6, PROTO, tcp, udp } from '../test/rfc/vectors/build';

/**
 * RFC 9693-style test traffic: `sessions` unique 4-tuples (source address and port vary; the
 * destination is one IPv4 server embedded in the well-known prefix). Frame sizes follow RFC 9693
 * §4 / RFC 8219: an 84-byte IPv6 frame becomes a 64-byte IPv4 frame (both with the 4-byte FCS the
 * wire adds, which a pcap does not store).
 */
export const SERVER4 = '198.18.0.16';
export const SERVER6 = `64:ff9b::${SERVER4}`;
export const BROADCAST = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
const FCS = 4;

export function clientAddress(k: number): string {
  const host = Math.floor(k / 50000) + 2;
  return `2001:db8::${(host >>> 16).toString(16)}:${(host & 0xffff).toString(16)}`;
}
export function clientPort(k: number): number { return 10000 + (k % 50000); }

function ether(type: number, l3: Uint8Array): Uint8Array {
  return Uint8Array.from([...BROADCAST, 0x02, 0, 0, 0, 0, 0x99, type >> 8, type & 0xff, ...l3]);
}

/** One IPv6 -> IPv4 frame of flow k, `frameBytes` long on the wire (FCS included). */
export function frame6(k: number, frameBytes: number, proto: 'UDP' | 'TCP'): Uint8Array {
  const l4Header = proto === 'UDP' ? 8 : 20;
  const data = new Array(Math.max(0, frameBytes - FCS - 14 - 40 - l4Header)).fill(0x61);
  const l4 = proto === 'UDP' ? udp(clientPort(k), 5353, data) : tcp(clientPort(k), 80, data, 0x10);
  return ether(0x86dd, ipv6({ src: clientAddress(k), dst: SERVER6, nh: proto === 'UDP' ? PROTO.UDP : PROTO.TCP, l4 }));
}

/** The IPv4 -> IPv6 reply (an IPv4 frame `frameBytes` long) to pool4 transport address (a4, p4). */
export function frame4(a4: string, p4: number, frameBytes: number, proto: 'UDP' | 'TCP'): Uint8Array {
  const l4Header = proto === 'UDP' ? 8 : 20;
  const data = new Array(Math.max(0, frameBytes - FCS - 14 - 20 - l4Header)).fill(0x62);
  const l4 = proto === 'UDP' ? udp(5353, p4, data) : tcp(80, p4, data, 0x10);
  return ether(0x0800, ipv4({ src: SERVER4, dst: a4, proto: proto === 'UDP' ? PROTO.UDP : PROTO.TCP, l4 }));
}
