/**
 * Packets waiting for their next hop's link-layer address (Linux keeps a few per neighbour too):
 * without this, the first packet of every flow to a new neighbour — the SYN, the first ping — is
 * lost and the client waits a whole retransmission timeout. Fixed capacity, typed arrays, no
 * allocation; the mbufs themselves stay in native memory (verdict HOLD).
 */
export const PENDING_CAPACITY = 256;
/** A held packet is given up (freed, counted as neighbor-unresolved) after this long. */
export const PENDING_TIMEOUT_MS = 3000;

const F_MBUF = 0, F_DATA = 1, F_LEN = 2, F_PORT = 3, F_FAMILY = 4, F_NH = 5, F_DEADLINE = 9;
const STRIDE = 10;

export class PendingQueue {
  private readonly t = new Float64Array(PENDING_CAPACITY * STRIDE);
  count = 0;

  /** False when full (the caller drops the packet and counts it). */
  add(mbuf: number, data: number, len: number, portIdx: number, family: number,
    n0: number, n1: number, n2: number, n3: number, deadline: number): boolean {
    if (this.count === PENDING_CAPACITY) return false;
    const o = this.count++ * STRIDE, t = this.t;
    t[o + F_MBUF] = mbuf; t[o + F_DATA] = data; t[o + F_LEN] = len; t[o + F_PORT] = portIdx;
    t[o + F_FAMILY] = family; t[o + F_NH] = n0; t[o + F_NH + 1] = n1; t[o + F_NH + 2] = n2; t[o + F_NH + 3] = n3;
    t[o + F_DEADLINE] = deadline;
    return true;
  }

  mbuf(i: number): number { return this.t[i * STRIDE + F_MBUF]; }
  data(i: number): number { return this.t[i * STRIDE + F_DATA]; }
  len(i: number): number { return this.t[i * STRIDE + F_LEN]; }
  port(i: number): number { return this.t[i * STRIDE + F_PORT]; }
  family(i: number): number { return this.t[i * STRIDE + F_FAMILY]; }
  nh(i: number, w: number): number { return this.t[i * STRIDE + F_NH + w] | 0; }
  deadline(i: number): number { return this.t[i * STRIDE + F_DEADLINE]; }

  /**
   * Remove entry i, keeping the others in arrival order (the fragments of one packet must leave in
   * offset order): a move of at most 255 entries, on the slow path that resolves a neighbour.
   */
  remove(i: number): void {
    const n = --this.count;
    if (i !== n) this.t.copyWithin(i * STRIDE, (i + 1) * STRIDE, (n + 1) * STRIDE);
  }
}
