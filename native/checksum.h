// TCP/UDP checksums as the neighbours really send them (docs/design.md "Checksum offloads").
//
// A Linux sender on a veth, bridge, TAP or virtio link hands TCP and UDP over with CHECKSUM_PARTIAL:
// the checksum field holds only the pseudo-header sum, and the real sum is left to a "NIC" that
// never computes it. The translator's RFC 1624 incremental update would carry such a field over
// and emit a wrong checksum, so every partial frame is recognised on receive and finished on
// transmit: by the egress device's TX checksum offload where it has one, in software otherwise.
//
// Pure functions over one contiguous frame (Ethernet header first), no DPDK state: the receive
// and transmit paths (io.cc) and the addon's test hooks (addon.cc) share them.
#pragma once

#include <cstdint>

namespace nat64 {

// Where a frame's TCP or UDP header is. Only frames whose checksum could be partial qualify:
// IPv4 or IPv6 (extension headers walked), not a fragment, TCP or UDP, lengths consistent.
struct L4Where {
  uint16_t l3;       // offset of the IP header in the frame
  uint16_t l4;       // offset of the TCP/UDP header
  uint16_t l4len;    // upper-layer packet length (RFC 768 / RFC 793 / RFC 8200 §8.1)
  uint16_t sumOff;   // offset of the checksum field
  uint8_t family;    // 4 or 6
  uint8_t proto;     // 6 TCP, 17 UDP
};

bool l4Locate(const uint8_t *frame, uint32_t len, L4Where &w);

// The pseudo-header sum (RFC 768, RFC 793, RFC 8200 §8.1), folded, not complemented, in the byte
// order it has in memory: exactly what a CHECKSUM_PARTIAL sender leaves in the checksum field.
uint16_t l4PseudoSum(const uint8_t *frame, const L4Where &w);

enum class L4Sum : uint8_t {
  kComplete,  // the field is a checksum (right or wrong: it is left as it is)
  kPartial,   // the field holds the pseudo-header sum and the segment does not verify with it
};

// Software detection for drivers that drop the kernel's signal (af_packet's TP_STATUS_CSUMNOTREADY,
// AF_XDP). One compare in the common case; a frame whose field equals its pseudo-header sum is
// verified in full before it is called partial, so a valid checksum that happens to equal the
// pseudo-header sum is never touched. A corrupt frame is only ever "repaired" if its damaged field
// equals that sum (docs/design.md: residual risk).
L4Sum l4Classify(const uint8_t *frame, const L4Where &w);

// Writes the complete checksum (field zeroed, pseudo-header + segment summed, complemented; a UDP
// result of zero is sent as 0xffff, RFC 768).
void l4Complete(uint8_t *frame, const L4Where &w);

// Prepares the field for a device's TX checksum offload: the pseudo-header sum of the frame's
// current headers (DPDK's contract for RTE_MBUF_F_TX_TCP_CKSUM / RTE_MBUF_F_TX_UDP_CKSUM).
void l4PrepareOffload(uint8_t *frame, const L4Where &w);

}  // namespace nat64
