#include "prefetch.h"

#include <rte_prefetch.h>

#include "state.h"

namespace nat64 {

namespace {

constexpr int32_t kNone = INT32_MIN;
constexpr size_t kLineWords = 16;  // 64-byte entries, one per way

struct Plan {
  const int32_t *t[2] = {nullptr, nullptr};
  size_t words[2] = {0, 0};
  const int32_t *list = nullptr;
  size_t listLen = 0;
  unsigned ways = 0;
};

Plan plans[kMaxShards];

struct MissTable {
  const uint8_t *base = nullptr;
  size_t elementBytes = 0;
  size_t length = 0;
};

struct MissPlan {
  MissTable t[kMissTables];
  const int32_t *list = nullptr;
  size_t pairs = 0;
};

MissPlan missPlans[kMaxShards];

}  // namespace

void prefetchRegister(uint32_t shard, const int32_t *t0, size_t words0, const int32_t *t1, size_t words1,
                      const int32_t *list, size_t listLen, unsigned ways) {
  Plan &p = plans[shard];
  p.t[0] = t0; p.words[0] = words0;
  p.t[1] = t1; p.words[1] = words1;
  p.list = list; p.listLen = listLen;
  p.ways = ways;
}

void prefetchSets(uint32_t shard, unsigned n) {
  if (shard >= kMaxShards) return;
  const Plan &p = plans[shard];
  const unsigned ways = p.ways;
  if (p.list == nullptr) return;
  if (n > p.listLen) n = static_cast<unsigned>(p.listLen);
  for (unsigned i = 0; i < n; i++) {
    int32_t e = p.list[i];
    if (e == kNone) continue;
    int k = e >= 0 ? 0 : 1;
    size_t w = e >= 0 ? static_cast<size_t>(e) : static_cast<size_t>(-1 - static_cast<int64_t>(e));
    if (w + ways * kLineWords > p.words[k]) continue;
    for (unsigned j = 0; j < ways; j++) rte_prefetch0(p.t[k] + w + j * kLineWords);
  }
}

void missPrefetchRegister(uint32_t shard, unsigned table, const void *base, size_t elementBytes, size_t length) {
  if (shard >= kMaxShards || table >= kMissTables) return;
  MissTable &t = missPlans[shard].t[table];
  t.base = static_cast<const uint8_t *>(base);
  t.elementBytes = elementBytes;
  t.length = length;
}

void missPrefetchList(uint32_t shard, const int32_t *list, size_t pairs) {
  if (shard >= kMaxShards) return;
  missPlans[shard].list = list;
  missPlans[shard].pairs = pairs;
}

void missPrefetch(uint32_t shard, unsigned n) {
  if (shard >= kMaxShards) return;
  const MissPlan &p = missPlans[shard];
  if (p.list == nullptr) return;
  if (n > p.pairs) n = static_cast<unsigned>(p.pairs);
  for (unsigned i = 0; i < n; i++) {
    uint32_t k = static_cast<uint32_t>(p.list[2 * i]);
    uint32_t e = static_cast<uint32_t>(p.list[2 * i + 1]);
    if (k >= kMissTables) continue;
    const MissTable &t = p.t[k];
    if (e >= t.length) continue;
    rte_prefetch0(t.base + static_cast<size_t>(e) * t.elementBytes);
  }
}

}  // namespace nat64
