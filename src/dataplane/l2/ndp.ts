import { put32 } from '../packet/bytes';
import { writeIpv6Fixed } from '../packet/ipv6';
import { ETH_HLEN, ETHERTYPE_IPV6, writeEthernet } from './ethernet';
import { icmp6Checksum } from './local-checksum';

/**
 * IPv6 Neighbour Discovery (RFC 4861) for the translator's IPv6 side: answer Neighbour
 * Solicitations for our addresses (as a router: R flag), learn link-layer addresses from NS/NA,
 * and build our own solicitations to resolve next hops.
 */
export const ICMP6_NS = 135;
export const ICMP6_NA = 136;
const IP6_HLEN = 40;
const NS_LEN = 24;           // ICMPv6 header + reserved + target
const OPT_SLLA = 1;
const OPT_TLLA = 2;
/** Scratch for the solicited-node multicast MAC (no allocation per solicitation). */
const MCAST_SCRATCH = new Uint8Array(6);
const NA_FLAG_ROUTER = 0x80, NA_FLAG_SOLICITED = 0x40, NA_FLAG_OVERRIDE = 0x20;

/** Offset of the link-layer address inside a source/target link-layer option of type `want`, or -1. */
export function findLlaOption(buf: Uint8Array, icmp: number, icmpLen: number, want: number): number {
  let o = icmp + NS_LEN;
  const end = icmp + icmpLen;
  while (o + 8 <= end) {
    const type = buf[o], units = buf[o + 1];
    if (units === 0) return -1; // RFC 4861 §4.6: length 0 is invalid, stop parsing
    if (type === want && units === 1) return o + 2;
    o += units * 8;
  }
  return -1;
}

/** RFC 4861 §7.1.1/§7.1.2 validity: hop limit 255, code 0, long enough. */
export function isValidNd(buf: Uint8Array, ip6: number, icmpLen: number): boolean {
  return buf[ip6 + 7] === 255 && buf[ip6 + IP6_HLEN + 1] === 0 && icmpLen >= NS_LEN;
}

function isUnspecified(buf: Uint8Array, off: number): boolean {
  for (let i = 0; i < 16; i++) if (buf[off + i] !== 0) return false;
  return true;
}

/**
 * Turns the NS at `frame` (whose target is ours) into a Neighbour Advertisement, in place.
 * Returns the new frame length.
 */
export function answerNeighborSolicitation(buf: Uint8Array, frame: number, ourMac: Uint8Array, icmpLen: number): number {
  const ip6 = frame + ETH_HLEN;
  const icmp = ip6 + IP6_HLEN;
  const slla = findLlaOption(buf, icmp, icmpLen, OPT_SLLA);
  const dad = isUnspecified(buf, ip6 + 8);
  // Ethernet destination: the solicitor's SLLA, else the frame's source; all-nodes for DAD.
  if (dad) {
    buf[frame] = 0x33; buf[frame + 1] = 0x33; buf[frame + 2] = 0; buf[frame + 3] = 0; buf[frame + 4] = 0; buf[frame + 5] = 1;
  } else {
    const from = slla >= 0 ? slla : frame + 6;
    for (let i = 0; i < 6; i++) buf[frame + i] = buf[from + i];
  }
  for (let i = 0; i < 6; i++) buf[frame + 6 + i] = ourMac[i];
  // IPv6: destination = solicitor (or all-nodes for DAD, RFC 4861 §7.2.4), source = the target.
  if (dad) {
    buf.fill(0, ip6 + 24, ip6 + 40); buf[ip6 + 24] = 0xff; buf[ip6 + 25] = 0x02; buf[ip6 + 39] = 1;
  } else {
    buf.copyWithin(ip6 + 24, ip6 + 8, ip6 + 24);
  }
  buf.copyWithin(ip6 + 8, icmp + 8, icmp + 24);
  const naLen = NS_LEN + 8;
  buf[ip6 + 4] = 0; buf[ip6 + 5] = naLen;
  buf[ip6 + 7] = 255;
  buf[icmp] = ICMP6_NA; buf[icmp + 1] = 0;
  buf[icmp + 4] = NA_FLAG_ROUTER | NA_FLAG_OVERRIDE | (dad ? 0 : NA_FLAG_SOLICITED);
  buf[icmp + 5] = 0; buf[icmp + 6] = 0; buf[icmp + 7] = 0;
  buf[icmp + 2] = 0; buf[icmp + 3] = 0;
  return ndFinish(buf, ip6, OPT_TLLA, ourMac);
}

/** Offset of the target link-layer address to learn from an NA, or -1. */
export function advertisedLla(buf: Uint8Array, icmp: number, icmpLen: number): number {
  return findLlaOption(buf, icmp, icmpLen, OPT_TLLA);
}

/** Offset of the solicitor's link-layer address in an NS, or -1 (none, or DAD). */
export function solicitorLla(buf: Uint8Array, icmp: number, icmpLen: number): number {
  return findLlaOption(buf, icmp, icmpLen, OPT_SLLA);
}

