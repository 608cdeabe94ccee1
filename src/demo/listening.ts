import { spawn, type ChildProcess } from 'node:child_process';

/**
 * Wait until a server in namespace `ns` really has its socket: a TCP listener, or a bound UDP
 * socket, on `port` (`ss -l` inside the namespace, polled). Spawning a server only starts a
 * process; on a loaded machine Python can take a second or more to bind, and a client sent before
 * then gets "Couldn't connect" or an ICMP port unreachable. Bounded by `timeoutMs`; fails early,
 * with the reason, if `server` (the process that should bind) exits first.
 */
export async function waitListening(ns: string, port: number, proto: 'tcp' | 'udp',
  opts: { timeoutMs?: number; server?: ChildProcess } = {}): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? 20000;
  const t0 = Date.now();
  for (;;) {
    const out = await ssListening(ns, port, proto);
    if (out.trim() !== '') return;
    const s = opts.server;
    if (s && (s.exitCode !== null || s.signalCode !== null)) {
      throw new Error(`${proto.toUpperCase()} server for port ${port} in ${ns} exited (${s.exitCode ?? s.signalCode}) before it was listening`);
    }
    if (Date.now() - t0 > timeoutMs) throw new Error(`nothing listening on ${proto.toUpperCase()} port ${port} in ${ns} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** `ss -Hl{t,u}n sport = :PORT` in the namespace (asynchronously: the test's other timers keep running). */
function ssListening(ns: string, port: number, proto: 'tcp' | 'udp'): Promise<string> {
  return new Promise((resolve) => {
    const p = spawn('ip', ['netns', 'exec', ns, 'ss', proto === 'tcp' ? '-Hltn' : '-Hlun', `sport = :${port}`],
      { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    p.stdout.on('data', (b: Buffer) => { out += b.toString(); });
    p.on('close', () => resolve(out));
    p.on('error', () => resolve(''));
  });
}
