import { ETH_HLEN } from './ethernet';
import { icmp6Checksum, rangeChecksum } from './local-checksum';

/**
 * Echo requests addressed to the translator's own interface addresses (operators ping the
 * gateway first): answered in place, back to the sender's MAC. Anything else addressed to us is
 * not ours to handle (no TCP/UDP stack here) and is dropped by the caller with a counter.
 */
const ICMP4_ECHO_REQUEST = 8, ICMP4_ECHO_REPLY = 0;
const ICMP6_ECHO_REQUEST = 128, ICMP6_ECHO_REPLY = 129;

function swapMacs(buf: Uint8Array, frame: number): void {
  for (let i = 0; i < 6; i++) {
    const t = buf[frame + i]; buf[frame + i] = buf[frame + 6 + i]; buf[frame + 6 + i] = t;
  }
}

function swapBytes(buf: Uint8Array, a: number, b: number, n: number): void {
  for (let i = 0; i < n; i++) { const t = buf[a + i]; buf[a + i] = buf[b + i]; buf[b + i] = t; }
}

/** IPv4 echo request at frame (IHL already validated by the caller)? Reply in place and return true. */
export function answerEcho4(buf: Uint8Array, frame: number, ip4Len: number): boolean {
  const ip = frame + ETH_HLEN;
  const ihl = (buf[ip] & 0x0f) * 4;
  const icmp = ip + ihl;
  const icmpLen = ip4Len - ihl;
  if (buf[ip + 9] !== 1 || icmpLen < 8 || buf[icmp] !== ICMP4_ECHO_REQUEST || buf[icmp + 1] !== 0) return false;
  if (((buf[ip + 6] & 0x3f) | buf[ip + 7]) !== 0) return false; // fragments: not reassembled here
  swapMacs(buf, frame);
  swapBytes(buf, ip + 12, ip + 16, 4);
  buf[ip + 8] = 64;
  buf[ip + 10] = 0; buf[ip + 11] = 0;
  const hc = rangeChecksum(buf, ip, ihl);
  buf[ip + 10] = hc >>> 8; buf[ip + 11] = hc & 0xff;
  buf[icmp] = ICMP4_ECHO_REPLY;
  buf[icmp + 2] = 0; buf[icmp + 3] = 0;
  const c = rangeChecksum(buf, icmp, icmpLen);
  buf[icmp + 2] = c >>> 8; buf[icmp + 3] = c & 0xff;
  return true;
}

/** IPv6 echo request (no extension headers) at frame? Reply in place and return true. */
export function answerEcho6(buf: Uint8Array, frame: number, payloadLen: number): boolean {
  const ip6 = frame + ETH_HLEN;
  const icmp = ip6 + 40;
  if (buf[ip6 + 6] !== 58 || payloadLen < 8 || buf[icmp] !== ICMP6_ECHO_REQUEST || buf[icmp + 1] !== 0) return false;
  swapMacs(buf, frame);
  swapBytes(buf, ip6 + 8, ip6 + 24, 16);
  buf[ip6 + 7] = 64;
  buf[icmp] = ICMP6_ECHO_REPLY;
  buf[icmp + 2] = 0; buf[icmp + 3] = 0;
  const c = icmp6Checksum(buf, ip6, payloadLen);
  buf[icmp + 2] = c >>> 8; buf[icmp + 3] = c & 0xff;
  return true;
}
