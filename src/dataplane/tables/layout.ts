/**
 * Memory layout of one shard's tables (VPP style: packed records in typed arrays, linked by
 * integer index). Every word of state lives in SharedArrayBuffers so that a restarted worker
 * given the same buffers continues where the previous one stopped, and so that the control plane
 * can read BIB and sessions without stopping the shard.
 *
 * Bytes per session at capacity C (C a power of two, BIB capacity = C):
 *   session record 8 x i32 + last-use f64    = 40
 *   session hash heads (two indexes)          =  8
 *   BIB record 11 x i32                       = 44
 *   BIB hash heads (two indexes)              =  8
 *   subscriber record 13 x i32 + hash head    = 28 (one slot per two sessions: see
 *                                                   subscriberCapacity())
 *   total                                     = 128 bytes (expiry lists are threaded through
 *   the session record; free lists through the records themselves).
 */

/** Null link. Index 0 is a valid record, so "none" is -1. */
export const NIL = -1;

// ---- Header (Int32Array) ----
export const H_MAGIC = 0;
export const H_S_FREE = 1;
export const H_S_COUNT = 2;
export const H_B_FREE = 3;
export const H_B_COUNT = 4;
/** Expiry list heads, one per timer class (see expiry.ts). */
export const H_EXP_HEAD = 5;
export const H_EXP_TAIL = 10;
/** pool4 "next_ephemeral" cursors (RFC 6056 algorithm 3), one per protocol slot. */
export const H_POOL4_CURSOR = 15;
export const H_HELD_COUNT = 18;
/**
 * Written by configure() for the control plane's readers (read.ts), which see only the buffers:
 * pool6 (four words) and its length, to show a session's IPv6 remote; each timer class's timeout
 * in ms, to show a session's remaining lifetime.
 */
export const H_POOL6 = 24;
export const H_POOL6_LEN = 28;
export const H_TIMEOUT = 29;
/**
 * Subscriber accounting (subscribers.ts, RFC 6888 REQ-4): free-list head, records in use, and the
 * subscriber prefix length in bits, 0 while accounting is off (then readers ignore the table).
 */
export const H_SUB_FREE = 36;
export const H_SUB_COUNT = 37;
export const H_SUB_PREFIX_LEN = 38;
/** The limits this shard enforces (per shard), for the readers: ports per protocol slot, then the rate. */
export const H_SUB_LIMIT = 40;
export const H_SUB_RATE = 43;
export const HEADER_WORDS = 48;
export const MAGIC = 0x6e363401;

// ---- BIB record (Int32Array, stride B_STRIDE) ----
/** Sequence number: odd while the shard rewrites the record (torn-read detection by readers). */
export const B_SEQ = 0;
/** bits 0-7 protocol number, bit 8 static, bit 9 in use. */
export const B_FLAGS = 1;
/** IPv6 address, four big-endian words. */
export const B_V6 = 2;
/** IPv6 port (or ICMP identifier) << 16 | IPv4 port (or identifier). */
export const B_PORTS = 6;
export const B_V4 = 7;
/** Chain in the (proto, v6, port) index; free-list link when not in use. */
export const B_NEXT6 = 8;
export const B_NEXT4 = 9;
export const B_SESSIONS = 10;
export const B_STRIDE = 11;
export const BF_STATIC = 0x100;
export const BF_IN_USE = 0x200;

// ---- Session record (Int32Array, stride S_STRIDE) + last use (Float64Array) ----
export const S_SEQ = 0;
/** BIB index, NIL when free. */
export const S_BIB = 1;
/** Remote IPv4 address; the IPv6 remote is pool6 + this (RFC 6052). */
export const S_R4 = 2;
/** remote port (or ICMP identifier) << 16 | TCP state << 8 | timer class. */
export const S_MISC = 3;
/** Expiry list links (free-list link in S_NEXT when free). */
export const S_PREV = 4;
export const S_NEXT = 5;
/** Chain in the (bib, r4, rport) index. */
export const S_HNEXT = 6;
/** Chain in the (bib, r4) index used by address-dependent filtering. */
export const S_ANEXT = 7;
export const S_STRIDE = 8;
/** Session flags (ShardTableBuffers.sessionFlags, one byte per session): applied from a peer's sync record. */
export const SF_PEER = 1;

// ---- Held IPv4 SYNs (RFC 6146 §3.5.2.2), Int32Array stride HS_STRIDE + time Float64Array ----
export const HS_LOCAL4 = 0;
export const HS_REMOTE4 = 1;
/** local port << 16 | remote port. */
export const HS_PORTS = 2;
/** 1 when the slot holds a SYN. */
export const HS_USED = 3;
export const HS_STRIDE = 4;
// ---- Subscriber record (Int32Array, stride SU_STRIDE), one per IPv6 source prefix holding dynamic BIB entries ----
export const SU_SEQ = 0;
/** The subscriber prefix (source address masked to subscriber-prefix-length), four big-endian words. */
export const SU_KEY = 1;
/** Dynamic BIB entries (pool4 ports or ICMP identifiers held) per protocol slot: TCP, UDP, ICMP. */
export const SU_COUNT = 5;
/** Chain in the prefix index; free-list link when not in use. */
export const SU_NEXT = 8;
/** New-mapping token bucket (subscriber-mapping-rate): milli-tokens, and the last refill (ms, int32). */
export const SU_TOKENS = 9;
export const SU_STAMP = 10;
/** Last limit log line for this subscriber (s, int32): at most one per SUB_LOG_INTERVAL_S. */
export const SU_LOGGED = 11;
/** Last Address Unreachable sent to this subscriber for a limit (ms, int32): see SUB_ERROR_INTERVAL_MS. */
export const SU_ANSWERED = 12;
export const SU_STRIDE = 13;

/** Slots for held SYNs; `maximum-simultaneous-opens` is capped to this. */
export const HELD_CAPACITY = 256;

/**
 * Subscriber records per shard: one per two BIB slots. Every subscriber with a record holds at least
 * one dynamic BIB entry, so only when more than half the BIB belongs to distinct subscribers (each
 * with one or two mappings: nobody near a limit) can the table be full; a subscriber that finds it
 * full is not counted (subscriber-untracked) rather than refused, so a flood of distinct sources
 * cannot turn accounting into a denial of service. Keeps the tables within 128 bytes per session.
 */
export function subscriberCapacity(capacity: number): number { return Math.max(1, capacity >>> 1); }

/** Smallest power of two >= n (n >= 1). */
export function pow2AtLeast(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}
