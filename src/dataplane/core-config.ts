/**
 * What the control plane hands to every shard for one instance: plain data (structured-clone safe,
 * it crosses postMessage), already validated and normalised. Addresses are numbers/byte arrays so
 * the shard never parses text. Times are milliseconds.
 */
export interface Pool4Range {
  /** IPv4 address as an unsigned 32-bit integer. */
  address: number;
  portMin: number;
  portMax: number;
  /** Jool's pool4 "mark" (always 0 here, kept for file compatibility). */
  mark: number;
  /**
   * Jool's max-iterations of the range's set (mark + protocol), resolved by the control plane:
   * how many candidate ports one new mapping may try before pool4 reports exhaustion. 0: no
   * limit ("infinity"). Absent: 4096 per address.
   */
  maxIterations?: number;
  /**
   * A standby range (extension, docs/ha.md): a peer's partition this translator backs up. Ours for
   * translation and session sync, never allocated from for new mappings.
   */
  standby?: boolean;
}

export const enum L4Proto { TCP = 6, UDP = 17, ICMP = 1 }

export interface StaticBibEntry {
  protocol: 'TCP' | 'UDP' | 'ICMP';
  ipv6: Uint8Array;   // 16 bytes
  ipv6Port: number;   // port, or ICMP identifier
  ipv4: number;       // u32
  ipv4Port: number;
}

export interface CoreGlobals {
  /** RFC 6052 prefix, 16 bytes, and its length in bits (32, 40, 48, 56, 64 or 96). */
  pool6: Uint8Array;
  pool6Len: number;
  /** Refuse to translate addresses RFC 6052 §3.1 forbids with the well-known prefix (opt-in). */
  pool6Strict: boolean;
  manuallyEnabled: boolean;
  zeroizeTrafficClass: boolean;
  overrideTos: boolean;
  tos: number;
  lowestIpv6Mtu: number;
  mtuPlateaus: number[];
  addressDependentFiltering: boolean;
  dropIcmpv6Info: boolean;
  dropExternallyInitiatedTcp: boolean;
  handleRstDuringFinRcv: boolean;
  /**
   * icmp-admin-prohibited (not a Jool key): answer the policy discards listed in docs/design.md
   * ("ICMP errors the translator originates") with ICMPv4 3/13 / ICMPv6 1/1 (RFC 7915 §4.4/§5.4).
   */
  icmpAdminProhibited: boolean;
  maximumSimultaneousOpens: number;
  /**
   * source-icmpv6-errors-better (Jool): the source of an ICMPv6 error translated from an ICMPv4
   * error. true (Jool's default, its issue #132): the ICMPv4 error's own source (the router that
   * reported) with pool6 prepended, so traceroute shows the hops. false: RFC 6146 §3.6.2 read
   * literally, the outgoing tuple's source, i.e. the quoted packet's destination (the IPv4 host the
   * IPv6 node talked to) with pool6 prepended.
   */
  sourceIcmpv6ErrorsBetter: boolean;
  udpTimeout: number;      // ms, Jool default 5 min
  icmpTimeout: number;     // ms, Jool default 1 min
  tcpEstTimeout: number;   // ms, Jool default 2 h
  tcpTransTimeout: number; // ms, Jool default 4 min
  /** Jool's f-args bitmask (which fields feed the port-allocation hash). */
  fArgs: number;
  /**
   * Per-subscriber limits (RFC 6888 REQ-4; not Jool keys). A subscriber is the IPv6 source address
   * masked to subscriberPrefixLength bits. subscriberPortLimit: pool4 ports (ICMP identifiers) per
   * protocol one subscriber may hold, over all shards; or subscriberPortShare: that limit as a
   * percentage of one pool4 address's ports (the average over the protocol's addresses). Both 0: no
   * limit. subscriberMappingRate: new BIB entries per second per subscriber (0: no limit).
   */
  subscriberPrefixLength: number;
  subscriberPortLimit: number;
  subscriberPortShare: number;
  subscriberMappingRate: number;
  /** RFC 6888 mapping logs; debug: per-packet trace (shard's separate debug path). */
  logging: { bib: boolean; session: boolean; debug?: boolean };
  /** Jool's ss-enabled: the shards write sync records, and apply a peer's (docs/session-sync.md). */
  ssEnabled?: boolean;
  /** Jool's other ss-* globals, for the main thread's sender (control/sync/batcher.ts); shards ignore them. */
  ss?: { flushAsap: boolean; flushDeadlineMs: number; capacity: number; maxPayload: number; maxSessionsPerPacket: number };
}

export interface CoreConfig {
  instance: string;
  globals: CoreGlobals;
  /** Per protocol. Empty means: use ports 61001-65535 of the IPv4 port's own addresses (as Jool does). */
  pool4: { TCP: Pool4Range[]; UDP: Pool4Range[]; ICMP: Pool4Range[] };
  bib: StaticBibEntry[];
}
