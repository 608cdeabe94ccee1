import * as v8 from 'node:v8';

/**
 * The control plane's private channel to one shard (Snabb-style: "a memory access, not a system
 * call"). The shard's burst loop never awaits anything, so it cannot receive postMessage events;
 * instead it glances at REQ between bursts and, when idle, sleeps on DOORBELL with Atomics.wait so
 * a configuration change wakes it at once.
 *
 * Layout: Int32Array header (each field on its own 64-byte line to avoid false sharing between the
 * writer and the reader), then a request area and a response area (structured clone via v8).
 */
const LINE = 16; // Int32 words per cache line
export const REQ = 0 * LINE;      // request sequence, written by main
export const ACK = 1 * LINE;      // last handled request, written by the shard
export const STOP = 2 * LINE;     // 1: leave the loop
export const DOORBELL = 3 * LINE; // bumped by main on every request or stop; the shard waits on it
const REQ_LEN = 4 * LINE;
const RESP_LEN = 5 * LINE;
const RESP_STATUS = 6 * LINE;     // 0 ok, 1 error
export const HEARTBEAT = 7 * LINE; // ms clock of the shard's last housekeeping pass (liveness)
const HEADER_BYTES = 8 * LINE * 4;
const AREA = 1 << 20;

export function createMailbox(): SharedArrayBuffer {
  return new SharedArrayBuffer(HEADER_BYTES + 2 * AREA);
}

export class MailboxError extends Error {
  constructor(readonly code: string, message: string) { super(message); }
}

/** Main-thread end. One request in flight at a time (calls are chained). */
export class MailboxClient {
  private readonly w: Int32Array;
  private readonly req: Uint8Array;
  private readonly resp: Uint8Array;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(buffer: SharedArrayBuffer) {
    this.w = new Int32Array(buffer, 0, HEADER_BYTES / 4);
    this.req = new Uint8Array(buffer, HEADER_BYTES, AREA);
    this.resp = new Uint8Array(buffer, HEADER_BYTES + AREA, AREA);
  }

  request<T>(msg: unknown, timeoutMs = 5000): Promise<T> {
    const run = () => this.send<T>(msg, timeoutMs);
    const p = this.chain.then(run, run);
    this.chain = p.catch(() => undefined);
    return p;
  }

  private async send<T>(msg: unknown, timeoutMs: number): Promise<T> {
    const bytes = v8.serialize(msg);
    if (bytes.length > AREA) throw new MailboxError('E_MAILBOX_TOO_BIG', `control message of ${bytes.length} bytes exceeds ${AREA}`);
    this.req.set(bytes);
    Atomics.store(this.w, REQ_LEN, bytes.length);
    const seq = (Atomics.load(this.w, REQ) + 1) | 0;
    Atomics.store(this.w, REQ, seq);
    this.ring();
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const ack = Atomics.load(this.w, ACK);
      if (ack === seq) break;
      const left = deadline - Date.now();
      if (left <= 0) throw new MailboxError('E_SHARD_TIMEOUT', `shard did not answer a control message within ${timeoutMs} ms`);
      await Atomics.waitAsync(this.w, ACK, ack, Math.min(left, 50)).value;
    }
    const len = Atomics.load(this.w, RESP_LEN);
    const value = v8.deserialize(this.resp.subarray(0, len));
    if (Atomics.load(this.w, RESP_STATUS) !== 0) {
      const e = value as { code?: string; message?: string };
      throw new MailboxError(e.code ?? 'E_SHARD', e.message ?? 'shard refused the control message');
    }
    return value as T;
  }

  stop(): void {
    Atomics.store(this.w, STOP, 1);
    this.ring();
  }

  heartbeat(): number { return Atomics.load(this.w, HEARTBEAT); }

  private ring(): void {
    Atomics.add(this.w, DOORBELL, 1);
    Atomics.notify(this.w, DOORBELL);
  }
}

/** Shard end: polled from the burst loop. */
export class MailboxServer {
  readonly w: Int32Array;
  private readonly req: Uint8Array;
  private readonly resp: Uint8Array;
  private seen: number;

  constructor(buffer: SharedArrayBuffer) {
    this.w = new Int32Array(buffer, 0, HEADER_BYTES / 4);
    this.req = new Uint8Array(buffer, HEADER_BYTES, AREA);
    this.resp = new Uint8Array(buffer, HEADER_BYTES + AREA, AREA);
    // A restarted shard must not re-apply the request its predecessor already acknowledged.
    this.seen = Atomics.load(this.w, ACK);
  }

  stopRequested(): boolean { return Atomics.load(this.w, STOP) !== 0; }

  /** Cheap check (one atomic load) whether a request waits. */
  pending(): boolean { return Atomics.load(this.w, REQ) !== this.seen; }

  /** Handle the waiting request with `handler` (control path: may allocate, may throw). */
  serve(handler: (msg: unknown) => unknown): void {
    const seq = Atomics.load(this.w, REQ);
    if (seq === this.seen) return;
    let status = 0;
    let out: unknown;
    try {
      out = handler(v8.deserialize(this.req.subarray(0, Atomics.load(this.w, REQ_LEN))));
    } catch (e) {
      status = 1;
      const err = e as { code?: string; message?: string };
      out = { code: err.code ?? 'E_SHARD', message: err.message ?? String(e) };
    }
    const bytes = v8.serialize(out ?? null);
    this.resp.set(bytes.subarray(0, Math.min(bytes.length, AREA)));
    Atomics.store(this.w, RESP_LEN, bytes.length);
    Atomics.store(this.w, RESP_STATUS, status);
    this.seen = seq;
    Atomics.store(this.w, ACK, seq);
    Atomics.notify(this.w, ACK);
  }

  /** Sleep until the doorbell rings or `ms` pass (idle shards must not burn a core). */
  sleep(doorbell: number, ms: number): void {
    Atomics.wait(this.w, DOORBELL, doorbell, ms);
  }
  doorbell(): number { return Atomics.load(this.w, DOORBELL); }

  beat(nowMs: number): void { Atomics.store(this.w, HEARTBEAT, nowMs % 0x7fffffff); }
}
