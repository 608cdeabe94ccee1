#pragma once

#include <cstdint>

namespace nat64 {

// The single mbuf pool in one virtually contiguous memzone (the arena JS views as an ArrayBuffer).
void mempoolCreate(uint32_t nbMbufs);
void mempoolFree();

}  // namespace nat64
