/**
 * What the stateful layer (RFC 6146 §3.6 "Computing the Outgoing Tuple") hands to the translator.
 *
 * Queries (TCP, UDP, ICMP echo): the translated packet's own addresses and ports. ICMP echo: the
 * identifier is srcPort (RFC 6146 §3.4 treats the identifier as both "ports"; set dstPort = srcPort).
 *
 * ICMP errors: the QUOTED packet as it must look after translation. The outer header follows:
 *   6->4: source = dst4, destination = src4 (the error goes back to whoever sent the quoted packet);
 *   4->6: source = embed(pool6, outer IPv4 source), destination = src6.
 * For a quoted ICMP echo the identifier is again srcPort.
 */
export class Tuple {
  src6: Uint8Array = new Uint8Array(16);
  dst6: Uint8Array = new Uint8Array(16);
  src4 = 0;
  dst4 = 0;
  srcPort = 0;
  dstPort = 0;
  proto = 0;
}

import type { PacketSink } from './fragment';

/** The translator itself: the source of the ICMP errors it generates, its egress MTUs, and where fragments go. */
export class Self {
  /** Own IPv6 address (source of ICMPv6 Time Exceeded, Parameter Problem, ...). */
  ipv6: Uint8Array = new Uint8Array(16);
  /** Own IPv4 address as u32. */
  ipv4 = 0;
  /** MTU of the IPv6-side and IPv4-side next hops (RFC 7915 §4.2 / §5.2 MTU arithmetic). */
  mtu6 = 1500;
  mtu4 = 1500;
  /** Next IPv4 Identification (RFC 6864: unique per source/destination/protocol for a while). */
  nextId = 1;
  /** Buffers for the fragments of translated packets beyond the first (null: cannot fragment). */
  sink: PacketSink | null = null;
}
