import { native } from '../native';
import { RX_MBUF } from './abi';
import { Nat64Core } from './core';
import { FlowCache } from './flow-cache';
import { OwnAddresses, PortRuntime, RouteTable } from './l2/interfaces';
import { NeighborTable } from './l2/neighbors';
import { PendingQueue } from './l2/pending';
import type { ShardInit } from './shard-init';

/**
 * What one shard's ingress (ingress.ts), egress (egress.ts) and burst loop (shard.ts) share: the
 * mbuf arena and this burst's rx descriptors and verdicts, the counters, the ports, routes and own
 * addresses, the neighbour table and hold queue, the flow cache and the translation core. Built once
 * per shard; every field but `enabled` keeps its object for the shard's life, so the hot methods
 * read them without checks.
 */
export class ShardContext {
  readonly shard: number;
  readonly shards: number;
  readonly buf: Uint8Array;
  /** The same arena as 32/16-bit big-endian words. */
  readonly dv: DataView;
  /** This burst's rx descriptors (abi.ts RX_*) and the verdicts written for them (V_*). */
  readonly rx: Uint32Array;
  readonly v: Int32Array;
  readonly dataStart: number;
  readonly bufLen: number;
  /** Counters by C[name]. */
  readonly c: Float64Array;
  readonly ports: PortRuntime[];
  /** DPDK port id -> index in `ports` (-1: not ours). */
  readonly portIndex = new Int16Array(1024).fill(-1);
  readonly routes: RouteTable;
  readonly own: OwnAddresses;
  readonly neigh: NeighborTable;
  /** Packets waiting for ARP/ND (egress.ts). */
  readonly pending = new PendingQueue();
  readonly core: Nat64Core;
  /** Exact-match cache of plain translations (flow-cache.ts): the fast path of common packets. */
  readonly flows: FlowCache;
  /** dataplane.flowCacheEntries is not 0: TCP/UDP packets try the flow cache first. */
  readonly cached: boolean;
  /** An instance exists and is enabled (set by the burst loop's control messages). */
  enabled = false;

  constructor(init: ShardInit) {
    this.shard = init.shard;
    this.shards = init.shards;
    const views = native.shardAttach(init.shard);
    this.buf = new Uint8Array(views.arena);
    this.rx = views.rxDesc;
    this.v = views.verdict;
    this.dataStart = views.mbufDataStart;
    this.bufLen = views.mbufBufLen;
    this.c = new Float64Array(init.counters);
    this.ports = init.ports;
    this.dv = new DataView(views.arena);
    init.ports.forEach((p, i) => { this.portIndex[p.id] = i; });
    this.routes = new RouteTable(init.ports);
    this.own = new OwnAddresses(init.ports, init.virtual ? new Int32Array(init.virtual) : undefined);
    this.neigh = new NeighborTable(init.neighbors);
    this.core = new Nat64Core(init.shard, init.shards, init.tables, this.c);
    this.core.setSinkBuffer(this.buf);
    this.core.setRedirect(init.redirect);
    this.cached = init.flowCacheEntries !== 0;
    this.flows = new FlowCache(init.tables.capacity, init.ports.map((p) => p.mac), this.core, this.c, native,
      this.cached ? init.flowCacheEntries : 4);
  }

  /** Bytes writable from `off` to the end of rx descriptor `b`'s mbuf buffer. */
  cap(b: number, off: number): number {
    return this.rx[b + RX_MBUF] + this.dataStart + this.bufLen - off;
  }
}
