/**
 * Control-socket protocol (docs/control-protocol.md): newline-delimited JSON over a Unix stream
 * socket. One request per line, one response per request, matched by `id`.
 */
import { Nat64Error } from './errors';

export const DEFAULT_SOCKET = '/run/nat64/nat64.sock';
/** A line longer than this is refused and the connection closed (it cannot be resynchronised). */
export const MAX_LINE_BYTES = 1 << 20;

export type RequestId = number | string;

export interface Request {
  id: RequestId;
  /** Noun and verb, as on the command line: ["pool4", "add"]. */
  command: string[];
  /** Absent: "default" (file handle: the file's "instance", else "default"). */
  instance?: string;
  args?: Record<string, unknown>;
}

export type Response =
  | { id: RequestId | null; ok: true; result: unknown }
  | { id: RequestId | null; ok: false; error: { code: string; message: string } };

export function socketPath(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  return flag || env.NAT64_SOCKET || DEFAULT_SOCKET;
}

export function encode(msg: Request | Response): string {
  return JSON.stringify(msg) + '\n';
}

/** Validates the envelope only; the handler validates `args` for its command. */
export function parseRequest(line: string): Request {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    throw new Nat64Error('E_PROTOCOL', 'request is not JSON');
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Nat64Error('E_PROTOCOL', 'request must be a JSON object');
  const r = raw as Record<string, unknown>;
  if (!(typeof r.id === 'number' || typeof r.id === 'string')) throw new Nat64Error('E_PROTOCOL', 'request.id must be a number or a string');
  if (!Array.isArray(r.command) || r.command.length === 0 || r.command.length > 3 || !r.command.every((c) => typeof c === 'string')) {
    throw new Nat64Error('E_PROTOCOL', 'request.command must be an array of 1-3 strings, such as ["pool4","add"]');
  }
  if (r.instance !== undefined && typeof r.instance !== 'string') throw new Nat64Error('E_PROTOCOL', 'request.instance must be a string');
  if (r.args !== undefined && (typeof r.args !== 'object' || r.args === null || Array.isArray(r.args))) {
    throw new Nat64Error('E_PROTOCOL', 'request.args must be an object');
  }
  return { id: r.id, command: r.command as string[], instance: r.instance as string | undefined, args: (r.args ?? {}) as Record<string, unknown> };
}

/** Best-effort id of a request that failed validation, so the client can still match the error. */
export function salvageId(line: string): RequestId | null {
  try {
    const id = (JSON.parse(line) as { id?: unknown })?.id;
    return typeof id === 'number' || typeof id === 'string' ? id : null;
  } catch {
    return null;
  }
}

/**
 * Splits a byte stream into lines without ever buffering more than MAX_LINE_BYTES: a peer that
 * never sends a newline cannot make the daemon grow without bound.
 */
export class LineSplitter {
  private parts: Buffer[] = [];
  private size = 0;
  overflowed = false;

  constructor(private readonly max = MAX_LINE_BYTES) {}

  push(chunk: Buffer): string[] {
    const lines: string[] = [];
    let start = 0;
    for (let nl = chunk.indexOf(10); nl >= 0; nl = chunk.indexOf(10, start)) {
      const piece = chunk.subarray(start, nl);
      if (this.size + piece.length > this.max) { this.overflowed = true; return lines; }
      this.parts.push(piece);
      lines.push(Buffer.concat(this.parts).toString('utf8').replace(/\r$/, ''));
      this.parts = [];
      this.size = 0;
      start = nl + 1;
    }
    const rest = chunk.subarray(start);
    if (this.size + rest.length > this.max) { this.overflowed = true; return lines; }
    if (rest.length) { this.parts.push(Buffer.from(rest)); this.size += rest.length; }
    return lines;
  }
}
