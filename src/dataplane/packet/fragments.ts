/**
 * Fragments that the shard sends to reassembly (native/frag.cc) before translation: a stateful
 * NAT64 needs the ports of the first fragment to find the flow (RFC 6146 §3.4), and the datagram's
 * fragments must meet in one shard, chosen from what every fragment carries (RFC 791 / RFC 8200
 * §4.5: source, destination, Identification, and for IPv4 the protocol).
 */
import { FragResult } from '../../native';
import { C } from '../counters';
import { IPPROTO_FRAGMENT, IPV6_HDR_LEN } from './ipv6';

/** IPv4: MF set or a non-zero offset (an unfragmented packet has neither). */
export function isFragment4(buf: Uint8Array, ip: number): boolean {
  return (buf[ip + 6] & 0x3f) !== 0 || buf[ip + 7] !== 0;
}

/**
 * IPv6: a Fragment Header right after the IPv6 header with a non-zero offset or M set. An atomic
 * fragment (offset 0, M 0) is a whole packet and is translated as one (RFC 8021, RFC 6946); a
 * Fragment Header deeper in the chain is left to the parser, which drops it as `fragmented`.
 */
export function isFragment6(buf: Uint8Array, ip: number, l3len: number): boolean {
  if (buf[ip + 6] !== IPPROTO_FRAGMENT || l3len < IPV6_HDR_LEN + 8) return false;
  return (((buf[ip + 42] << 8) | buf[ip + 43]) & 0xfff9) !== 0;
}

function word(buf: Uint8Array, o: number): number {
  return (buf[o] << 24) | (buf[o + 1] << 16) | (buf[o + 2] << 8) | buf[o + 3];
}

function mix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** The shard that reassembles this IPv4 fragment's datagram. */
export function fragmentOwner4(buf: Uint8Array, ip: number, shards: number): number {
  if (shards <= 1) return 0;
  return mix(word(buf, ip + 12) ^ Math.imul(word(buf, ip + 16), 31) ^ (((buf[ip + 4] << 8) | buf[ip + 5]) << 8) ^ buf[ip + 9]) % shards;
}

/** The shard that reassembles this IPv6 fragment's datagram. */
export function fragmentOwner6(buf: Uint8Array, ip: number, shards: number): number {
  if (shards <= 1) return 0;
  let h = word(buf, ip + 44);
  for (let k = 8; k < 40; k += 4) h = Math.imul(h ^ word(buf, ip + k), 0x9e3779b1);
  return mix(h) % shards;
}

/** Counter bumped for each FragResult (index result + 6). */
const RESULT_COUNTERS = [
  C['frag-ring-full'], C['frag-unsupported'], C['frag-no-buffer'], C['frag-too-big'], C['frag-invalid'],
  C['frag-table-full'], C['frag-held'], C['frag-reassembled'],
];

export function fragCounter(r: FragResult): number {
  return RESULT_COUNTERS[r + 6];
}
