/**
 * Owner overrides for IPv6 transport addresses whose mapping came from a peer (session sync).
 *
 * A shard owns the IPv4 side of a flow by pool4 port (p % shards) and the IPv6 side by a hash of
 * the IPv6 source (classify.ts); a translator's own mappings satisfy both because a shard allocates
 * only ports of its slice. A peer with another shard count allocated the port in its own slice, so
 * here the port's owner and the hash's owner may differ. The mapping is applied in the port's owner
 * (so IPv4 replies find it) and this index sends the IPv6 side there too, the same trick as static
 * BIB entries (Classifier.staticOwner6), but filled at run time.
 *
 * Shared memory, one writer (the main thread's SyncService), every shard reads it per IPv6 packet
 * of a multi-shard data plane, and only while it is not empty (one atomic load otherwise).
 * Open addressing with linear probing; entries are never removed one by one (an entry that outlived
 * its mapping only keeps that IPv6 transport address's next flows in the same shard, which stays
 * correct: that shard allocates their ports from its own slice); `clear()` when the instance goes.
 * Slot: [seq, proto + 1 (0 empty), a0, a1, a2, a3, port, shard]; seq is odd while written.
 */
import { finish, hashAddr6, mix, word } from '../tables/hash';

const COUNT = 0;
const HEADER = 16;
const SLOT = 8;
/** Default slots (a power of two): 256 k entries, 8 MB. */
export const REDIRECT_SLOTS = 1 << 18;

export function createRedirectBuffer(slots = REDIRECT_SLOTS): SharedArrayBuffer {
  return new SharedArrayBuffer((HEADER + slots * SLOT) * Int32Array.BYTES_PER_ELEMENT);
}

function hashKey(proto: number, w0: number, w1: number, w2: number, w3: number, port: number): number {
  return finish(mix(mix(mix(mix(mix(mix(0x6d2b79f5, proto), w0), w1), w2), w3), port));
}

export class RedirectIndex {
  private readonly w: Int32Array;
  private readonly mask: number;

  constructor(buffer: SharedArrayBuffer) {
    this.w = new Int32Array(buffer);
    this.mask = (this.w.length - HEADER) / SLOT - 1;
  }

  get count(): number { return Atomics.load(this.w, COUNT); }

  /** Shard for (proto, IPv6 address at a6[o6..], port), or -1. Allocation-free (fast path). */
  owner(proto: number, a6: Uint8Array, o6: number, port: number): number {
    const w = this.w;
    if (Atomics.load(w, COUNT) === 0) return -1;
    const w0 = word(a6, o6), w1 = word(a6, o6 + 4), w2 = word(a6, o6 + 8), w3 = word(a6, o6 + 12);
    let i = hashKey(proto, w0, w1, w2, w3, port) & this.mask;
    for (let probes = 0; probes <= this.mask; probes++) {
      const p = HEADER + i * SLOT;
      const seq = Atomics.load(w, p);
      const tag = w[p + 1];
      if (tag === 0 && (seq & 1) === 0) return -1;
      if (tag === proto + 1 && w[p + 6] === port && w[p + 2] === w0 && w[p + 3] === w1 && w[p + 4] === w2 && w[p + 5] === w3) {
        const shard = w[p + 7];
        if (Atomics.load(w, p) === seq && (seq & 1) === 0) return shard;
      }
      i = (i + 1) & this.mask;
    }
    return -1;
  }

  /**
   * Main thread: map the key to `shard` (insert or update). With insert false, only an existing
   * entry is updated (a mapping whose owners agree needs no entry, but must not follow an old one).
   * False when the index is full.
   */
  set(proto: number, words: Int32Array, o: number, port: number, shard: number, insert = true): boolean {
    const w = this.w;
    const w0 = words[o], w1 = words[o + 1], w2 = words[o + 2], w3 = words[o + 3];
    let i = hashKey(proto, w0, w1, w2, w3, port) & this.mask;
    for (let probes = 0; probes <= this.mask; probes++) {
      const p = HEADER + i * SLOT;
      const tag = w[p + 1];
      const same = tag === proto + 1 && w[p + 6] === port && w[p + 2] === w0 && w[p + 3] === w1 && w[p + 4] === w2 && w[p + 5] === w3;
      if (same && w[p + 7] === shard) return true;
      if (tag === 0 && !insert) return true;
      if (same || tag === 0) {
        // Stay one slot short of full: a lookup must always end at an empty slot.
        if (tag === 0 && Atomics.load(w, COUNT) >= this.mask) return false;
        Atomics.add(w, p, 1);
        w[p + 2] = w0; w[p + 3] = w1; w[p + 4] = w2; w[p + 5] = w3; w[p + 6] = port; w[p + 7] = shard;
        w[p + 1] = proto + 1;
        Atomics.add(w, p, 1);
        if (tag === 0) Atomics.add(w, COUNT, 1);
        return true;
      }
      i = (i + 1) & this.mask;
    }
    return false;
  }

  /** Main thread: forget every entry (no instance any more). */
  clear(): void {
    const w = this.w;
    Atomics.store(w, COUNT, 0);
    for (let p = HEADER; p < w.length; p += SLOT) {
      if (w[p + 1] === 0) continue;
      Atomics.add(w, p, 1);
      w[p + 1] = 0;
      Atomics.add(w, p, 1);
    }
  }
}
