/**
 * The control socket. Each connection is read through a bounded line splitter, each line answered
 * in order; whatever a client does (garbage, an endless line, vanishing mid-request) costs it its
 * own connection at worst and never reaches the daemon's state half-done: a request either ran to
 * completion in ControlState or did not start.
 */
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readFileSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { Nat64Error, q, toErrorPayload } from './errors';
import { dispatch } from './handlers';
import { encode, LineSplitter, MAX_LINE_BYTES, parseRequest, salvageId, type Response } from './protocol';
import type { ControlState } from './state';

export interface ServerOptions {
  path: string;
  /** Group allowed to talk to the daemon (socket 0660); none: root only (0600). */
  group?: string | number;
  maxLineBytes?: number;
  /** Connections beyond this are refused (each holds up to one line buffer). */
  maxConnections?: number;
}

export class ControlServer {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();

  constructor(private readonly state: ControlState, private readonly opts: ServerOptions) {}

  async listen(): Promise<void> {
    const { path } = this.opts;
    const gid = this.opts.group === undefined ? undefined : resolveGroup(this.opts.group);
    prepareDirectory(dirname(path), gid);
    await removeStaleSocket(path);
    const server = createServer((s) => this.accept(s));
    server.maxConnections = this.opts.maxConnections ?? 64;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) =>
        reject(new Nat64Error('E_CONFIG_FIELD', `control socket ${q(path)}: cannot listen (${e.code ?? e.message})`)));
      // Created 0600 from the start (umask) so there is no window where others could connect.
      const old = process.umask(0o177);
      try { server.listen(path, () => resolve()); } finally { process.umask(old); }
    });
    if (gid !== undefined) { chownSync(path, -1, gid); chmodSync(path, 0o660); } else chmodSync(path, 0o600);
    this.server = server;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    try { unlinkSync(this.opts.path); } catch { /* already gone */ }
  }

  private accept(sock: Socket): void {
    this.sockets.add(sock);
    sock.on('close', () => this.sockets.delete(sock));
    sock.on('error', () => sock.destroy()); // e.g. EPIPE from a client that left: its problem only
    const splitter = new LineSplitter(this.opts.maxLineBytes ?? MAX_LINE_BYTES);
    let chain = Promise.resolve();
    sock.on('data', (chunk: Buffer) => {
      const lines = splitter.push(chunk);
      for (const line of lines) {
        if (line.trim() === '') continue;
        chain = chain.then(() => this.answer(sock, line));
      }
      if (splitter.overflowed) {
        sock.pause();
        chain = chain.then(() => {
          reply(sock, { id: null, ok: false, error: { code: 'E_PROTOCOL', message: `request line longer than ${this.opts.maxLineBytes ?? MAX_LINE_BYTES} bytes` } });
          sock.end();
        });
      }
    });
  }

  private async answer(sock: Socket, line: string): Promise<void> {
    let res: Response;
    try {
      const req = parseRequest(line);
      try {
        res = { id: req.id, ok: true, result: (await dispatch(this.state, req.command, req.instance, req.args ?? {})) ?? null };
      } catch (e) {
        res = { id: req.id, ok: false, error: toErrorPayload(e) };
      }
    } catch (e) {
      res = { id: salvageId(line), ok: false, error: toErrorPayload(e) };
    }
    reply(sock, res);
  }
}

function reply(sock: Socket, res: Response): void {
  if (!sock.destroyed && sock.writable) sock.write(encode(res));
}

/** 0750: the group may reach the socket, others may not even see it. Only set on a directory we create. */
function prepareDirectory(dir: string, gid: number | undefined): void {
  if (existsSync(dir)) return;
  mkdirSync(dir, { recursive: true, mode: 0o750 });
  chmodSync(dir, 0o750);
  if (gid !== undefined) chownSync(dir, -1, gid);
}

/** A socket file left by a crashed daemon is removed; one a live daemon answers on is not. */
async function removeStaleSocket(path: string): Promise<void> {
  let isSocket = false;
  try { isSocket = lstatSync(path).isSocket(); } catch { return; }
  if (!isSocket) throw new Nat64Error('E_CONFIG_FIELD', `control socket ${q(path)}: exists and is not a socket`);
  const alive = await new Promise<boolean>((resolve) => {
    const c = createConnection(path);
    c.once('connect', () => { c.destroy(); resolve(true); });
    c.once('error', () => resolve(false));
  });
  if (alive) throw new Nat64Error('E_DAEMON_RUNNING', `control socket ${q(path)}: another nat64 daemon is answering on it`);
  unlinkSync(path);
}

export function resolveGroup(group: string | number, groupFile = '/etc/group'): number {
  if (typeof group === 'number') return group;
  if (/^[0-9]+$/.test(group)) return Number(group);
  let text = '';
  try { text = readFileSync(groupFile, 'utf8'); } catch { /* fall through to the error */ }
  for (const line of text.split('\n')) {
    const [name, , gid] = line.split(':');
    if (name === group && gid !== undefined && /^[0-9]+$/.test(gid)) return Number(gid);
  }
  throw new Nat64Error('E_CONFIG_FIELD', `control.group: no group named ${q(group)}`);
}
