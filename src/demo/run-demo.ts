import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { memoryArgs } from '../native/eal-args';
import { httpCheck, pingCheck, udpCheck, type CheckResult } from './checks';
import { createTopology, destroyTopology, ipv4ServicesListening, startIpv4Services, type Topology } from './topology';

export interface DemoOptions {
  prefix: string;
  shards: number;
  /** Keep the network and the daemon up after the checks, until SIGINT/SIGTERM. */
  keep: boolean;
  log: (line: string) => void;
}

const BIN = path.resolve(__dirname, '../../../bin/nat64');

/**
 * The kernel reassembles IPv4 fragments for a packet socket in a fanout group, so a frame can be as
 * large as a reassembled datagram: ring frames as large as our packet buffers (5 KB; the default
 * 2 KB would cut them short). 4096 frames per queue (the default 512 is 10-25 ms of a 20-50 k/s
 * flood): on shared cores a shard can wait that long for a CPU, and the kernel then drops at the
 * ring whatever arrives, established flows included (rx-missed; docs/reliability.md "Floods").
 * Memory: 1024 blocks of 20 KB, each in 32 KB of kernel pages = 32 MB per queue.
 */
const AF_PACKET_RING = 'framesz=5120,blocksz=20480,framecnt=4096';

/** The daemon configuration for the sample network (same shape as config/nat64.example.json). */
export function demoConfig(t: Topology, shards: number): object {
  return {
    dataplane: {
      eal: ['--no-pci', '--iova-mode=va', '--no-telemetry', '-l', '0', '--log-level=warning', ...memoryArgs()],
      shards,
      ports: [
        { name: 'v6', device: `net_af_packet0,iface=${t.ifaces.v6},qpairs=${shards},${AF_PACKET_RING}`, addresses: [`${t.translator.v6}/96`] },
        { name: 'v4', device: `net_af_packet1,iface=${t.ifaces.v4},qpairs=${shards},${AF_PACKET_RING}`, addresses: [`${t.translator.v4}/24`] },
      ],
    },
    instances: [],
  };
}

/** A running translator on the sample network, for the demo and the end-to-end tests. */
export class DemoNetwork {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nat64-demo-'));
  readonly socket = path.join(this.dir, 'nat64.sock');
  readonly configPath = path.join(this.dir, 'nat64.json');
  topology: Topology | null = null;
  private daemon: ChildProcess | null = null;
  private services: ChildProcess[] = [];
  daemonOutput = '';
  daemonExit: Promise<number | null> = Promise.resolve(null);

  constructor(private readonly opts: Omit<DemoOptions, 'keep'>) {}

  async up(): Promise<void> {
    const t = createTopology(this.opts.prefix);
    this.topology = t;
    this.services = startIpv4Services(t);
    fs.writeFileSync(this.configPath, JSON.stringify(demoConfig(t, this.opts.shards), null, 2));
    this.opts.log(`$ ip netns exec ${t.ns.t} nat64 daemon --config ${this.configPath} --socket ${this.socket}`);
    const d = spawn('ip', ['netns', 'exec', t.ns.t, process.execPath, BIN, 'daemon', '--config', this.configPath, '--socket', this.socket],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    this.daemon = d;
    d.stdout!.on('data', (b: Buffer) => { this.daemonOutput += b.toString(); });
    d.stderr!.on('data', (b: Buffer) => { this.daemonOutput += b.toString(); });
    this.daemonExit = new Promise((resolve) => d.on('exit', (code) => resolve(code)));
    await this.waitForSocket(30000);
    await ipv4ServicesListening(t, this.services);
  }

  private async waitForSocket(ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      if (this.daemon?.exitCode !== null) throw new Error(`daemon exited (${this.daemon?.exitCode}):\n${this.daemonOutput}`);
      if (fs.existsSync(this.socket) && this.cli(['instance', 'display']).status === 0) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`daemon did not open ${this.socket} within ${ms} ms:\n${this.daemonOutput}`);
  }

  /** Run the real CLI against this daemon, as an operator would. */
  cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync(process.execPath, [BIN, ...args],
      { encoding: 'utf8', timeout: 20000, env: { ...process.env, NAT64_SOCKET: this.socket } });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  /** SIGTERM the daemon and wait for it; returns its exit code. */
  async stopDaemon(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (!this.daemon || this.daemon.exitCode !== null) return this.daemon?.exitCode ?? null;
    this.daemon.kill(signal);
    const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 15000));
    const code = await Promise.race([this.daemonExit, timer]);
    if (code === 'timeout') { this.daemon.kill('SIGKILL'); return null; }
    return code;
  }

  async down(): Promise<void> {
    await this.stopDaemon();
    for (const s of this.services) s.kill('SIGKILL');
    if (this.topology) destroyTopology(this.topology);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** `nat64 demo`: build, translate, check like a user would, report, clean up. Returns the exit code. */
export async function runDemo(opts: DemoOptions): Promise<number> {
  const net = new DemoNetwork(opts);
  let cleaning = false;
  const cleanup = async () => { if (!cleaning) { cleaning = true; await net.down(); } };
  const onSignal = () => { opts.log('interrupted: cleaning up'); void cleanup().then(() => process.exit(130)); };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    opts.log(`building the sample network (namespaces ${opts.prefix}-*) ...`);
    await net.up();
    const add = ['instance', 'add', 'example', '--pool6', '64:ff9b::/96'];
    opts.log(`$ nat64 ${add.join(' ')}`);
    const r = net.cli(add);
    if (r.status !== 0) throw new Error(`instance add failed: ${r.stderr || r.stdout}`);
    const t = net.topology!;
    const results: CheckResult[] = [pingCheck(t, 0), httpCheck(t, 0), udpCheck(t, 0), pingCheck(t, 1), httpCheck(t, 1)];
    for (const c of results) opts.log(`${c.ok ? 'PASS' : 'FAIL'}  ${c.name}\n      $ ${c.command}\n${c.output.split('\n').map((l) => `      ${l}`).join('\n')}`);
    const sessions = net.cli(['-i', 'example', 'session', 'display', '--numeric']);
    opts.log(`$ nat64 -i example session display --numeric\n${sessions.stdout}${sessions.stderr}`);
    const stats = net.cli(['stats', 'display']);
    opts.log(`$ nat64 stats display\n${stats.stdout}${stats.stderr}`);
    const failed = results.filter((c) => !c.ok).length;
    opts.log(failed === 0 ? 'demo: every check passed' : `demo: ${failed} check(s) failed`);
    if (opts.keep) {
      opts.log(`keeping the network up; try: ip netns exec ${t.ns.h6a} ping -6 64:ff9b::203.0.113.16 ; Ctrl-C to stop`);
      await new Promise(() => undefined);
    }
    return failed === 0 ? 0 : 1;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await cleanup();
  }
}
