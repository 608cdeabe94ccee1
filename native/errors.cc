#include "errors.h"

#include <rte_errno.h>

namespace nat64 {

void failDpdk(const char *code, const char *call, int errnum, const std::string &detail) {
  if (errnum < 0) errnum = -errnum;
  std::string msg(call);
  if (!detail.empty()) msg += " (" + detail + ")";
  msg += " failed";
  if (errnum != 0) {
    // rte_strerror also knows DPDK's private errno values (E_RTE_SECONDARY, E_RTE_NO_CONFIG).
    msg += ": ";
    msg += rte_strerror(errnum);
    msg += " (errno " + std::to_string(errnum) + ")";
  }
  throw Failure(code, errnum, msg);
}

void fail(const char *code, const std::string &message) { throw Failure(code, 0, message); }

}  // namespace nat64
