/**
 * `npm run bench [-- --quick]`: RFC 9693-style figures for the translator, each beside a testpmd
 * baseline measured in the same invocation over the same devices (these machines are shared and
 * noisy: ratios travel better than absolute numbers). Prints a table and writes
 * bench/results/<date>.json. Scenarios run one per child process (EAL initialises once per process).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { testpmdMpps } from './baseline';
import { writePcap } from './pcap';
import type { ScenarioResult, ScenarioSpec } from './scenario';
import { frame6 } from './traffic';

interface Row extends ScenarioResult { scenario: string; baselineMpps: number; ratio: number }

function runChild(spec: ScenarioSpec): ScenarioResult {
  const out = execFileSync(process.execPath, [path.join(__dirname, 'scenario.js'), JSON.stringify(spec)],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 180000 });
  return JSON.parse(out.trim().split('\n').pop()!) as ScenarioResult;
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const seconds = quick ? 3 : 5;
  const specs: ScenarioSpec[] = [];
  for (const shards of quick ? [1] : [1, 2]) {
    for (const sessions of quick ? [1024, 65536] : [1024, 65536]) {
      for (const frameBytes of quick ? [84] : [84, 1518]) {
        specs.push({ shards, sessions, frameBytes, proto: 'UDP', seconds });
      }
    }
  }
  if (!quick) specs.push({ shards: 1, sessions: 65536, frameBytes: 84, proto: 'TCP', seconds });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nat64-baseline-'));
  const baselines = new Map<number, number>();
  const rows: Row[] = [];
  try {
    for (const spec of specs) {
      if (!baselines.has(spec.frameBytes)) {
        const pcap = path.join(dir, `b${spec.frameBytes}.pcap`);
        writePcap(pcap, (function* () { for (let k = 0; k < 1024; k++) yield frame6(k, spec.frameBytes, 'UDP'); })());
        baselines.set(spec.frameBytes, await testpmdMpps(pcap, seconds));
      }
      const r = runChild(spec);
      const baselineMpps = baselines.get(spec.frameBytes)!;
      const row: Row = { scenario: `6to4 ${spec.proto} ${spec.frameBytes}B ${spec.sessions} sessions ${spec.shards} shard(s)`,
        ...r, baselineMpps, ratio: r.mpps / baselineMpps };
      rows.push(row);
      process.stdout.write(`${row.scenario.padEnd(48)} ${row.mpps.toFixed(2).padStart(7)} Mpps  baseline ${baselineMpps.toFixed(2).padStart(6)}  ` +
        `ratio ${(row.ratio * 100).toFixed(0).padStart(3)}%  loss ${(row.lossRatio * 100).toFixed(2)}%  ` +
        `setup ${row.sessionsPerSecond ? (row.sessionsPerSecond / 1e6).toFixed(2) + ' M sess/s' : 'n/a'}\n`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const resultsDir = path.resolve(__dirname, '../../bench/results');
  fs.mkdirSync(resultsDir, { recursive: true });
  const file = path.join(resultsDir, `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), host: os.hostname(), cpus: os.cpus().length,
    cpu: os.cpus()[0]?.model, node: process.version, rows }, null, 2));
  process.stdout.write(`results: ${file}\n`);
}

main().catch((e) => { process.stderr.write(`bench failed: ${(e as Error).stack ?? e}\n`); process.exit(1); });
