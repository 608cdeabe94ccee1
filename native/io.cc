// The fast path: rx/tx/send/alloc/free on a shard's own worker thread. No allocation, no throw;
// every packet freed here bumps exactly one ShardStatsNative counter (unless the verdict was DROP,
// which JS has already counted).
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "shard.h"

namespace nat64 {

namespace {

inline void bump(std::atomic<uint64_t> &c, uint64_t n = 1) {
  // One writer per shard: a relaxed load+store avoids a locked add; readers only sum.
  c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

inline uint32_t arenaOffset(const void *p) {
  return static_cast<uint32_t>(static_cast<const uint8_t *>(p) - state().arena.base);
}

inline bool portUsable(uint32_t port) {
  return port < RTE_MAX_ETHPORTS && state().ports[port].started.load(std::memory_order_acquire);
}

// Points the mbuf's single segment at [data, data+len) of its own buffer (abi.ts V_DATA/V_LEN).
inline bool setFrame(rte_mbuf *m, uint32_t data, uint32_t len) {
  const Arena &a = state().arena;
  uint32_t bufStart = arenaOffset(m) + a.dataStart;
  if (data < bufStart || len == 0) return false;
  uint32_t off = data - bufStart;
  if (off > a.bufLen || len > a.bufLen - off) return false;
  m->data_off = static_cast<uint16_t>(off);
  m->data_len = static_cast<uint16_t>(len);
  m->pkt_len = len;
  // Receive-side flags (RSS hash, VLAN stripped...) mean nothing for the frame JS rewrote.
  m->ol_flags = 0;
  return true;
}

// tx_burst on the shard's queue of this port; returns how many the driver took.
inline uint16_t txBurst(const Shard &s, uint16_t portId, rte_mbuf **pkts, uint16_t n) {
  Port &p = state().ports[portId];
  uint16_t q = static_cast<uint16_t>(s.index % p.txQueues);
  // Shards beyond the queue count share queues; tx_burst is not thread-safe on one queue.
  bool shared = state().shardCount > p.txQueues;
  if (shared) rte_spinlock_lock(&p.txLocks[q]);
  uint16_t sent = rte_eth_tx_burst(portId, q, pkts, n);
  if (shared) rte_spinlock_unlock(&p.txLocks[q]);
  return sent;
}

}  // namespace

rte_mbuf *mbufFromHandle(uint32_t handle) {
  const Arena &a = state().arena;
  if (handle < a.firstMbuf) return nullptr;
  size_t rel = handle - a.firstMbuf;
  if (rel % a.stride != 0 || rel / a.stride >= a.count) return nullptr;
  return reinterpret_cast<rte_mbuf *>(a.base + handle);
}

unsigned shardRx(Shard &s) {
  // A burst JS never gave verdicts for: free it rather than leak it.
  if (s.burstCount != 0) {
    rte_pktmbuf_free_bulk(s.burst, s.burstCount);
    bump(s.stats.txInvalid, s.burstCount);
    s.burstCount = 0;
  }
  // Hand-offs first: they already waited one hop.
  unsigned n = rte_ring_sc_dequeue_burst(s.handoff, reinterpret_cast<void **>(s.burst), kBurst, nullptr);
  unsigned pairs = static_cast<unsigned>(s.rxPairs.size());
  for (unsigned k = 0; k < pairs && n < kBurst; k++) {
    const RxPair &rp = s.rxPairs[(s.nextPair + k) % pairs];
    if (!portUsable(rp.port)) continue;
    uint16_t got = rte_eth_rx_burst(rp.port, rp.queue, s.burst + n, static_cast<uint16_t>(kBurst - n));
    // Some vdevs (net_ring) pass mbufs through without stamping the input port; RX_PORT must be right.
    for (unsigned i = n; i < n + got; i++) s.burst[i]->port = rp.port;
    n += got;
  }
  // Start with the next queue next time so one busy queue cannot starve the others.
  if (pairs) s.nextPair = (s.nextPair + 1) % pairs;

  unsigned out = 0;
  for (unsigned i = 0; i < n; i++) {
    rte_mbuf *m = s.burst[i];
    if (m->nb_segs != 1) {
      // Rx scatter is off and MTU fits one mbuf, so chains should not occur; JS sees one segment.
      rte_pktmbuf_free(m);
      bump(s.stats.rxMultiSegDropped);
      continue;
    }
    uint32_t *d = s.rxDesc + out * kRxStride;
    d[0] = arenaOffset(rte_pktmbuf_mtod(m, void *));
    d[1] = m->data_len;
    d[2] = m->port;
    d[3] = arenaOffset(m);
    s.burst[out++] = m;
  }
  s.burstCount = out;
  bump(s.stats.rxPackets, out);
  return out;
}

void shardTx(Shard &s, unsigned n) {
  State &st = state();
  unsigned count = s.burstCount;
  unsigned nTxPorts = 0, nHandoff = 0, nFree = 0;
  for (unsigned i = 0; i < count; i++) {
    rte_mbuf *m = s.burst[i];
    const int32_t *v = s.verdict + i * kVerdictStride;
    int32_t action = i < n ? v[0] : -1;  // no verdict: treated as invalid
    uint32_t param = static_cast<uint32_t>(v[1]);
    switch (action) {
      case kDrop:
        s.freeBatch[nFree++] = m;
        break;
      case kTx:
        if (!portUsable(param) || !setFrame(m, static_cast<uint32_t>(v[2]), static_cast<uint32_t>(v[3]))) {
          s.freeBatch[nFree++] = m;
          bump(s.stats.txInvalid);
          break;
        }
        if (s.txBatchCount[param] == 0) s.txTouched[nTxPorts++] = static_cast<uint16_t>(param);
        s.txBatch[param][s.txBatchCount[param]++] = m;
        break;
      case kHandoff:
        // V_LEN != 0: the frame moved (a hairpinned packet is handed on after translation).
        if (param >= st.shardCount || !st.shards[param] ||
            (v[3] != 0 && !setFrame(m, static_cast<uint32_t>(v[2]), static_cast<uint32_t>(v[3])))) {
          s.freeBatch[nFree++] = m;
          bump(s.stats.txInvalid);
          break;
        }
        if (s.handoffBatchCount[param] == 0) s.handoffTouched[nHandoff++] = static_cast<uint16_t>(param);
        s.handoffBatch[param][s.handoffBatchCount[param]++] = m;
        break;
      case kHold:
        break;  // JS keeps the handle and later calls send() or free()
      default:
        s.freeBatch[nFree++] = m;
        bump(s.stats.txInvalid);
        break;
    }
  }
  s.burstCount = 0;

  for (unsigned k = 0; k < nTxPorts; k++) {
    uint16_t port = s.txTouched[k];
    uint16_t cnt = s.txBatchCount[port];
    uint16_t sent = txBurst(s, port, s.txBatch[port], cnt);
    bump(s.stats.txPackets, sent);
    if (sent < cnt) {
      rte_pktmbuf_free_bulk(s.txBatch[port] + sent, cnt - sent);
      bump(s.stats.txDropped, cnt - sent);
    }
    s.txBatchCount[port] = 0;
  }
  for (unsigned k = 0; k < nHandoff; k++) {
    uint16_t to = s.handoffTouched[k];
    unsigned cnt = s.handoffBatchCount[to];
    unsigned queued = rte_ring_mp_enqueue_burst(st.shards[to]->handoff, reinterpret_cast<void **>(s.handoffBatch[to]), cnt, nullptr);
    bump(s.stats.handoffOut, queued);
    if (queued < cnt) {
      rte_pktmbuf_free_bulk(s.handoffBatch[to] + queued, cnt - queued);
      bump(s.stats.handoffDropped, cnt - queued);
    }
    s.handoffBatchCount[to] = 0;
  }
  if (nFree) rte_pktmbuf_free_bulk(s.freeBatch, nFree);
}

bool shardSend(Shard &s, uint16_t portId, rte_mbuf *m, uint32_t data, uint32_t len) {
  if (!portUsable(portId) || !setFrame(m, data, len)) {
    rte_pktmbuf_free(m);
    bump(s.stats.txInvalid);
    return false;
  }
  if (txBurst(s, portId, &m, 1) == 1) {
    bump(s.stats.txPackets);
    return true;
  }
  rte_pktmbuf_free(m);
  bump(s.stats.txDropped);
  return false;
}

int64_t shardAlloc(Shard &s) {
  rte_mbuf *m = rte_pktmbuf_alloc(state().arena.pool);
  if (!m) {
    bump(s.stats.allocFailed);
    return -1;
  }
  return arenaOffset(m);
}

}  // namespace nat64
