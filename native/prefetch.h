// Prefetch of the flow-cache lines a shard's burst will look up (see src/dataplane/flow-cache.ts).
#pragma once

#include <cstddef>
#include <cstdint>

namespace nat64 {

// The shard's two entry tables and its per-burst list of set offsets (Int32 words: >= 0 a set of
// the first table, -1 - offset a set of the second, INT32_MIN nothing), registered once by the
// shard's worker. The memory belongs to that worker's V8 heap: it stays valid while the worker's
// flow cache lives, and a restarted worker registers its own. A stale pointer is harmless here:
// prefetch instructions never fault.
// `ways`: the lines (64-byte entries) of one set, the cache's associativity.
void prefetchRegister(uint32_t shard, const int32_t *t0, size_t words0, const int32_t *t1, size_t words1,
                      const int32_t *list, size_t listLen, unsigned ways);

// Issues non-blocking prefetches for every way of each set listed in [0, n). Fast path: never
// throws, never allocates; nothing registered -> nothing done.
void prefetchSets(uint32_t shard, unsigned n);

// The miss path's tables (src/dataplane/miss-prefetch.ts: BIB and session hash heads and records,
// last-use times, flow-cache back pointers), each as a base address, an element size and a length,
// and a per-burst list of (table index, element index) pairs. Registered once by the shard's
// worker, like the plan above (the tables live in shared memory or that worker's heap).
constexpr unsigned kMissTables = 12;
void missPrefetchRegister(uint32_t shard, unsigned table, const void *base, size_t elementBytes, size_t length);
void missPrefetchList(uint32_t shard, const int32_t *list, size_t pairs);

// Issues a non-blocking prefetch of the line of each listed element in [0, n) pairs. Fast path:
// never throws, never allocates; out-of-range pairs are skipped.
void missPrefetch(uint32_t shard, unsigned n);

}  // namespace nat64
