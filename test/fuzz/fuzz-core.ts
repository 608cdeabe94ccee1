/**
 * The long fuzzing run of the translation core (not in CI; the CI version is
 * test/unit/fuzz-core.test.ts). See docs/fuzzing.md.
 *
 *   npx tsc -p tsconfig.json
 *   node --expose-gc dist/test/fuzz/fuzz-core.js --seconds 60 --seed 1 [--shards 1|2|both] [--packets N]
 *        [--capacity N] [--admin-prohibited] [--out FILE (default: $TMPDIR/nat64-fuzz-core-failure-SEED.hex)]
 *
 * --admin-prohibited: icmp-admin-prohibited on (RFC 7915 §4.4/§5.4), with address-dependent
 * filtering on the 1-shard run and drop-externally-initiated-tcp on the 2-shard run.
 *
 * Prints packets/s, packets fuzzed, a counter histogram and the heap before/after; on the first
 * invariant violation writes the input packet (hex) and exits 1.
 */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CoreGlobals } from '../../src/dataplane/core-config';
import { fuzz, type FuzzStats } from './engine';

interface Args { seconds: number; seed: number; shards: number[]; packets?: number; capacity?: number; out: string; admin: boolean }

function parseArgs(argv: string[]): Args {
  const a: Args = { seconds: 60, seed: 1, shards: [1, 2], out: '', admin: false };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i], v = argv[i + 1];
    const num = (): number => {
      const n = Number(v);
      if (!Number.isFinite(n) || n < 0) { console.error(`fuzz-core: ${k} needs a number, got "${v}"`); process.exit(2); }
      i++;
      return n;
    };
    if (k === '--seconds') a.seconds = num();
    else if (k === '--seed') a.seed = num() >>> 0;
    else if (k === '--packets') a.packets = num();
    else if (k === '--capacity') a.capacity = num();
    else if (k === '--shards') { a.shards = v === 'both' ? [1, 2] : [num()]; if (v === 'both') i++; }
    else if (k === '--out') { a.out = v; i++; }
    else if (k === '--admin-prohibited') a.admin = true;
    else { console.error(`fuzz-core: unknown option ${k}`); process.exit(2); }
  }
  if (a.out === '') a.out = join(tmpdir(), `nat64-fuzz-core-failure-${a.seed}.hex`);
  return a;
}

function heapMiB(): number {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) { g(); g(); }
  return process.memoryUsage().heapUsed / 1048576;
}

function main(): void {
  const a = parseArgs(process.argv.slice(2));
  const gcAvailable = typeof (globalThis as { gc?: unknown }).gc === 'function';
  if (!gcAvailable) console.log('note: run with node --expose-gc for exact heap figures');
  const heap0 = heapMiB();
  let total = 0, elapsed = 0;
  const counters: Record<string, number> = {};
  const verdicts: Record<string, number> = {};
  // The time box is shared between the shard configurations; each gets its own seed stream.
  for (const [k, shards] of a.shards.entries()) {
    const seconds = a.seconds / a.shards.length;
    const heapStart = heapMiB();
    const globals: Partial<CoreGlobals> | undefined = !a.admin ? undefined : shards === 1
      ? { icmpAdminProhibited: true, addressDependentFiltering: true }
      : { icmpAdminProhibited: true, dropExternallyInitiatedTcp: true };
    const s: FuzzStats = fuzz({
      seed: (a.seed + k * 0x9e3779b9) >>> 0, shards, seconds, packets: a.packets, capacity: a.capacity, globals,
      progressEvery: 262144, onProgress: (p) => console.log(`  [${shards} shard(s)] ${p.packets} packets...`),
    });
    const heapEnd = heapMiB();
    total += s.packets + s.secondPasses;
    elapsed += s.elapsedMs;
    for (const [n, v] of Object.entries(s.counters)) counters[n] = (counters[n] ?? 0) + v;
    for (const [n, v] of Object.entries(s.verdicts)) verdicts[n] = (verdicts[n] ?? 0) + v;
    console.log(`${shards} shard(s): ${s.packets} packets + ${s.secondPasses} hairpin second passes in ${(s.elapsedMs / 1000).toFixed(1)} s ` +
      `(${Math.round((s.packets + s.secondPasses) / (s.elapsedMs / 1000))} packets/s); max bib ${s.maxBib} sessions ${s.maxSessions} ` +
      `held ${s.maxHeld}; flow cache hits ${s.cacheHits}; heap ${heapStart.toFixed(1)} -> ${heapEnd.toFixed(1)} MiB`);
    console.log(`  ICMP errors originated, by reason: ${Object.entries(s.errorsByReason).map(([n, v]) => `${n} ${v}`).join(', ') || 'none'}`);
    const c = s.checksum;
    console.log(`  receive step: ${c.none} none, ${c.complete} complete, ${c.partial} partial (${c.finishedRx} finished on receive, ` +
      `${c.deferred} deferred: ${c.finishedTx} finished on transmit, ${c.unfinished} nothing to finish); ` +
      `${c.corruptTranslated} corrupt checksums translated, none repaired`);
    if (s.failure) {
      const f = s.failure;
      writeFileSync(a.out, `${f.hex}\n`);
      console.error(`INVARIANT BROKEN: ${f.detail}`);
      console.error(`  direction process${f.direction}, seed packet ${f.seedName}, run seed ${f.seed}, shards ${f.shards}, iteration ${f.iteration}`);
      console.error(`  input (${f.hex.length / 2} bytes) written to ${a.out}: ${f.hex.slice(0, 400)}${f.hex.length > 400 ? '...' : ''}`);
      process.exit(1);
    }
  }
  const heap1 = heapMiB();
  console.log(`total: ${total} packets fuzzed in ${(elapsed / 1000).toFixed(1)} s, ${Math.round(total / (elapsed / 1000))} packets/s`);
  console.log(`verdicts: ${Object.entries(verdicts).map(([n, v]) => `${n} ${v}`).join(', ')}`);
  console.log('counters:');
  const width = Math.max(...Object.keys(counters).map((n) => n.length));
  const max = Math.max(...Object.values(counters));
  for (const [n, v] of Object.entries(counters).sort((x, y) => y[1] - x[1])) {
    console.log(`  ${n.padEnd(width)} ${String(v).padStart(10)} ${'#'.repeat(Math.max(1, Math.round((40 * v) / max)))}`);
  }
  console.log(`heap used: ${heap0.toFixed(1)} MiB before, ${heap1.toFixed(1)} MiB after${gcAvailable ? ' (after gc)' : ''}`);
}

main();
