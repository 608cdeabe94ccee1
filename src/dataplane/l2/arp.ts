import { get32, put32 } from '../packet/bytes';
import { ETH_HLEN, ETHERTYPE_ARP, writeEthernet } from './ethernet';

/**
 * ARP (RFC 826) for the translator's IPv4 side: answer requests for our interface and pool4
 * addresses (the kernel never sees these frames: DPDK owns the port), learn senders, and build our
 * own requests to resolve next hops. Replies are written in place into the request's buffer.
 */
export const ARP_LEN = 28;
const OPER_REQUEST = 1;
const OPER_REPLY = 2;

export function arpOper(buf: Uint8Array, arp: number): number { return (buf[arp + 6] << 8) | buf[arp + 7]; }
export function arpSenderIp(buf: Uint8Array, arp: number): number { return get32(buf, arp + 14); }
export function arpTargetIp(buf: Uint8Array, arp: number): number { return get32(buf, arp + 24); }
/** Offset of the sender hardware address (sha). */
export const ARP_SHA = 8;


/** Ethernet/IPv4 ARP with a full body? (htype 1, ptype 0x0800, hlen 6, plen 4). */
export function isValidArp(buf: Uint8Array, arp: number, len: number): boolean {
  return len >= ARP_LEN && buf[arp] === 0 && buf[arp + 1] === 1 && buf[arp + 2] === 0x08 &&
    buf[arp + 3] === 0 && buf[arp + 4] === 6 && buf[arp + 5] === 4;
}

export function isArpRequest(buf: Uint8Array, arp: number): boolean { return arpOper(buf, arp) === OPER_REQUEST; }
export function isArpReply(buf: Uint8Array, arp: number): boolean { return arpOper(buf, arp) === OPER_REPLY; }

/** Turns the request at `frame` into our reply, in place. Returns the reply's frame length. */
export function answerArpRequest(buf: Uint8Array, frame: number, ourMac: Uint8Array): number {
  const arp = frame + ETH_HLEN;
  const asked = arpTargetIp(buf, arp);
  const requester = arpSenderIp(buf, arp);
  // Ethernet: back to the requester.
  for (let i = 0; i < 6; i++) buf[frame + i] = buf[arp + ARP_SHA + i];
  for (let i = 0; i < 6; i++) buf[frame + 6 + i] = ourMac[i];
  buf[arp + 7] = OPER_REPLY;
  for (let i = 0; i < 6; i++) buf[arp + 18 + i] = buf[arp + ARP_SHA + i];
  put32(buf, arp + 24, requester);
  for (let i = 0; i < 6; i++) buf[arp + ARP_SHA + i] = ourMac[i];
  put32(buf, arp + 14, asked);
  return ETH_HLEN + ARP_LEN;
}

const BROADCAST = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

/** Writes a who-has request for `target` at `frame`; returns the frame length. */
export function buildArpRequest(buf: Uint8Array, frame: number, ourMac: Uint8Array, ourIp: number, target: number): number {
  writeEthernet(buf, frame, BROADCAST, 0, ourMac, ETHERTYPE_ARP);
  const arp = frame + ETH_HLEN;
  buf[arp] = 0; buf[arp + 1] = 1; buf[arp + 2] = 0x08; buf[arp + 3] = 0; buf[arp + 4] = 6; buf[arp + 5] = 4;
  buf[arp + 6] = 0; buf[arp + 7] = OPER_REQUEST;
  for (let i = 0; i < 6; i++) buf[arp + ARP_SHA + i] = ourMac[i];
  put32(buf, arp + 14, ourIp);
  for (let i = 0; i < 6; i++) buf[arp + 18 + i] = 0;
  put32(buf, arp + 24, target);
  return ETH_HLEN + ARP_LEN;
}

/**
 * Writes a gratuitous ARP for `addr` (RFC 5227 §3 "ARP Announcement": a broadcast request whose
 * sender and target are both the address): every neighbour that has the address cached takes our
 * MAC for it (RFC 826's merge), which moves a virtual address's traffic to its new holder at once.
 */
export function buildGratuitousArp(buf: Uint8Array, frame: number, ourMac: Uint8Array, addr: number): number {
  return buildArpRequest(buf, frame, ourMac, addr, addr);
}
