#pragma once

#include <cstdint>

namespace nat64 {

// The single mbuf pool in one virtually contiguous memzone (the arena JS views as an ArrayBuffer).
/** One arena of nbMbufs buffers of dataRoom bytes each (headroom excluded). */
void mempoolCreate(uint32_t nbMbufs, uint32_t dataRoom);
void mempoolFree();

}  // namespace nat64
