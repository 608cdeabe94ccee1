/**
 * Staged prefetch of the full path's table lines for the frames of a burst that miss the flow cache
 * ("group prefetching", as DPDK's rte_hash lookup_bulk does it): the RFC 6146 lookups of a miss are
 * a chain of dependent loads (BIB hash head -> BIB record -> session hash head -> session record,
 * last use and the flow cache's back pointer), and at 1 M+ sessions each is a DRAM miss (~100 ns).
 * Taken one packet after the other on the full path they add up to ~0.5-0.8 µs per miss. Here each
 * link of the chain is resolved for every missing frame of the burst at once: one pass computes the
 * heads, the addon prefetches them (non-blocking, all in flight together), the next pass reads them
 * and prefetches the records they point to, and so on. The full path then finds its lines in cache.
 *
 * Only hints: nothing here decides anything or writes a table; a wrong guess (a chain that changes
 * before the frame is processed, a flow the key compare took for a miss) costs a useless prefetch.
 * No allocation: fixed arrays of BURST slots.
 */
import { native } from '../native';
import { BURST, RX_DATA } from './abi';
import { ETH_HLEN } from './l2/ethernet';
import type { Nat64Core } from './core';
import type { FlowCache } from './flow-cache';
import { extract } from './rfc6052';
import { word } from './tables/hash';
import {
  B_NEXT6, B_STRIDE, H_B_FREE, H_S_FREE, NIL, S_NEXT, S_STRIDE,
} from './tables/layout';

/** Table indexes of the native plan (native/prefetch.h missPrefetchRegister). */
export const T_BIB_HEADS6 = 0;
export const T_BIB_HEADS4 = 1;
export const T_BIB_REC = 2;
export const T_SESSION_HEADS = 3;
export const T_SESSION_REC = 4;
export const T_LAST_USE = 5;
export const T_ENT6 = 6;
export const T_ENT4 = 7;
export const T_SESSION_ADDR_HEADS = 8;
export const T_FLOW6 = 9;
export const T_FLOW4 = 10;
/** Chain links followed per frame before giving up (chains average < 1 entry at the tables' load). */
const MAX_LINKS = 3;

export class MissPrefetch {
  /** (table, element) pairs for native.missPrefetch: up to 5 per frame and stage. */
  private readonly list = new Int32Array(BURST * 10);
  /** Tests: every pair issued, in order (null: not kept). */
  trace: Array<[number, number]> | null = null;
  /**
   * Per missing frame: burst index, family (6 or 4), its key, and `entry`: the BIB bucket (stage
   * 1), then the BIB chain entry being checked (NIL once found or at the chain's end).
   */
  private readonly miss = new Int32Array(BURST);
  /** Frames whose key is not in their set's first ways (FlowCache.scan). */
  private readonly later = new Int32Array(BURST);
  private readonly family = new Int8Array(BURST);
  private readonly entry = new Int32Array(BURST);
  private readonly proto = new Int32Array(BURST);
  private readonly port = new Int32Array(BURST);
  private readonly remote4 = new Int32Array(BURST);
  private readonly remotePort = new Int32Array(BURST);
  private readonly addr4 = new Int32Array(BURST);
  /** Per missing 6->4 frame: where its IPv6 source address starts in the arena. */
  private readonly src6 = new Int32Array(BURST);
  /** Per missing frame: its BIB entry once found (NIL: none); its session bucket, then the session chain entry being checked. */
  private readonly bibOf = new Int32Array(BURST);
  private readonly sess = new Int32Array(BURST);
  /** Per missing frame: its session was found (1) or is to be created (0). */
  private readonly found = new Uint8Array(BURST);
  /** Per missing frame: a 6->4 TCP packet without SYN (creates nothing: RFC 6146 §3.5.2.2). */
  private readonly noSyn = new Uint8Array(BURST);

  constructor(private readonly shard: number, private readonly core: Nat64Core, private readonly flows: FlowCache) {
    const t = core.tables;
    native.missPrefetchRegister(shard, T_BIB_HEADS6, t.bib.heads6);
    native.missPrefetchRegister(shard, T_BIB_HEADS4, t.bib.heads4);
    native.missPrefetchRegister(shard, T_BIB_REC, t.bib.rec);
    native.missPrefetchRegister(shard, T_SESSION_HEADS, t.sessions.heads);
    native.missPrefetchRegister(shard, T_SESSION_REC, t.sessions.rec);
    native.missPrefetchRegister(shard, T_SESSION_ADDR_HEADS, t.sessions.addrHeads);
    native.missPrefetchRegister(shard, T_LAST_USE, t.expiry.lastUse);
    const back = flows.backPointers();
    native.missPrefetchRegister(shard, T_ENT6, back.ent6);
    native.missPrefetchRegister(shard, T_ENT4, back.ent4);
    const plan = flows.prefetchPlan();
    native.missPrefetchRegister(shard, T_FLOW6, plan.table6);
    native.missPrefetchRegister(shard, T_FLOW4, plan.table4);
    native.missPrefetchList(shard, this.list);
  }

