/**
 * The shard's sync ring (ss-enabled): single producer (the shard), single consumer (the main
 * thread's SyncService), in a SharedArrayBuffer, like the mapping-log ring (events.ts). The shard
 * writes one record (record.ts) when a session is created, changes TCP state or is removed: no
 * allocation, no exception; a full ring drops the record and counts it, and the main thread turns
 * that count into a "records were lost" flag for the peers (who then ask for a dump).
 *
 * Layout (Int32Array): [0] head (records written, free-running, stored after the record),
 * [1] dropped (producer only), [16] tail (records consumed; its own cache line), [32...] slots.
 */
import { B_PORTS, B_V4, B_V6 } from '../tables/layout';
import {
  SR_AGE, SR_KIND, SR_PORTS, SR_R4, SR_RPORT, SR_STRIDE, SR_TIME_HI, SR_TIME_LO, SR_V4, SR_V6, type SyncKind,
} from './record';

const HEAD = 0, DROPPED = 1, TAIL = 16, SLOTS = 32;
/** Records per shard: 16 k, i.e. 160 k new sessions/s per shard for the main thread's 100 ms worst case. */
export const SYNC_RING_CAPACITY = 16384;

export function createSyncRingBuffer(capacity = SYNC_RING_CAPACITY): SharedArrayBuffer {
  return new SharedArrayBuffer((SLOTS + capacity * SR_STRIDE) * Int32Array.BYTES_PER_ELEMENT);
}

/** The shard's side. */
export class SyncRing {
  private readonly w: Int32Array;
  private readonly capacity: number;

  constructor(buffer: SharedArrayBuffer) {
    this.w = new Int32Array(buffer);
    this.capacity = (this.w.length - SLOTS) / SR_STRIDE;
  }

  /**
   * Session of BIB record at bib[bp..] with remote (r4, rport) in TCP state `state`, last used at
   * `lastUse` (ms): kind happened. The age tells a peer how recent the sender's view is (a removal
   * does not remove a copy the peer used since: sync/apply.ts).
   */
  session(kind: SyncKind, bib: Int32Array, bp: number, proto: number, r4: number, rport: number, state: number, lastUse: number): void {
    const w = this.w;
    const head = w[HEAD];
    if (((head - Atomics.load(w, TAIL)) | 0) >= this.capacity) { w[DROPPED]++; return; }
    const s = SLOTS + ((head >>> 0) % this.capacity) * SR_STRIDE;
    w[s + SR_KIND] = kind | (proto << 8) | (state << 16);
    w[s + SR_V6] = bib[bp + B_V6];
    w[s + SR_V6 + 1] = bib[bp + B_V6 + 1];
    w[s + SR_V6 + 2] = bib[bp + B_V6 + 2];
    w[s + SR_V6 + 3] = bib[bp + B_V6 + 3];
    w[s + SR_PORTS] = bib[bp + B_PORTS];
    w[s + SR_V4] = bib[bp + B_V4];
    w[s + SR_R4] = r4 | 0;
    w[s + SR_RPORT] = rport;
    const now = Date.now();
    w[s + SR_TIME_HI] = Math.floor(now / 4294967296);
    w[s + SR_TIME_LO] = now | 0;
    w[s + SR_AGE] = now > lastUse ? Math.min(now - lastUse, 0x7fffffff) | 0 : 0;
    Atomics.store(w, HEAD, (head + 1) | 0); // publishes the record
  }
}

/** The main thread's side: each record is handed over as (words, offset) without a copy. */
export class SyncRingReader {
  readonly w: Int32Array;
  private readonly capacity: number;

  constructor(buffer: SharedArrayBuffer) {
    this.w = new Int32Array(buffer);
    this.capacity = (this.w.length - SLOTS) / SR_STRIDE;
  }

  get dropped(): number { return this.w[DROPPED] >>> 0; }

  /** Records waiting. */
  get pending(): number { return (Atomics.load(this.w, HEAD) - this.w[TAIL]) | 0; }

  drain(out: (w: Int32Array, off: number) => void, max = this.capacity): number {
    const w = this.w;
    const head = Atomics.load(w, HEAD);
    let tail = w[TAIL];
    let n = 0;
    while (tail !== head && n < max) {
      out(w, SLOTS + ((tail >>> 0) % this.capacity) * SR_STRIDE);
      tail = (tail + 1) | 0;
      n++;
    }
    Atomics.store(w, TAIL, tail);
    return n;
  }
}
