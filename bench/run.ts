/**
 * `npm run bench [-- --quick] [-- --pressure] [-- --repeat N]`: RFC 9693-style figures for the translator, each
 * beside a baseline measured in the same invocation (these machines are shared and noisy: ratios
 * travel better than absolute numbers; every figure is the median of --repeat runs, 1 by default
 * in --quick, 3 otherwise). Prints a table, writes bench/results/bench-<date>.json (one object per
 * scenario) and bench/results/rate-vs-sessions.png. Each scenario runs in its own process (EAL
 * initialises once per process): bench/scenario.ts.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { testpmdMpps } from './baseline';
import { writeChart } from './chart';
import { writePcap } from './pcap';
import type { ScenarioResult, ScenarioSpec } from './scenario';
import { frame6 } from './traffic';

interface Row extends ScenarioResult {
  scenario: string;
  baseline: string;
  baselineMpps: number;
  /** mpps / baselineMpps */
  ratio: number;
  /** mpps / the 1 k-session rate of the same direction, frame, protocol and shards */
  shareOf1k: number | null;
  runs: number[];
  /**
   * Refusal rows: ns of shard time per refused packet, from this row's translated and refused rates
   * and the translated rate of the all-mapped row (same direction, protocol, size, sessions,
   * shards) of this invocation: (1 s - translated x ns per translation) / refused.
   */
  nsPerRefused?: number;
  /** nsPerRefused / ns per translated packet of that row (issue 11's target: at most 2). */
  refusedCost?: number;
  /** The same from the shard threads' CPU time (cpuNsPerProcessed), which holds on a shared machine. */
  cpuNsPerRefused?: number;
  cpuRefusedCost?: number;
  /** The same without the inline generator's time (genCpuNsPerProcessed) in either row: the translator's own. */
  ownNsPerRefused?: number;
  ownRefusedCost?: number;
}

const quick = process.argv.includes('--quick');
/** `--pressure`: only the rows of issue 11 (refusals, floods, churn, the one-host layout). */
const pressureOnly = process.argv.includes('--pressure');
const repeatArg = process.argv.indexOf('--repeat');
const repeat = repeatArg > 0 ? Number(process.argv[repeatArg + 1]) : quick ? 1 : 3;
/** `--only TEXT`: only the scenarios whose name contains TEXT (their all-mapped rows too, for refusal rows). */
const onlyArg = process.argv.indexOf('--only');
const only = onlyArg > 0 ? process.argv[onlyArg + 1] : null;
const seconds = quick ? 2 : 4;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function runChild(spec: ScenarioSpec): ScenarioResult {
  const out = execFileSync(process.execPath, [path.join(__dirname, 'scenario.js'), JSON.stringify(spec)],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 600000, maxBuffer: 1 << 26 });
  return JSON.parse(out.trim().split('\n').pop()!) as ScenarioResult;
}

/** The median run (by mpps) of `repeat` runs, with every run's rate. */
function measure(spec: ScenarioSpec): ScenarioResult & { runs: number[] } {
  const rs: ScenarioResult[] = [];
  for (let i = 0; i < repeat; i++) rs.push(runChild(spec));
  // Refusal rows send little or nothing out: their figure is what the translator got through.
  const rate = (r: ScenarioResult) => (spec.refusal ? r.processedMpps ?? 0 : r.mpps);
  rs.sort((a, b) => rate(a) - rate(b));
  return { ...rs[Math.floor(rs.length / 2)], runs: rs.map((r) => +rate(r).toFixed(3)) };
}

/** A row of issue 11's adversity (not a point of the rate-vs-sessions chart). */
function adverse(s: ScenarioSpec): boolean {
  return s.unmappableRatio !== undefined || s.flood !== undefined || s.udpTimeoutMs !== undefined || s.hosts !== undefined || s.pool4Ports !== undefined
    || s.refusal !== undefined || s.icmpAdminProhibited !== undefined;
}

/** The all-mapped row a refusal row is compared with (same invocation). */
function sameLayout(x: ScenarioSpec, s: ScenarioSpec): boolean {
  return x.stage === 'nat64' && x.device === s.device && x.direction === s.direction && x.proto === s.proto && x.frameBytes === s.frameBytes
    && x.shards === s.shards && x.sessions === s.sessions && !x.steer && x.flowCacheEntries === undefined && !x.rxChecksum && !adverse(x);
}

