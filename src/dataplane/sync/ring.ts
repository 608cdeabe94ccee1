/**
 * The shard's sync ring (ss-enabled): a single-producer, single-consumer ring (spsc-ring.ts) from
 * the shard to the main thread's SyncService. The shard writes one record (record.ts) when a
 * session is created, changes TCP state or is removed: no allocation, no exception; a full ring
 * drops the record and counts it, and the main thread turns that count into a "records were lost"
 * flag for the peers (who then ask for a dump).
 */
import { B_PORTS, B_V4, B_V6 } from '../tables/layout';
import { createRingBuffer, RingReader, RingWriter } from '../spsc-ring';
import {
  SR_AGE, SR_KIND, SR_PORTS, SR_R4, SR_RPORT, SR_STRIDE, SR_TIME_HI, SR_TIME_LO, SR_V4, SR_V6, type SyncKind,
} from './record';

/** Records per shard: 16 k, i.e. 160 k new sessions/s per shard for the main thread's 100 ms worst case. */
export const SYNC_RING_CAPACITY = 16384;

export function createSyncRingBuffer(capacity = SYNC_RING_CAPACITY): SharedArrayBuffer {
  return createRingBuffer(capacity, SR_STRIDE);
}

/** The shard's side. */
export class SyncRing {
  private readonly ring: RingWriter;

  constructor(buffer: SharedArrayBuffer) {
    this.ring = new RingWriter(buffer, SR_STRIDE);
  }

  /**
   * Session of BIB record at bib[bp..] with remote (r4, rport) in TCP state `state`, last used at
   * `lastUse` (ms): kind happened. The age tells a peer how recent the sender's view is (a removal
   * does not remove a copy the peer used since: sync/apply.ts).
   */
  session(kind: SyncKind, bib: Int32Array, bp: number, proto: number, r4: number, rport: number, state: number, lastUse: number): void {
    const s = this.ring.slot();
    if (s < 0) return;
    const w = this.ring.w;
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
    this.ring.commit();
  }
}

/** The main thread's side: each record is handed over as (words, offset) without a copy. */
export class SyncRingReader extends RingReader {
  constructor(buffer: SharedArrayBuffer) {
    super(buffer, SR_STRIDE);
  }
}
