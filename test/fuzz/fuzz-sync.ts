/**
 * The long fuzzing run of the session-sync receiver (not in CI; the CI version is
 * test/unit/fuzz-sync.test.ts). See docs/fuzzing.md "Session sync".
 *
 *   node dist/test/fuzz/fuzz-sync.js --seconds 60 --seed 1
 *
 * Alternates 1, 2 and 3 shards, with and without a key, in rounds of 20 000 datagrams (seed + round);
 * prints datagrams/s and the counters; on the first broken invariant prints it and exits 1.
 */
import { fuzzSync, SyncInvariantViolation } from './sync-engine';

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const arg = (k: string, d: number) => { const i = argv.indexOf(k); return i >= 0 ? Number(argv[i + 1]) : d; };
  const seconds = arg('--seconds', 60), seed = arg('--seed', 1) >>> 0;
  const end = Date.now() + seconds * 1000;
  const totals: Record<string, number> = {};
  let datagrams = 0, ms = 0, round = 0;
  while (Date.now() < end) {
    const o = { seed: (seed * 1000 + round) >>> 0, datagrams: 20000, shards: 1 + (round % 3), key: round % 2 === 1, capacity: round % 4 === 3 ? 16 : 64 };
    try {
      const s = await fuzzSync(o);
      datagrams += s.datagrams; ms += s.ms;
      for (const [k, v] of Object.entries(s.counters)) totals[k] = (totals[k] ?? 0) + v;
    } catch (e) {
      if (e instanceof SyncInvariantViolation) { console.error(`round ${round} ${JSON.stringify(o)}: ${e.message}`); process.exit(1); }
      throw e;
    }
    round++;
  }
  console.log(`${datagrams} datagrams in ${round} rounds, ${Math.round(datagrams / (ms / 1000))} datagrams/s; no invariant broke`);
  for (const [k, v] of Object.entries(totals).sort()) if (!k.endsWith('-ms')) console.log(`  ${k.padEnd(32)} ${v}`);
}

main().catch((e) => { console.error(e); process.exit(1); });