const refusalBase = { device: 'null', stage: 'nat64', seconds: 3, frameBytes: 84, sessions: 65536, shards: 1 } as const;

/**
 * The all-mapped rows refusal and flood rows are compared with (64 k flows, 1 shard, each direction
 * and protocol; UDP with 2 shards for the 2-shard floods and scans).
 */
function mappedSpecs(): ScenarioSpec[] {
  const out: ScenarioSpec[] = [];
  for (const proto of ['UDP', 'TCP'] as const) for (const direction of ['6to4', '4to6'] as const) out.push({ ...refusalBase, proto, direction });
  out.push({ ...refusalBase, proto: 'UDP', direction: '6to4', shards: 2 });
  out.push({ ...refusalBase, proto: 'UDP', direction: '4to6', shards: 2 });
  return out;
}

/**
 * Issue 11, every refusal path against a translated packet of the same size (mappedSpecs: 64 k
 * flows, 84-byte IPv6 / 64-byte IPv4 frames): one row per refusal path with every flow refused by
 * it (bench/scenario.ts `refusal`), 3 s each.
 */
function refusalSpecs(): ScenarioSpec[] {
  const base = refusalBase;
  const out: ScenarioSpec[] = [];
  const row = (direction: '6to4' | '4to6', proto: 'UDP' | 'TCP', refusal: ScenarioSpec['refusal'], icmp = false) =>
    out.push({ ...base, direction, proto, refusal, ...(icmp ? { icmpAdminProhibited: true } : {}) });
  row('6to4', 'UDP', 'pool4-exhausted');
  row('6to4', 'TCP', 'tcp-syn-needed');
  row('6to4', 'TCP', 'tcp-syn-needed', true);
  row('6to4', 'UDP', 'pool6-mismatch');
  row('6to4', 'UDP', 'no-instance');
  row('4to6', 'UDP', 'bib4-not-found');
  row('4to6', 'UDP', 'bib4-not-found', true);
  row('4to6', 'UDP', 'adf');
  row('4to6', 'TCP', 'drop-externally-initiated-tcp');
  row('4to6', 'TCP', 'tcp-syn-needed');
  row('4to6', 'UDP', 'pool4-mismatch');
  row('4to6', 'UDP', 'no-instance');
  return out;
}

/**
 * Issue 11 (RFC 9693 / CSIT NAT44 adversity): pool4 leaving 0 / 0.1 / 2 / 50 % of 64 k flows
 * unmapped; the one-host layout of RFC 9693 testers (one IPv6 source, pool4 one address with ports
 * 1024-65535: 64 000 flows fit, 64 600 and 65 536 do not; net_pcap replay, the errors' next hop
 * unresolved); a flood of new 5-tuples from 4 096 hosts or from one next to 64 k established
 * flows; sessions expiring while traffic runs (bench-only UDP timeouts).
 */