/**
 * Writes an NS for `target` (4 big-endian words) to its solicited-node multicast group
 * (RFC 4291 §2.7.1), from `src` (16 bytes at srcBuf[srcOff]). Returns the frame length.
 */
export function buildNeighborSolicitation(buf: Uint8Array, frame: number, ourMac: Uint8Array,
  srcBuf: Uint8Array, srcOff: number, t0: number, t1: number, t2: number, t3: number): number {
  const mcast = MCAST_SCRATCH;
  mcast[0] = 0x33; mcast[1] = 0x33; mcast[2] = 0xff; mcast[3] = (t3 >>> 16) & 0xff; mcast[4] = (t3 >>> 8) & 0xff; mcast[5] = t3 & 0xff;
  writeEthernet(buf, frame, mcast, 0, ourMac, ETHERTYPE_IPV6);
  const ip6 = frame + ETH_HLEN, icmp = ip6 + IP6_HLEN;
  ndSkeleton(buf, ip6, srcBuf, srcOff, ICMP6_NS, 0);
  buf[ip6 + 35] = 1; buf[ip6 + 36] = 0xff; // ff02::1:ffXX:XXXX
  buf[ip6 + 37] = (t3 >>> 16) & 0xff; buf[ip6 + 38] = (t3 >>> 8) & 0xff; buf[ip6 + 39] = t3 & 0xff;
  put32(buf, icmp + 8, t0); put32(buf, icmp + 12, t1); put32(buf, icmp + 16, t2); put32(buf, icmp + 20, t3);
  return ndFinish(buf, ip6, OPT_SLLA, ourMac);
}

/**
 * Writes an unsolicited Neighbour Advertisement for `target` (16 bytes at tBuf[tOff]) to all-nodes
 * (RFC 4861 §7.2.6): Override set so that neighbours replace the link-layer address they cached,
 * Router set (we forward), Solicited clear. A node that takes over a virtual address sends it, as
 * Keepalived does for the addresses it moves. Returns the frame length.
 */
export function buildUnsolicitedAdvertisement(buf: Uint8Array, frame: number, ourMac: Uint8Array, tBuf: Uint8Array, tOff: number): number {
  const allNodes = MCAST_SCRATCH;
  allNodes[0] = 0x33; allNodes[1] = 0x33; allNodes[2] = 0; allNodes[3] = 0; allNodes[4] = 0; allNodes[5] = 1;
  writeEthernet(buf, frame, allNodes, 0, ourMac, ETHERTYPE_IPV6);
  const ip6 = frame + ETH_HLEN, icmp = ip6 + IP6_HLEN;
  ndSkeleton(buf, ip6, tBuf, tOff, ICMP6_NA, NA_FLAG_ROUTER | NA_FLAG_OVERRIDE); // source: the address itself
  buf[ip6 + 39] = 1;                                                              // ff02::1
  for (let i = 0; i < 16; i++) buf[icmp + 8 + i] = tBuf[tOff + i];
  return ndFinish(buf, ip6, OPT_TLLA, ourMac);
}

/**
 * The parts our own NS and unsolicited NA share: the IPv6 header (ICMPv6, hop limit 255 as RFC 4861
 * requires, from src, to ff02:: whose last bytes the caller writes) and the ICMPv6 header with
 * `flags` in the first reserved byte. The target (icmp + 8) and the option are the caller's.
 */
function ndSkeleton(buf: Uint8Array, ip6: number, srcBuf: Uint8Array, srcOff: number, type: number, flags: number): void {
  writeIpv6Fixed(buf, ip6, 0, NS_LEN + 8, 58, 255);
  for (let i = 0; i < 16; i++) buf[ip6 + 8 + i] = srcBuf[srcOff + i];
  buf.fill(0, ip6 + 24, ip6 + 40);
  buf[ip6 + 24] = 0xff; buf[ip6 + 25] = 0x02;
  const icmp = ip6 + IP6_HLEN;
  buf[icmp] = type; buf[icmp + 1] = 0; buf[icmp + 2] = 0; buf[icmp + 3] = 0;
  buf[icmp + 4] = flags; buf[icmp + 5] = 0; buf[icmp + 6] = 0; buf[icmp + 7] = 0;
}

/**
 * Our link-layer address option (`optType`: source or target) after the 24-byte NS/NA body, and the
 * checksum (its field zero); the frame length. Every NS/NA we send is 32 bytes of ICMPv6.
 */
function ndFinish(buf: Uint8Array, ip6: number, optType: number, ourMac: Uint8Array): number {
  const icmp = ip6 + IP6_HLEN, opt = icmp + NS_LEN, len = NS_LEN + 8;
  buf[opt] = optType; buf[opt + 1] = 1;
  for (let i = 0; i < 6; i++) buf[opt + 2 + i] = ourMac[i];
  const c = icmp6Checksum(buf, ip6, len);
  buf[icmp + 2] = c >>> 8; buf[icmp + 3] = c & 0xff;
  return ETH_HLEN + IP6_HLEN + len;
}