  /**
   * Frames 0..n-1 of the burst whose flow-cache sets were noted and prefetched (native
   * flowPrefetch): first what their hits will touch, then for the frames whose set does not hold
   * their flow, the BIB heads, BIB records (following chains), session heads, then the session's
   * record, last use and back pointers, one stage per link. Returns a value that keeps the loads
   * alive (it means nothing).
   */
  run(n: number, rx: Uint32Array, buf: Uint8Array): number {
    // What hits will touch (their session's last use; record for TCP), found in the sets' first
    // ways, and the other ways of the rest; then what those hit, and which frames miss.
    const flows = this.flows;
    this.issue(flows.scan(n, rx, buf, this.list, T_LAST_USE, T_SESSION_REC, T_FLOW6, T_FLOW4, this.later));
    if (flows.laterCount === 0) return 0;
    this.issue(flows.scanLater(rx, buf, this.list, T_LAST_USE, T_SESSION_REC, this.later, this.miss));
    const m = flows.missCount;
    if (m === 0) return 0;
    const bib = this.core.tables.bib, list = this.list, pool6Len = this.core.pool6Length;
    // Stage 1: the BIB hash heads (by the IPv6 side for 6->4, the IPv4 side for 4->6).
    for (let j = 0; j < m; j++) {
      const ip = rx[this.miss[j] * 4 + RX_DATA] + ETH_HLEN;
      if (buf[ip] >>> 4 === 6) {
        const proto = buf[ip + 6];
        const sport = (buf[ip + 40] << 8) | buf[ip + 41];
        this.family[j] = 6; this.proto[j] = proto; this.port[j] = sport; this.src6[j] = ip + 8;
        this.remote4[j] = extract(buf, ip + 24, pool6Len) | 0;
        this.remotePort[j] = (buf[ip + 42] << 8) | buf[ip + 43];
        this.bibOf[j] = NIL;
        this.found[j] = 0;
        this.noSyn[j] = proto === 6 && (buf[ip + 53] & 0x02) === 0 ? 1 : 0;
        this.entry[j] = bib.bucket6(proto, buf, ip + 8, sport);
        list[2 * j] = T_BIB_HEADS6; list[2 * j + 1] = this.entry[j];
      } else {
        const proto = buf[ip + 9];
        const dst = word(buf, ip + 16), dport = (buf[ip + 22] << 8) | buf[ip + 23];
        this.family[j] = 4; this.proto[j] = proto; this.port[j] = dport; this.addr4[j] = dst;
        this.remote4[j] = word(buf, ip + 12);
        this.remotePort[j] = (buf[ip + 20] << 8) | buf[ip + 21];
        this.bibOf[j] = NIL;
        this.found[j] = 0;
        this.entry[j] = bib.bucket4(proto, dst, dport);
        list[2 * j] = T_BIB_HEADS4; list[2 * j + 1] = this.entry[j];
      }
    }
    this.issue(m);
    // Stage 2: the heads' first records.
    const heads6 = bib.heads6, heads4 = bib.heads4;
    let k = 0;
    for (let j = 0; j < m; j++) {
      const e = this.family[j] === 6 ? heads6[this.entry[j]] : heads4[this.entry[j]];
      this.entry[j] = e;
      if (e !== NIL) k = this.pushRecord(k, e);
    }
    this.issue(k);
    // Stages 3..: walk the BIB chains (the records are in cache now); at a match, the session's head.
    const sessions = this.core.tables.sessions;
    for (let link = 0; link < MAX_LINKS; link++) {
      k = 0;
      let pending = 0;
      for (let j = 0; j < m; j++) {
        const e = this.entry[j];
        if (e === NIL) continue; // no entry (a new flow), or found
        if (this.matches(j, buf, e)) {
          const b = sessions.bucket(e, this.remote4[j], this.remotePort[j]);
          this.bibOf[j] = e; this.sess[j] = b; this.entry[j] = NIL;
          list[2 * k] = T_SESSION_HEADS; list[2 * k + 1] = b; k++;
        } else {
          const next = this.family[j] === 6 ? bib.next6(e) : bib.next4(e);
          this.entry[j] = next;
          if (next !== NIL) { k = this.pushRecord(k, next); pending++; }
        }
      }
      this.issue(k);
      if (pending === 0) break;
    }
    // The session heads' first records, then along the session chains to the flow's session, whose
    // last use and flow-cache back pointer the full path writes.
    const heads = sessions.heads;
    k = 0;
    for (let j = 0; j < m; j++) {
      if (this.bibOf[j] === NIL) continue;
      const s = heads[this.sess[j]];
      this.sess[j] = s;
      if (s !== NIL) { list[2 * k] = T_SESSION_REC; list[2 * k + 1] = s * S_STRIDE; k++; }
    }
    this.issue(k);
    let sink = 0, pending = k;
    for (let link = 0; link <= MAX_LINKS && pending > 0; link++) {
      k = 0;
      pending = 0;
      for (let j = 0; j < m; j++) {
        const s = this.sess[j];
        if (this.bibOf[j] === NIL || s === NIL) continue;
        if (sessions.is(s, this.bibOf[j], this.remote4[j], this.remotePort[j])) {
          list[2 * k] = T_LAST_USE; list[2 * k + 1] = s; k++;
          list[2 * k] = this.family[j] === 6 ? T_ENT6 : T_ENT4; list[2 * k + 1] = s; k++;
          this.sess[j] = NIL;
          this.found[j] = 1;
          sink += s;
        } else {
          const next = sessions.next(s);
          this.sess[j] = next;
          if (next !== NIL) { list[2 * k] = T_SESSION_REC; list[2 * k + 1] = next * S_STRIDE; k++; pending++; }
        }
      }
      this.issue(k);
    }
    return sink + this.creations(m, buf);
  }