function pressureSpecs(): ScenarioSpec[] {
  const base = { device: 'null', stage: 'nat64', proto: 'UDP', seconds, direction: '6to4', frameBytes: 84 } as const;
  // Alone (--pressure), the all-mapped rows first: the flood and refusal rows are measured against them.
  const out: ScenarioSpec[] = pressureOnly ? mappedSpecs() : [];
  for (const unmappableRatio of [0, 0.001, 0.02, 0.5]) out.push({ ...base, sessions: 65536, shards: 1, unmappableRatio });
  // The daemon's default max-iterations (auto): refusals while ports are free, each probing the budget.
  for (const unmappableRatio of [0.02, 0.5]) out.push({ ...base, sessions: 65536, shards: 1, unmappableRatio, pool4MaxIterations: 'auto' });
  for (const sessions of [64000, 64600, 65536]) {
    out.push({ ...base, device: 'pcap', sessions, shards: 1, hosts: 1, pool4Ports: 64512, neighbor6: 'unresolved' });
  }
  for (const shards of [1, 2]) {
    out.push({ ...base, sessions: 65536, shards, pool4Ports: 65536, flood: { flows: 1 << 20, hosts: 4096 } });
    // First packets only, nearly: 8 M new 5-tuples, each seen again 1.5-2 s later on average, when
    // its refusal is no longer remembered (the counters give the split: pool4-exhausted vs
    // refused-recently; 95-98 % first packets). Not more flows: the generator's own tables (10 bytes
    // a flow, read at random inside the shard's rx_burst) would crowd the shard's out of the caches.
    out.push({ ...base, sessions: 65536, shards, pool4Ports: 65536, flood: { flows: 1 << 23, hosts: 4096 } });
    out.push({ ...base, sessions: 65536, shards, pool4Ports: 65536, flood: { flows: 65536, hosts: 1 } });
    // A scan from the IPv4 side: 8 M new 5-tuples to pool4 transport addresses nobody mapped
    // (bib4-not-found, first packets nearly all), next to 64 k established flows answering.
    out.push({ ...base, direction: '4to6', sessions: 65536, shards, pool4Ports: (1 << 23) + (1 << 17), flood: { flows: 1 << 23, hosts: 1 } });
  }
  // Issue 15: one host floods new 5-tuples while pool4 still has room (twice the established
  // flows' ports): with the default per-subscriber limit it stops at its share, with 0 it takes the
  // rest of the pool. Rate and loss of the established flows; the counters say who got what.
  for (const subscriberPortLimit of [undefined, 0]) {
    out.push({ ...base, sessions: 65536, shards: 1, pool4Ports: 131072, flood: { flows: 65536, hosts: 1 },
      ...(subscriberPortLimit === undefined ? {} : { subscriberPortLimit }) });
  }
  out.push({ ...base, sessions: 65536, shards: 1, udpTimeoutMs: 50 });
  out.push({ ...base, sessions: 1 << 20, shards: 1, udpTimeoutMs: 1000 });
  // The full run has the all-mapped rows already (earlier in its list).
  out.push(...refusalSpecs());
  return out;
}

function specs(): ScenarioSpec[] {
  const base = { device: 'null', stage: 'nat64', proto: 'UDP', seconds } as const;
  const out: ScenarioSpec[] = [];
  if (pressureOnly) return pressureSpecs().filter((x, _, all) => !only || name(x).includes(only)
    || (!adverse(x) && all.some((y) => (y.refusal || y.flood) && name(y).includes(only) && sameLayout(x, y))));
  const stage = (stage: ScenarioSpec['stage'], frameBytes: number) =>
    out.push({ ...base, stage, direction: '6to4', frameBytes, sessions: 1024, shards: 1 });
  if (quick) {
    stage('drop', 84); stage('pass', 84);
    for (const sessions of [1024, 65536]) out.push({ ...base, direction: '6to4', frameBytes: 84, sessions, shards: 1, measureLatency: sessions === 65536 });
    out.push({ ...base, direction: '4to6', frameBytes: 84, sessions: 65536, shards: 1 });
    // The receive path's partial-checksum recognition (kernel-backed ports) on every frame, same run.
    for (const direction of ['6to4', '4to6'] as const) out.push({ ...base, direction, frameBytes: 84, sessions: 65536, shards: 1, rxChecksum: 'detect' });
    out.push({ ...base, direction: '6to4', frameBytes: 84, sessions: 65536, shards: 2 });
    out.push({ ...base, device: 'pcap', direction: '6to4', frameBytes: 84, sessions: 65536, shards: 1 });
    return out;
  }
  for (const f of [84, 1518]) { stage('drop', f); stage('pass', f); stage('handoff', f); }
  for (const frameBytes of [84, 1518]) {
    for (const direction of ['6to4', '4to6'] as const) {
      for (const shards of [1, 2]) {
        for (const sessions of [1024, 65536, 1 << 20, 1 << 22]) {
          if (frameBytes === 1518 && sessions > 65536) continue;
          out.push({ ...base, direction, frameBytes, sessions, shards, measureLatency: frameBytes === 84 && sessions === 65536 });
        }
      }
    }
  }
  for (const direction of ['6to4', '4to6'] as const) {
    for (const sessions of [1024, 65536, 1 << 20]) out.push({ ...base, proto: 'TCP', direction, frameBytes: 84, sessions, shards: 1 });
  }
  out.push({ ...base, direction: '6to4', frameBytes: 84, sessions: 65536, shards: 2, steer: 'spread' });
  // Memory against rate: no flow cache at all, and a cache of 256 k entries (16 MB a direction) for 1 M sessions.
  out.push({ ...base, direction: '6to4', frameBytes: 84, sessions: 65536, shards: 1, flowCacheEntries: 0 });
  out.push({ ...base, direction: '6to4', frameBytes: 84, sessions: 1 << 20, shards: 1, flowCacheEntries: 1 << 18 });
  // What recognising partial checksums in software (rxChecksum "detect", as on af_packet) costs a hit.
  for (const direction of ['6to4', '4to6'] as const) out.push({ ...base, direction, frameBytes: 84, sessions: 65536, shards: 1, rxChecksum: 'detect' });
  out.push({ ...base, device: 'ring', direction: '6to4', frameBytes: 84, sessions: 65536, shards: 1 });
  for (const frameBytes of [84, 1518]) out.push({ ...base, device: 'pcap', direction: '6to4', frameBytes, sessions: 65536, shards: 1 });
  out.push(...pressureSpecs());
  return out;
}

