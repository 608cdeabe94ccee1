/**
 * The user guide's network (src/demo/topology.ts) with the real daemon, for the reliability and
 * lifecycle tests: unlike DemoNetwork, the test chooses the configuration (EAL memory mode, pool4,
 * table sizes) and the daemon's environment (NAT64_TEST_HOOKS), and can signal the daemon.
 * Every traffic source here is bounded in packets and in time, and runs inside the namespaces.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { demoConfig } from '../../src/demo/run-demo';
import { createTopology, destroyTopology, ipv4ServicesListening, startIpv4Services, type Topology } from '../../src/demo/topology';
import { mapped } from '../../src/demo/checks';
import { parseIPv6 } from '../../src/control/inet';
import { hashOwner6 } from '../../src/dataplane/classify';

export const BIN = path.resolve(__dirname, '../../../bin/nat64');

export interface NetOptions {
  prefix: string;
  shards: number;
  /** Change the generated daemon configuration (demoConfig's shape) before it is written. */
  config?: (cfg: any) => void;
  env?: NodeJS.ProcessEnv;
  /** Called once the namespaces exist, before the daemon starts (links the daemon needs at start). */
  beforeDaemon?: (t: Topology) => void;
}

export class RelNet {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nat64-rel-'));
  readonly socket = path.join(this.dir, 'nat64.sock');
  readonly configPath = path.join(this.dir, 'nat64.json');
  readonly hookFile = path.join(this.dir, 'test-hook.json');
  t!: Topology;
  daemon: ChildProcess | null = null;
  output = '';
  exit: Promise<number | null> = Promise.resolve(null);
  private services: ChildProcess[] = [];

  constructor(readonly opts: NetOptions) {}

  async up(): Promise<void> {
    this.t = createTopology(this.opts.prefix);
    this.services = startIpv4Services(this.t);
    const cfg = demoConfig(this.t, this.opts.shards) as any;
    this.opts.config?.(cfg);
    fs.writeFileSync(this.configPath, JSON.stringify(cfg, null, 2));
    this.opts.beforeDaemon?.(this.t);
    await this.startDaemon();
    await ipv4ServicesListening(this.t, this.services); // they started before the daemon: usually at once
  }

  /** Start the daemon (again) with the current configuration file. */
  async startDaemon(extraEnv: NodeJS.ProcessEnv = {}): Promise<void> {
    this.output = '';
    const d = this.spawnDaemon(extraEnv);
    this.daemon = d;
    d.stdout!.on('data', (b: Buffer) => { this.output += b.toString(); });
    d.stderr!.on('data', (b: Buffer) => { this.output += b.toString(); });
    this.exit = new Promise((resolve) => d.on('exit', (code) => resolve(code)));
    const deadline = Date.now() + 30000;
    while (Date.now() < deadline) {
      if (d.exitCode !== null) throw new Error(`daemon exited (${d.exitCode}):\n${this.output}`);
      if (fs.existsSync(this.socket) && this.cli(['instance', 'display']).status === 0) return;
      await sleep(200);
    }
    throw new Error(`daemon did not open ${this.socket}:\n${this.output}`);
  }

