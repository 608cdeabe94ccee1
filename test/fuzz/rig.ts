/**
 * A set of Nat64Core shards configured like the user guide (pool6 64:ff9b::/96, empty pool4, so
 * the port address 203.0.113.1 translates with ports 61001-65535), each with its own tables and
 * counters, and a packet buffer laid out as the shard worker's mbufs are: 114 bytes of headroom
 * before the packet, `cap` writable bytes from it, and canaries around that window.
 */
import { COUNTER_COUNT } from '../../src/dataplane/counters';
import type { CoreConfig, CoreGlobals } from '../../src/dataplane/core-config';
import { Nat64Core } from '../../src/dataplane/core';
import type { PacketSink } from '../../src/dataplane/translate/fragment';
import { allocateShardTables } from '../../src/dataplane/tables/shard-tables';
import { FlowCache } from '../../src/dataplane/flow-cache';
import { a4, a6 } from '../rfc/vectors/build';
import { defaultGlobals } from '../rfc/vectors/harness';

export const OWN4 = '203.0.113.1';
/** core-api.ts: MIN_HEADROOM - 14 writable bytes before the packet. */
export const HEADROOM = 114;
/** Canary bytes checked on each side of the writable window. */
export const CANARY = 256;
export const CANARY_BYTE = 0xa5;
/** Largest packet the fuzzer builds (an IPv6 jumbo-length packet: 40 + 65535). */
export const MAX_PKT = 40 + 65535 + 64;
/** Writable bytes past the packet's end, at most (cap = len + slack). */
export const MAX_SLACK = 512;

/** `globals` overrides Jool's defaults (the fuzzer also runs with icmp-admin-prohibited and filtering on). */
export function userGuideConfig(globals: Partial<CoreGlobals> = {}): CoreConfig {
  return {
    instance: 'default',
    globals: defaultGlobals(globals),
    pool4: { TCP: [], UDP: [], ICMP: [] },
    bib: [],
  };
}

/** Room after the L3 offset of a sink buffer: a default DPDK mbuf (2048 + 128 headroom) less the shard's 128 + 14. */
export const SINK_ROOM = 2048 + 128 - 128 - 14;
export const SINK_SLOTS = 64;
export const SINK_STRIDE = CANARY + HEADROOM + SINK_ROOM + CANARY;

/**
 * The fragment sink (translate/fragment.ts) over spare slots of the rig's buffer, each with the
 * same canaries as the packet. It records what the core sends; the fuzzer checks it afterwards
 * (a check inside send() would throw through the core).
 */
export class FuzzSink implements PacketSink {
  readonly room = SINK_ROOM;
  /** Slots alloc() may still hand out for the current packet (fewer simulate an empty mempool). */
  limit = SINK_SLOTS;
  used = 0;
  sent = 0;
  readonly sentFamily = new Int32Array(SINK_SLOTS * 2);
  readonly sentOff = new Int32Array(SINK_SLOTS * 2);
  readonly sentLen = new Int32Array(SINK_SLOTS * 2);

  constructor(readonly buf: Uint8Array, readonly base: number) {}

  /** L3 offset of slot i. */
  slot(i: number): number { return this.base + i * SINK_STRIDE + CANARY + HEADROOM; }

  /** Before each packet: repaint the canaries of the slots the last one used. */
  reset(limit: number): void {
    for (let i = 0; i < this.used; i++) {
      const l3 = this.slot(i);
      this.buf.fill(CANARY_BYTE, l3 - HEADROOM - CANARY, l3 - HEADROOM);
      this.buf.fill(CANARY_BYTE, l3 + SINK_ROOM, l3 + SINK_ROOM + CANARY);
    }
    this.used = 0;
    this.sent = 0;
    this.leads = 0;
    this.limit = limit;
  }

  alloc(): number {
    if (this.used >= this.limit) return -1;
    return this.slot(this.used++);
  }

  /** Fragment trains announced (translate/fragment.ts): the first fragment is the core's output. */
  leads = 0;
  lead(): void { this.leads++; }

  send(family: number, off: number, len: number): void {
    if (this.sent < this.sentOff.length) {
      this.sentFamily[this.sent] = family;
      this.sentOff[this.sent] = off;
      this.sentLen[this.sent] = len;
    }
    this.sent++;
  }
}

/** The output port's MAC (the flow cache writes it as the frame's source). */
export const PORT_MAC = Uint8Array.of(0x02, 0, 0, 0, 0, 0x01);
/** The next hop's MAC, where the shard's forward() would have written it (the flow cache copies it). */
export const NEXT_HOP_MAC = Uint8Array.of(0x02, 0, 0, 0, 0, 0x42);

export class Shard {
  readonly counters = new Float64Array(COUNTER_COUNT);
  readonly core: Nat64Core;
  /** The shard worker's flow cache (src/dataplane/flow-cache.ts), in front of the core as in shard.ts. */
  readonly flows: FlowCache;

  constructor(shard: number, shards: number, capacity: number, sink: FuzzSink, globals: Partial<CoreGlobals> = {}) {
    this.core = new Nat64Core(shard, shards, allocateShardTables(capacity), this.counters);
    this.core.setSelf(a6('2001:db8::1'), a4(OWN4));
    this.core.setSink(sink);
    this.core.configure(userGuideConfig(globals), [a4(OWN4)]);
    this.flows = new FlowCache(capacity, [PORT_MAC], this.core, this.counters);
  }
}

export class Rig {
  readonly shards: Shard[];
  /** The arena: [canary][headroom][packet ... cap][canary]. */
  readonly buf = new Uint8Array(CANARY + HEADROOM + MAX_PKT + MAX_SLACK + CANARY + SINK_SLOTS * SINK_STRIDE);
  readonly off = CANARY + HEADROOM;
  /** Shared by the shards (one thread runs one packet at a time here). */
  readonly sink: FuzzSink;
  now = 1_000;

  constructor(readonly n: number, readonly capacity = 4096, globals: Partial<CoreGlobals> = {}) {
    this.sink = new FuzzSink(this.buf, CANARY + HEADROOM + MAX_PKT + MAX_SLACK + CANARY);
    this.buf.fill(CANARY_BYTE, this.sink.base);
    this.shards = Array.from({ length: n }, (_, s) => new Shard(s, n, capacity, this.sink, globals));
  }

  /** Runs a packet through its owner shard without checks (session set-up); returns the output or null. */
  send(family: 4 | 6, pkt: Uint8Array): Uint8Array | null {
    const buf = this.buf, off = this.off;
    buf.set(pkt, off);
    const s0 = this.shards[0].core;
    const owner = family === 6 ? s0.ownerOf6(buf, off, pkt.length) : s0.ownerOf4(buf, off, pkt.length);
    const core = this.shards[owner].core;
    const r = family === 6
      ? core.process6(buf, off, pkt.length, pkt.length + MAX_SLACK, this.now)
      : core.process4(buf, off, pkt.length, pkt.length + MAX_SLACK, this.now);
    return r === 0 ? null : buf.slice(core.out.off, core.out.off + core.out.len);
  }
}
