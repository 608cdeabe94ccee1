#include "eal.h"

#include <sched.h>
#include <signal.h>

#include <cstring>
#include <mutex>

#include <rte_eal.h>
#include <rte_errno.h>

#include "errors.h"
#include "mempool.h"
#include "port.h"
#include "shard.h"
#include "state.h"

namespace nat64 {

State &state() {
  static State s;
  return s;
}

void requireReady() {
  State::Phase p = state().phase.load();
  if (p == State::Phase::kFresh) fail(code::kState, "EAL is not initialised: call ealInit first");
  if (p == State::Phase::kShutDown) fail(code::kState, "the native layer was shut down");
}

namespace {

std::mutex initMutex;
bool initAttempted = false;

// Signal dispositions are process-wide and Node owns them (SIGINT/SIGTERM for the daemon's clean
// stop). EAL 22.11 installs none, but a plugin could: put back whatever changed during init.
struct SignalSnapshot {
  struct sigaction actions[NSIG];
  void save() {
    for (int sig = 1; sig < NSIG; sig++) sigaction(sig, nullptr, &actions[sig]);
  }
  void restore() {
    for (int sig = 1; sig < NSIG; sig++) {
      if (sig == SIGKILL || sig == SIGSTOP) continue;
      struct sigaction now;
      if (sigaction(sig, nullptr, &now) != 0) continue;
      if (now.sa_handler != actions[sig].sa_handler || now.sa_flags != actions[sig].sa_flags)
        sigaction(sig, &actions[sig], nullptr);
    }
  }
};

}  // namespace

void ealInit(const std::vector<std::string> &args) {
  std::lock_guard<std::mutex> lock(initMutex);
  if (state().phase.load() != State::Phase::kFresh)
    fail(code::kState, "rte_eal_init was already called in this process (EAL initialises once)");
  // DPDK cannot run rte_eal_init twice even after some failures; refuse instead of half-working.
  if (initAttempted) fail(code::kState, "a previous rte_eal_init failed; EAL cannot be retried in this process");
  initAttempted = true;

  // argv[0] is the program name for EAL's getopt; rte_eal_init may permute argv, so it gets copies.
  std::vector<std::string> owned;
  owned.reserve(args.size() + 1);
  owned.emplace_back("nat64");
  owned.insert(owned.end(), args.begin(), args.end());
  // File-backed hugepages exist so that secondary processes can map them; we never run any. Unlinked
  // at once, they cannot outlive the process whatever ends it (SIGKILL included), and memory that
  // DPDK never frees (ethdev's shared data) cannot keep a file behind after rte_eal_cleanup.
  bool memoryFlag = false;
  for (const auto &a : args)
    if (a == "--in-memory" || a == "--no-huge" || a == "--huge-unlink" || a.rfind("--huge-unlink=", 0) == 0) memoryFlag = true;
  if (!memoryFlag) owned.emplace_back("--huge-unlink");
  std::vector<char *> argv;
  for (auto &a : owned) argv.push_back(a.data());
  argv.push_back(nullptr);

  // EAL pins the calling thread to the main lcore's CPU; worker_threads started afterwards would
  // inherit that pin and all shards would share one core.
  cpu_set_t affinity;
  CPU_ZERO(&affinity);
  bool haveAffinity = sched_getaffinity(0, sizeof(affinity), &affinity) == 0;
  SignalSnapshot signals;
  signals.save();

  int ret = rte_eal_init(static_cast<int>(argv.size() - 1), argv.data());
  int err = rte_errno;

  signals.restore();
  if (haveAffinity) sched_setaffinity(0, sizeof(affinity), &affinity);

  if (ret < 0) failDpdk(code::kEalInit, "rte_eal_init", err, "");
  state().phase.store(State::Phase::kReady);
}

bool ealInitialized() { return state().phase.load() == State::Phase::kReady; }

void shutdown() {
  std::lock_guard<std::mutex> lock(initMutex);
  State &s = state();
  if (s.phase.load() != State::Phase::kReady) return;
  // Ports first: their rx rings hold mbufs of the pool.
  portsShutdown();
  shardsFree();
  mempoolFree();
  s.phase.store(State::Phase::kShutDown);
  // Releases hugepage memory (with --in-memory nothing is left on hugetlbfs).
  rte_eal_cleanup();
}

}  // namespace nat64
