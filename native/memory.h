// Transparent huge pages for large tables the workers keep in ordinary (V8) memory.
#pragma once

#include <cstddef>

namespace nat64 {

// madvise(MADV_HUGEPAGE) over the 2 MB-aligned part of [p, p + len): random lookups in a table of
// tens of megabytes then miss the TLB far less often (THP is often "madvise" only). Returns the
// bytes advised (0 when the range holds no whole huge page or the kernel refused: never fatal).
size_t adviseHugePages(void *p, size_t len);

}  // namespace nat64
