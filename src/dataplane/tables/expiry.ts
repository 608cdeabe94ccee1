import { H_EXP_HEAD, H_EXP_TAIL, NIL, S_MISC, S_NEXT, S_PREV, S_STRIDE } from './layout';
import type { ShardTableBuffers } from './shard-tables';

/**
 * Session timer classes (RFC 6146 §4 timeouts; Jool keeps one expiry list per class too).
 * Sessions of one class share one timeout, so a list ordered by last use is also ordered by
 * expiry: refresh = move to the tail (O(1)), expiry = pop from the head while due.
 */
export const enum TimerClass { UDP = 0, ICMP = 1, TCP_EST = 2, TCP_TRANS = 3, TCP_SYN4 = 4 }
export const TIMER_CLASSES = 5;
export const TIMER_CLASS_NAMES = ['udp', 'icmp', 'tcp-est', 'tcp-trans', 'tcp-syn4'];
/** RFC 6146 §4 TCP_INCOMING_SYN: how long an IPv4-initiated SYN waits for the IPv6 side. */
export const TCP_INCOMING_SYN_MS = 6000;

/**
 * How late a session may expire, per class, at most: a refresh moves the session to the tail of
 * its list only when it crosses into a new slot of this length (see touch()). min(timeout / 16,
 * EXPIRY_SLACK_MAX_MS): 6.25 % of short timeouts, 10 s of the long ones (UDP 5 min, TCP 2 h).
 */
export const EXPIRY_SLACK_MAX_MS = 10_000;
export function expirySlack(timeoutMs: number): number {
  return Math.min(timeoutMs / 16, EXPIRY_SLACK_MAX_MS);
}

/**
 * Doubly linked lists threaded through the session records (S_PREV/S_NEXT), heads in the header.
 *
 * Lazy refresh (what VPP and Linux conntrack's GC do, with a bound): every refresh writes lastUse,
 * but relinks the session (two neighbour records written, the most expensive part of a refresh
 * at 64 k+ sessions, both cache misses) only when `now` falls in another slot of `slack[cls]` ms
 * than the previous last use, or the class changes. So a session sits in its list at a "queued"
 * time q with q <= lastUse < q + slack (same slot), and a list is ordered by q, not by lastUse.
 * expire() (core.ts) still removes the head only when its lastUse + timeout <= now, and stops at a
 * head that is not due: that head is due before q + slack + timeout, and every session behind it
 * was queued no earlier than q, so no session is removed more than `slack` after its timeout
 * (plus the expire() period). A session is never removed early: the test is on lastUse. slack 0
 * (the default until configure()) relinks on every refresh: exact LRU order.
 */
export class ExpiryLists {
  private readonly rec: Int32Array;
  readonly lastUse: Float64Array;
  /** Per timer class: the relink slot length in ms (0: relink on every refresh). Set by configure(). */
  readonly slack = new Float64Array(TIMER_CLASSES);

  constructor(b: ShardTableBuffers, private readonly header: Int32Array) {
    this.rec = new Int32Array(b.session);
    this.lastUse = new Float64Array(b.sessionTime);
  }

  head(cls: number): number { return this.header[H_EXP_HEAD + cls]; }

  /** Stamp `now` and append at the tail of cls. The session must not be on a list. */
  append(i: number, cls: number, now: number): void {
    const r = this.rec;
    const p = i * S_STRIDE;
    const h = this.header;
    r[p + S_MISC] = (r[p + S_MISC] & ~0xff) | cls;
    this.lastUse[i] = now;
    const tail = h[H_EXP_TAIL + cls];
    r[p + S_PREV] = tail;
    r[p + S_NEXT] = NIL;
    if (tail === NIL) h[H_EXP_HEAD + cls] = i;
    else r[tail * S_STRIDE + S_NEXT] = i;
    h[H_EXP_TAIL + cls] = i;
  }

  unlink(i: number): void {
    const r = this.rec;
    const p = i * S_STRIDE;
    const h = this.header;
    const cls = r[p + S_MISC] & 0xff;
    const prev = r[p + S_PREV];
    const next = r[p + S_NEXT];
    if (prev === NIL) h[H_EXP_HEAD + cls] = next;
    else r[prev * S_STRIDE + S_NEXT] = next;
    if (next === NIL) h[H_EXP_TAIL + cls] = prev;
    else r[next * S_STRIDE + S_PREV] = prev;
    r[p + S_PREV] = NIL;
    r[p + S_NEXT] = NIL;
  }

  /**
   * Refresh: the session was used now. Same class and the same slack slot as its last use: only
   * lastUse changes. Otherwise it moves (possibly to another class) to the tail.
   */
  touch(i: number, cls: number, now: number): void {
    if ((this.rec[i * S_STRIDE + S_MISC] & 0xff) === cls) { this.touchInClass(i, cls, now); return; }
    this.unlink(i);
    this.append(i, cls, now);
  }

  /**
   * touch() for a session the caller knows to be in class cls already (the flow cache's UDP hits:
   * a UDP session never changes class): the session record is not read unless it must move.
   */
  touchInClass(i: number, cls: number, now: number): void {
    const g = this.slack[cls];
    if (g > 0 && Math.floor(now / g) === Math.floor(this.lastUse[i] / g)) {
      this.lastUse[i] = now;
      return;
    }
    this.unlink(i);
    this.append(i, cls, now);
  }
}
