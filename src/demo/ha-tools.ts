/**
 * Shared by `nat64 demo --ha` and the HA end-to-end tests (ha-failover, ha-ecmp): translators with
 * their own daemon in their own namespace, the IPv4 node's services, the traffic sources, and the
 * field's engines (Keepalived, BIRD) started inside the namespaces they create. Every process here
 * is bounded in time and killed by its owner's cleanup.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The repository (this file runs from dist/src/demo/). */
export const REPO = path.resolve(__dirname, '../../..');
export const BIN = path.join(REPO, 'bin/nat64');

export function sh(args: string[], input?: string): string {
  return execFileSync(args[0], args.slice(1), { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], input });
}

export function ns(name: string, args: string[]): string {
  return sh(['ip', 'netns', 'exec', name, ...args]);
}

export function sleep(ms: number): Promise<void> { return new Promise((r) => setTimeout(r, ms)); }

/** A veth pair made directly inside two namespaces (never in the host's own). */
export function veth(a: string, aNs: string, b: string, bNs: string): void {
  sh(['ip', 'link', 'add', a, 'netns', aNs, 'type', 'veth', 'peer', 'name', b, 'netns', bNs]);
  ns(aNs, ['ip', 'link', 'set', a, 'up']);
  ns(bNs, ['ip', 'link', 'set', b, 'up']);
}

export function addNamespaces(names: string[]): void {
  removeNamespaces(names);
  for (const n of names) { sh(['ip', 'netns', 'add', n]); ns(n, ['ip', 'link', 'set', 'lo', 'up']); }
}

/** Kill whatever still runs in the namespaces, then delete them (and their interfaces). Idempotent. */
export function removeNamespaces(names: string[]): void {
  const existing = sh(['ip', 'netns', 'list']);
  for (const n of names) {
    if (!new RegExp(`^${n}( |$)`, 'm').test(existing)) continue;
    killNamespace(n);
    try { sh(['ip', 'netns', 'del', n]); } catch { /* already gone */ }
  }
}

/**
 * Every process in the namespace dies at once, as when the host loses power: all are stopped
 * first (none can react: no VRRP priority-0 advertisement, no goodbye), then killed. Returns the
 * pids and the wall-clock time (s) when the last was stopped: from then on none of them ran.
 */
export function killNamespace(n: string): { pids: number[]; at: number } {
  let pids: number[] = [];
  try { pids = sh(['ip', 'netns', 'pids', n]).split(/\s+/).filter(Boolean).map(Number); } catch { return { pids, at: Date.now() / 1000 }; }
  for (const p of pids) { try { process.kill(p, 'SIGSTOP'); } catch { /* gone */ } }
  const at = Date.now() / 1000;
  for (const p of pids) { try { process.kill(p, 'SIGKILL'); } catch { /* gone */ } }
  return { pids, at };
}

/** A translator daemon in namespace `netns`, its file and socket in `dir`. */
export class Translator {
  readonly socket: string;
  readonly configPath: string;
  proc: ChildProcess | null = null;
  output = '';

  constructor(readonly name: string, readonly netns: string, readonly dir: string, readonly config: object) {
    fs.mkdirSync(dir, { recursive: true });
    this.socket = path.join(dir, 'nat64.sock');
    this.configPath = path.join(dir, 'nat64.json');
    fs.writeFileSync(this.configPath, JSON.stringify(config, null, 2));
  }

  start(): void {
    const d = spawn('ip', ['netns', 'exec', this.netns, process.execPath, BIN, 'daemon', '--config', this.configPath, '--socket', this.socket],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = d;
    d.stdout!.on('data', (b: Buffer) => { this.output += b.toString(); });
    d.stderr!.on('data', (b: Buffer) => { this.output += b.toString(); });
  }

  async ready(timeoutMs = 40000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      if (this.proc?.exitCode !== null) throw new Error(`${this.name}: daemon exited (${this.proc?.exitCode}):\n${this.output.slice(-3000)}`);
      if (fs.existsSync(this.socket) && this.cli(['instance', 'display']).status === 0) return;
      await sleep(200);
    }
    throw new Error(`${this.name}: daemon did not open ${this.socket}:\n${this.output.slice(-3000)}`);
  }

  cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync(process.execPath, [BIN, ...args, '--socket', this.socket], { encoding: 'utf8', timeout: 20000 });
    return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  }

  json<T = any>(args: string[]): T {
    const r = this.cli([...args, '--json']);
    if (r.status !== 0) throw new Error(`${this.name}: nat64 ${args.join(' ')}: ${r.stderr}`);
    return JSON.parse(r.stdout) as T;
  }

  counters(): Record<string, number> {
    const rows = this.json<Array<{ name: string; value: number }>>(['stats', 'display', '--all']);
    return Object.fromEntries(rows.map((r) => [r.name, r.value]));
  }

  /** Virtual addresses this daemon holds now (port display). */
  claimed(): string[] {
    const ports = this.json<Array<{ virtualAddresses: Array<{ address: string; claimed: boolean }> }>>(['port', 'display']);
    return ports.flatMap((p) => p.virtualAddresses.filter((v) => v.claimed).map((v) => v.address));
  }

  async stop(): Promise<void> {
    const d = this.proc;
    if (!d || d.exitCode !== null || d.signalCode !== null) return;
    d.kill('SIGTERM');
    await Promise.race([new Promise((r) => d.once('exit', r)), sleep(10000)]);
    if (d.exitCode === null && d.signalCode === null) d.kill('SIGKILL');
  }
}

/** Poll until `ok()` holds (or throw with `what` after timeoutMs). */
export async function until(what: string, ok: () => boolean, timeoutMs: number, stepMs = 100): Promise<number> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    if (ok()) return Date.now() - t0;
    await sleep(stepMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/**
 * UDP echo server (IPv4 node): answers "<seq> <the sender's IPv4 address>:<port>", so the IPv6
 * client learns which pool4 transport address the translator gave it.
 */
export const UDP_ECHO_PEER = [
  'import socket, sys',
  's = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)',
  's.bind((sys.argv[1], int(sys.argv[2])))',
  'while True:',
  '    data, peer = s.recvfrom(2048)',
  '    s.sendto(data.split(b" ")[0] + (" %s:%d" % peer).encode(), peer)',
].join('\n');

/**
 * UDP prober (IPv6 node): one socket (one source port), a datagram every `interval` s for
 * `duration` s; prints one JSON line per reply {seq, sent, recv, peer} (wall-clock seconds).
 */
export const UDP_PROBER = [
  'import json, socket, sys, time, select',
  'dst, port, interval, duration = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])',
  's = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)',
  's.setblocking(False)',
  'sent = {}',
  'seq = 0',
  'end = time.time() + duration',
  'nxt = time.time()',
  'while time.time() < end:',
  '    now = time.time()',
  '    if now >= nxt:',
  '        sent[seq] = now',
  '        try: s.sendto(str(seq).encode() + b" x", (dst, port))',
  '        except OSError: pass',
  '        seq += 1; nxt += interval',
  '    r, _, _ = select.select([s], [], [], max(0.0, min(nxt, end) - time.time()))',
  '    if r:',
  '        data = s.recv(2048).decode().split(" ")',
  '        k = int(data[0])',
  '        print(json.dumps({"seq": k, "sent": sent.get(k, 0), "recv": time.time(), "peer": data[1]}), flush=True)',
].join('\n');

/**
 * HTTP server (IPv4 node) that paces its answers (32 KiB every 25 ms, about 1.3 MB/s), so a
 * download really is in flight when the translator fails, not already in the client's socket buffer.
 */
export const PACED_HTTP = [
  'import http.server, sys, time',
  'class H(http.server.SimpleHTTPRequestHandler):',
  '    def __init__(self, *a, **k): super().__init__(*a, directory=sys.argv[1], **k)',
  '    def log_message(self, *a): pass',
  '    def copyfile(self, src, dst):',
  '        while True:',
  '            b = src.read(32768)',
  '            if not b: break',
  '            dst.write(b); dst.flush(); time.sleep(0.025)',
  'http.server.ThreadingHTTPServer((sys.argv[2], int(sys.argv[3])), H).serve_forever()',
].join('\n');

export interface UdpReply { seq: number; sent: number; recv: number; peer: string }

export function parseReplies(out: string): UdpReply[] {
  return out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as UdpReply);
}

/** Background process in a namespace, its output collected. */
export function background(netns: string, args: string[]): { proc: ChildProcess; out: () => string; done: Promise<number | null> } {
  const proc = spawn('ip', ['netns', 'exec', netns, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (b: Buffer) => { out += b.toString(); });
  proc.stderr!.on('data', (b: Buffer) => { out += b.toString(); });
  const done = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  return { proc, out: () => out, done };
}
