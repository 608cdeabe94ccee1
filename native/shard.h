#pragma once

#include <cstdint>
#include <vector>

#include "state.h"

namespace nat64 {

// Control path (main thread).
void shardCreate(uint32_t shard, uint32_t shards, const std::vector<RxPair> &rxPairs);
void shardsFree();
// Worker thread: registers the thread with EAL (per-lcore mempool cache). Returns the lcore id, or
// -1 when registration failed and the thread runs without a cache.
int threadRegister();
void threadUnregister();

// Fast path (the shard's worker thread): never throws, never allocates.
unsigned shardRx(Shard &s);
// Applies verdicts [0, n) to the last burst; n is clamped to the burst size by the caller.
void shardTx(Shard &s, unsigned n);
bool shardSend(Shard &s, uint16_t portId, rte_mbuf *m, uint32_t data, uint32_t len);
int64_t shardAlloc(Shard &s);

// Arena handle <-> mbuf, nullptr when the offset is not an mbuf boundary of the arena.
rte_mbuf *mbufFromHandle(uint32_t handle);

}  // namespace nat64
