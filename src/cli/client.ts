/**
 * The CLI's side of the control socket: one connection, one request, one response.
 */
import { createConnection } from 'node:net';
import { Nat64Error } from '../control/errors';
import { encode, LineSplitter, MAX_LINE_BYTES, type Request, type Response } from '../control/protocol';

export interface CallOptions { socket: string; timeoutMs?: number }

export async function call(opts: CallOptions, command: string[], instance: string | undefined, args: Record<string, unknown> = {}): Promise<unknown> {
  const req: Request = { id: 1, command, args };
  if (instance !== undefined) req.instance = instance;
  const res = await roundTrip(opts, req);
  if (!res.ok) throw new Nat64Error(res.error.code as never, res.error.message);
  return res.result;
}

function roundTrip(opts: CallOptions, req: Request): Promise<Response> {
  return new Promise((resolve, reject) => {
    const sock = createConnection(opts.socket);
    const splitter = new LineSplitter(MAX_LINE_BYTES * 64); // displays (sessions) can be large
    let done = false;
    const finish = (err: Error | null, res?: Response) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err); else resolve(res!);
    };
    const timer = setTimeout(() => finish(new Nat64Error('E_DAEMON_UNREACHABLE', `no answer from the nat64 daemon at ${opts.socket} within ${(opts.timeoutMs ?? 30000) / 1000} s`)), opts.timeoutMs ?? 30000);
    sock.on('connect', () => sock.write(encode(req)));
    sock.on('data', (chunk: Buffer) => {
      for (const line of splitter.push(chunk)) {
        try {
          const res = JSON.parse(line) as Response;
          if (res.id === req.id || res.id === null) return finish(null, res);
        } catch {
          return finish(new Nat64Error('E_PROTOCOL', 'the daemon sent something that is not JSON'));
        }
      }
      if (splitter.overflowed) finish(new Nat64Error('E_PROTOCOL', 'the daemon\'s answer is too large'));
    });
    sock.on('error', (e: NodeJS.ErrnoException) => finish(unreachable(opts.socket, e)));
    sock.on('close', () => finish(new Nat64Error('E_DAEMON_UNREACHABLE', `the nat64 daemon at ${opts.socket} closed the connection without answering`)));
  });
}

function unreachable(path: string, e: NodeJS.ErrnoException): Nat64Error {
  const why = e.code === 'ENOENT' || e.code === 'ECONNREFUSED' ? 'is it running? (nat64 daemon --config FILE)'
    : e.code === 'EACCES' ? 'permission denied: run as root or as a member of the socket\'s group'
      : e.code ?? e.message;
  return new Nat64Error('E_DAEMON_UNREACHABLE', `cannot reach the nat64 daemon at ${path}: ${why}`);
}
