// Process-wide state of the native layer. The addon is loaded once per JS environment (main thread
// and every worker) but the shared object, and so this state, exists once per process: a worker's
// rx/tx sees the ports and pool that the main thread set up.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_memzone.h>
#include <rte_ring.h>
#include <rte_spinlock.h>

#include "kernel-iface.h"
#include "packet-rings.h"

namespace nat64 {

// src/dataplane/abi.ts
constexpr unsigned kBurst = 32;
constexpr unsigned kRxStride = 4;
constexpr unsigned kVerdictStride = 4;
enum Action : int32_t { kDrop = 0, kTx = 1, kHandoff = 2, kHold = 3 };

constexpr unsigned kMaxShards = 64;
constexpr unsigned kHandoffRingSize = 4096;

// The single mbuf pool and the one virtually contiguous block ("arena") it lives in.
struct Arena {
  rte_mempool *pool = nullptr;
  const rte_memzone *zone = nullptr;
  uint8_t *base = nullptr;
  size_t len = 0;
  // Arena offset of the first rte_mbuf and distance between consecutive ones: a handle is valid
  // iff it is first + k * stride for k < count.
  size_t firstMbuf = 0;
  size_t stride = 0;
  uint32_t count = 0;
  uint32_t dataStart = 0;  // rte_mbuf -> buf_addr
  uint32_t bufLen = 0;
};

// What the receive path does about TCP/UDP checksums (checksum.h, docs/design.md "Checksum offloads").
enum class RxChecksum : uint8_t {
  kOff,     // frames carry complete checksums (a wire, a TAP whose kernel side finishes them)
  kDevice,  // the PMD reports RTE_MBUF_F_RX_L4_CKSUM_*: BAD is dropped, NONE (partial) finished
  kDetect,  // the PMD drops the kernel's signal (af_packet, AF_XDP): partial sums found in software
};

struct Port {
  bool probed = false;
  std::atomic<bool> started{false};
  uint16_t rxQueues = 0;
  uint16_t txQueues = 0;
  uint16_t mtu = 0;  // as configured (what the translated packets are sized for)
  RxChecksum rxChecksum = RxChecksum::kOff;
  // TCP and UDP TX checksum offloads are on: partial frames leave for the device to finish.
  bool txL4Offload = false;
  uint64_t rxOffloads = 0, txOffloads = 0;  // enabled in rte_eth_conf (port display)
  KernelIface kernel;  // net_af_packet: the Linux interface behind it (kernel-iface.h)
  PacketRings rings;   // net_af_packet: its sockets' ring drops, added to imissed (packet-rings.h)
  // One lock per tx queue, taken only when more shards than tx queues share them.
  std::unique_ptr<rte_spinlock_t[]> txLocks;
};

struct RxPair {
  uint16_t port;
  uint16_t queue;
};

struct alignas(RTE_CACHE_LINE_SIZE) ShardStatsNative {
  std::atomic<uint64_t> rxPackets{0}, txPackets{0}, txDropped{0}, handoffOut{0}, handoffDropped{0},
      allocFailed{0}, rxMultiSegDropped{0}, txInvalid{0},
      // Checksum offloads (checksum.h): partial frames flagged by the device or found in software,
      // frames the device called corrupt, and how partial checksums were finished.
      checksumPartialFlagged{0}, checksumPartialDetected{0}, checksumBadDropped{0}, checksumCompleted{0},
      checksumOffloaded{0};
};

struct Shard {
  unsigned index = 0;
  rte_ring *handoff = nullptr;  // multi-producer (any shard), single consumer (this one)
  std::vector<RxPair> rxPairs;
  unsigned nextPair = 0;
  // The burst handed to JS by the last rx(): JS reads rxDesc and writes verdict.
  alignas(RTE_CACHE_LINE_SIZE) uint32_t rxDesc[kBurst * kRxStride] = {};
  alignas(RTE_CACHE_LINE_SIZE) int32_t verdict[kBurst * kVerdictStride] = {};
  rte_mbuf *burst[kBurst] = {};
  unsigned burstCount = 0;
  // Per-destination batches built by tx(); sized for one burst so tx() never allocates.
  rte_mbuf *txBatch[RTE_MAX_ETHPORTS][kBurst];
  uint16_t txBatchCount[RTE_MAX_ETHPORTS] = {};
  uint16_t txTouched[kBurst];
  rte_mbuf *handoffBatch[kMaxShards][kBurst];
  uint16_t handoffBatchCount[kMaxShards] = {};
  uint16_t handoffTouched[kBurst];
  rte_mbuf *freeBatch[kBurst];
  ShardStatsNative stats;
};

struct State {
  enum class Phase { kFresh, kReady, kShutDown };
  std::atomic<Phase> phase{Phase::kFresh};
  Arena arena;
  Port ports[RTE_MAX_ETHPORTS];
  unsigned shardCount = 0;  // the `shards` every shardCreate agreed on
  // Dynamic mbuf flag (rte_mbuf_dynflag_register): this frame's TCP/UDP checksum is partial and is
  // finished when it is transmitted, from the headers it has then. 0 until the arena exists.
  uint64_t partialFlag = 0;
  // Smallest MTU of the started ports: a partial frame that translation might fragment is finished
  // on receive instead (fragments cannot be finished by a device).
  std::atomic<uint32_t> minMtu{0};
  std::unique_ptr<Shard> shards[kMaxShards];
};

State &state();

// Throwing guards for the control path.
void requireReady();
void requireArena();
Port &requirePort(uint32_t portId);
Shard &requireShard(uint32_t shard);

}  // namespace nat64