  /**
   * New state: a 6->4 frame with no BIB entry (a new mapping) or a frame with a BIB entry but no
   * session will take the next free BIB record and/or session record, in burst order (the free
   * lists' heads, then their links): their records, the session hash heads they will be linked
   * into (by 5-tuple, and by address for address-dependent filtering), last use and back pointer;
   * for a new mapping also the BIB's IPv4-side head of pool4's first candidate (the paired address
   * and the source port: port preservation). A guess: a refused frame (pool4 exhausted, a limit)
   * shifts the rest by one, another port than the source's misses its head; that costs only
   * prefetches. The walk reads the free records, which the inserts would read anyway.
   */
  private creations(m: number, buf: Uint8Array): number {
    const t = this.core.tables, h = t.header, bibRec = t.bib.rec, rec = t.sessions.rec, sessions = t.sessions, list = this.list;
    const pool4 = this.core.pool4;
    let freeB = h[H_B_FREE], freeS = h[H_S_FREE], k = 0;
    for (let j = 0; j < m && freeS !== NIL; j++) {
      if (this.found[j] === 1) continue;
      let b = this.bibOf[j];
      if (b === NIL) {
        // (Not when pool4 has no port left: a flood of new flows against a full pool is refused.)
        if (this.family[j] !== 6 || this.noSyn[j] === 1 || freeB === NIL || pool4 === null || !pool4.anyFree(this.proto[j])) continue;
        b = freeB;
        freeB = bibRec[b * B_STRIDE + B_NEXT6];
        const a4 = pool4.pairedAddress(this.proto[j], buf, this.src6[j]);
        if (a4 !== -1) { list[2 * k] = T_BIB_HEADS4; list[2 * k + 1] = t.bib.bucket4(this.proto[j], a4 | 0, this.port[j]); k++; }
      } else if (this.noSyn[j] === 1) continue;
      const s = freeS;
      freeS = rec[s * S_STRIDE + S_NEXT];
      list[2 * k] = T_SESSION_HEADS; list[2 * k + 1] = sessions.bucket(b, this.remote4[j], this.remotePort[j]); k++;
      list[2 * k] = T_SESSION_ADDR_HEADS; list[2 * k + 1] = sessions.addrBucket(b, this.remote4[j]); k++;
      list[2 * k] = T_LAST_USE; list[2 * k + 1] = s; k++;
      list[2 * k] = this.family[j] === 6 ? T_ENT6 : T_ENT4; list[2 * k + 1] = s; k++;
    }
    this.issue(k);
    return freeB + freeS;
  }

  /** Prefetches the first k pairs of the list (and shows them to a test's trace). */
  private issue(k: number): void {
    if (k === 0) return;
    native.missPrefetch(this.shard, k);
    if (this.trace !== null) for (let i = 0; i < 2 * k; i += 2) this.trace.push([this.list[i], this.list[i + 1]]);
  }

  /** A BIB record's two lines (a 44-byte record straddles a line boundary one time in two). */
  private pushRecord(k: number, e: number): number {
    const list = this.list, p = e * B_STRIDE;
    list[2 * k] = T_BIB_REC; list[2 * k + 1] = p;
    list[2 * k + 2] = T_BIB_REC; list[2 * k + 3] = p + B_STRIDE - 1;
    return k + 2;
  }

  /** Is BIB entry e the one missing frame j looks up (Bib.lookup6 / lookup4's compare)? */
  private matches(j: number, buf: Uint8Array, e: number): boolean {
    const bib = this.core.tables.bib;
    if (this.family[j] === 4) return bib.is4(e, this.proto[j], this.addr4[j], this.port[j]);
    const o = this.src6[j];
    return bib.is6(e, this.proto[j], word(buf, o), word(buf, o + 4), word(buf, o + 8), word(buf, o + 12), this.port[j]);
  }
}
