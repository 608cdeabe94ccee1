#pragma once

#include <string>
#include <vector>

namespace nat64 {

// rte_eal_init once per process. Keeps the caller's CPU affinity and signal dispositions.
void ealInit(const std::vector<std::string> &args);
bool ealInitialized();
// Stops and closes ports, frees rings and the pool, rte_eal_cleanup. Idempotent.
void shutdown();

}  // namespace nat64
