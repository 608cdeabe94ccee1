/**
 * A single-producer (a shard), single-consumer (the main thread) ring of fixed-size Int32 records
 * in a SharedArrayBuffer: the mapping-log ring (events.ts) and the session-sync ring (sync/ring.ts)
 * are both this. The producer neither allocates nor throws; a full ring drops the record and
 * counts it.
 *
 * Layout (Int32Array):
 *   [0]           head: records written (free-running), stored by the producer after the record
 *   [1]           dropped: records lost because the ring was full (producer only)
 *   [16]          tail: records consumed (free-running), stored by the consumer; own cache line
 *   [32 + i*stride ...] record slot i % capacity
 */
const HEAD = 0, DROPPED = 1, TAIL = 16, SLOTS = 32;

export function createRingBuffer(capacity: number, stride: number): SharedArrayBuffer {
  return new SharedArrayBuffer((SLOTS + capacity * stride) * Int32Array.BYTES_PER_ELEMENT);
}

/** The producer's side: slot(), write the record's words into w, commit(). */
export class RingWriter {
  readonly w: Int32Array;
  private readonly capacity: number;

  constructor(buffer: SharedArrayBuffer, private readonly stride: number) {
    this.w = new Int32Array(buffer);
    this.capacity = (this.w.length - SLOTS) / stride;
  }

  /** Offset in w of the next free record, or -1 (counted) when the consumer is a whole ring behind. */
  slot(): number {
    const w = this.w;
    const head = w[HEAD];
    if (((head - Atomics.load(w, TAIL)) | 0) >= this.capacity) { w[DROPPED]++; return -1; }
    return SLOTS + ((head >>> 0) % this.capacity) * this.stride;
  }

  /** Publishes the record slot() returned to the consumer. */
  commit(): void {
    Atomics.store(this.w, HEAD, (this.w[HEAD] + 1) | 0);
  }
}

/** The consumer's side: each record is handed over as (words, offset) without a copy. */
export class RingReader {
  readonly w: Int32Array;
  readonly capacity: number;

  constructor(buffer: SharedArrayBuffer, private readonly stride: number) {
    this.w = new Int32Array(buffer);
    this.capacity = (this.w.length - SLOTS) / stride;
  }

  get dropped(): number { return this.w[DROPPED] >>> 0; }

  /** Records waiting. */
  get pending(): number { return (Atomics.load(this.w, HEAD) - this.w[TAIL]) | 0; }

  /** Hands over at most `max` records, oldest first; their slots are free for the producer after. */
  drain(out: (w: Int32Array, off: number) => void, max = this.capacity): number {
    const w = this.w;
    const head = Atomics.load(w, HEAD);
    let tail = w[TAIL];
    let n = 0;
    while (tail !== head && n < max) {
      out(w, SLOTS + ((tail >>> 0) % this.capacity) * this.stride);
      tail = (tail + 1) | 0;
      n++;
    }
    Atomics.store(w, TAIL, tail);
    return n;
  }
}
