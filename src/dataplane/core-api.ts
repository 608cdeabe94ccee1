import type { CoreConfig } from './core-config';

/**
 * What a shard worker needs from the translation core (RFC 6146 §3.4-3.8 + RFC 7915), and nothing
 * about Ethernet, ports or DPDK: the core works on an L3 packet inside a byte array, in place.
 *
 * Memory contract for process6/process4:
 *  - buf is the arena (or, in tests, any Uint8Array); the IP packet is buf[off, off+len).
 *  - At least MIN_HEADROOM-14 = 114 bytes before `off` are writable (the core may move the start of
 *    the packet backwards, e.g. IPv4 -> IPv6 grows by 20 bytes; an ICMP error it generates wraps
 *    the offending packet in new headers), and buf[off, off+cap) is writable.
 *  - No allocation, no exception: every outcome is a Result code, and every drop has already
 *    incremented exactly one named counter (counters.ts) when the method returns.
 */
export const enum Result {
  /** Dropped; the counter is incremented. */
  DROP = 0,
  /** Send out.off/out.len as an IPv4 packet (route by its destination). */
  EMIT4 = 4,
  /** Send out.off/out.len as an IPv6 packet (route by its destination). */
  EMIT6 = 6,
  /**
   * The translated IPv4 packet is addressed to one of our pool4 addresses (RFC 6146 §3.8
   * hairpinning): feed it back as incoming IPv4 (to the shard that owns it: ownerOf4).
   */
  HAIRPIN = 7,
  /**
   * RFC 6146 §3.5.2.2: an IPv4 SYN the NAT64 must store for 6 s. Keep the packet (do not send or
   * free it) under slot `storedSlot`; the core later ends the slot through its HeldSynListener:
   * expired (answer ICMP Port Unreachable from the stored packet) or released (free it).
   */
  STORE = 8,
}

/** Where the output packet lies, written by process6/process4 (one reusable object, no allocation). */
export interface OutSpan { off: number; len: number }

export interface TranslationCore {
  readonly out: OutSpan;
  /** Control path: replace the instance configuration (null: no instance, everything is dropped). */
  configure(cfg: CoreConfig | null, ownIpv4: number[]): void;
  /** An IPv6 packet arrived for translation (destination inside pool6). `now` in ms. */
  process6(buf: Uint8Array, off: number, len: number, cap: number, now: number): Result;
  /** An IPv4 packet arrived addressed to a pool4 address. */
  process4(buf: Uint8Array, off: number, len: number, cap: number, now: number): Result;
  /** Shard that must process this IPv6 packet (hash of source address, source port/ICMP id, protocol; static BIB overrides). */
  ownerOf6(buf: Uint8Array, off: number, len: number): number;
  /** Shard that owns the destination pool4 transport address of this IPv4 packet. */
  ownerOf4(buf: Uint8Array, off: number, len: number): number;
  /** Is this IPv4 address (u32) one of ours for translation (pool4 or the port address when pool4 is empty)? */
  isPool4Address(addr: number): boolean;
  /** Is buf[off..off+16) inside pool6? */
  inPool6(buf: Uint8Array, off: number): boolean;
  /** Timers: expire sessions, TCP transitory states, held SYNs. Cheap when nothing is due. */
  expire(now: number): void;
}
