/**
 * One benchmark scenario in its own process (EAL initialises once per process): the real data
 * plane (Dataplane: native I/O + shard workers) between a net_pcap port replaying a traffic file
 * forever and a net_null port that discards. Prints one JSON line.
 *
 *   node dist/bench/scenario.js '{"shards":1,"sessions":1024,"frameBytes":84,"proto":"UDP","seconds":5}'
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseInstance, toCoreConfig } from '../src/control/instance';
import { Dataplane } from '../src/dataplane/manager';
import { native } from '../src/native';
import { memoryArgs } from '../src/native/eal-args';
import { writePcap } from './pcap';
import { frame6, SERVER4 } from './traffic';

export interface ScenarioSpec { shards: number; sessions: number; frameBytes: number; proto: 'UDP' | 'TCP'; seconds: number }

export interface ScenarioResult extends ScenarioSpec {
  direction: '6to4';
  mpps: number;
  /** Frames the shards received in the window that did not leave translated. */
  lossRatio: number;
  /** Time until every one of the `sessions` flows had a BIB entry (phase 1), and the rate. */
  establishSeconds: number | null;
  sessionsPerSecond: number | null;
  nsPerPacket: number;
  counters: Record<string, number>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runScenario(spec: ScenarioSpec): Promise<ScenarioResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nat64-bench-'));
  const pcap = path.join(dir, 'v6.pcap');
  writePcap(pcap, (function* () { for (let k = 0; k < spec.sessions; k++) yield frame6(k, spec.frameBytes, spec.proto); })());
  const dp = new Dataplane();
  try {
    await dp.start({
      eal: ['--no-pci', '--iova-mode=va', '--no-telemetry', '-l', '0', '--log-level=error', ...memoryArgs()],
      shards: spec.shards,
      mbufs: Math.max(16383, spec.sessions + 8192 * spec.shards) | 1,
      sessionsPerShard: Math.max(1024, Math.ceil((spec.sessions * 1.5) / spec.shards)),
      ports: [
        { name: 'v6', device: `net_pcap0,rx_pcap=${pcap},infinite_rx=1`, addresses: ['2001:db8::1/64'], routes: [], mtu: 1500, neighbors: [] },
        { name: 'v4', device: 'net_null0,no-rx=1', addresses: ['198.18.0.1/24'], routes: [], mtu: 1500,
          neighbors: [{ address: SERVER4, mac: '02:00:00:00:00:10' }] },
      ],
    });
    const pool4Addresses = Math.max(1, Math.ceil(spec.sessions / 60000));
    const prefixLen = 32 - Math.ceil(Math.log2(pool4Addresses));
    const inst = parseInstance({
      instance: 'bench', framework: 'netfilter', global: { pool6: '64:ff9b::/96' },
      pool4: [{ protocol: spec.proto, prefix: `198.19.0.0/${prefixLen}`, 'port range': '1024-65535' }],
    }, 'bench');
    const before = dp.counters().total;
    const t0 = process.hrtime.bigint();
    await dp.setInstance(toCoreConfig(inst));
    // Phase 1 (RFC 9693): every flow gets its BIB entry and session.
    let establishSeconds: number | null = null;
    const phase1Deadline = Date.now() + 60000;
    while (Date.now() < phase1Deadline) {
      const c = dp.counters().total;
      if (c['translated-6to4'] - before['translated-6to4'] >= spec.sessions && dp.bib().length >= spec.sessions) {
        establishSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
        break;
      }
      await sleep(spec.sessions > 100000 ? 200 : 20);
    }
    // Phase 2: the forwarding rate over established sessions.
    await sleep(500);
    const v4 = dp.ports().find((p) => p.configName === 'v4')!;
    const c1 = dp.counters().total;
    const tx1 = native.portStats(v4.portId).opackets;
    const w1 = process.hrtime.bigint();
    await sleep(spec.seconds * 1000);
    const c2 = dp.counters().total;
    const tx2 = native.portStats(v4.portId).opackets;
    const secs = Number(process.hrtime.bigint() - w1) / 1e9;
    const mpps = (tx2 - tx1) / secs / 1e6;
    const received = c2['received'] - c1['received'];
    const translated = c2['translated-6to4'] - c1['translated-6to4'];
    const counters: Record<string, number> = {};
    for (const [k, v] of Object.entries(c2)) if (v - (before[k] ?? 0) > 0) counters[k] = v - (before[k] ?? 0);
    return {
      ...spec, direction: '6to4', mpps, lossRatio: received > 0 ? Math.max(0, 1 - translated / received) : 1,
      establishSeconds, sessionsPerSecond: establishSeconds ? spec.sessions / establishSeconds : null,
      nsPerPacket: mpps > 0 ? (1000 / mpps) * spec.shards : 0, counters,
    };
  } finally {
    await dp.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  runScenario(JSON.parse(process.argv[2]) as ScenarioSpec).then(
    (r) => { process.stdout.write(`${JSON.stringify(r)}\n`); process.exit(0); },
    (e) => { process.stderr.write(`scenario failed: ${(e as Error).stack ?? e}\n`); process.exit(1); },
  );
}