function name(s: ScenarioSpec): string {
  if (s.stage !== 'nat64') return `stage ${s.stage} ${s.frameBytes}B (${s.device})`;
  const n = s.sessions % 1024 !== 0 ? `${s.sessions}` : s.sessions >= 1 << 20 ? `${s.sessions / (1 << 20)}M` : `${s.sessions / 1024}k`;
  return `${s.direction} ${s.proto} ${s.direction === '6to4' ? s.frameBytes : s.frameBytes - 20}B ${n} ${s.shards}sh ${s.device}` +
    (s.steer === 'spread' ? ' spread' : '') +
    (s.flowCacheEntries === undefined ? '' : s.flowCacheEntries === 0 ? ' nocache' : ` cache${s.flowCacheEntries >>> 10}k`) +
    (s.rxChecksum === 'detect' ? ' csum-detect' : '') +
    (s.hosts !== undefined ? ` ${s.hosts}host` : '') +
    (s.unmappableRatio !== undefined ? ` unmappable${+(s.unmappableRatio * 100).toFixed(1)}%` : '') +
    (s.pool4Ports !== undefined ? ` pool4 ${s.pool4Ports}` : '') +
    (s.pool4MaxIterations === 'auto' ? ' max-iter auto' : '') +
    (s.flood ? ` flood ${s.flood.flows >>> 10}k/${s.flood.hosts}h` : '') +
    (s.udpTimeoutMs !== undefined ? ` udp-timeout ${s.udpTimeoutMs}ms` : '') +
    (s.subscriberPortLimit !== undefined ? ` subscriber-port-limit ${s.subscriberPortLimit}` : '') +
    (s.refusal ? ` refuse ${s.refusal}${s.refusedRatio !== undefined && s.refusedRatio !== 1 ? ` ${+(s.refusedRatio * 100).toFixed(1)}%` : ''}` : '') +
    (s.icmpAdminProhibited ? ' icmp-admin-prohibited' : '');
}

/** Session sync under load (bench/sync.ts): printed, and kept in the results file. */
function syncFigures() {
  const syncOut = execFileSync(process.execPath, [path.join(__dirname, 'sync.js'), '--json', '--sessions', String(quick ? 50_000 : 200_000)],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 300000 });
  const sync = JSON.parse(syncOut.trim().split('\n').pop()!) as { sessions: number; establishmentPerSecond: { off: number; on: number };
    live: { establishedPerSecondOnJ: number; carriedPerSecond: number; appliedOnK: number; bytesPerSession: number; wireBytesPerSessionIPv4: number } | null;
    dump: { recordsPerSecond: number; bytesPerSession: number } | null };
  const k = (x: number) => `${(x / 1000).toFixed(0)} k/s`;
  process.stdout.write(`session sync (${sync.sessions} UDP sessions, HMAC, J 1 shard -> K 2 shards, loopback): establishment ` +
    `${k(sync.establishmentPerSecond.off)} (ss off) / ${k(sync.establishmentPerSecond.on)} (ss on); ` +
    (sync.live ? `carried ${k(sync.live.carriedPerSecond)} while J established ${k(sync.live.establishedPerSecondOnJ)}, ${sync.live.appliedOnK} applied, ` +
      `${sync.live.bytesPerSession} B/session (${sync.live.wireBytesPerSessionIPv4} with IPv4+UDP); ` : 'live: incomplete; ') +
    (sync.dump ? `dump ${k(sync.dump.recordsPerSecond)}\n` : 'dump: incomplete\n'));
  return sync;
}

