import { HELD_CAPACITY, HS_LOCAL4, HS_PORTS, HS_REMOTE4, HS_STRIDE, HS_USED, H_HELD_COUNT } from './layout';
import type { ShardTableBuffers } from './shard-tables';

/**
 * IPv4 SYNs waiting for the IPv6 side (RFC 6146 §3.5.2.2: an IPv4 SYN with no BIB entry, or one
 * that address-dependent filtering rejects, "is stored" for TCP_INCOMING_SYN seconds, then
 * answered with ICMP Port Unreachable if no IPv6 SYN of the same connection arrives).
 *
 * The table keeps the tuple and a slot number; the packet itself stays in its mbuf, which the
 * shard keeps under that slot (Result.STORE). The `listener` tells the shard when a slot ends:
 * expired (answer Port Unreachable from the stored packet) or released (an IPv6 SYN came, or
 * the configuration dropped it: free the packet). A small fixed table bounded by
 * maximum-simultaneous-opens (as Jool bounds its stored packets), scanned linearly: it is only
 * looked at while it holds something.
 */
export interface HeldSynListener {
  /** Slot `slot` ends; `expired`: its 6 s passed without an IPv6 SYN. */
  heldSynEnded(slot: number, expired: boolean): void;
}

/** hold() result when the same SYN (a retransmission) is already stored. */
export const HELD_ALREADY = -2;

export class HeldSyns {
  listener: HeldSynListener | null = null;

  private readonly rec: Int32Array;
  private readonly time: Float64Array;

  constructor(b: ShardTableBuffers, private readonly header: Int32Array) {
    this.rec = new Int32Array(b.held);
    this.time = new Float64Array(b.heldTime);
  }

  get count(): number { return this.header[H_HELD_COUNT]; }

  /** Index of the held SYN for this IPv4 tuple, or -1. */
  find(local4: number, localPort: number, remote4: number, remotePort: number): number {
    if (this.header[H_HELD_COUNT] === 0) return -1;
    const r = this.rec;
    const ports = (localPort << 16) | remotePort;
    for (let i = 0; i < HELD_CAPACITY; i++) {
      const p = i * HS_STRIDE;
      if (r[p + HS_USED] === 1 && r[p + HS_LOCAL4] === (local4 | 0) && r[p + HS_REMOTE4] === (remote4 | 0)
        && r[p + HS_PORTS] === ports) return i;
    }
    return -1;
  }

  /**
   * Index of the first held SYN at or after slot `from` sent by the IPv4 endpoint
   * (remote4, remotePort), or -1: the SYNs an IPv6 SYN calling that endpoint may meet
   * (simultaneous open, RFC 6146 §3.5.2.2).
   */
  findFrom(remote4: number, remotePort: number, from: number): number {
    if (this.header[H_HELD_COUNT] === 0) return -1;
    const r = this.rec;
    for (let i = from; i < HELD_CAPACITY; i++) {
      const p = i * HS_STRIDE;
      if (r[p + HS_USED] === 1 && r[p + HS_REMOTE4] === (remote4 | 0) && (r[p + HS_PORTS] & 0xffff) === remotePort) return i;
    }
    return -1;
  }

  /** The pool4 transport address held SYN i was sent to. */
  local4(i: number): number { return this.rec[i * HS_STRIDE + HS_LOCAL4] >>> 0; }
  localPort(i: number): number { return this.rec[i * HS_STRIDE + HS_PORTS] >>> 16; }

  /**
   * Store a SYN's tuple: its slot, -1 when `limit` SYNs are already held, HELD_ALREADY for a
   * retransmission of a stored SYN (the first copy stays; nothing is refreshed).
   */
  hold(local4: number, localPort: number, remote4: number, remotePort: number, now: number, limit: number): number {
    if (this.find(local4, localPort, remote4, remotePort) !== -1) return HELD_ALREADY;
    if (this.header[H_HELD_COUNT] >= Math.min(limit, HELD_CAPACITY)) return -1;
    const r = this.rec;
    for (let i = 0; i < HELD_CAPACITY; i++) {
      const p = i * HS_STRIDE;
      if (r[p + HS_USED] === 1) continue;
      r[p + HS_LOCAL4] = local4 | 0;
      r[p + HS_REMOTE4] = remote4 | 0;
      r[p + HS_PORTS] = (localPort << 16) | remotePort;
      r[p + HS_USED] = 1;
      this.time[i] = now;
      this.header[H_HELD_COUNT]++;
      return i;
    }
    return -1;
  }

  /** End slot i (an IPv6 SYN answered it, or it expired); the listener frees or answers the packet. */
  release(i: number, expired = false): void {
    if (this.rec[i * HS_STRIDE + HS_USED] !== 1) return;
    this.rec[i * HS_STRIDE + HS_USED] = 0;
    this.header[H_HELD_COUNT]--;
    this.listener?.heldSynEnded(i, expired);
  }

  /** Release every SYN held since `now - timeout` or longer; returns how many. */
  expire(now: number, timeout: number): number {
    if (this.header[H_HELD_COUNT] === 0) return 0;
    let n = 0;
    for (let i = 0; i < HELD_CAPACITY; i++) {
      if (this.rec[i * HS_STRIDE + HS_USED] === 1 && this.time[i] + timeout <= now) {
        this.release(i, true);
        n++;
      }
    }
    return n;
  }

  /** Control path: forget everything (instance removed). */
  clear(): void {
    for (let i = 0; i < HELD_CAPACITY; i++) this.release(i);
  }

  /** Control path: release held SYNs whose local address fails `keep`. */
  filter(keep: (local4: number) => boolean): void {
    for (let i = 0; i < HELD_CAPACITY; i++) {
      if (this.rec[i * HS_STRIDE + HS_USED] === 1 && !keep(this.rec[i * HS_STRIDE + HS_LOCAL4] >>> 0)) this.release(i);
    }
  }
}
