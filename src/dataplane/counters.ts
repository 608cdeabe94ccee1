/**
 * Every counter the data plane keeps, in one table (as VPP and Jool do), so that `stats display`
 * explains every packet that was translated or lost. One Float64Array per shard in shared memory,
 * indexed by Counter; float64 counts exactly to 2^53 and `c[i]++` needs no BigInt.
 *
 * Naming follows Jool's JSTAT_* list where a Jool counter exists (lower-case, dashes).
 * Add new counters at the end of a group; ids are positions in COUNTERS.
 */
export interface CounterDef { name: string; explain: string }

export const COUNTERS = [
  // L2 / I/O (worker, l2/)
  { name: 'received', explain: 'Frames handed to the shard by the I/O layer.' },
  { name: 'l2-not-for-us', explain: 'Frame not addressed to the port MAC, broadcast or a solicited-node multicast.' },
  { name: 'l2-unknown-ethertype', explain: 'Frame with an ethertype that is not IPv4, IPv6 or ARP.' },
  { name: 'arp-request-answered', explain: 'ARP request for one of our addresses, answered.' },
  { name: 'arp-reply-learned', explain: 'ARP reply stored in the neighbour table.' },
  { name: 'arp-ignored', explain: 'ARP packet not for one of our addresses, or malformed.' },
  { name: 'nd-solicit-answered', explain: 'ICMPv6 Neighbour Solicitation for one of our addresses, answered.' },
  { name: 'nd-advert-learned', explain: 'ICMPv6 Neighbour Advertisement stored in the neighbour table.' },
  { name: 'nd-ignored', explain: 'Neighbour Discovery packet not for us, or malformed.' },
  { name: 'neighbor-solicit-sent', explain: 'ARP request or Neighbour Solicitation sent to resolve a next hop.' },
  { name: 'neighbor-held', explain: 'Packet held while its next hop was being resolved.' },
  { name: 'neighbor-unresolved', explain: 'Dropped: next hop did not answer ARP/ND in time, or too many packets were waiting.' },
  { name: 'no-route', explain: 'Dropped: no port or route reaches the destination.' },
  { name: 'local-icmp-echo-answered', explain: 'Echo request to one of the translator\'s own port addresses, answered.' },
  { name: 'local-not-handled', explain: 'Dropped: addressed to the translator itself but not ARP/ND/echo.' },
  { name: 'handoff', explain: 'Handed to the shard that owns the flow (both directions of a flow meet in one shard).' },
  { name: 'hairpin', explain: 'Translated IPv4 packet addressed to our own pool4, fed back as incoming IPv4 (RFC 6146 §3.8).' },
  { name: 'no-instance', explain: 'Dropped: no instance is translating (none added, or manually-enabled is false).' },
  { name: 'transmitted', explain: 'Frames given to the I/O layer for transmission.' },
  { name: 'vip-not-held', explain: 'ARP request or Neighbour Solicitation for a virtual address this node does not hold now (the backup of a pair, docs/ha.md): not answered.' },
  { name: 'vip-announced', explain: 'Gratuitous ARP or unsolicited Neighbour Advertisement sent for a virtual address this node claimed (nat64 port claim).' },
  // Translation core (steps/, translate/, tables/)
  { name: 'translated-6to4', explain: 'IPv6 packet translated to IPv4.' },
  { name: 'translated-4to6', explain: 'IPv4 packet translated to IPv6.' },
  { name: 'ipv6-hdr-truncated', explain: 'Dropped: IPv6 header or payload length inconsistent with the frame.' },
  { name: 'ipv4-hdr-truncated', explain: 'Dropped: IPv4 header, IHL or total length inconsistent with the frame.' },
  { name: 'ipv4-bad-checksum', explain: 'Dropped: IPv4 header checksum is wrong.' },
  { name: 'unknown-l4-proto', explain: 'Dropped: transport protocol NAT64 does not translate (RFC 6146 §3.1: TCP, UDP, ICMP only).' },
  { name: 'l4-hdr-truncated', explain: 'Dropped: transport header cut short.' },
  { name: 'pool6-mismatch', explain: 'Dropped: IPv6 destination is not inside pool6, or is but pool6-strict refuses its IPv4 address (RFC 6052 §3.1). For the latter, with icmp-admin-prohibited: ICMPv6 Destination Unreachable 1 built for it (RFC 7915 §5.4; icmp-error-sent, or suppressed / rate-limited).' },
  { name: 'pool4-mismatch', explain: 'Dropped: IPv4 destination is not a pool4 address/port.' },
  { name: 'bib6-not-found', explain: 'Dropped: no BIB entry for the IPv6 transport address and none could be created.' },
  { name: 'bib4-not-found', explain: 'Dropped: IPv4 packet to a pool4 transport address with no BIB entry (RFC 6146 §3.5.1). With icmp-admin-prohibited: ICMPv4 Destination Unreachable 13 built for it (RFC 7915 §4.4; icmp-error-sent, or suppressed / rate-limited).' },
  { name: 'pool4-exhausted', explain: 'Dropped: no free pool4 transport address for a new BIB entry; ICMPv6 Address Unreachable built for it (RFC 6146 §3.5.1.1; icmp-error-sent, or suppressed / rate-limited).' },
  { name: 'session-table-full', explain: 'Dropped: the shard\'s session table is full. An IPv6 packet gets ICMPv6 Address Unreachable, as for pool4-exhausted (RFC 6146 §3.5.1.1; icmp-error-sent, or suppressed / rate-limited); an IPv4 one is dropped silently.' },
  { name: 'bib-table-full', explain: 'Dropped: the shard\'s BIB table is full. The IPv6 packet that needed the entry gets ICMPv6 Address Unreachable, as for pool4-exhausted (RFC 6146 §3.5.1.1; icmp-error-sent, or suppressed / rate-limited).' },
  { name: 'adf-filtered', explain: 'Dropped by address-dependent filtering (RFC 6146 §3.5.1). With icmp-admin-prohibited: ICMPv4 Destination Unreachable 13 built for it (RFC 7915 §4.4; icmp-error-sent, or suppressed / rate-limited).' },
  { name: 'tcp-syn-needed', explain: 'Dropped: TCP packet that is not a SYN and has no session. With icmp-admin-prohibited: ICMPv4 Destination Unreachable 13 / ICMPv6 Destination Unreachable 1 built for it (RFC 7915 §4.4/§5.4; icmp-error-sent, or suppressed / rate-limited).' },
  { name: 'tcp-v4-syn-dropped', explain: 'Dropped: IPv4-initiated SYN (drop-externally-initiated-tcp). With icmp-admin-prohibited: ICMPv4 Destination Unreachable 13 built for it (RFC 7915 §4.4; icmp-error-sent, or suppressed / rate-limited).' },
  { name: 'ttl-expired', explain: 'Dropped: TTL/hop limit would reach zero. An ICMP Time Exceeded is built for it (icmp-error-sent), unless suppressed or rate-limited (counted there too).' },
  { name: 'icmp-info-filtered', explain: 'Dropped: ICMPv6 informational message (drop-icmpv6-info).' },
  { name: 'icmp-type-untranslatable', explain: 'Dropped: ICMP type/code with no translation (RFC 7915 §4.2/§5.2).' },
  { name: 'icmp-error-inner-bad', explain: 'Dropped: ICMP error whose quoted packet cannot be translated.' },
  { name: 'fragmented', explain: 'Dropped: fragment that reached the translator without being reassembled.' },
  { name: 'ext-header-unsupported', explain: 'Dropped: IPv6 extension header chain cannot be translated; a Routing header with Segments Left gets a Parameter Problem (RFC 7915 §5.1).' },
  { name: 'packet-too-big', explain: 'Dropped: too big for the egress MTU and may not be fragmented. An ICMP Packet Too Big / Fragmentation Needed is built for it (icmp-error-sent), unless suppressed or rate-limited (counted there too).' },
  { name: 'icmp-error-sent', explain: 'ICMP error generated by the translator.' },
  { name: 'session-expired', explain: 'Session removed by its timeout.' },
  { name: 'bib-expired', explain: 'Dynamic BIB entry removed with its last session.' },
  // Packet parsing and RFC 7915 translation (packet/, translate/)
  { name: 'ipv4-source-route', explain: 'Dropped: IPv4 packet with an unexpired source route option (RFC 7915 §4.1). To a pool4 address: ICMPv4 Destination Unreachable 5 (Source Route Failed) built for it (icmp-error-sent, or suppressed / rate-limited).' },
  { name: 'icmp-error-suppressed', explain: 'ICMP error not sent: about an ICMP error, a non-first fragment or a multicast/broadcast/unspecified address (RFC 4443 §2.4, RFC 1812 §4.3.2.7). The packet\'s drop reason is counted too.' },
  { name: 'icmp-bad-checksum', explain: 'Dropped: ICMP error with a wrong checksum (translation recomputes it, so it would hide the damage).' },
  { name: 'udp6-zero-checksum', explain: 'Dropped: IPv6 UDP datagram with checksum 0, which IPv6 receivers must discard (RFC 8200 §8.1); translated, it would leave as IPv4 UDP without a checksum (or get a valid one when hairpinned).' },
  // Stateful NAT64 core (steps/, tables/)
  { name: 'tcp-v4-syn-stored', explain: 'IPv4 SYN with no BIB entry (or filtered by ADF) held for 6 s waiting for the IPv6 side (RFC 6146 §3.5.2.2); only its tuple is kept.' },
  { name: 'tcp-v4-syn-expired', explain: 'A stored IPv4 SYN got no IPv6 SYN within 6 s: answered with ICMP Port Unreachable (RFC 6146 §3.5.2.2).' },
  { name: 'tcp-so-full', explain: 'Dropped: IPv4 SYN not held, maximum-simultaneous-opens SYNs are already waiting.' },
  { name: 'session-not-found', explain: 'Dropped: ICMP error about a flow that has a BIB entry but no session (RFC 6146 §3.5).' },
  { name: 'subscriber-port-limit', explain: 'Dropped: new mapping refused, the subscriber (IPv6 source prefix of subscriber-prefix-length) already holds subscriber-port-limit pool4 ports or ICMP identifiers of this protocol (RFC 6888 REQ-4). ICMPv6 Address Unreachable built for it, as for pool4-exhausted (icmp-error-sent, or suppressed / rate-limited); logged as nat64-subscriber event=port-limit.' },
  { name: 'subscriber-untracked', explain: 'Not a drop: a new mapping was created for a subscriber that could not be counted, the subscriber table being full (more distinct subscribers hold mappings than half the shard\'s BIB slots; docs/design.md "Per-subscriber limits"). Limits do not apply to it until the next configuration change recounts.' },
  { name: 'subscriber-rate-limit', explain: 'Dropped: new mapping refused, the subscriber created subscriber-mapping-rate mappings in the last second. ICMPv6 Address Unreachable built for it (icmp-error-sent, or suppressed / rate-limited); logged as nat64-subscriber event=rate-limit.' },
  // Egress MTU and fragments (translate/fragment.ts, native/frag.cc)
  { name: 'mtu-fragmented', explain: 'Translated packet larger than the egress MTU with DF clear, sent as fragments (RFC 7915 §4.1 / §5.1.1).' },
  { name: 'fragment-alloc-failed', explain: 'Dropped: no packet buffer for a fragment of a translated packet.' },
  { name: 'frag-held', explain: 'Fragment stored in the shard\'s reassembly table, waiting for the rest of its datagram.' },
  { name: 'frag-reassembled', explain: 'Datagram reassembled from its fragments and fed back to be translated (RFC 6146 §3.4 needs its ports).' },
  { name: 'frag-table-full', explain: 'Dropped: fragment of a new datagram while the reassembly table held max-flows datagrams.' },
  { name: 'frag-invalid', explain: 'Dropped: a fragment made its datagram invalid (overlap, duplicate, hole, more than 8 fragments, empty, beyond 64 KiB, bad IPv4 header checksum); the datagram\'s held fragments are freed with it.' },
  { name: 'frag-timeout', explain: 'Dropped: fragments of a datagram that did not complete within the reassembly timeout (counted per fragment).' },
  { name: 'frag-too-big', explain: 'Dropped: reassembled datagram larger than one packet buffer (the shards see single-segment buffers only).' },
  { name: 'frag-no-buffer', explain: 'Dropped: no packet buffer to copy a reassembled datagram into.' },
  { name: 'frag-unsupported', explain: 'Dropped: fragment the reassembler cannot take (IPv6 Fragment Header not right after the IPv6 header).' },
  { name: 'frag-ring-full', explain: 'Dropped: reassembled datagram could not be queued back to the shard (hand-off ring full).' },
  // Stored IPv4 SYNs (RFC 6146 §3.5.2.2)
  { name: 'tcp-v4-syn-retransmit', explain: 'Dropped: retransmission of an IPv4 SYN that is already stored (the first copy is kept).' },
  { name: 'tcp-probe-sent', explain: 'ESTABLISHED TCP session idle for tcp-est-timeout: probe (empty ACK, seq 0) sent to the IPv6 endpoint, session moved to TRANS (RFC 6146 §3.5.2.2).' },
  { name: 'tcp-v4-syn-lost', explain: 'A stored IPv4 SYN whose packet was no longer held (its shard restarted): no Port Unreachable could be sent.' },
  // RFC 4443 §2.4(f) / RFC 1812 §4.3.2.8 (translate/icmp-rate-limit.ts)
  { name: 'icmp-error-rate-limited', explain: 'ICMP error not sent: over the shard\'s rate (dataplane.icmpErrorsPerSecond / icmpErrorBurst, RFC 4443 §2.4(f)), or a subscriber at its limit was answered less than 100 ms ago. The packet\'s drop reason is counted too.' },
  { name: 'hairpin-error-lost', explain: 'A hairpinned IPv6 SYN stored 6 s got its Port Unreachable, but the IPv6 node\'s mapping belongs to another shard, which an error built outside a burst cannot reach: not sent (one shard never loses it).' },
  // Refusals remembered (flow-cache.ts refused6, issue 11)
  { name: 'refused-recently', explain: 'Dropped: IPv6 TCP/UDP packet of a flow refused less than a second ago for want of state (pool4-exhausted, bib-table-full, session-table-full, subscriber-port-limit or subscriber-rate-limit, counted there the first time), while the ICMP error rate limit had no token: not tried again. Once a second, or when a token is free, the flow takes the full path again.' },
  { name: 'refusal-remembered', explain: 'Of the refusals counted under bib4-not-found, adf-filtered, tcp-v4-syn-dropped and tcp-syn-needed (a TCP/UDP packet without a session, and its icmp-error-rate-limited): those of a flow refused the same way less than a second ago, with no BIB entry or session created on its transport address since, dropped from the flow cache without the full path (counted as the full path would). Not a drop of its own.' },
] as const satisfies readonly CounterDef[];

export type CounterName = (typeof COUNTERS)[number]['name'];
export const COUNTER_COUNT = COUNTERS.length;

/** Counter index by name, computed once at load (control path only). */
export const C: Readonly<Record<CounterName, number>> = Object.freeze(
  Object.fromEntries(COUNTERS.map((c, i) => [c.name, i])) as Record<CounterName, number>,
);

/** One shard's counters over shared memory. */
export function createCounterBuffer(): SharedArrayBuffer {
  return new SharedArrayBuffer(COUNTER_COUNT * Float64Array.BYTES_PER_ELEMENT);
}
