/**
 * The sender's queue of sync records and Jool's flush rules (docs/session-sync.md "Batching"):
 *
 *  - ss-max-sessions-per-packet and ss-max-payload: a datagram carries at most that many records
 *    and at most that many bytes of UDP payload (whichever is smaller; at least one record).
 *  - ss-flush-asap true: whatever is queued leaves at the next flush (every tick of the service,
 *    a few ms), in as few datagrams as the limits allow.
 *  - ss-flush-asap false: only full datagrams leave, except that a record never waits more than
 *    ss-flush-deadline ms (then the partial datagram leaves too).
 *  - ss-capacity: records queued at most; the service drains the shards' rings only into free
 *    room, so a full queue holds records back in the rings (which count what they lose).
 *
 * Pure bookkeeping: `emit` gets the encoded records of one datagram; the framing, the MAC and the
 * socket belong to the caller (service.ts). Allocation: one Buffer of ss-capacity records.
 */
import { AGE_OFFSET, RECORD_BYTES, encodeRecord, recordsPerDatagram } from './wire';
import { recordTime } from '../../dataplane/sync/record';

export interface BatchSettings {
  flushAsap: boolean;
  flushDeadlineMs: number;
  capacity: number;
  maxPayload: number;
  maxSessionsPerPacket: number;
  mac: boolean;
}

export const DEFAULT_BATCH: BatchSettings = {
  flushAsap: true, flushDeadlineMs: 2000, capacity: 512, maxPayload: 1452, maxSessionsPerPacket: 27, mac: false,
};

/** emit(records, count, oldest): `records` is count * RECORD_BYTES, valid only during the call. */
export type Emit = (records: Buffer, count: number, oldestEventMs: number) => void;

export class SyncBatcher {
  private s: BatchSettings = DEFAULT_BATCH;
  private buf = Buffer.alloc(0);
  private queued = 0;
  /** Event time (ms) of each queued record, to honour the deadline and measure the lag. */
  private times = new Float64Array(0);
  /** Last use (ms) of each queued record's session: its age is written when the datagram leaves. */
  private lastUses = new Float64Array(0);
  private now = 0;
  private perDatagram = 1;

  constructor(private readonly emit: Emit) { this.configure(DEFAULT_BATCH); }

  configure(s: BatchSettings): void {
    const cap = Math.max(1, s.capacity);
    if (cap !== this.times.length) {
      const buf = Buffer.alloc(cap * RECORD_BYTES), times = new Float64Array(cap), lastUses = new Float64Array(cap);
      const keep = Math.min(this.queued, cap);
      this.buf.copy(buf, 0, 0, keep * RECORD_BYTES);
      times.set(this.times.subarray(0, keep));
      lastUses.set(this.lastUses.subarray(0, keep));
      this.buf = buf; this.times = times; this.lastUses = lastUses; this.queued = keep;
    }
    this.s = s;
    this.perDatagram = recordsPerDatagram(s.maxPayload, s.maxSessionsPerPacket, s.mac);
  }

  get recordsPerDatagram(): number { return this.perDatagram; }
  get length(): number { return this.queued; }
  get free(): number { return this.times.length - this.queued; }

  /**
   * Queue one record (words at w[o], record.ts layout) of a session last used at lastUseMs. False
   * when the queue is full.
   */
  push(w: Int32Array, o: number, lastUseMs: number, eventMs = recordTime(w, o)): boolean {
    if (this.queued >= this.times.length) return false;
    encodeRecord(w, o, 0, this.buf, this.queued * RECORD_BYTES);
    this.lastUses[this.queued] = lastUseMs;
    this.times[this.queued++] = eventMs;
    return true;
  }

  /** Send what the rules allow now (force: everything, e.g. at stop). Returns datagrams emitted. */
  flush(now: number, force = false): number {
    this.now = now;
    const n = this.perDatagram;
    let sent = 0, from = 0;
    while (this.queued - from >= n) { this.out(from, n); from += n; sent++; }
    const rest = this.queued - from;
    if (rest > 0 && (force || this.s.flushAsap || now - this.times[from] >= this.s.flushDeadlineMs)) {
      this.out(from, rest); from += rest; sent++;
    }
    if (from > 0) {
      this.buf.copy(this.buf, 0, from * RECORD_BYTES, this.queued * RECORD_BYTES);
      this.times.copyWithin(0, from, this.queued);
      this.lastUses.copyWithin(0, from, this.queued);
      this.queued -= from;
    }
    return sent;
  }

  private out(from: number, count: number): void {
    let oldest = this.times[from];
    for (let i = from; i < from + count; i++) {
      if (this.times[i] < oldest) oldest = this.times[i];
      // The age as the datagram leaves (its header carries this send time: the receiver's reference).
      this.buf.writeUInt32BE(Math.min(Math.max(0, Math.floor(this.now - this.lastUses[i])), 0xffffffff), i * RECORD_BYTES + AGE_OFFSET);
    }
    this.emit(this.buf.subarray(from * RECORD_BYTES, (from + count) * RECORD_BYTES), count, oldest);
  }
}
