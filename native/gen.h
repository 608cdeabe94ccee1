// Benchmark traffic generator (bench/ only; the daemon never calls it). RFC 9693's tester inside
// the process: a native thread fills mbufs of the arena pool from a frame template, varying one
// 32-bit address word and one 16-bit port over N flows, and enqueues them on the rx rings of a
// "gen port" (an ethdev made with rte_eth_from_rings, which the Dataplane probes by name like any
// vdev). The same thread drains the gen ports' tx rings (what the translator sent), counts, reads
// the timestamp each frame carries in its last 6 bytes, and frees the mbufs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace nat64 {

struct GenSpec {
  uint16_t portId = 0;            // gen port whose rx rings receive the frames
  std::vector<uint8_t> tmpl;      // the frame, varied fields zero, checksums valid for zeros
  uint32_t addrOff = 0;           // big-endian u32 varied per flow
  uint32_t portOff = 0;           // big-endian u16 varied per flow
  uint32_t l4CsumOff = 0;         // covers addr, port and the stamp (0: none)
  uint32_t ipCsumOff = 0;         // IPv4 header checksum, covers addr (0: none)
  bool udp = true;                // a zero UDP checksum is sent as 0xffff
  bool stamp = false;             // TSC (48 bits) in the last 6 bytes of the frame
  std::vector<uint32_t> addr;     // per flow
  std::vector<uint16_t> port;     // per flow
  std::vector<uint8_t> queue;     // per flow: rx ring (queue) of the gen port
  uint64_t count = 0;             // frames to send, 0: until genStop
  double pps = 0;                 // 0: as fast as the rings take them (back-pressure, no loss)
  bool random = false;            // RFC 9693 phase 2: pseudorandom flow order; else 0..N-1 in turn
  uint32_t seed = 1;
  int cpu = -1;                   // pin the generator thread (-1: leave it to the scheduler)
};

struct GenStatsNative {
  uint64_t sent, received, missed, allocFailed, ringFull;
  double firstTxNs, lastTxNs, lastRxNs, nowNs;  // since genStart
  double genNs;  // inline mode: time spent making frames inside rx_burst, all queues, since genAttach
  bool generating;
};

constexpr unsigned kGenHistBuckets = 1u << 17;  // latency histogram
constexpr unsigned kGenHistNs = 10;             // bucket width: 10 ns (last bucket: >= 1.31 ms)

// Control path (main thread). genPortCreate needs EAL (not the mempool), before the port is probed.
uint16_t genPortCreate(const std::string &name, unsigned queues, unsigned ringSize);
// Inline mode: rx/tx callbacks on every queue of a started port (net_null): genStart on it then
// makes the translator's own rx_burst generate; its tx_burst is always counted (the sink).
void genAttach(uint16_t portId, unsigned queues);
// Zero every mbuf's data room once, so that the generator only writes the first bytes of a frame.
void genZeroPool();
void genStart(const GenSpec &spec);
void genStop();
// Stop generating; the thread keeps draining (exact loss once the last frames are out).
void genPause();
GenStatsNative genStats();
// Copies the histogram (kGenHistBuckets counters) and resets it.
void genTakeHistogram(uint32_t *out);

}  // namespace nat64
