/**
 * RFC 4443 §2.4(f): "an IPv6 node MUST limit the rate of ICMPv6 error messages it originates",
 * with a token bucket as the recommended shape; RFC 1812 §4.3.2.8 says the same for ICMPv4. One
 * bucket covers every error the translator originates (Time Exceeded, Packet Too Big /
 * Fragmentation Needed, Port Unreachable for stored SYNs), both families, per shard.
 *
 * Why a module-level bucket: one shard runs per worker thread (one module instance per thread),
 * so a module-level bucket is per shard without threading a clock and a bucket through every
 * translation call. The builders only take tokens; the shard refills between bursts
 * (shard.ts housekeeping, at least every 10 ms), so the fast path reads no clock. Until a shard
 * configures it the bucket is unlimited: unit tests and the fuzzer see the RFC behaviour alone.
 */
export class IcmpErrorBucket {
  /** Tokens per second; 0: no limit. */
  private perSecond = 0;
  private burst = 0;
  private tokens = 0;
  private last = 0;

  /** Control path: a rate of 0 turns the limit off. Starts full. */
  configure(perSecond: number, burst: number, nowMs: number): void {
    this.perSecond = perSecond > 0 ? perSecond : 0;
    this.burst = Math.max(1, burst);
    this.tokens = this.burst;
    this.last = nowMs;
  }

  /** Between bursts: add the tokens earned since the last refill, up to the burst size. */
  refill(nowMs: number): void {
    if (this.perSecond === 0) return;
    const dt = nowMs - this.last;
    if (dt <= 0) return;
    this.last = nowMs;
    const t = this.tokens + (dt * this.perSecond) / 1000;
    this.tokens = t < this.burst ? t : this.burst;
  }

  /** Fast path: would take() succeed now? (Takes nothing.) */
  ready(): boolean {
    return this.perSecond === 0 || this.tokens >= 1;
  }

  /** Fast path: may one more error go out now? */
  take(): boolean {
    if (this.perSecond === 0) return true;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** This thread's (this shard's) bucket. */
export const icmpErrorBucket = new IcmpErrorBucket();
