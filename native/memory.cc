#include "memory.h"

#include <sys/mman.h>

#include <cstdint>

namespace nat64 {

size_t adviseHugePages(void *p, size_t len) {
  constexpr uintptr_t kHuge = 2u << 20;
  uintptr_t begin = (reinterpret_cast<uintptr_t>(p) + kHuge - 1) & ~(kHuge - 1);
  uintptr_t end = (reinterpret_cast<uintptr_t>(p) + len) & ~(kHuge - 1);
  if (end <= begin) return 0;
  if (madvise(reinterpret_cast<void *>(begin), end - begin, MADV_HUGEPAGE) != 0) return 0;
  return end - begin;
}

}  // namespace nat64
