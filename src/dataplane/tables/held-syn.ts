import { HELD_CAPACITY, HS_LOCAL4, HS_PORTS, HS_REMOTE4, HS_STRIDE, HS_USED, H_HELD_COUNT } from './layout';
import type { ShardTableBuffers } from './shard-tables';

/**
 * IPv4 SYNs waiting for the IPv6 side (RFC 6146 §3.5.2.2: an IPv4 SYN with no BIB entry, or one
 * that address-dependent filtering rejects, "is stored" for TCP_INCOMING_SYN seconds, then
 * answered with ICMP Port Unreachable if no IPv6 SYN of the same connection arrives).
 *
 * Deviation: a packet is an mbuf the shard cannot keep, so only its tuple is stored; when the
 * 6 s pass the tuple is dropped and 'tcp-v4-syn-expired' counted, no ICMP error is sent (the
 * IPv4 peer's own SYN timeout covers it). A small fixed table bounded by
 * maximum-simultaneous-opens (as Jool bounds its stored packets), scanned linearly: it is only
 * looked at while it holds something.
 */
export class HeldSyns {
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

  /** Store a SYN's tuple; false when `limit` SYNs are already held. A retransmission refreshes nothing. */
  hold(local4: number, localPort: number, remote4: number, remotePort: number, now: number, limit: number): boolean {
    if (this.find(local4, localPort, remote4, remotePort) !== -1) return true;
    if (this.header[H_HELD_COUNT] >= Math.min(limit, HELD_CAPACITY)) return false;
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
      return true;
    }
    return false;
  }

  release(i: number): void {
    if (this.rec[i * HS_STRIDE + HS_USED] !== 1) return;
    this.rec[i * HS_STRIDE + HS_USED] = 0;
    this.header[H_HELD_COUNT]--;
  }

  /** Release every SYN held since `now - timeout` or longer; returns how many. */
  expire(now: number, timeout: number): number {
    if (this.header[H_HELD_COUNT] === 0) return 0;
    let n = 0;
    for (let i = 0; i < HELD_CAPACITY; i++) {
      if (this.rec[i * HS_STRIDE + HS_USED] === 1 && this.time[i] + timeout <= now) {
        this.release(i);
        n++;
      }
    }
    return n;
  }

  /** Control path: forget everything (instance removed). */
  clear(): void {
    for (let i = 0; i < HELD_CAPACITY; i++) this.rec[i * HS_STRIDE + HS_USED] = 0;
    this.header[H_HELD_COUNT] = 0;
  }

  /** Control path: release held SYNs whose local address fails `keep`. */
  filter(keep: (local4: number) => boolean): void {
    for (let i = 0; i < HELD_CAPACITY; i++) {
      if (this.rec[i * HS_STRIDE + HS_USED] === 1 && !keep(this.rec[i * HS_STRIDE + HS_LOCAL4] >>> 0)) this.release(i);
    }
  }
}
