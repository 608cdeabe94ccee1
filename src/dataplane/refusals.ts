/**
 * Refusals remembered (issue 11): the IPv6 TCP/UDP flows the core refused for want of state in the
 * last second — no pool4 transport address (pool4-exhausted), no room in the BIB or the session
 * table — so that their next packets are dropped at the cost of one table line instead of the
 * whole RFC 6146 path (parse, BIB lookup, pool4 allocation, ICMPv6 error), which is several times
 * a translation. Without it a few unmappable flows sending at full rate take most of a shard from
 * the flows that have mappings.
 *
 * Per shard, bounded: REFUSAL_ENTRIES entries of one cache line each (8 MiB) in sets of WAYS
 * adjacent lines, keyed by the exact packet fields (protocol, source and destination addresses and
 * ports); a new refusal takes a free or expired way of its set, else the one that expires first.
 * (Direct-mapped, two refused flows sharing a line evicted each other: at 32 k refused flows a
 * quarter of their packets took the full path again.) An entry lives REFUSAL_MS: a flow is tried again on
 * the full path at least once a second (a port may have been freed), and whenever the shard's ICMP
 * error bucket has a token (the caller's check), so the sender still gets its rate-limited ICMPv6
 * Address Unreachable exactly as without the cache. Cleared when the configuration changes.
 */
import { finish, mix, word } from './tables/hash';
import { icmpErrorBucket } from './translate/icmp-rate-limit';

/** How long a refusal is remembered (the "refused within the last second"). */
export const REFUSAL_MS = 1000;
/** Entries (a power of two); 16 int32 words (64 bytes) each. */
export const REFUSAL_ENTRIES = 1 << 17;
const WAYS = 4;
const STRIDE = 16;
const K_SRC = 0, K_DST = 4, K_PORTS = 8, K_PROTO = 9, K_UNTIL = 10;
/** Deadlines are stored relative to `base` (int32 ms); rebased long before they could overflow. */
const REBASE_MS = 1 << 30;

export class RefusalCache {
  private readonly t = new Int32Array(REFUSAL_ENTRIES * STRIDE);
  private base = 0;

  constructor(now: number) { this.base = now; }

  /** Forget every refusal (the configuration changed: pool4, tables, instance). */
  clear(now: number): void {
    this.t.fill(0);
    this.base = now;
  }

  /** Word index of the first way of the packet's set. */
  private set(buf: Uint8Array, ip: number, proto: number, ports: number): number {
    let h = mix(proto, word(buf, ip + 8));
    h = mix(h, word(buf, ip + 12));
    h = mix(h, word(buf, ip + 16));
    h = mix(h, word(buf, ip + 20));
    h = mix(h, word(buf, ip + 36));
    h = mix(h, ports);
    return (finish(h) & (REFUSAL_ENTRIES / WAYS - 1)) * WAYS * STRIDE;
  }

  /**
   * The shard's test before the full path: drop this IPv6 packet at once? Yes when its flow was
   * refused less than REFUSAL_MS ago and its ICMPv6 error could not go out now anyway (the rate
   * limiter, RFC 4443 §2.4(f), has no token); otherwise the full path answers it, or maps it.
   */
  drop6(buf: Uint8Array, ip: number, proto: number, now: number): boolean {
    return this.has6(buf, ip, proto, now) && !icmpErrorBucket.ready();
  }

  /**
   * Was the IPv6 packet at buf[ip] (TCP/UDP without extension headers: next header `proto`, ports
   * at ip + 40) refused less than REFUSAL_MS ago?
   */
  has6(buf: Uint8Array, ip: number, proto: number, now: number): boolean {
    const p = this.find(buf, ip, proto, word(buf, ip + 40));
    return p >= 0 && this.t[p + K_UNTIL] > now - this.base;
  }

  /** Word index of the packet's entry (expired or not), -1 when it has none. */
  private find(buf: Uint8Array, ip: number, proto: number, ports: number): number {
    const t = this.t, s0 = word(buf, ip + 8);
    for (let p = this.set(buf, ip, proto, ports), end = p + WAYS * STRIDE; p < end; p += STRIDE) {
      if (t[p + K_SRC] === s0 && t[p + K_PORTS] === ports && t[p + K_PROTO] === proto && t[p + K_UNTIL] !== 0 &&
        t[p + K_SRC + 1] === word(buf, ip + 12) && t[p + K_SRC + 2] === word(buf, ip + 16) &&
        t[p + K_SRC + 3] === word(buf, ip + 20) && t[p + K_DST] === word(buf, ip + 24) &&
        t[p + K_DST + 1] === word(buf, ip + 28) && t[p + K_DST + 2] === word(buf, ip + 32) &&
        t[p + K_DST + 3] === word(buf, ip + 36)) return p;
    }
    return -1;
  }

  /** Remember that the packet at buf[ip] was refused now. */
  add6(buf: Uint8Array, ip: number, proto: number, now: number): void {
    if (now - this.base > REBASE_MS) this.clear(now);
    const ports = word(buf, ip + 40);
    const t = this.t;
    let p = this.find(buf, ip, proto, ports);
    if (p < 0) {
      // The way that expires first (an empty or expired one has the smallest deadline of all).
      const first = p = this.set(buf, ip, proto, ports);
      for (let q = first + STRIDE, end = first + WAYS * STRIDE; q < end; q += STRIDE) if (t[q + K_UNTIL] < t[p + K_UNTIL]) p = q;
    }
    for (let k = 0; k < 4; k++) {
      t[p + K_SRC + k] = word(buf, ip + 8 + 4 * k);
      t[p + K_DST + k] = word(buf, ip + 24 + 4 * k);
    }
    t[p + K_PORTS] = ports;
    t[p + K_PROTO] = proto;
    t[p + K_UNTIL] = now - this.base + REFUSAL_MS;
  }
}
