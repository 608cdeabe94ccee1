import { existsSync, readFileSync } from 'fs';

/** Hugepages (2 MB) that must be free before we rely on them: the pool plus the drivers' rings. */
export const MIN_FREE_HUGEPAGES = 64;

const HUGEPAGES_2M = '/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages';

function freeHugepages(): number {
  try {
    return Number.parseInt(readFileSync(HUGEPAGES_2M, 'utf8').trim(), 10) || 0;
  } catch {
    return 0;
  }
}

function hugetlbfsMounted(): boolean {
  if (!existsSync('/proc/mounts')) return false;
  return readFileSync('/proc/mounts', 'utf8').split('\n').some((line) => line.split(' ')[2] === 'hugetlbfs');
}

/**
 * EAL memory arguments for this host.
 *
 * With hugepages: `--in-memory` (no hugetlbfs files and no /var/run/dpdk config, so several
 * processes can run side by side and nothing is left behind after a crash).
 * Without: `--no-huge --no-shconf` (plain 4 kB pages; `--in-memory` cannot be combined with
 * `--no-huge`, and `--no-shconf` keeps concurrent processes from fighting over one config file).
 * Callers add `--iova-mode=va` (config files carry it; see testEalArgs) so the mbuf pool is one
 * IOVA-contiguous block without asking for physically contiguous memory.
 */
export function memoryArgs(): string[] {
  // NAT64_NO_HUGE=1 forces the 4 kB-page mode (hosts whose hugepages belong to something else).
  const huge = process.env.NAT64_NO_HUGE !== '1' && hugetlbfsMounted() && freeHugepages() >= MIN_FREE_HUGEPAGES;
  return huge ? ['--in-memory'] : ['--no-huge', '--no-shconf'];
}

/** EAL arguments for tests and benches: vdevs only, one lcore, quiet. */
export function testEalArgs(): string[] {
  return ['--no-pci', ...memoryArgs(), '--iova-mode=va', '--no-telemetry', '-l', '0', '--log-level=error'];
}
