/**
 * The neighbour table (ARP cache and IPv6 neighbour cache in one), shared by every shard.
 *
 * Why shared: on a single-queue device only shard 0 receives the ARP reply or Neighbour
 * Advertisement, yet any shard may be the one waiting for it. Lookups are on the fast path (one per
 * emitted packet), updates are rare (slow path: ARP/ND), so entries use a sequence lock: a writer
 * makes `seq` odd, writes, makes it even; a reader retries while it is odd or changed. Writers from
 * several shards serialise on one table-wide lock word (updates are rare).
 *
 * Slot layout (Int32Array, STRIDE words): seq, state, family, port, a0..a3 (address, IPv4 in a0),
 * macHi (2 bytes), macLo (4 bytes), updatedSec, solicitedMs (low 31 bits of ms clock), probes.
 */
const STRIDE = 16;
const F_SEQ = 0, F_STATE = 1, F_FAMILY = 2, F_PORT = 3, F_A0 = 4, F_MACHI = 8, F_MACLO = 9,
  F_UPDATED = 10, F_SOLICITED = 11, F_PROBES = 12;
export const enum NeighState { EMPTY = 0, INCOMPLETE = 1, REACHABLE = 2, STATIC = 3 }
const LOCK = 0; // header word
/** Header word bumped by every write of an entry: caches of lookups (flow-cache.ts) compare it. */
const GEN = 1;
const HEADER_WORDS = 16;
/** find() result when every slot is taken by another address. */
const FULL = -0x7fffffff;

/** How long a learned entry is trusted before the next use re-solicits it (it stays usable meanwhile). */
export const REACHABLE_MS = 30_000;
/** Interval between solicitations for one unresolved neighbour, and how many before giving up. */
export const RETRANS_MS = 1_000;
export const MAX_PROBES = 3;

export function createNeighborBuffer(slots = 1024): SharedArrayBuffer {
  if (slots & (slots - 1)) throw new RangeError('neighbor slots must be a power of two');
  return new SharedArrayBuffer((HEADER_WORDS + slots * STRIDE) * 4);
}

export class NeighborTable {
  private readonly w: Int32Array;
  private readonly mask: number;
  /** Result of the last successful lookup(): MAC bytes, valid until the next call. */
  readonly mac = new Uint8Array(6);

  constructor(buffer: SharedArrayBuffer) {
    this.w = new Int32Array(buffer);
    this.mask = (this.w.length - HEADER_WORDS) / STRIDE - 1;
  }

  private hash(family: number, a0: number, a1: number, a2: number, a3: number): number {
    let h = Math.imul(a0 ^ family, 0x9e3779b1) ^ Math.imul(a1, 0x85ebca6b) ^ Math.imul(a2, 0xc2b2ae35) ^ Math.imul(a3, 0x27d4eb2f);
    h ^= h >>> 15;
    return h & this.mask;
  }

  /** Word index of the address's slot, -(insertion slot)-1 when absent, or FULL. */
  private find(family: number, a0: number, a1: number, a2: number, a3: number): number {
    const w = this.w;
    let i = this.hash(family, a0, a1, a2, a3);
    for (let probe = 0; probe <= this.mask; probe++) {
      const s = HEADER_WORDS + i * STRIDE;
      const state = Atomics.load(w, s + F_STATE);
      if (state === NeighState.EMPTY) return -s - 1;
      if (w[s + F_FAMILY] === family && w[s + F_A0] === a0 && w[s + F_A0 + 1] === a1 &&
        w[s + F_A0 + 2] === a2 && w[s + F_A0 + 3] === a3) return s;
      i = (i + 1) & this.mask;
    }
    return FULL;
  }

  /**
   * Fast path. Returns the state of the entry (EMPTY when unknown) and, when usable
   * (REACHABLE/STATIC), copies the MAC into this.mac. `stale` tells the caller to refresh it.
   */
  lookup(family: number, a0: number, a1: number, a2: number, a3: number, nowMs: number): number {
    const s = this.find(family, a0, a1, a2, a3);
    if (s < 0) return NeighState.EMPTY;
    const w = this.w;
    for (;;) {
      const seq = Atomics.load(w, s + F_SEQ);
      if (seq & 1) continue;
      const state = w[s + F_STATE];
      const hi = w[s + F_MACHI], lo = w[s + F_MACLO];
      if (Atomics.load(w, s + F_SEQ) !== seq) continue;
      if (state === NeighState.REACHABLE || state === NeighState.STATIC) {
        const m = this.mac;
        m[0] = hi >>> 8; m[1] = hi & 0xff;
        m[2] = lo >>> 24; m[3] = (lo >>> 16) & 0xff; m[4] = (lo >>> 8) & 0xff; m[5] = lo & 0xff;
        this.lastStale = state === NeighState.REACHABLE && nowMs / 1000 - w[s + F_UPDATED] > REACHABLE_MS / 1000;
        this.lastUpdated = state === NeighState.STATIC ? -1 : w[s + F_UPDATED];
      }
      return state;
    }
  }
  /** Set by lookup(): the entry was learned more than REACHABLE_MS ago. */
  lastStale = false;
  /** Set by lookup() for a usable entry: when it was learned (s), -1 for a static one. */
  lastUpdated = -1;

