// What the kernel drops in front of a net_af_packet port: its packet sockets' rx rings.
//
// net_af_packet receives through one TPACKET_V2 socket per queue, each with an mmap'ed ring of
// `framecnt` frames. When a shard does not empty its ring in time (not scheduled, busy) the kernel
// drops the next frames at the ring (tpacket_rcv "ring is full") and counts them per socket, in
// PACKET_STATISTICS tp_drops. DPDK 22.11's PMD never reads that counter (its imissed stays 0), so
// those drops were in no counter of ours. The daemon finds the PMD's sockets among its own file
// descriptors (AF_PACKET, bound to the port's interface) and adds their tp_drops to the port's
// imissed (rx-missed). Reading PACKET_STATISTICS resets it: the sum is kept here.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace nat64 {

struct PacketRings {
  unsigned ifindex = 0;
  std::vector<int> fds;
  uint64_t drops = 0;  // tp_drops read so far (PACKET_STATISTICS resets on read)
};

// Find this process's packet sockets bound to `iface` (net_af_packet's queues). Never throws.
void packetRingsFind(PacketRings &r, const std::string &iface);
// Fold in what the rings dropped since the last read; returns the total. A descriptor that is no
// longer such a socket is forgotten. Control thread only.
uint64_t packetRingsDrops(PacketRings &r);
// Last read, then forget the descriptors (the PMD closes its sockets when the port stops).
void packetRingsForget(PacketRings &r);

}  // namespace nat64
