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

/** Doubly linked lists threaded through the session records (S_PREV/S_NEXT), heads in the header. */
export class ExpiryLists {
  private readonly rec: Int32Array;
  readonly lastUse: Float64Array;

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

  /** Refresh: the session was used now; it moves (possibly to another class) to the tail. */
  touch(i: number, cls: number, now: number): void {
    this.unlink(i);
    this.append(i, cls, now);
  }
}
