/**
 * The main thread's walk over a shard's sessions for session sync (a dump for a peer that asked,
 * and the periodic refresh of sessions in use): reads the shared tables like read.ts does (records
 * whose sequence number moved under the read are retried, then skipped) and hands each session over
 * as a record (record.ts) without stopping the shard. A walk is done in slices of slots so the main
 * thread's event loop keeps turning.
 */
import {
  BF_IN_USE, B_FLAGS, B_PORTS, B_SEQ, B_STRIDE, B_V4, B_V6, NIL, S_BIB, S_MISC, S_R4, S_SEQ, S_STRIDE,
} from '../tables/layout';
import type { ShardTableBuffers } from '../tables/shard-tables';
import { SR_AGE, SR_KIND, SR_PORTS, SR_R4, SR_RPORT, SR_STRIDE, SR_TIME_HI, SR_TIME_LO, SR_V4, SR_V6, SyncKind } from './record';

const RETRIES = 4;

export class SessionWalker {
  private readonly ses: Int32Array;
  private readonly bib: Int32Array;
  private readonly lastUse: Float64Array;
  /** The record handed to the callback (reused). */
  readonly rec = new Int32Array(SR_STRIDE);
  readonly capacity: number;

  constructor(buffers: ShardTableBuffers) {
    this.ses = new Int32Array(buffers.session);
    this.bib = new Int32Array(buffers.bib);
    this.lastUse = new Float64Array(buffers.sessionTime);
    this.capacity = buffers.capacity;
  }

  /**
   * Sessions in slots [from, to) last used after `since` (ms): out(rec, lastUse) for each, the
   * record an UPSERT with SR_AGE = now - lastUse. Returns how many were handed over.
   */
  walk(from: number, to: number, since: number, now: number, out: (rec: Int32Array, lastUse: number) => void): number {
    const ses = this.ses, bib = this.bib, rec = this.rec;
    let n = 0;
    for (let s = from; s < Math.min(to, this.capacity); s++) {
      const p = s * S_STRIDE;
      for (let attempt = 0; attempt < RETRIES; attempt++) {
        const seq = Atomics.load(ses, p + S_SEQ);
        if (seq & 1) continue;
        const b = ses[p + S_BIB], r4 = ses[p + S_R4], misc = ses[p + S_MISC], used = this.lastUse[s];
        if (Atomics.load(ses, p + S_SEQ) !== seq) continue;
        if (b === NIL || b < 0 || b >= this.capacity || !(used > since)) break;
        const bp = b * B_STRIDE;
        const bseq = Atomics.load(bib, bp + B_SEQ);
        if (bseq & 1) continue;
        const flags = bib[bp + B_FLAGS];
        rec[SR_V6] = bib[bp + B_V6]; rec[SR_V6 + 1] = bib[bp + B_V6 + 1]; rec[SR_V6 + 2] = bib[bp + B_V6 + 2]; rec[SR_V6 + 3] = bib[bp + B_V6 + 3];
        rec[SR_PORTS] = bib[bp + B_PORTS];
        rec[SR_V4] = bib[bp + B_V4];
        if (Atomics.load(bib, bp + B_SEQ) !== bseq) continue;
        if ((flags & BF_IN_USE) === 0) break;
        rec[SR_KIND] = SyncKind.UPSERT | ((flags & 0xff) << 8) | (((misc >>> 8) & 0xff) << 16);
        rec[SR_R4] = r4;
        rec[SR_RPORT] = misc >>> 16;
        rec[SR_TIME_HI] = Math.floor(now / 4294967296);
        rec[SR_TIME_LO] = now | 0;
        rec[SR_AGE] = Math.max(0, Math.floor(now - used));
        out(rec, used);
        n++;
        break;
      }
    }
    return n;
  }
}
