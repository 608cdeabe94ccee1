// The fast path: rx/tx/send/alloc/free on a shard's own worker thread. No allocation, no throw;
// every packet freed here bumps exactly one ShardStatsNative counter (unless the verdict was DROP,
// which JS has already counted).
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "checksum.h"
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
  // Receive-side flags (RSS hash, VLAN stripped...) mean nothing for the frame JS rewrote; only
  // our own "checksum still partial" mark travels on to finishChecksum().
  m->ol_flags &= state().partialFlag;
  return true;
}

// A partial frame may leave its checksum for transmit only if no translation of it can be
// fragmented (a fragment's checksum cannot be finished) or answered with Packet Too Big: its
// largest translation must fit the smallest port MTU. That is the IPv6 form of the segment: an
// IPv6 frame's own (6->4 shrinks it; hairpinning brings it back to IPv6), an IPv4 frame's plus an
// IPv6 Fragment Header when DF is clear, which RFC 7915 §4.1 also fragments to lowest-ipv6-mtu
// (at least 1280).
constexpr uint32_t kIpv6Header = 40, kFragmentHeader = 8, kIpv6MinMtu = 1280;

inline bool mayDefer(const uint8_t *f, const L4Where &w) {
  bool df = w.family == 6 || (f[w.l3 + 6] & 0x40) != 0;
  uint32_t need = w.l4len + kIpv6Header + (df ? 0 : kFragmentHeader);
  if (need > state().minMtu.load(std::memory_order_relaxed)) return false;
  return df || need <= kIpv6MinMtu;
}

// Receive side of checksum offloads (checksum.h). Returns false when the frame is to be dropped.
inline bool checkChecksum(Shard &s, const Port &p, rte_mbuf *m) {
  if (p.rxChecksum == RxChecksum::kOff) return true;
  uint8_t *f = rte_pktmbuf_mtod(m, uint8_t *);
  L4Where w;
  if (p.rxChecksum == RxChecksum::kDevice) {
    uint64_t fl = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;
    if (fl == RTE_MBUF_F_RX_L4_CKSUM_BAD) {
      bump(s.stats.checksumBadDropped);
      return false;
    }
    // NONE: "the checksum in the packet is not correct but the data is" (virtio NEEDS_CSUM).
    if (fl != RTE_MBUF_F_RX_L4_CKSUM_NONE || !l4Locate(f, m->data_len, w)) return true;
    bump(s.stats.checksumPartialFlagged);
  } else {
    if (!l4Locate(f, m->data_len, w) || l4Classify(f, w) != L4Sum::kPartial) return true;
    bump(s.stats.checksumPartialDetected);
  }
  if (mayDefer(f, w)) {
    m->ol_flags |= state().partialFlag;
  } else {
    l4Complete(f, w);
    bump(s.stats.checksumCompleted);
  }
  return true;
}

// Transmit side: a frame still marked partial is finished from the headers it leaves with, by the
// port's TX checksum offload when it has one, in software otherwise. A frame that is no longer
// TCP/UDP (an ICMP error built around it) has nothing to finish.
inline void finishChecksum(Shard &s, uint16_t portId, rte_mbuf *m) {
  const uint64_t flag = state().partialFlag;
  if (!(m->ol_flags & flag)) return;
  m->ol_flags &= ~flag;
  uint8_t *f = rte_pktmbuf_mtod(m, uint8_t *);
  L4Where w;
  if (!l4Locate(f, m->data_len, w)) return;
  if (state().ports[portId].txL4Offload) {
    l4PrepareOffload(f, w);
    m->l2_len = w.l3;
    m->l3_len = static_cast<uint16_t>(w.l4 - w.l3);
    m->ol_flags |= (w.family == 4 ? RTE_MBUF_F_TX_IPV4 : RTE_MBUF_F_TX_IPV6) |
                   (w.proto == 6 ? RTE_MBUF_F_TX_TCP_CKSUM : RTE_MBUF_F_TX_UDP_CKSUM);
    bump(s.stats.checksumOffloaded);
  } else {
    l4Complete(f, w);
    bump(s.stats.checksumCompleted);
  }
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
  State &st = state();
  // A burst JS never gave verdicts for: free it rather than leak it.
  if (s.burstCount != 0) {
    rte_pktmbuf_free_bulk(s.burst, s.burstCount);
    bump(s.stats.txInvalid, s.burstCount);
    s.burstCount = 0;
  }
  // Hand-offs first: they already waited one hop.
  unsigned n = rte_ring_sc_dequeue_burst(s.handoff, reinterpret_cast<void **>(s.burst), kBurst, nullptr);
  // Hand-offs were checked by the shard that received them from their port.
  const unsigned handedOff = n;
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
    if (i >= handedOff && !checkChecksum(s, st.ports[m->port], m)) {
      rte_pktmbuf_free(m);
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
        finishChecksum(s, static_cast<uint16_t>(param), m);
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
  finishChecksum(s, portId, m);
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