  /** A daemon process in the translator's namespace (`ip netns exec` execs, so its pid is node's). */
  spawnDaemon(extraEnv: NodeJS.ProcessEnv = {}, configPath = this.configPath, socket = this.socket): ChildProcess {
    return spawn('ip', ['netns', 'exec', this.t.ns.t, process.execPath, BIN, 'daemon', '--config', configPath, '--socket', socket],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NAT64_TEST_HOOKS: this.hookFile, ...this.opts.env, ...extraEnv } });
  }

  cli(args: string[], socket = this.socket): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync(process.execPath, [BIN, ...args],
      { encoding: 'utf8', timeout: 20000, maxBuffer: 256 << 20, env: { ...process.env, NAT64_SOCKET: socket } });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  json<T = any>(args: string[]): T {
    const r = this.cli([...args, '--json']);
    if (r.status !== 0) throw new Error(`nat64 ${args.join(' ')}: ${r.stderr}`);
    return JSON.parse(r.stdout) as T;
  }

  /** Counters summed over shards (`stats display --json --all`). */
  counters(): Record<string, number> {
    const rows = this.json<Array<{ name: string; value: number }>>(['stats', 'display', '--all']);
    return Object.fromEntries(rows.map((r) => [r.name, r.value]));
  }

  /** Test hook (NAT64_TEST_HOOKS): make shard `shard` die. */
  crashShard(shard: number, how: 'throw' | 'exit'): void {
    fs.writeFileSync(this.hookFile, JSON.stringify({ crashShard: shard, how }));
    this.daemon!.kill('SIGUSR2');
  }

  /** Signal the daemon and wait (bounded) for it to exit: its code and how long it took. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 20000): Promise<{ code: number | null | 'timeout'; ms: number }> {
    const d = this.daemon;
    if (!d || d.exitCode !== null) return { code: d?.exitCode ?? null, ms: 0 };
    const t0 = Date.now();
    d.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([this.exit, new Promise<'timeout'>((r) => { timer = setTimeout(() => r('timeout'), timeoutMs); })]);
    clearTimeout(timer); // a pending timer would keep mocha alive for timeoutMs after the last test
    if (code === 'timeout') d.kill('SIGKILL');
    return { code, ms: Date.now() - t0 };
  }

  /** Daemon memory: resident set and the V8 heap are not separable from outside; RSS from /proc. */
  rssKb(): number {
    const status = fs.readFileSync(`/proc/${this.daemon!.pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  }

  async down(): Promise<void> {
    await this.stop('SIGTERM');
    for (const s of this.services) s.kill('SIGKILL');
    if (this.t) destroyTopology(this.t);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  /** A source port of IPv6 node `node` whose UDP flow the daemon hashes to `shard` (classify.ts). */
  portOnShard(node: number, shard: number, shards = this.opts.shards, from = 40000): number {
    const a = parseIPv6(this.t.v6Nodes[node].addr);
    for (let p = from; p < 65535; p++) if (hashOwner6(17, a, 0, p, shards) === shard) return p;
    throw new Error('no port');
  }

  /** Continuous UDP request/response from an IPv6 node to the IPv4 node's echo server. */
  probe(node: number, sport: number, seconds: number, intervalMs = 20): Promise<Probe> {
    const n = this.t.v6Nodes[node];
    return runPython(n.ns, PROBE, [mapped(this.t), '5353', String(sport), String(seconds), String(intervalMs / 1000)], seconds * 1000 + 15000)
      .then((out) => summarize(JSON.parse(out) as RawProbe));
  }

  /**
   * Wait (bounded) until the UDP flow from IPv6 node `node`, source port `sport`, has its BIB entry
   * in `instance`: the probe's process starts when the machine gets round to it, so a test that
   * needs its mapping to exist before something else happens (a flood taking every pool4 port or
   * session) must wait for the mapping, not for a fixed time. Resolves with the ms it took.
   */
  async udpMapping(node: number, sport: number, instance: string, timeoutMs = 15000): Promise<number> {
    const addr = this.t.v6Nodes[node].addr, t0 = Date.now();
    for (;;) {
      const bib = this.json<Array<{ ipv6: string; ipv6Port: number }>>(['-i', instance, 'bib', 'display', '--udp']);
      if (bib.some((b) => b.ipv6 === addr && b.ipv6Port === sport)) return Date.now() - t0;
      if (Date.now() - t0 > timeoutMs) {
        throw new Error(`no BIB entry for the probe ${addr}#${sport} after ${timeoutMs} ms (${bib.length} UDP entries); ` +
          `counters: ${JSON.stringify(this.counters())}`);
      }
      await sleep(50);
    }
  }

  /** Run a Python script inside a namespace (bounded by timeoutMs); resolves with its stdout. */
  python(ns: string, script: string, args: string[], timeoutMs: number): Promise<string> {
    return runPython(ns, script, args, timeoutMs);
  }
}

export function sleep(ms: number): Promise<void> { return new Promise((r) => setTimeout(r, ms)); }

/** A command inside a namespace, bounded by timeoutMs (then killed): its exit status and output. */
export function runInNs(ns: string, cmd: string[], timeoutMs: number): Promise<{ status: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn('ip', ['netns', 'exec', ns, ...cmd], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    p.stdout.on('data', (b) => { out += b; });
    p.stderr.on('data', (b) => { err += b; });
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('close', (status) => { clearTimeout(timer); resolve({ status, out, err }); });
  });
}

async function runPython(ns: string, script: string, args: string[], timeoutMs: number): Promise<string> {
  const r = await runInNs(ns, ['python3', '-c', script, ...args], timeoutMs);
  if (r.status !== 0) throw new Error(`python in ${ns} exited ${r.status}: ${r.err}`);
  return r.out;
}

interface RawProbe { t0: number; sent: number; replies: number[]; rtts: number[] }

export interface Probe {
  /** Epoch ms of the first request. */
  t0: number;
  sent: number;
  received: number;
  /** Reply arrival times, ms after t0. */
  replies: number[];
  /** Longest time without a reply while requests were going out (ms), including the start. */
  maxGapMs: number;
  rttP50: number; rttP99: number; rttMax: number;
}

function summarize(r: RawProbe): Probe {
  const replies = r.replies;
  let maxGap = replies.length ? replies[0] : Infinity;
  for (let i = 1; i < replies.length; i++) maxGap = Math.max(maxGap, replies[i] - replies[i - 1]);
  const rtts = [...r.rtts].sort((a, b) => a - b);
  const q = (f: number) => (rtts.length ? rtts[Math.min(rtts.length - 1, Math.floor(f * rtts.length))] : NaN);
  return { t0: r.t0, sent: r.sent, received: replies.length, replies, maxGapMs: maxGap, rttP50: q(0.5), rttP99: q(0.99), rttMax: q(1) };
}

