// Benchmark traffic generator: see gen.h. One native thread, two jobs in one loop: generate into
// the gen ports' rx rings, drain their tx rings. It never touches the shards: the translator sees
// the frames through rte_eth_rx_burst on an ordinary (ring-backed) ethdev, as it would from a NIC.
#include "gen.h"

#include <dlfcn.h>
#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <thread>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include <rte_ring.h>

#include "errors.h"
#include "state.h"

namespace nat64 {

namespace {

constexpr unsigned kGenBurst = 32;
constexpr unsigned kSinkBurst = 64;
constexpr unsigned kMaxGenPorts = 4;
constexpr unsigned kMaxGenQueues = 16;  // RTE_PMD_RING_MAX_RX_RINGS
// Bytes of the template written into every frame: the headers any translation rewrites lie
// within them; the rest of the data room stays zero (genZeroPool), like the template's payload.
constexpr unsigned kCopyBytes = 128;
// Frames generated per prefetch round in the inline (rx callback) generator.
constexpr unsigned kInlineChunk = 32;

struct GenPort {
  std::string name;
  uint16_t portId = 0;
  unsigned queues = 0;
  rte_ring *rx[kMaxGenQueues] = {};  // generator -> translator (the port's rx queues)
  rte_ring *tx[kMaxGenQueues] = {};  // translator -> sink (the port's tx queues)
};

struct Gen {
  GenPort ports[kMaxGenPorts];
  unsigned nPorts = 0;
  std::thread thread;
  std::atomic<bool> stop{false};
  std::atomic<bool> running{false};
  GenSpec spec;
  // Written by the generator thread, read by JS (relaxed: figures, not synchronisation).
  std::atomic<uint64_t> sent{0}, received{0}, missed{0}, allocFailed{0}, ringFull{0};
  std::atomic<uint64_t> firstTx{0}, lastTx{0}, lastRx{0};
  std::atomic<bool> generating{false};
  uint64_t startTsc = 0;
  std::unique_ptr<std::atomic<uint32_t>[]> hist{new std::atomic<uint32_t>[kGenHistBuckets]()};
};

Gen &gen() {
  static Gen g;
  return g;
}

using FromRings = int (*)(const char *, rte_ring *const[], unsigned, rte_ring *const[], unsigned, unsigned);

inline void put16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = v & 0xff; }
inline uint16_t get16(const uint8_t *p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
inline uint32_t fold(uint32_t s) {
  s = (s & 0xffff) + (s >> 16);
  return (s & 0xffff) + (s >> 16);
}
// RFC 1624 eqn. 3 with the old field zero: HC' = ~(~HC + m').
inline void adjust(uint8_t *csum, uint32_t add, bool udp) {
  uint16_t hc = static_cast<uint16_t>(~fold((static_cast<uint16_t>(~get16(csum)) & 0xffff) + fold(add)));
  if (udp && hc == 0) hc = 0xffff;
  put16(csum, hc);
}

inline uint64_t xorshift(uint64_t &x) {
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return x;
}

void bump(std::atomic<uint64_t> &c, uint64_t n) { c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }

// Free-running sink over every tx ring of every gen port.
void drain(Gen &g, double nsPerTick) {
  rte_mbuf *pkts[kSinkBurst];
  bool stamp = g.spec.stamp;
  for (unsigned p = 0; p < g.nPorts; p++) {
    GenPort &gp = g.ports[p];
    for (unsigned q = 0; q < gp.queues; q++) {
      unsigned n = rte_ring_sc_dequeue_burst(gp.tx[q], reinterpret_cast<void **>(pkts), kSinkBurst, nullptr);
      if (n == 0) continue;
      uint64_t now = rte_rdtsc();
      if (stamp) {
        for (unsigned i = 0; i < n; i++) {
          const uint8_t *end = rte_pktmbuf_mtod(pkts[i], const uint8_t *) + pkts[i]->data_len;
          uint64_t t = (uint64_t(get16(end - 6)) << 32) | (uint64_t(get16(end - 4)) << 16) | get16(end - 2);
          uint64_t dt = (now - t) & 0xffffffffffffULL;
          uint64_t b = static_cast<uint64_t>(static_cast<double>(dt) * nsPerTick / kGenHistNs);
          if (b >= kGenHistBuckets) b = kGenHistBuckets - 1;
          g.hist[b].store(g.hist[b].load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
        }
      }
      rte_pktmbuf_free_bulk(pkts, n);
      bump(g.received, n);
      g.lastRx.store(now - g.startTsc, std::memory_order_relaxed);
    }
  }
}

void fill(const GenSpec &s, rte_mbuf *m, uint32_t k, uint64_t tsc) {
  uint32_t len = static_cast<uint32_t>(s.tmpl.size());
  uint8_t *d = rte_pktmbuf_mtod(m, uint8_t *);
  std::memcpy(d, s.tmpl.data(), len < kCopyBytes ? len : kCopyBytes);
  m->data_len = static_cast<uint16_t>(len);
  m->pkt_len = len;
  uint32_t a = s.addr[k];
  uint16_t port = s.port[k];
  d[s.addrOff] = a >> 24; d[s.addrOff + 1] = (a >> 16) & 0xff; d[s.addrOff + 2] = (a >> 8) & 0xff; d[s.addrOff + 3] = a & 0xff;
  put16(d + s.portOff, port);
  uint32_t sum = (a >> 16) + (a & 0xffff) + port;
  if (s.stamp) {
    uint8_t *st = d + len - 6;
    put16(st, (tsc >> 32) & 0xffff); put16(st + 2, (tsc >> 16) & 0xffff); put16(st + 4, tsc & 0xffff);
    sum += ((tsc >> 32) & 0xffff) + ((tsc >> 16) & 0xffff) + (tsc & 0xffff);
  }
  if (s.ipCsumOff) adjust(d + s.ipCsumOff, (a >> 16) + (a & 0xffff), false);
  if (s.l4CsumOff) adjust(d + s.l4CsumOff, sum, s.udp);
}

void run(Gen &g) {
  const GenSpec &s = g.spec;
  if (s.cpu >= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(s.cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
  }
  bool registered = rte_thread_register() == 0;
  rte_mempool *pool = state().arena.pool;
  GenPort *gp = nullptr;
  for (unsigned p = 0; p < g.nPorts; p++)
    if (g.ports[p].portId == s.portId) gp = &g.ports[p];
  const double hz = static_cast<double>(rte_get_tsc_hz());
  const double nsPerTick = 1e9 / hz;
  const double ticksPerPkt = s.pps > 0 ? hz / s.pps : 0;
  const uint32_t nFlows = static_cast<uint32_t>(s.addr.size());
  uint64_t rnd = 0x9e3779b97f4a7c15ULL ^ s.seed;
  uint32_t seq = 0;
  uint64_t sent = 0;
  double next = static_cast<double>(rte_rdtsc());
  rte_mbuf *burst[kGenBurst];
  // Frames per queue not yet taken by a full ring (back-pressure mode keeps them and retries).
  rte_mbuf *pend[kMaxGenQueues][kGenBurst];
  unsigned pendN[kMaxGenQueues] = {}, pendAt[kMaxGenQueues] = {};
  unsigned pending = 0;
  unsigned fullSpins = 0;

  while (!g.stop.load(std::memory_order_relaxed)) {
    drain(g, nsPerTick);
    if (pending) {
      for (unsigned q = 0; q < gp->queues; q++) {
        if (pendN[q] == pendAt[q]) continue;
        unsigned n = rte_ring_sp_enqueue_burst(gp->rx[q], reinterpret_cast<void **>(pend[q] + pendAt[q]), pendN[q] - pendAt[q], nullptr);
        pendAt[q] += n;
        pending -= n;
        bump(g.sent, n);
        if (pendN[q] != pendAt[q]) bump(g.ringFull, 1);
      }
      if (pending) {
        // The translator is behind: on a shared core, give it the CPU rather than spin against it.
        if (++fullSpins > 64) { sched_yield(); fullSpins = 0; } else rte_pause();
        continue;
      }
      fullSpins = 0;
    }
    if (!g.generating.load(std::memory_order_relaxed)) continue;
    if (s.count && sent >= s.count) {
      g.generating.store(false, std::memory_order_relaxed);
      continue;
    }
    uint64_t now = rte_rdtsc();
    unsigned want = kGenBurst;
    if (ticksPerPkt > 0) {
      double t = static_cast<double>(now);
      if (t < next) continue;
      // Small bursts at low rates (latency), and no catching up after a stall.
      double due = (t - next) / ticksPerPkt + 1;
      want = due < kGenBurst ? static_cast<unsigned>(due) : kGenBurst;
      if (t - next > ticksPerPkt * kGenBurst) next = t - ticksPerPkt * kGenBurst;
    }
    if (s.count && sent + want > s.count) want = static_cast<unsigned>(s.count - sent);
    if (rte_pktmbuf_alloc_bulk(pool, burst, want) != 0) {
      bump(g.allocFailed, 1);
      continue;
    }
    if (sent == 0) g.firstTx.store(now - g.startTsc, std::memory_order_relaxed);
    for (unsigned q = 0; q < gp->queues; q++) pendN[q] = pendAt[q] = 0;
    for (unsigned i = 0; i < want; i++) {
      uint32_t k = s.random ? static_cast<uint32_t>(((xorshift(rnd) >> 32) * nFlows) >> 32) : seq;
      if (!s.random && ++seq == nFlows) seq = 0;
      fill(s, burst[i], k, now);
      unsigned q = s.queue[k];
      pend[q][pendN[q]++] = burst[i];
    }
    sent += want;
    next += ticksPerPkt * want;
    for (unsigned q = 0; q < gp->queues; q++) {
      if (pendN[q] == 0) continue;
      unsigned n = rte_ring_sp_enqueue_burst(gp->rx[q], reinterpret_cast<void **>(pend[q]), pendN[q], nullptr);
      bump(g.sent, n);
      pendAt[q] = n;
      if (n < pendN[q]) {
        if (ticksPerPkt > 0) {
          // Fixed rate: a full ring is the NIC's rx ring overflowing (imissed), counted as loss.
          rte_pktmbuf_free_bulk(pend[q] + n, pendN[q] - n);
          bump(g.missed, pendN[q] - n);
          pendAt[q] = pendN[q];
        } else {
          pending += pendN[q] - n;
          bump(g.ringFull, 1);
        }
      }
    }
    g.lastTx.store(rte_rdtsc() - g.startTsc, std::memory_order_relaxed);
  }
  for (unsigned q = 0; q < kMaxGenQueues; q++)
    if (pendN[q] > pendAt[q]) rte_pktmbuf_free_bulk(pend[q] + pendAt[q], pendN[q] - pendAt[q]);
  if (registered) rte_thread_unregister();
}


// ---- Inline mode: ethdev rx/tx callbacks on net_null ports, run by the shard's own thread ----
//
// net_null's rx_burst hands out fresh mbufs of the pool (no copy); the rx callback turns them into
// the template's frames (or frees them all while this port is not the one generating), so the
// translator's own rx() generates, as net_pcap's infinite replay does for testpmd. The tx callback
// on every queue counts what the translator sent and reads the stamps before net_null frees it.

struct InlineQueueState {
  std::vector<uint32_t> flows;  // flow indices this queue generates
  uint64_t count = 0, produced = 0;
  double next = 0;
  uint64_t rnd = 1;
  uint32_t seq = 0;
};

struct InlineCfg {
  GenSpec spec;
  double ticksPerPkt = 0;  // per queue
  std::atomic<bool> generating{true};
  InlineQueueState qs[kMaxGenQueues];
};

struct alignas(64) InlineCounters {
  std::atomic<uint64_t> sent{0}, received{0}, firstTx{UINT64_MAX}, lastTx{0}, lastRx{0};
  // TSC ticks spent making frames inside the shard's rx_burst (the bench subtracts them: a NIC
  // would not charge the translator's core for them, and they grow with the flow table's size).
  std::atomic<uint64_t> ticks{0};
  std::unique_ptr<std::atomic<uint32_t>[]> hist;
};

struct InlinePort {
  uint16_t portId = 0;
  unsigned queues = 0;
  std::atomic<InlineCfg *> cfg{nullptr};
  InlineCounters c[kMaxGenQueues];
};

struct Inline {
  InlinePort ports[kMaxGenPorts];
  unsigned nPorts = 0;
  std::atomic<bool> stamp{false};
  uint64_t startTsc = 0;
  double nsPerTick = 1;
  std::vector<std::unique_ptr<InlineCfg>> retired;
};

Inline &inl() {
  static Inline i;
  return i;
}

uint16_t inlineRx(uint16_t, uint16_t queue, rte_mbuf *pkts[], uint16_t nb, uint16_t, void *user) {
  InlinePort *ip = static_cast<InlinePort *>(user);
  InlineCfg *c = ip->cfg.load(std::memory_order_acquire);
  if (!c || !c->generating.load(std::memory_order_relaxed)) {
    if (nb) rte_pktmbuf_free_bulk(pkts, nb);
    return 0;
  }
  InlineQueueState &st = c->qs[queue];
  const GenSpec &s = c->spec;
  unsigned want = nb;
  uint64_t now = rte_rdtsc();
  if (c->ticksPerPkt > 0) {
    double t = static_cast<double>(now);
    if (t < st.next) want = 0;
    else {
      double due = (t - st.next) / c->ticksPerPkt + 1;
      if (due < want) want = static_cast<unsigned>(due);
      if (t - st.next > c->ticksPerPkt * kGenBurst) st.next = t - c->ticksPerPkt * kGenBurst;
      st.next += c->ticksPerPkt * want;
    }
  }
  if (st.count && st.produced + want > st.count) want = static_cast<unsigned>(st.count - st.produced);
  uint32_t nFlows = static_cast<uint32_t>(st.flows.size());
  if (nFlows == 0) want = 0;
  // In three passes, so that with 1 M+ flows the generator's own table misses (the queue's flow
  // list, then the flow's address and port: megabytes read at random) overlap instead of costing
  // the shard three serial misses per frame that a real NIC would not charge it.
  for (unsigned base = 0; base < want; base += kInlineChunk) {
    unsigned m = want - base < kInlineChunk ? want - base : kInlineChunk;
    uint32_t idx[kInlineChunk], k[kInlineChunk];
    for (unsigned i = 0; i < m; i++) {
      if (s.random) idx[i] = static_cast<uint32_t>(((xorshift(st.rnd) >> 32) * nFlows) >> 32);
      else {
        idx[i] = st.seq;
        if (++st.seq == nFlows) st.seq = 0;
      }
      rte_prefetch0(&st.flows[idx[i]]);
    }
    for (unsigned i = 0; i < m; i++) {
      k[i] = st.flows[idx[i]];
      rte_prefetch0(&s.addr[k[i]]);
      rte_prefetch0(&s.port[k[i]]);
    }
    for (unsigned i = 0; i < m; i++) {
      pkts[base + i]->data_off = RTE_PKTMBUF_HEADROOM;
      fill(s, pkts[base + i], k[i], now);
    }
  }
  if (want < nb) rte_pktmbuf_free_bulk(pkts + want, nb - want);
  if (want) {
    InlineCounters &ic = ip->c[queue];
    uint64_t rel = now - inl().startTsc;
    if (st.produced == 0) ic.firstTx.store(rel, std::memory_order_relaxed);
    ic.lastTx.store(rel, std::memory_order_relaxed);
    bump(ic.sent, want);
    st.produced += want;
  }
  bump(ip->c[queue].ticks, rte_rdtsc() - now);
  return static_cast<uint16_t>(want);
}

uint16_t inlineTx(uint16_t, uint16_t queue, rte_mbuf *pkts[], uint16_t nb, void *user) {
  InlinePort *ip = static_cast<InlinePort *>(user);
  InlineCounters &ic = ip->c[queue];
  if (nb == 0) return 0;
  uint64_t now = rte_rdtsc();
  if (inl().stamp.load(std::memory_order_relaxed)) {
    double nsPerTick = inl().nsPerTick;
    for (unsigned i = 0; i < nb; i++) {
      const uint8_t *end = rte_pktmbuf_mtod(pkts[i], const uint8_t *) + pkts[i]->data_len;
      uint64_t t = (uint64_t(get16(end - 6)) << 32) | (uint64_t(get16(end - 4)) << 16) | get16(end - 2);
      uint64_t b = static_cast<uint64_t>(static_cast<double>((now - t) & 0xffffffffffffULL) * nsPerTick / kGenHistNs);
      if (b >= kGenHistBuckets) b = kGenHistBuckets - 1;
      ic.hist[b].store(ic.hist[b].load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    }
  }
  bump(ic.received, nb);
  ic.lastRx.store(now - inl().startTsc, std::memory_order_relaxed);
  return nb;
}

InlinePort *inlinePort(uint16_t portId) {
  Inline &in = inl();
  for (unsigned p = 0; p < in.nPorts; p++)
    if (in.ports[p].portId == portId) return &in.ports[p];
  return nullptr;
}

void inlineStart(InlinePort &ip, const GenSpec &spec) {
  Inline &in = inl();
  std::unique_ptr<InlineCfg> c(new InlineCfg());
  c->spec = spec;
  double hz = static_cast<double>(rte_get_tsc_hz());
  c->ticksPerPkt = spec.pps > 0 ? hz * ip.queues / spec.pps : 0;
  for (uint32_t k = 0; k < spec.addr.size(); k++) c->qs[spec.queue[k]].flows.push_back(k);
  uint64_t n = spec.addr.size();
  double now = static_cast<double>(rte_rdtsc());
  for (unsigned q = 0; q < ip.queues; q++) {
    InlineQueueState &st = c->qs[q];
    st.count = spec.count ? (spec.count * st.flows.size()) / n : 0;
    if (spec.count && st.count == 0) st.flows.clear();  // nothing to send on this queue
    st.rnd = 0x9e3779b97f4a7c15ULL ^ (uint64_t(spec.seed) << 8) ^ q;
    st.next = now;
  }
  in.stamp.store(spec.stamp);
  in.startTsc = rte_rdtsc();
  in.nsPerTick = 1e9 / hz;
  for (unsigned p = 0; p < in.nPorts; p++) {
    for (unsigned q = 0; q < in.ports[p].queues; q++) {
      InlineCounters &ic = in.ports[p].c[q];
      ic.sent = 0; ic.received = 0; ic.firstTx = UINT64_MAX; ic.lastTx = 0; ic.lastRx = 0;
    }
  }
  ip.cfg.store(c.get(), std::memory_order_release);
  in.retired.push_back(std::move(c));
}

// Detach every port's generating configuration; the callbacks stop using it within one burst.
void inlineStop() {
  Inline &in = inl();
  for (unsigned p = 0; p < in.nPorts; p++) in.ports[p].cfg.store(nullptr, std::memory_order_release);
  if (in.retired.empty()) return;
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  in.retired.clear();
}

}  // namespace

void genAttach(uint16_t portId, unsigned queues) {
  requireArena();
  Inline &in = inl();
  if (inlinePort(portId)) return;
  if (in.nPorts == kMaxGenPorts) fail(code::kState, "genAttach: at most 4 ports");
  if (queues == 0 || queues > kMaxGenQueues) fail(code::kArg, "genAttach: queues must be 1..16");
  InlinePort &ip = in.ports[in.nPorts];
  ip.portId = portId;
  ip.queues = queues;
  for (unsigned q = 0; q < queues; q++) {
    ip.c[q].hist.reset(new std::atomic<uint32_t>[kGenHistBuckets]());
    if (!rte_eth_add_rx_callback(portId, q, inlineRx, &ip)) failDpdk(code::kPortConfig, "rte_eth_add_rx_callback", rte_errno, "");
    if (!rte_eth_add_tx_callback(portId, q, inlineTx, &ip)) failDpdk(code::kPortConfig, "rte_eth_add_tx_callback", rte_errno, "");
  }
  in.nPorts++;
}

uint16_t genPortCreate(const std::string &name, unsigned queues, unsigned ringSize) {
  requireReady();
  Gen &g = gen();
  if (g.nPorts == kMaxGenPorts) fail(code::kState, "genPortCreate: at most 4 gen ports");
  if (queues == 0 || queues > kMaxGenQueues) fail(code::kArg, "genPortCreate: queues must be 1..16");
  if (ringSize < 64 || (ringSize & (ringSize - 1)) != 0) fail(code::kArg, "genPortCreate: ringSize must be a power of two >= 64");
  // From the net_ring PMD, loaded by EAL as a plugin: looked up at run time, no link dependency.
  // EAL dlopens its plugins RTLD_LOCAL: find the loaded copy by soname (RTLD_NOLOAD never loads a second one).
  void *lib = dlopen("librte_net_ring.so.23", RTLD_NOW | RTLD_NOLOAD);
  auto fromRings = reinterpret_cast<FromRings>(dlsym(lib ? lib : RTLD_DEFAULT, "rte_eth_from_rings"));
  if (!fromRings) fail(code::kPortProbe, "genPortCreate: rte_eth_from_rings not found (is the net_ring PMD loaded?)");
  GenPort &gp = g.ports[g.nPorts];
  gp.name = name;
  gp.queues = queues;
  for (unsigned q = 0; q < queues; q++) {
    std::string rx = "gen_" + name + "_rx" + std::to_string(q), tx = "gen_" + name + "_tx" + std::to_string(q);
    gp.rx[q] = rte_ring_create(rx.c_str(), ringSize, rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
    gp.tx[q] = rte_ring_create(tx.c_str(), ringSize, rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
    if (!gp.rx[q] || !gp.tx[q]) failDpdk(code::kRing, "rte_ring_create", rte_errno, rx);
  }
  int id = fromRings(name.c_str(), gp.rx, queues, gp.tx, queues, rte_socket_id());
  if (id < 0) failDpdk(code::kPortProbe, "rte_eth_from_rings", rte_errno, name);
  gp.portId = static_cast<uint16_t>(id);
  g.nPorts++;
  return gp.portId;
}

void genZeroPool() {
  requireArena();
  rte_mempool *pool = state().arena.pool;
  std::vector<rte_mbuf *> all;
  for (rte_mbuf *m; (m = rte_pktmbuf_alloc(pool)) != nullptr;) {
    std::memset(m->buf_addr, 0, m->buf_len);
    all.push_back(m);
  }
  for (rte_mbuf *m : all) rte_pktmbuf_free(m);
}

void genStart(const GenSpec &spec) {
  requireArena();
  Gen &g = gen();
  if (g.running.load() || inl().retired.size()) fail(code::kState, "genStart: the generator is running (genStop first)");
  bool found = false;
  unsigned queues = 0;
  for (unsigned p = 0; p < g.nPorts; p++)
    if (g.ports[p].portId == spec.portId) { found = true; queues = g.ports[p].queues; }
  InlinePort *ip = inlinePort(spec.portId);
  if (ip) { found = true; queues = ip->queues; }
  if (!found) fail(code::kArg, "genStart: port " + std::to_string(spec.portId) + " is neither a gen port nor attached");
  size_t len = spec.tmpl.size();
  if (len < 60 || len > state().arena.bufLen - RTE_PKTMBUF_HEADROOM) fail(code::kArg, "genStart: template length");
  auto inside = [&](uint32_t off, uint32_t n) { return off + n <= len && off + n <= kCopyBytes; };
  if (!inside(spec.addrOff, 4) || !inside(spec.portOff, 2) || (spec.l4CsumOff && !inside(spec.l4CsumOff, 2)) ||
      (spec.ipCsumOff && !inside(spec.ipCsumOff, 2)))
    fail(code::kArg, "genStart: a field offset lies outside the first 128 bytes of the template");
  size_t n = spec.addr.size();
  if (n == 0 || spec.port.size() != n || spec.queue.size() != n) fail(code::kArg, "genStart: flow arrays differ in length");
  for (uint8_t q : spec.queue)
    if (q >= queues) fail(code::kArg, "genStart: a flow's queue exceeds the gen port's queues");
  if (ip) {
    inlineStart(*ip, spec);
    return;
  }
  g.spec = spec;
  g.sent = g.received = g.missed = g.allocFailed = g.ringFull = 0;
  g.firstTx = g.lastTx = g.lastRx = 0;
  g.startTsc = rte_rdtsc();
  g.stop = false;
  g.generating = true;
  g.running = true;
  g.thread = std::thread([&g] { run(g); });
}

void genStop() {
  inlineStop();
  Gen &g = gen();
  if (!g.running.load()) return;
  g.stop = true;
  g.thread.join();
  g.running = false;
  g.generating = false;
  // Whatever is still in flight: translated frames not drained, frames not yet received.
  for (unsigned p = 0; p < g.nPorts; p++) {
    for (unsigned q = 0; q < g.ports[p].queues; q++) {
      void *obj;
      while (rte_ring_dequeue(g.ports[p].tx[q], &obj) == 0) rte_pktmbuf_free(static_cast<rte_mbuf *>(obj));
    }
  }
}

void genPause() {
  gen().generating.store(false);
  Inline &in = inl();
  for (unsigned p = 0; p < in.nPorts; p++) {
    InlineCfg *c = in.ports[p].cfg.load();
    if (c) c->generating.store(false);
  }
}

GenStatsNative genStats() {
  Gen &g = gen();
  double nsPerTick = 1e9 / static_cast<double>(rte_get_tsc_hz());
  GenStatsNative s{};
  s.sent = g.sent.load();
  s.received = g.received.load();
  s.missed = g.missed.load();
  s.allocFailed = g.allocFailed.load();
  s.ringFull = g.ringFull.load();
  s.firstTxNs = static_cast<double>(g.firstTx.load()) * nsPerTick;
  s.lastTxNs = static_cast<double>(g.lastTx.load()) * nsPerTick;
  s.lastRxNs = static_cast<double>(g.lastRx.load()) * nsPerTick;
  s.nowNs = g.startTsc ? static_cast<double>(rte_rdtsc() - g.startTsc) * nsPerTick : 0;
  s.generating = g.generating.load();
  Inline &in = inl();
  if (!g.running.load() && in.nPorts) {
    uint64_t first = UINT64_MAX, lastTx = 0, lastRx = 0;
    s.generating = false;
    for (unsigned p = 0; p < in.nPorts; p++) {
      InlinePort &ip = in.ports[p];
      InlineCfg *c = ip.cfg.load();
      if (c && c->generating.load()) {
        for (unsigned q = 0; q < ip.queues; q++)
          if (!c->qs[q].flows.empty() && (!c->qs[q].count || c->qs[q].produced < c->qs[q].count)) s.generating = true;
      }
      for (unsigned q = 0; q < ip.queues; q++) {
        s.sent += ip.c[q].sent.load();
        s.received += ip.c[q].received.load();
        first = std::min<uint64_t>(first, ip.c[q].firstTx.load());
        lastTx = std::max<uint64_t>(lastTx, ip.c[q].lastTx.load());
        lastRx = std::max<uint64_t>(lastRx, ip.c[q].lastRx.load());
      }
    }
    s.firstTxNs = first == UINT64_MAX ? 0 : static_cast<double>(first) * nsPerTick;
    s.lastTxNs = static_cast<double>(lastTx) * nsPerTick;
    s.lastRxNs = static_cast<double>(lastRx) * nsPerTick;
    s.nowNs = in.startTsc ? static_cast<double>(rte_rdtsc() - in.startTsc) * nsPerTick : 0;
  }
  for (unsigned p = 0; p < in.nPorts; p++) {
    for (unsigned q = 0; q < in.ports[p].queues; q++) s.genNs += static_cast<double>(in.ports[p].c[q].ticks.load()) * nsPerTick;
  }
  return s;
}

void genTakeHistogram(uint32_t *out) {
  Gen &g = gen();
  for (unsigned i = 0; i < kGenHistBuckets; i++) out[i] = g.hist[i].exchange(0, std::memory_order_relaxed);
  Inline &in = inl();
  for (unsigned p = 0; p < in.nPorts; p++)
    for (unsigned q = 0; q < in.ports[p].queues; q++)
      for (unsigned i = 0; i < kGenHistBuckets; i++) out[i] += in.ports[p].c[q].hist[i].exchange(0, std::memory_order_relaxed);
}

}  // namespace nat64
