/**
 * A real TCP endpoint (python3 socket, the node's own kernel stack) in a namespace, driven one
 * command at a time so that a test can stop between the segments of a connection and look at the
 * translator's session table: listen, accept, non-blocking connect, wait, send, recv, shutdown
 * (FIN), rst (SO_LINGER 0), close. Every wait is bounded.
 */
import { spawn, type ChildProcess } from 'node:child_process';

const ACTOR = `
import select, socket, struct, sys
s = None; l = None
def out(x): print(x, flush=True)
def fam(h): return socket.AF_INET6 if ':' in h else socket.AF_INET
for line in sys.stdin:
    a = line.split()
    if not a: continue
    try:
        c = a[0]
        if c == 'listen':
            l = socket.socket(fam(a[1]), socket.SOCK_STREAM); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            l.bind((a[1], int(a[2]))); l.listen(8); out('ok')
        elif c == 'accept':
            l.settimeout(float(a[1])); s, peer = l.accept(); s.settimeout(None); out('ok %s %d' % (peer[0], peer[1]))
        elif c == 'connect':
            s = socket.socket(fam(a[1]), socket.SOCK_STREAM); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if len(a) > 4: s.bind((a[3], int(a[4])))
            s.setblocking(False); out('ok %d' % s.connect_ex((a[1], int(a[2]))))
        elif c == 'wait':
            _, w, _ = select.select([], [s], [], float(a[1]))
            e = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) if w else -1
            s.setblocking(True); out('ok' if e == 0 else 'err %d' % e)
        elif c == 'send':
            s.sendall(a[1].encode()); out('ok')
        elif c == 'recv':
            s.settimeout(float(a[1])); d = s.recv(65535); s.settimeout(None); out('ok ' + (d.decode() if d else '<eof>'))
        elif c == 'shutdown':
            s.shutdown(socket.SHUT_WR); out('ok')
        elif c == 'rst':
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0)); s.close(); out('ok')
        elif c == 'close':
            s.close(); out('ok')
        else:
            out('err unknown command')
    except Exception as e:
        out('err %s' % e)
`;

export class TcpActor {
  private proc: ChildProcess;
  private buf = '';
  private waiting: Array<(line: string) => void> = [];
  private lines: string[] = [];
  private err = '';

  constructor(readonly ns: string) {
    this.proc = spawn('ip', ['netns', 'exec', ns, 'python3', '-u', '-c', ACTOR], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.stdout!.on('data', (b: Buffer) => {
      this.buf += b.toString();
      let i: number;
      while ((i = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 1);
        const w = this.waiting.shift();
        if (w) w(line); else this.lines.push(line);
      }
    });
    this.proc.stderr!.on('data', (b: Buffer) => { this.err += b.toString(); });
  }

  /** Send one command; resolves with its answer line ("ok ..." or "err ..."). */
  cmd(line: string, timeoutMs = 15000): Promise<string> {
    this.proc.stdin!.write(`${line}\n`);
    const queued = this.lines.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting = this.waiting.filter((w) => w !== done);
        reject(new Error(`${this.ns}: no answer to "${line}" within ${timeoutMs} ms ${this.err}`));
      }, timeoutMs);
      const done = (l: string) => { clearTimeout(timer); resolve(l); };
      this.waiting.push(done);
    });
  }

  /** Like cmd(), but the answer must start with "ok". */
  async ok(line: string, timeoutMs?: number): Promise<string> {
    const r = await this.cmd(line, timeoutMs);
    if (!r.startsWith('ok')) throw new Error(`${this.ns}: ${line} -> ${r} ${this.err}`);
    return r.slice(2).trim();
  }

  kill(): void { this.proc.kill('SIGKILL'); }
}