async function main(): Promise<void> {
  const t0 = Date.now();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nat64-baseline-'));
  const resultsDir = path.resolve(__dirname, '../../bench/results');
  fs.mkdirSync(resultsDir, { recursive: true });
  const baselines: Record<string, number> = {};
  const rows: Row[] = [];
  const list = specs();
  try {
    // Baselines first, same invocation: testpmd over the pcap devices and over net_null.
    for (const frameBytes of pressureOnly ? [] : quick ? [84] : [84, 1518]) {
      const pcap = path.join(dir, `b${frameBytes}.pcap`);
      writePcap(pcap, (function* () { for (let k = 0; k < 1024; k++) yield frame6(frameBytes, 'UDP', k).frame; })());
      for (const mode of ['io', '5tswap'] as const) {
        if (quick && mode === '5tswap') continue;
        baselines[`testpmd ${mode} pcap ${frameBytes}B`] =
          median(await Promise.all([0].map(() => testpmdMpps([`net_pcap0,rx_pcap=${pcap},infinite_rx=1`, 'net_null1,no-rx=1'], seconds, mode))));
      }
      baselines[`testpmd io null ${frameBytes}B`] = await testpmdMpps([`net_null0,size=${frameBytes - 4}`, 'net_null1,no-rx=1'], seconds, 'io');
    }
    for (const [k, v] of Object.entries(baselines)) process.stdout.write(`baseline ${k.padEnd(28)} ${v.toFixed(2).padStart(7)} Mpps\n`);
    process.stdout.write(`${'scenario'.padEnd(34)} ${'Mpps'.padStart(7)} ${'base'.padStart(6)} ${'ratio'.padStart(6)} ${'loss'.padStart(7)} ` +
      `${'ns/pkt'.padStart(7)} ${'Msess/s'.padStart(8)} ${'B/sess'.padStart(7)} ${'+cache'.padStart(7)} ${'lat p50/p99 µs @10/50/90%'}\n`);
    for (const spec of list) {
      const r = measure(spec);
      const pass = rows.find((x) => x.stage === 'pass' && x.frameBytes === spec.frameBytes && x.device === spec.device);
      const baseline = spec.device === 'pcap' ? `testpmd io pcap ${spec.frameBytes}B`
        : pass && spec.stage === 'nat64' ? `pass ${spec.frameBytes}B` : `testpmd io null ${spec.frameBytes}B`;
      const baselineMpps = (baseline.startsWith('pass') ? pass!.mpps : baselines[baseline] ?? baselines[`testpmd io null 84B`]) ?? NaN;
      const k1 = rows.find((x) => x.stage === 'nat64' && x.device === spec.device && x.direction === spec.direction && x.proto === spec.proto &&
        x.frameBytes === spec.frameBytes && x.shards === spec.shards && x.sessions === 1024 && !x.steer && x.flowCacheEntries === undefined && !x.rxChecksum && !adverse(x));
      const row: Row = { ...r, scenario: name(spec), baseline, baselineMpps, ratio: r.mpps / baselineMpps,
        shareOf1k: k1 && spec.stage === 'nat64' ? r.mpps / k1.mpps : null };
      // Floods too: their refused packets (first packets of new 5-tuples, mostly) against the same translations.
      const mapped = spec.refusal || spec.flood ? rows.find((x) => sameLayout(x, spec)) : undefined;
      // (Not when next to nothing was refused: a flood the pool had room for.)
      if (mapped && mapped.translatedMpps && r.refusedMpps && r.refusedMpps > 0.01 * (r.processedMpps ?? 0)) {
        const nsHit = (1e3 / mapped.translatedMpps) * spec.shards;
        row.nsPerRefused = ((1e3 * spec.shards - (r.translatedMpps ?? 0) * nsHit) / r.refusedMpps);
        row.refusedCost = row.nsPerRefused / nsHit;
        if (mapped.cpuNsPerProcessed && r.cpuNsPerProcessed && r.processedMpps) {
          // CPU ns in the window per second of it = processed x ns per processed; minus the translations'.
          const cpuHit = mapped.cpuNsPerProcessed;
          row.cpuNsPerRefused = (r.processedMpps * r.cpuNsPerProcessed - (r.translatedMpps ?? 0) * cpuHit) / r.refusedMpps;
          row.cpuRefusedCost = row.cpuNsPerRefused / cpuHit;
          // The same without the inline generator's time in both rows (its cost grows with the flow count).
          const own = (x: ScenarioResult) => x.cpuNsPerProcessed! - (x.genCpuNsPerProcessed ?? 0);
          row.ownNsPerRefused = (r.processedMpps * own(r) - (r.translatedMpps ?? 0) * own(mapped)) / r.refusedMpps;
          row.ownRefusedCost = row.ownNsPerRefused / own(mapped);
        }
      }
      rows.push(row);
      const lat = row.latency.map((l) => `${l.p50us.toFixed(1)}/${l.p99us.toFixed(1)}`).join(' ');
      process.stdout.write(`${row.scenario.padEnd(34)} ${row.mpps.toFixed(2).padStart(7)} ${baselineMpps.toFixed(2).padStart(6)} ` +
        `${(row.ratio * 100).toFixed(0).padStart(5)}% ${(row.lossRatio * 100).toFixed(3).padStart(6)}% ${row.nsPerPacket.toFixed(0).padStart(7)} ` +
        `${row.sessionsPerSecond ? (row.sessionsPerSecond / 1e6).toFixed(3).padStart(8) : '     n/a'} ` +
        `${row.bytesPerSessionSlot ? row.bytesPerSessionSlot.toFixed(0).padStart(7) : '    n/a'} ` +
        `${row.flowCacheBytesPerSession !== null ? row.flowCacheBytesPerSession.toFixed(0).padStart(7) : '    n/a'} ${lat}` +
        (adverse(row) ? ` translated ${(row.translatedMpps ?? 0).toFixed(2)} Mpps, unmapped ${((row.unmappedFlows ?? 0) * 100).toFixed(2)} %` +
          (row.establishedLoss !== undefined ? `, established loss ${(row.establishedLoss * 100).toFixed(3)} %` : '') +
          (row.refusal || row.flood ? `, processed ${(row.processedMpps ?? 0).toFixed(2)} Mpps` +
            (row.nsPerRefused !== undefined ? `, ${row.nsPerRefused.toFixed(0)} ns/refused = ${row.refusedCost!.toFixed(2)}x a translation` : '') +
            (row.cpuNsPerRefused !== undefined ? ` (CPU time: ${row.cpuNsPerRefused.toFixed(0)} ns = ${row.cpuRefusedCost!.toFixed(2)}x;` +
              ` without the generator: ${row.ownNsPerRefused!.toFixed(0)} ns = ${row.ownRefusedCost!.toFixed(2)}x)` : '') : '') +
          (row.perSecond ? ` ${JSON.stringify(row.perSecond)}` : '') : '') + '\n');
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  // Session sync under load (bench/sync.ts), next to the establishment rate of the core (not with --pressure).
  const sync = pressureOnly ? null : syncFigures();
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const file = path.join(resultsDir, `bench-${stamp}${quick ? '-quick' : ''}${pressureOnly ? '-pressure' : ''}.json`);
  const cpus = os.cpus();
  fs.writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), host: os.hostname(), cpus: cpus.length, cpu: cpus[0]?.model,
    node: process.version, quick, repeat, seconds, baselines, sync, rows: rows.map(({ counters, io, ...r }) => ({ ...r, counters, io })) }, null, 2) + '\n');
  const points = rows.filter((r) => r.stage === 'nat64' && r.device === 'null' && r.proto === 'UDP' && r.frameBytes === 84 && !r.steer && r.flowCacheEntries === undefined && !r.rxChecksum && !adverse(r))
    .map((r) => ({ label: r.sessions >= 1 << 20 ? `${r.sessions / (1 << 20)} M sessions` : `${r.sessions / 1024} k sessions`,
      series: `${r.direction}, ${r.shards} shard${r.shards > 1 ? 's' : ''}`, value: r.mpps }));
  const png = pressureOnly ? null : writeChart(path.join(resultsDir, `rate-vs-sessions${quick ? '-quick' : ''}.png`),
    `nat64 UDP 84/64-byte frames, Mpps (median of ${repeat}), ${new Date().toISOString().slice(0, 10)}, ${cpus.length}x ${cpus[0]?.model ?? ''}`,
    'Mpps', points);
  process.stdout.write(`results: ${file}\nchart: ${png ?? 'rsvg-convert missing: SVG only'}\n(${((Date.now() - t0) / 1000).toFixed(0)} s)\n`);
}

main().catch((e) => { process.stderr.write(`bench failed: ${(e as Error).stack ?? e}\n`); process.exit(1); });