  /** Changes whenever an entry is written (a plain read: a cache re-checks it per packet). */
  generation(): number { return this.w[GEN]; }

  private lock(): void {
    while (Atomics.compareExchange(this.w, LOCK, 0, 1) !== 0) { /* slow path: spin */ }
  }
  private unlock(): void { Atomics.store(this.w, LOCK, 0); }

  /** Learn (or pin, when `isStatic`) a MAC for an address. Static entries are never overwritten by learning. */
  learn(family: number, a0: number, a1: number, a2: number, a3: number, port: number,
    mac: Uint8Array, macOff: number, nowMs: number, isStatic = false): boolean {
    this.lock();
    try {
      let s = this.find(family, a0, a1, a2, a3);
      if (s === FULL) return false;
      const w = this.w;
      if (s >= 0 && w[s + F_STATE] === NeighState.STATIC && !isStatic) return true;
      if (s < 0) s = -s - 1;
      Atomics.add(w, s + F_SEQ, 1);
      w[s + F_FAMILY] = family; w[s + F_A0] = a0; w[s + F_A0 + 1] = a1; w[s + F_A0 + 2] = a2; w[s + F_A0 + 3] = a3;
      w[s + F_PORT] = port;
      w[s + F_MACHI] = (mac[macOff] << 8) | mac[macOff + 1];
      w[s + F_MACLO] = (mac[macOff + 2] << 24) | (mac[macOff + 3] << 16) | (mac[macOff + 4] << 8) | mac[macOff + 5];
      w[s + F_UPDATED] = Math.floor(nowMs / 1000);
      w[s + F_PROBES] = 0;
      Atomics.store(w, s + F_STATE, isStatic ? NeighState.STATIC : NeighState.REACHABLE);
      Atomics.add(w, s + F_SEQ, 1);
      Atomics.add(w, GEN, 1);
      return true;
    } finally { this.unlock(); }
  }

  /**
   * Decide whether this shard should send a solicitation now for the address (creating an
   * INCOMPLETE entry on first use). Rate-limited to one per RETRANS_MS across all shards.
   * Returns false when one was sent recently, or when MAX_PROBES went unanswered (entry reset).
   */
  shouldSolicit(family: number, a0: number, a1: number, a2: number, a3: number, port: number, nowMs: number): boolean {
    this.lock();
    try {
      let s = this.find(family, a0, a1, a2, a3);
      if (s === FULL) return false;
      const w = this.w;
      const now31 = nowMs % 0x7fffffff;
      if (s < 0) {
        s = -s - 1;
        Atomics.add(w, s + F_SEQ, 1);
        w[s + F_FAMILY] = family; w[s + F_A0] = a0; w[s + F_A0 + 1] = a1; w[s + F_A0 + 2] = a2; w[s + F_A0 + 3] = a3;
        w[s + F_PORT] = port; w[s + F_PROBES] = 1; w[s + F_SOLICITED] = now31;
        Atomics.store(w, s + F_STATE, NeighState.INCOMPLETE);
        Atomics.add(w, s + F_SEQ, 1);
        Atomics.add(w, GEN, 1);
        return true;
      }
      if (w[s + F_STATE] === NeighState.STATIC) return false;
      const since = (now31 - w[s + F_SOLICITED] + 0x7fffffff) % 0x7fffffff;
      if (since < RETRANS_MS) return false;
      w[s + F_SOLICITED] = now31;
      w[s + F_PROBES]++;
      return true;
    } finally { this.unlock(); }
  }

  /** Control path: every usable entry, for display. */
  entries(): Array<{ family: number; words: number[]; mac: string; state: NeighState; port: number; updatedSec: number }> {
    const out = [];
    const w = this.w;
    for (let s = HEADER_WORDS; s < w.length; s += STRIDE) {
      const state = Atomics.load(w, s + F_STATE);
      if (state === NeighState.EMPTY) continue;
      const hi = w[s + F_MACHI], lo = w[s + F_MACLO];
      const mac = [hi >>> 8, hi & 0xff, lo >>> 24, (lo >>> 16) & 0xff, (lo >>> 8) & 0xff, lo & 0xff]
        .map((b) => b.toString(16).padStart(2, '0')).join(':');
      out.push({ family: w[s + F_FAMILY], words: [w[s + F_A0], w[s + F_A0 + 1], w[s + F_A0 + 2], w[s + F_A0 + 3]],
        mac, state, port: w[s + F_PORT], updatedSec: w[s + F_UPDATED] });
    }
    return out;
  }
}