/**
 * One UDP request every INTERVAL s for SECONDS s from a fixed source port, each carrying its
 * sequence number; the echo server answers "echo:<seq>". Prints the reply times and RTTs (ms).
 */
const PROBE = `
import json, select, socket, sys, time
dst, dport, sport, dur, ival = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind(('::', sport))
s.setblocking(False)
t0 = time.time(); end = t0 + dur; nxt = t0; seq = 0; sent = {}; replies = []; rtts = []
while True:
    now = time.time()
    if now >= end + 0.5: break
    if now >= nxt and now < end:
        try:
            s.sendto(str(seq).encode(), (dst, dport)); sent[seq] = now
        except OSError:
            pass
        seq += 1; nxt += ival
    wait = max(0.0, min(nxt if now < end else end + 0.5, end + 0.5) - time.time())
    r, _, _ = select.select([s], [], [], wait)
    while r:
        try:
            data = s.recv(2048)
        except BlockingIOError:
            break
        t = time.time()
        try:
            k = int(data[5:])
        except ValueError:
            continue
        if k in sent:
            rtts.append((t - sent.pop(k)) * 1000); replies.append((t - t0) * 1000)
print(json.dumps({'t0': t0 * 1000, 'sent': seq, 'replies': replies, 'rtts': rtts}))
`;

/**
 * Bounded traffic generator (python3, raw sockets), one of:
 *  - udp6-tuples DST: UDP from random source ports to random destination ports (a new 5-tuple,
 *    and a new BIB entry, per packet); IPv6 raw socket, the kernel sums the UDP checksum.
 *  - udp6-dports DST: UDP from one socket to COUNT destination ports in turn (new sessions, one BIB entry).
 *  - udp6-hop1 DST: UDP with hop limit 1 (each one makes the translator originate Time Exceeded).
 *  - syn4 DST: TCP SYNs from random source ports to random destination ports (IPv4 raw socket).
 * Stops after COUNT packets or SECONDS, whichever first; prints {sent, seconds}. `--pps=N` among the
 * extra arguments paces it to N packets/s.
 */
export const FLOOD = `
import json, random, socket, struct, sys, time
mode, dst, count, secs = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
rnd = random.Random(7)
def csum(b):
    if len(b) % 2: b += b'\\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b)); s = (s >> 16) + (s & 0xffff); s += s >> 16
    return ~s & 0xffff
if mode == 'udp6-tuples':
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_UDP)
    s.setsockopt(socket.IPPROTO_IPV6, 7, 6)  # IPV6_CHECKSUM at offset 6: the kernel fills it in
    def pkt(i):
        return struct.pack('!HHHH', rnd.randint(1024, 65535), rnd.randint(1, 65535), 12, 0) + b'floo', (dst, 0)
elif mode == 'udp6-dports':
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s.bind(('::', 47000))
    def pkt(i): return b'x', (dst, 10000 + i % 50000)
elif mode == 'udp6-hop1':
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, 1)
    def pkt(i): return b'ttl', (dst, 5353)
elif mode == 'syn4':
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
    src = sys.argv[5]
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst)
    def pkt(i):
        sp, dp = rnd.randint(1024, 65535), rnd.randint(1, 60000)
        h = struct.pack('!HHIIBBHHH', sp, dp, i, 0, 0x50, 0x02, 65535, 0, 0)
        c = csum(pseudo + struct.pack('!BBH', 0, 6, len(h)) + h)
        return h[:16] + struct.pack('!H', c) + h[18:], (dst, 0)
else:
    raise SystemExit('unknown mode ' + mode)
# --pps=N paces the flood (a burst faster than the translator's packet-socket ring is lost before
# the translator sees it, which is not what an exhaustion test measures); default: as fast as possible.
pps = next((float(a[6:]) for a in sys.argv if a.startswith('--pps=')), 0.0)
t0 = time.time(); end = t0 + secs; sent = 0
while sent < count and time.time() < end:
    if pps > 0 and sent > time.time() - t0 and sent >= (time.time() - t0) * pps:
        time.sleep(0.0005); continue
    data, addr = pkt(sent)
    try:
        s.sendto(data, addr); sent += 1
    except OSError:
        time.sleep(0.001)
print(json.dumps({'sent': sent, 'seconds': time.time() - t0}))
`;

export interface FloodResult { sent: number; seconds: number }

export function flood(net: RelNet, ns: string, mode: string, dst: string, count: number, seconds: number, extra: string[] = []): Promise<FloodResult> {
  return net.python(ns, FLOOD, [mode, dst, String(count), String(seconds), ...extra], seconds * 1000 + 15000)
    .then((out) => JSON.parse(out) as FloodResult);
}
