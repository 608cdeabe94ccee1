/**
 * RFC 9693-style test traffic for the benchmark (frames built by src/tester/frames.ts, shared with
 * `nat64 tester`):
 * N flows with unique 4-tuples. Flow k is IPv6 client `2001:db8:1::<host>` port `10000 + k % 256`
 * (host = k / 256 + 1) talking to one IPv4 server embedded in the well-known prefix. The clients sit
 * behind one router (2001:db8::2), so the translator needs one IPv6 neighbour, not N.
 *
 * Frame sizes follow RFC 9693 §4 / RFC 8219: an 84-byte IPv6 frame is a 64-byte IPv4 frame, both
 * counting the 4-byte FCS the wire adds (a pcap and an mbuf hold the frame without it).
 */
import { ETH, ipv4Frame, ipv6Frame, TCP_ACK, type Proto } from '../src/tester/frames';

export const SERVER4 = '198.18.0.16';
export const SERVER4_NUM = 0xc6120010;
export const SERVER6 = `64:ff9b::${SERVER4}`;
/**
 * A second IPv4 server (refusal rows): flows whose IPv6 node only ever talked to it have a BIB
 * entry but no session with SERVER4, which address-dependent filtering, drop-externally-initiated-tcp
 * and the TCP state machine (no SYN) then refuse.
 */
export const SERVER4B = '198.18.0.17';
export const SERVER4B_NUM = 0xc6120011;
export const SERVER_PORT = { UDP: 5353, TCP: 80 } as const;
export const CLIENT_PREFIX = '2001:db8:1::/64';
export const CLIENT_ROUTER = '2001:db8::2';
export const PORTS_PER_HOST = 256;
export const CLIENT_PORT_BASE = 10000;
export { FCS, TCP_ACK, TCP_SYN, TCP_SYNACK, type Proto } from '../src/tester/frames';

/**
 * Flow k's host and port with `pph` ports per host (default 256, from port 10000). With more than
 * 55 536 ports per host (the one-host layout of RFC 9693 testers) the ports start at 1024 and wrap
 * past 65535 to 0: 64 512 flows fill a pool4 range of 1024-65535 by port preservation, and the
 * flows beyond it have well-known source ports.
 */
export function clientHost(k: number, pph = PORTS_PER_HOST): number { return Math.floor(k / pph) + 1; }
export function clientPort(k: number, pph = PORTS_PER_HOST): number { return (portBase(pph) + (k % pph)) & 0xffff; }
function portBase(pph: number): number { return pph > 0x10000 - CLIENT_PORT_BASE ? 1024 : CLIENT_PORT_BASE; }
/** Flow index of (host, port) with `pph` ports per host (inverse of clientHost/clientPort), -1 if none. */
export function flowOf(host: number, port: number, pph = PORTS_PER_HOST): number {
  const i = (port - portBase(pph)) & 0xffff;
  return i < pph ? (host - 1) * pph + i : -1;
}
/** The 16 bytes of flow k's IPv6 source. */
export function clientAddress6(k: number, pph = PORTS_PER_HOST): Uint8Array {
  const a = Uint8Array.from([0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  new DataView(a.buffer).setUint32(12, clientHost(k, pph));
  return a;
}

const SERVER6_BYTES = Uint8Array.from([0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0, 198, 18, 0, 16]);
/** IPv6 destinations of frame6: the server (default), the second server, and one outside pool6 (pool6-mismatch). */
export const DST6 = {
  server: SERVER6_BYTES,
  serverB: Uint8Array.from([0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0, 198, 18, 0, 17]),
  notPool6: Uint8Array.from([0x20, 0x01, 0x0d, 0xb8, 0, 0xff, 0, 0, 0, 0, 0, 0, 198, 18, 0, 16]),
} as const;
const BROADCAST = new Uint8Array(6).fill(0xff);
const ROUTER_MAC = Uint8Array.of(0x02, 0, 0, 0, 0, 0x99);
const SERVER_MAC = Uint8Array.of(0x02, 0, 0, 0, 0, 0x10);

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
export function frame6(frameBytes: number, proto: Proto, k?: number, flags = TCP_ACK, pph = PORTS_PER_HOST,
  dst: Uint8Array = SERVER6_BYTES): Template {
  const src = k !== undefined ? clientAddress6(k, pph) : Uint8Array.from([...clientAddress6(0).subarray(0, 12), 0, 0, 0, 0]);
  const { frame, l4CsumOff } = ipv6Frame(frameBytes, proto, {
    dstMac: BROADCAST, srcMac: ROUTER_MAC, src, dst, sport: k !== undefined ? clientPort(k, pph) : 0, dport: SERVER_PORT[proto],
  }, flags);
  return { frame, addrOff: ETH + 20, portOff: ETH + 40, l4CsumOff, ipCsumOff: 0, udp: proto === 'UDP' };
}

/**
 * IPv4 -> IPv6 frame (the server's reply) of `frameBytes` on the wire to the pool4 transport
 * address (a4, p4), or with both zero (the generator's template).
 */
export function frame4(frameBytes: number, proto: Proto, a4 = 0, p4 = 0, flags = TCP_ACK): Template {
  const { frame, l4CsumOff } = ipv4Frame(frameBytes, proto, {
    dstMac: BROADCAST, srcMac: SERVER_MAC, src: SERVER4_NUM, dst: a4, sport: SERVER_PORT[proto], dport: p4,
  }, flags);
  return { frame, addrOff: ETH + 16, portOff: ETH + 22, l4CsumOff, ipCsumOff: ETH + 10, udp: proto === 'UDP' };
}
