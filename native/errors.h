// Control-path failures of the native layer. DPDK-facing files throw nat64::Failure; addon.cc turns
// it into a JS Error with `code`, `errno` and a message naming the DPDK call. The fast path (io.cc)
// never throws.
#pragma once

#include <stdexcept>
#include <string>

namespace nat64 {

// Codes as seen from TypeScript (src/native/index.ts lists the same strings).
namespace code {
constexpr const char *kEalInit = "NAT64_E_EAL_INIT";
constexpr const char *kPortProbe = "NAT64_E_PORT_PROBE";
constexpr const char *kPortConfig = "NAT64_E_PORT_CONFIG";
constexpr const char *kMempool = "NAT64_E_MEMPOOL";
constexpr const char *kRing = "NAT64_E_RING";
constexpr const char *kArg = "NAT64_E_ARG";
constexpr const char *kState = "NAT64_E_STATE";
}  // namespace code

class Failure : public std::runtime_error {
 public:
  Failure(const char *code, int errnum, const std::string &message)
      : std::runtime_error(message), code_(code), errnum_(errnum) {}
  const char *code() const { return code_; }
  // Positive errno from DPDK (rte_errno or a negated return value); 0 when DPDK gave none.
  int errnum() const { return errnum_; }

 private:
  const char *code_;
  int errnum_;
};

// Throws a Failure for a DPDK call that returned `ret` (negative errno) or set rte_errno.
// The message reads "<call>: <detail>: <strerror> (errno N)".
[[noreturn]] void failDpdk(const char *code, const char *call, int errnum, const std::string &detail);
// Throws a Failure that did not come from DPDK (bad argument, wrong state).
[[noreturn]] void fail(const char *code, const std::string &message);

}  // namespace nat64
