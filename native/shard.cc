#include "shard.h"

#include <string>

#include <rte_errno.h>
#include <rte_lcore.h>

#include "errors.h"

namespace nat64 {

Shard &requireShard(uint32_t shard) {
  requireArena();
  if (shard >= kMaxShards || !state().shards[shard])
    fail(code::kArg, "shard " + std::to_string(shard) + " was not created (shardCreate)");
  return *state().shards[shard];
}

void shardCreate(uint32_t shard, uint32_t shards, const std::vector<RxPair> &rxPairs) {
  requireArena();
  State &st = state();
  if (shards == 0 || shards > kMaxShards)
    fail(code::kArg, "shards must be 1.." + std::to_string(kMaxShards) + ", got " + std::to_string(shards));
  if (shard >= shards) fail(code::kArg, "shard " + std::to_string(shard) + " >= shards " + std::to_string(shards));
  // Tx queue choice (shard % txQueues) and its locking depend on the shard count: one per process.
  if (st.shardCount != 0 && st.shardCount != shards)
    fail(code::kArg, "shards " + std::to_string(shards) + " differs from the " + std::to_string(st.shardCount) +
                         " earlier shards were created with");
  if (st.shards[shard]) fail(code::kState, "shard " + std::to_string(shard) + " already exists");
  for (const RxPair &rp : rxPairs) {
    Port &p = requirePort(rp.port);
    if (!p.started.load()) fail(code::kState, "port " + std::to_string(rp.port) + " is not started (portStart)");
    if (rp.queue >= p.rxQueues)
      fail(code::kArg, "port " + std::to_string(rp.port) + " has " + std::to_string(p.rxQueues) + " rx queues, not queue " +
                           std::to_string(rp.queue));
  }

  std::unique_ptr<Shard> s(new Shard());
  s->index = shard;
  s->rxPairs = rxPairs;
  std::string name = "nat64_handoff" + std::to_string(shard);
  // Any shard may hand a packet to this one (MP); only this shard's worker dequeues (SC).
  s->handoff = rte_ring_create(name.c_str(), kHandoffRingSize, rte_socket_id(), RING_F_SC_DEQ);
  if (!s->handoff) failDpdk(code::kRing, "rte_ring_create", rte_errno, name);
  st.shardCount = shards;
  st.shards[shard] = std::move(s);
}

void shardsFree() {
  State &st = state();
  for (auto &s : st.shards) {
    if (!s) continue;
    void *obj;
    while (rte_ring_dequeue(s->handoff, &obj) == 0) rte_pktmbuf_free(static_cast<rte_mbuf *>(obj));
    for (unsigned i = 0; i < s->burstCount; i++) rte_pktmbuf_free(s->burst[i]);
    rte_ring_free(s->handoff);
    s.reset();
  }
  st.shardCount = 0;
}

int threadRegister() {
  requireReady();
  // Already an lcore (the main thread, or a second attach from the same worker).
  unsigned id = rte_lcore_id();
  if (id != LCORE_ID_ANY) return static_cast<int>(id);
  if (rte_thread_register() != 0) return -1;
  return static_cast<int>(rte_lcore_id());
}

void threadUnregister() {
  if (state().phase.load() != State::Phase::kReady) return;
  unsigned id = rte_lcore_id();
  // Never the EAL main lcore: only threads registered by threadRegister are non-EAL lcores.
  if (id != LCORE_ID_ANY && rte_lcore_has_role(id, ROLE_NON_EAL) > 0) rte_thread_unregister();
}

}  // namespace nat64
