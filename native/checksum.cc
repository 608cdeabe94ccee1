#include "checksum.h"

#include <cstring>

#include <rte_byteorder.h>
#include <rte_ip.h>

namespace nat64 {

namespace {

constexpr uint32_t kEthHlen = 14;
constexpr uint8_t kTcp = 6, kUdp = 17;
// IPv6 extension headers a partial-checksum sender may put before TCP/UDP (RFC 8200 §4). A Routing
// header changes the pseudo-header's destination (§8.1) and a Fragment header means no partial
// sum is possible: both end the walk without a match.
constexpr uint8_t kHopByHop = 0, kDestOpts = 60;
constexpr int kMaxExtHeaders = 8;

inline uint16_t be16(const uint8_t *p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }

// One's complement sum of the pseudo-header, unreduced, in memory byte order (the order
// __rte_raw_cksum sums in: the same fold gives the same bytes in the field).
inline uint32_t pseudoSum(const uint8_t *frame, const L4Where &w) {
  const uint8_t *ip = frame + w.l3;
  uint32_t s = w.family == 4 ? __rte_raw_cksum(ip + 12, 8, 0) : __rte_raw_cksum(ip + 8, 32, 0);
  s += rte_cpu_to_be_16(static_cast<uint16_t>(w.proto));
  s += rte_cpu_to_be_16(w.l4len);
  return s;
}

inline void store16(uint8_t *p, uint16_t v) { std::memcpy(p, &v, 2); }
inline uint16_t load16(const uint8_t *p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}

bool locate6(const uint8_t *frame, uint32_t len, L4Where &w) {
  const uint8_t *ip = frame + kEthHlen;
  if ((ip[0] >> 4) != 6) return false;
  uint32_t end = kEthHlen + 40 + be16(ip + 4);
  if (end > len) return false;
  uint8_t nh = ip[6];
  uint32_t off = kEthHlen + 40;
  for (int k = 0; k < kMaxExtHeaders && (nh == kHopByHop || nh == kDestOpts); k++) {
    if (off + 8 > end) return false;
    nh = frame[off];
    off += (frame[off + 1] + 1u) * 8;
  }
  if (nh != kTcp && nh != kUdp) return false;
  if (off > end) return false;
  w.family = 6;
  w.proto = nh;
  w.l4 = static_cast<uint16_t>(off);
  w.l4len = static_cast<uint16_t>(end - off);
  return true;
}

bool locate4(const uint8_t *frame, uint32_t len, L4Where &w) {
  const uint8_t *ip = frame + kEthHlen;
  uint32_t ihl = (ip[0] & 0x0fu) * 4;
  uint32_t total = be16(ip + 2);
  if ((ip[0] >> 4) != 4 || ihl < 20 || total < ihl || kEthHlen + total > len) return false;
  if ((be16(ip + 6) & 0x3fff) != 0) return false;  // a fragment: its sender summed the whole datagram
  uint8_t proto = ip[9];
  if (proto != kTcp && proto != kUdp) return false;
  w.family = 4;
  w.proto = proto;
  w.l4 = static_cast<uint16_t>(kEthHlen + ihl);
  w.l4len = static_cast<uint16_t>(total - ihl);
  return true;
}

}  // namespace

bool l4Locate(const uint8_t *frame, uint32_t len, L4Where &w) {
  if (len < kEthHlen + 20) return false;
  uint16_t type = be16(frame + 12);
  w.l3 = kEthHlen;
  bool ok = type == 0x86dd ? len >= kEthHlen + 40 && locate6(frame, len, w)
            : type == 0x0800 ? locate4(frame, len, w)
                             : false;
  if (!ok) return false;
  if (w.l4len < (w.proto == kTcp ? 20u : 8u)) return false;
  w.sumOff = static_cast<uint16_t>(w.l4 + (w.proto == kTcp ? 16 : 6));
  return true;
}

uint16_t l4PseudoSum(const uint8_t *frame, const L4Where &w) {
  return __rte_raw_cksum_reduce(pseudoSum(frame, w));
}

L4Sum l4Classify(const uint8_t *frame, const L4Where &w) {
  uint16_t field = load16(frame + w.sumOff);
  // IPv4 UDP without a checksum (RFC 768): nothing to complete (RFC 7915 §4.5 computes one).
  if (field == 0 && w.proto == kUdp && w.family == 4) return L4Sum::kComplete;
  uint32_t pseudo = pseudoSum(frame, w);
  if (field != __rte_raw_cksum_reduce(pseudo)) return L4Sum::kComplete;
  // Looks partial. A real checksum can equal the pseudo-header sum too: then it verifies.
  uint16_t all = __rte_raw_cksum_reduce(__rte_raw_cksum(frame + w.l4, w.l4len, pseudo));
  return all == 0xffff ? L4Sum::kComplete : L4Sum::kPartial;
}

void l4Complete(uint8_t *frame, const L4Where &w) {
  store16(frame + w.sumOff, 0);
  uint16_t sum = static_cast<uint16_t>(~__rte_raw_cksum_reduce(__rte_raw_cksum(frame + w.l4, w.l4len, pseudoSum(frame, w))));
  if (sum == 0 && w.proto == kUdp) sum = 0xffff;
  store16(frame + w.sumOff, sum);
}

void l4PrepareOffload(uint8_t *frame, const L4Where &w) {
  store16(frame + w.sumOff, l4PseudoSum(frame, w));
}

}  // namespace nat64
