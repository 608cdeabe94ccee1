// What one random memory access costs on this machine, alone and with several in flight: the
// floor under a translator whose flow cache and tables are larger than the CPU caches (at 1 M+
// sessions every lookup is a random line of a 64 MB - 1 GB table). Not part of the build:
//
//   gcc -O2 -o /tmp/memory-latency bench/memory-latency.c && /tmp/memory-latency 512 1 16
//
// args: table size in MB, 1 = transparent huge pages (MADV_HUGEPAGE) / 0 = 4 KB pages, chains.
// Each chain follows a random cyclic permutation of the table's 64-byte lines (every load depends
// on the previous one of its chain), so 1 chain measures latency and N chains the throughput of N
// misses in flight (what the shard's burst prefetch can at best overlap). bench/PROFILE.md.
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

static double seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  if (argc != 4) { fprintf(stderr, "usage: %s MB huge(0|1) chains(1..64)\n", argv[0]); return 2; }
  size_t bytes = (size_t)atoi(argv[1]) << 20, lines = bytes / 64;
  int huge = atoi(argv[2]), chains = atoi(argv[3]);
  if (lines < 2 || chains < 1 || chains > 64) { fprintf(stderr, "bad arguments\n"); return 2; }
  const size_t align = 2u << 20;
  uint8_t *raw = mmap(NULL, bytes + align, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) { perror("mmap"); return 1; }
  uint8_t *p = (uint8_t *)(((uintptr_t)raw + align - 1) & ~(uintptr_t)(align - 1));
  madvise(p, bytes, huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
  uint32_t *perm = malloc(lines * sizeof *perm);
  for (size_t i = 0; i < lines; i++) perm[i] = (uint32_t)i;
  uint64_t s = 88172645463325252ull;  // xorshift64; Sattolo's shuffle makes one cycle of all lines
  for (size_t i = lines - 1; i > 0; i--) {
    s ^= s << 13; s ^= s >> 7; s ^= s << 17;
    size_t j = s % i;
    uint32_t t = perm[i]; perm[i] = perm[j]; perm[j] = t;
  }
  for (size_t i = 0; i < lines; i++) *(uint64_t *)(p + i * 64) = (uint64_t)perm[i] * 64;
  free(perm);
  uint64_t cur[64];
  for (int k = 0; k < chains; k++) cur[k] = ((uint64_t)k * lines / chains) * 64;
  size_t steps = 4000000 / chains;
  double t0 = seconds();
  for (size_t i = 0; i < steps; i++)
    for (int k = 0; k < chains; k++) cur[k] = *(volatile uint64_t *)(p + cur[k]);
  double t = seconds() - t0;
  uint64_t sink = 0;
  for (int k = 0; k < chains; k++) sink += cur[k];
  printf("%zu MB, %s pages, %d chain%s: %.1f ns per access, %.1f ns per step of a chain (%llu)\n", bytes >> 20,
         huge ? "huge" : "4 KB", chains, chains > 1 ? "s" : "", t * 1e9 / (double)(steps * chains), t * 1e9 / (double)steps,
         (unsigned long long)(sink & 1));
  return 0;
}
