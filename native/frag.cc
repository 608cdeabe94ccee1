// Reassembly of IPv4 and IPv6 fragments for the shards, on librte_ip_frag. The library keeps the
// fragments of a datagram as mbufs in a per-shard table and chains them when the datagram is
// complete; the shards only see single-segment frames (the arena view), so the chain is copied
// into one fresh mbuf and queued on the shard's own hand-off ring: the next rx() hands it to JS,
// which classifies it by its ports like any packet. Translation policy stays in JS; this file only
// answers "held / complete / dropped because ...".
#include "frag.h"

#include <atomic>
#include <cstring>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_ip_frag.h>
#include <rte_memory.h>

namespace nat64 {

namespace {

constexpr uint32_t kL2 = RTE_ETHER_HDR_LEN;
constexpr uint32_t kIpv6Hdr = 40;
constexpr uint32_t kFragHdr = 8;
constexpr uint8_t kProtoFragment = 44;
// Entries per hash bucket (the table is 2-way bucketed: a datagram may live in either of 2 buckets).
constexpr uint32_t kBucketEntries = 4;

std::atomic<uint32_t> gMaxFlows{FragLimits{}.maxFlows};
std::atomic<uint32_t> gTimeoutMs{FragLimits{}.timeoutMs};

struct FragShard {
  const Shard *owner = nullptr;
  rte_ip_frag_tbl *tbl = nullptr;
  bool createFailed = false;
  // Fragments freed because their datagram timed out, not yet reported by fragExpire.
  uint32_t timeoutFreed = 0;
  rte_ip_frag_death_row dr;
};

FragShard gFrag[kMaxShards];

// The shard's table, created on its first fragment with the limits of that moment.
FragShard *tableOf(Shard &s) {
  FragShard &f = gFrag[s.index];
  if (f.owner != &s) {
    // A shard object we have not seen (first use, or shards re-created): start afresh. A table of
    // an earlier shard object lives in EAL memory that shutdown releases.
    f.owner = &s;
    f.tbl = nullptr;
    f.createFailed = false;
    f.timeoutFreed = 0;
    f.dr.cnt = 0;
  }
  if (!f.tbl && !f.createFailed) {
    uint32_t flows = gMaxFlows.load(std::memory_order_relaxed);
    uint64_t cycles = rte_get_tsc_hz() * gTimeoutMs.load(std::memory_order_relaxed) / 1000;
    f.tbl = rte_ip_frag_table_create(flows, kBucketEntries, flows, cycles, SOCKET_ID_ANY);
    f.createFailed = f.tbl == nullptr;
  }
  return f.tbl ? &f : nullptr;
}

// Is `m` among the mbufs (chains included) put on death row since index `from`?
bool onDeathRow(const rte_ip_frag_death_row &dr, uint32_t from, const rte_mbuf *m) {
  for (uint32_t i = from; i < dr.cnt; i++)
    for (const rte_mbuf *seg = dr.row[i]; seg; seg = seg->next)
      if (seg == m) return true;
  return false;
}

// Copies a reassembled chain into one fresh mbuf (headroom kept for translation), restores the
// headers JS expects, and queues it on the shard's own hand-off ring.
//  IPv4: the library zeroed the header checksum; it is computed again (the core verifies it).
//  IPv6: the library removed the Fragment Header; an atomic one (offset 0, M 0) with the original
//  Identification is put back, so the translator applies RFC 7915 §5.1.1 to the whole datagram:
//  DF 0 and the Identification from the fragments, and may fragment it again for IPv4.
int32_t deliver(Shard &s, rte_mbuf *head, uint32_t family, rte_be32_t fragId) {
  const uint32_t total = head->pkt_len;
  const uint32_t extra = family == 6 ? kFragHdr : 0;
  if (RTE_PKTMBUF_HEADROOM + total + extra > state().arena.bufLen) {
    rte_pktmbuf_free(head);
    return kFragTooBig;
  }
  rte_mbuf *n = rte_pktmbuf_alloc(state().arena.pool);
  if (!n) {
    rte_pktmbuf_free(head);
    return kFragNoBuffer;
  }
  uint8_t *dst = rte_pktmbuf_mtod(n, uint8_t *);
  uint32_t at = extra;
  for (const rte_mbuf *seg = head; seg; seg = seg->next) {
    std::memcpy(dst + at, rte_pktmbuf_mtod(seg, const uint8_t *), seg->data_len);
    at += seg->data_len;
  }
  if (family == 4) {
    auto *ip = reinterpret_cast<rte_ipv4_hdr *>(dst + kL2);
    ip->hdr_checksum = 0;
    ip->hdr_checksum = rte_ipv4_cksum(ip);
  } else {
    std::memmove(dst, dst + kFragHdr, kL2 + kIpv6Hdr);
    auto *ip = reinterpret_cast<rte_ipv6_hdr *>(dst + kL2);
    auto *fh = reinterpret_cast<rte_ipv6_fragment_ext *>(dst + kL2 + kIpv6Hdr);
    fh->next_header = ip->proto;
    fh->reserved = 0;
    fh->frag_data = 0;
    fh->id = fragId;
    ip->proto = kProtoFragment;
    ip->payload_len = rte_cpu_to_be_16(static_cast<uint16_t>(rte_be_to_cpu_16(ip->payload_len) + kFragHdr));
  }
  n->data_len = static_cast<uint16_t>(total + extra);
  n->pkt_len = total + extra;
  n->port = head->port;
  rte_pktmbuf_free(head);
  if (rte_ring_mp_enqueue(s.handoff, n) != 0) {
    rte_pktmbuf_free(n);
    return kFragRingFull;
  }
  return kFragReassembled;
}

// Checks one fragment and hands it to the library; returns the library's result mbuf (or null)
// or sets `early` to a drop reason found before the library saw it.
rte_mbuf *submit(FragShard &f, rte_mbuf *m, uint32_t family, uint64_t now, rte_be32_t &fragId, int32_t &early) {
  uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
  const uint32_t len = m->data_len;
  m->l2_len = kL2;
  if (family == 4) {
    if (len < kL2 + sizeof(rte_ipv4_hdr)) { early = kFragUnsupported; return nullptr; }
    auto *ip = reinterpret_cast<rte_ipv4_hdr *>(frame + kL2);
    const uint32_t ihl = rte_ipv4_hdr_len(ip);
    const uint32_t totalLen = rte_be_to_cpu_16(ip->total_length);
    if ((ip->version_ihl >> 4) != 4 || ihl < sizeof(rte_ipv4_hdr) || totalLen < ihl || kL2 + totalLen > len) {
      early = kFragUnsupported;
      return nullptr;
    }
    const uint32_t offset = (rte_be_to_cpu_16(ip->fragment_offset) & RTE_IPV4_HDR_OFFSET_MASK) * 8;
    // Bad header checksum, empty fragment, or a datagram beyond 64 KiB (RFC 791): invalid.
    if (rte_raw_cksum(ip, ihl) != 0xffff || totalLen == ihl || offset + totalLen > UINT16_MAX) {
      early = kFragInvalid;
      return nullptr;
    }
    m->data_len = static_cast<uint16_t>(kL2 + totalLen);  // Ethernet padding off
    m->pkt_len = kL2 + totalLen;
    m->l3_len = ihl;
    return rte_ipv4_frag_reassemble_packet(f.tbl, &f.dr, m, now, ip);
  }
  if (len < kL2 + kIpv6Hdr + kFragHdr) { early = kFragUnsupported; return nullptr; }
  auto *ip = reinterpret_cast<rte_ipv6_hdr *>(frame + kL2);
  const uint32_t payload = rte_be_to_cpu_16(ip->payload_len);
  // librte_ip_frag handles a Fragment Header right after the IPv6 header only (what hosts send).
  if ((ip->vtc_flow & rte_cpu_to_be_32(0xf0000000)) != rte_cpu_to_be_32(0x60000000) || ip->proto != kProtoFragment ||
      payload < kFragHdr || kL2 + kIpv6Hdr + payload > len) {
    early = kFragUnsupported;
    return nullptr;
  }
  auto *fh = reinterpret_cast<rte_ipv6_fragment_ext *>(frame + kL2 + kIpv6Hdr);
  const uint32_t offset = (rte_be_to_cpu_16(fh->frag_data) >> 3) * 8;
  if (payload == kFragHdr || offset + payload - kFragHdr > UINT16_MAX) {
    early = kFragInvalid;
    return nullptr;
  }
  fragId = fh->id;
  m->data_len = static_cast<uint16_t>(kL2 + kIpv6Hdr + payload);
  m->pkt_len = kL2 + kIpv6Hdr + payload;
  m->l3_len = kIpv6Hdr + kFragHdr;
  return rte_ipv6_frag_reassemble_packet(f.tbl, &f.dr, m, now, ip, fh);
}

}  // namespace

void fragConfigure(const FragLimits &limits) {
  gMaxFlows.store(limits.maxFlows, std::memory_order_relaxed);
  gTimeoutMs.store(limits.timeoutMs, std::memory_order_relaxed);
}

FragLimits fragLimits() {
  FragLimits l;
  l.maxFlows = gMaxFlows.load(std::memory_order_relaxed);
  l.timeoutMs = gTimeoutMs.load(std::memory_order_relaxed);
  return l;
}

int32_t fragReassemble(Shard &s, rte_mbuf *m, uint32_t family) {
  FragShard *f = tableOf(s);
  if (!f) {
    rte_pktmbuf_free(m);
    return kFragTableFull;
  }
  const uint32_t before = f->dr.cnt;
  rte_be32_t fragId = 0;
  int32_t early = kFragHeld;
  rte_mbuf *done = submit(*f, m, family, rte_get_tsc_cycles(), fragId, early);
  int32_t r;
  if (early != kFragHeld) {
    rte_pktmbuf_free(m);
    r = early;
  } else if (done) {
    f->timeoutFreed += f->dr.cnt - before;  // stale datagrams evicted on the way
    r = deliver(s, done, family, fragId);
  } else if (onDeathRow(f->dr, before, m)) {
    // Alone on death row: the library found no entry for it. With others: its datagram was invalid.
    r = f->dr.cnt - before == 1 && f->dr.row[before] == m ? kFragTableFull : kFragInvalid;
  } else {
    f->timeoutFreed += f->dr.cnt - before;
    r = kFragHeld;
  }
  if (f->dr.cnt) rte_ip_frag_free_death_row(&f->dr, 0);
  return r;
}

uint32_t fragExpire(Shard &s) {
  FragShard &f = gFrag[s.index];
  if (f.owner != &s || !f.tbl) return 0;
  const uint32_t before = f.dr.cnt;
  rte_ip_frag_table_del_expired_entries(f.tbl, &f.dr, rte_get_tsc_cycles());
  f.timeoutFreed += f.dr.cnt - before;
  if (f.dr.cnt) rte_ip_frag_free_death_row(&f.dr, 0);
  uint32_t n = f.timeoutFreed;
  f.timeoutFreed = 0;
  return n;
}

}  // namespace nat64
