/**
 * The shard's per-packet glue around the core and its flow cache (src/dataplane/ingress.ts ipv6(),
 * ipv4(), forward() on the plain path), without DPDK: one output port of MTU `portMtu` and a
 * static neighbour. With `cache` false every packet takes the full path, which is the reference
 * the flow cache must reproduce byte for byte and counter for counter.
 */
import { Result } from '../../../src/dataplane/core-api';
import type { Nat64Core } from '../../../src/dataplane/core';
import { FlowCache, REFUSED_FILTER, REFUSED_QUIET } from '../../../src/dataplane/flow-cache';
import { icmpErrorBucket } from '../../../src/dataplane/translate/icmp-rate-limit';

export const PORT_MAC = Uint8Array.of(0x02, 0, 0, 0, 0, 0x01);
export const NEXT_HOP_MAC = Uint8Array.of(0x02, 0, 0, 0, 0, 0x42);

export interface Outcome { r: Result; off: number; len: number; hit: boolean; tooBig: boolean }

export class FlowRig {
  readonly flows: FlowCache;
  /** The neighbour table's generation (bump it to simulate an ARP/ND update). */
  gen = 0;
  /** The shard's packet-too-big counter of forward() (egress port MTU), kept apart from the core's. */
  forwardTooBig = 0;
  /** The shard's refused-recently counter (a remembered refusal dropped without the full path). */
  refusedRecently = 0;
  /** The shard's refusal-remembered counter (a filtering refusal dropped and counted by the cache). */
  refusalRemembered = 0;
  /** Packets refused before the full path (core.refuseUnmapped6 / refuseUnmapped4). */
  earlyRefusals = 0;

  constructor(readonly core: Nat64Core, counters: Float64Array, readonly cache: boolean, public portMtu = 1500,
    capacity = 1024, entries?: number) {
    this.flows = new FlowCache(capacity, [PORT_MAC], core, counters, undefined, entries);
  }

  private get enabled(): boolean { const g = this.core.globals; return g !== null && g.manuallyEnabled; }

  /** An IPv6 packet of `len` bytes at buf[off] whose destination is in pool6, as Ingress.ipv6 sees it. */
  run6(buf: Uint8Array, off: number, len: number, cap: number, now: number): Outcome {
    const payload = (buf[off + 4] << 8) | buf[off + 5];
    const nh = buf[off + 6];
    const tried = this.cache && this.enabled && len >= 40 && buf[off] >>> 4 === 6 && 40 + payload <= len && (nh === 17 || nh === 6);
    if (tried) {
      const flen = this.flows.hit6(buf, off, payload, now, this.gen);
      if (flen > 0) return { r: Result.EMIT4, off: this.flows.frame + 14, len: flen - 14, hit: true, tooBig: false };
      if (flen === REFUSED_FILTER) { this.refusalRemembered++; return { r: Result.DROP, off: 0, len: 0, hit: true, tooBig: false }; }
      if (flen === REFUSED_QUIET || (flen < 0 && !icmpErrorBucket.ready())) { this.refusedRecently++; return { r: Result.DROP, off: 0, len: 0, hit: true, tooBig: false }; }
    }
    if (tried && this.core.refuseUnmapped6(buf, off, payload, now)) {
      this.earlyRefusals++;
      this.flows.refused6(now, this.core.refusedBySubscriber);
      return { r: Result.DROP, off: 0, len: 0, hit: false, tooBig: false };
    }
    const r = this.core.process6(buf, off, len, cap, now);
    if (tried && this.core.refusedNoState) this.flows.refused6(now, this.core.refusedBySubscriber);
    else if (tried && this.core.refusedFilter >= 0) this.flows.filtered6(now, this.core.refusedFilter, this.core.refusalPaced, buf[off + 53]);
    const o = this.forward(buf, r);
    if (tried && r === Result.EMIT4 && !o.tooBig) this.flows.fill6(o.off - 14, buf, 0, this.portMtu, -1, this.gen);
    return o;
  }

  /** An IPv4 packet addressed to pool4, as Ingress.ipv4 sees it (header already checked there). */
  run4(buf: Uint8Array, off: number, len: number, cap: number, now: number): Outcome {
    const proto = buf[off + 9];
    const total = (buf[off + 2] << 8) | buf[off + 3];
    const tried = this.cache && this.enabled && buf[off] === 0x45 && total >= 20 && total <= len && (proto === 17 || proto === 6);
    if (tried) {
      const flen = this.flows.hit4(buf, off, total, now, this.gen);
      if (flen > 0) return { r: Result.EMIT6, off: this.flows.frame + 14, len: flen - 14, hit: true, tooBig: false };
      if (flen === REFUSED_FILTER) { this.refusalRemembered++; return { r: Result.DROP, off: 0, len: 0, hit: true, tooBig: false }; }
    }
    if (tried && this.core.refuseUnmapped4(buf, off, total)) {
      this.earlyRefusals++;
      this.flows.filtered4(now, this.core.refusedFilter, false, buf[off + 33]);
      return { r: Result.DROP, off: 0, len: 0, hit: false, tooBig: false };
    }
    const r = this.core.process4(buf, off, len, cap, now);
    if (tried && this.core.refusedFilter >= 0) this.flows.filtered4(now, this.core.refusedFilter, this.core.refusalPaced, buf[off + 33]);
    const o = this.forward(buf, r);
    if (tried && r === Result.EMIT6 && !o.tooBig) this.flows.fill4(o.off - 14, buf, 0, this.portMtu, -1, this.gen);
    return o;
  }

  /** Egress.forward for the plain exit: the egress MTU check, then the Ethernet header. */
  private forward(buf: Uint8Array, r: Result): Outcome {
    const out = this.core.out;
    const o: Outcome = { r, off: out.off, len: out.len, hit: false, tooBig: false };
    if (r !== Result.EMIT4 && r !== Result.EMIT6) return o;
    if (out.len > this.portMtu) { this.forwardTooBig++; o.tooBig = true; return o; }
    const f = out.off - 14;
    buf.set(NEXT_HOP_MAC, f);
    buf.set(PORT_MAC, f + 6);
    buf[f + 12] = r === Result.EMIT4 ? 0x08 : 0x86;
    buf[f + 13] = r === Result.EMIT4 ? 0x00 : 0xdd;
    return o;
  }
}
