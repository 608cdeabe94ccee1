#include "mempool.h"

#include <algorithm>
#include <cstdio>
#include <string>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_mbuf_pool_ops.h>
#include <rte_memzone.h>

#include "errors.h"
#include "state.h"

namespace nat64 {

namespace {

constexpr const char *kPoolName = "nat64_mbufs";
constexpr const char *kZoneName = "nat64_arena";
constexpr unsigned kCacheSize = 256;

struct LayoutCheck {
  uintptr_t first = UINTPTR_MAX;
  uintptr_t last = 0;
  uint32_t count = 0;
};

void noteObject(rte_mempool *, void *arg, void *obj, unsigned) {
  auto *c = static_cast<LayoutCheck *>(arg);
  auto a = reinterpret_cast<uintptr_t>(obj);
  c->first = std::min(c->first, a);
  c->last = std::max(c->last, a);
  c->count++;
}

void destroy(rte_mempool *pool, const rte_memzone *zone) {
  if (pool) rte_mempool_free(pool);
  if (zone) rte_memzone_free(zone);
}

}  // namespace

void mempoolCreate(uint32_t nbMbufs, uint32_t dataRoomBytes) {
  requireReady();
  Arena &a = state().arena;
  if (a.pool) fail(code::kState, "the mbuf pool already exists (one pool per process)");
  if (nbMbufs < 64) fail(code::kArg, "mempoolCreate: need at least 64 mbufs, got " + std::to_string(nbMbufs));
  // Before any port can deliver a frame: the receive path marks partial-checksum frames with it.
  if (state().partialFlag == 0) {
    rte_mbuf_dynflag desc{};
    std::snprintf(desc.name, sizeof desc.name, "%s", "nat64_l4_partial_csum");
    int bit = rte_mbuf_dynflag_register(&desc);
    if (bit < 0) failDpdk(code::kMempool, "rte_mbuf_dynflag_register", rte_errno, desc.name);
    state().partialFlag = 1ULL << bit;
  }

  // Data room per mbuf = headroom + the largest frame one buffer holds (single-segment mbufs only:
  // the arena view in JS needs a packet to be contiguous). It bounds the MTU and the size of a
  // reassembled datagram.
  if (dataRoomBytes < 1024 || dataRoomBytes > 16384)
    fail(code::kArg, "mempoolCreate: data room must be 1024-16384 bytes, got " + std::to_string(dataRoomBytes));
  const uint16_t dataRoom = static_cast<uint16_t>(dataRoomBytes + RTE_PKTMBUF_HEADROOM);
  // rte_mempool_create_empty refuses a cache larger than n / 1.5.
  unsigned cache = std::min<unsigned>(kCacheSize, nbMbufs * 2 / 3);
  // RTE_MEMPOOL_F_NO_IOVA_CONTIG lets objects straddle page boundaries, so they sit at one constant
  // stride (handles are validated arithmetically) without holes. Safe for DMA only because the
  // whole arena is IOVA-contiguous (VA mode, or an IOVA_CONTIG memzone below).
  rte_mempool *pool = rte_mempool_create_empty(kPoolName, nbMbufs, sizeof(rte_mbuf) + dataRoom, cache,
                                               sizeof(rte_pktmbuf_pool_private), rte_socket_id(),
                                               RTE_MEMPOOL_F_NO_IOVA_CONTIG);
  if (!pool) failDpdk(code::kMempool, "rte_mempool_create_empty", rte_errno, std::to_string(nbMbufs) + " mbufs");

  int ret = rte_mempool_set_ops_byname(pool, rte_mbuf_best_mempool_ops(), nullptr);
  if (ret != 0) {
    destroy(pool, nullptr);
    failDpdk(code::kMempool, "rte_mempool_set_ops_byname", ret, rte_mbuf_best_mempool_ops());
  }
  rte_pktmbuf_pool_private priv{};
  priv.mbuf_data_room_size = dataRoom;
  priv.mbuf_priv_size = 0;
  rte_pktmbuf_pool_init(pool, &priv);

  // pg_shift 0: page boundaries do not matter (see the flag above).
  size_t minChunk = 0, align = 0;
  ssize_t size = rte_mempool_op_calc_mem_size_default(pool, nbMbufs, 0, &minChunk, &align);
  if (size < 0) {
    destroy(pool, nullptr);
    failDpdk(code::kMempool, "rte_mempool_op_calc_mem_size_default", static_cast<int>(size), "");
  }
  if (static_cast<size_t>(size) >= (size_t{1} << 31)) {
    destroy(pool, nullptr);
    fail(code::kArg, "mempoolCreate: " + std::to_string(nbMbufs) +
                         " mbufs need more than 2 GiB; arena offsets are 31-bit (abi.ts)");
  }
  // With --iova-mode=va every virtually contiguous block is IOVA-contiguous; in PA mode ask for it.
  unsigned zoneFlags = rte_eal_iova_mode() == RTE_IOVA_VA ? 0 : RTE_MEMZONE_IOVA_CONTIG;
  const rte_memzone *zone = rte_memzone_reserve_aligned(kZoneName, size, rte_socket_id(), zoneFlags,
                                                        std::max<size_t>(align, RTE_CACHE_LINE_SIZE));
  if (!zone) {
    int err = rte_errno;
    destroy(pool, nullptr);
    failDpdk(code::kMempool, "rte_memzone_reserve_aligned", err, std::to_string(size) + " bytes");
  }
  ret = rte_mempool_populate_iova(pool, static_cast<char *>(zone->addr), zone->iova, zone->len, nullptr, nullptr);
  if (ret < 0 || pool->populated_size != nbMbufs) {
    destroy(pool, zone);
    failDpdk(code::kMempool, "rte_mempool_populate_iova", ret < 0 ? ret : ENOSPC,
             std::to_string(ret) + " of " + std::to_string(nbMbufs) + " objects");
  }
  rte_mempool_obj_iter(pool, rte_pktmbuf_init, nullptr);

  LayoutCheck check;
  rte_mempool_obj_iter(pool, noteObject, &check);
  size_t stride = pool->header_size + pool->elt_size + pool->trailer_size;
  auto base = reinterpret_cast<uintptr_t>(zone->addr);
  if (check.count != nbMbufs || check.last - check.first != stride * (nbMbufs - 1) || check.first < base ||
      check.last + pool->elt_size > base + zone->len) {
    destroy(pool, zone);
    fail(code::kMempool, "rte_mempool_populate_iova placed objects unevenly in the arena");
  }

  a.pool = pool;
  a.zone = zone;
  a.base = static_cast<uint8_t *>(zone->addr);
  a.len = zone->len;
  a.firstMbuf = check.first - base;
  a.stride = stride;
  a.count = nbMbufs;
  auto *m0 = reinterpret_cast<rte_mbuf *>(check.first);
  a.dataStart = static_cast<uint32_t>(static_cast<uint8_t *>(m0->buf_addr) - reinterpret_cast<uint8_t *>(m0));
  a.bufLen = m0->buf_len;
}

void mempoolFree() {
  Arena &a = state().arena;
  destroy(a.pool, a.zone);
  a = Arena{};
}

void requireArena() {
  requireReady();
  if (!state().arena.pool) fail(code::kState, "no mbuf pool: call mempoolCreate first");
}

}  // namespace nat64
