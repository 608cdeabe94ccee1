// IP reassembly for the shards (librte_ip_frag): a stateful NAT64 needs the ports of a datagram
// before it can pick its shard, BIB entry and session (RFC 6146 §3.4), so fragments are put back
// together first, as Jool does through the kernel's defragmenter. One table per shard, touched only
// by that shard's worker thread.
#pragma once

#include <cstdint>

#include "state.h"

namespace nat64 {

// What happened to a fragment handed to fragReassemble (src/native/types.ts FragResult).
enum FragResult : int32_t {
  kFragHeld = 0,         // stored, waiting for the rest of its datagram
  kFragReassembled = 1,  // completed a datagram, now queued on the shard's own hand-off ring
  kFragTableFull = -1,   // no free entry for a new datagram (max flows, or both buckets full)
  kFragInvalid = -2,     // overlap, duplicate, hole, too many fragments, empty or > 64 KiB: datagram dropped
  kFragTooBig = -3,      // reassembled datagram does not fit one mbuf's data room
  kFragNoBuffer = -4,    // no mbuf to copy the reassembled datagram into
  kFragUnsupported = -5, // not a fragment we can reassemble (IPv6 Fragment Header not first, bad header)
  kFragRingFull = -6,    // the shard's hand-off ring was full
};

struct FragLimits {
  uint32_t maxFlows = 256;    // datagrams being reassembled per shard at once
  uint32_t timeoutMs = 2000;  // from a datagram's first fragment
};

// Control path: limits for tables created from now on (a shard creates its table on its first fragment).
void fragConfigure(const FragLimits &limits);
FragLimits fragLimits();

// Fast path (the shard's worker): takes ownership of `m` whatever the result.
int32_t fragReassemble(Shard &s, rte_mbuf *m, uint32_t family);
// Drops timed-out datagrams; returns the fragments freed by timeouts since the last call.
uint32_t fragExpire(Shard &s);

}  // namespace nat64
