/** Helpers for the stateful core's tests: a configured Nat64Core and packets run through it. */
import { C, COUNTER_COUNT, type CounterName } from '../../../src/dataplane/counters';
import type { CoreConfig, CoreGlobals, Pool4Range, StaticBibEntry } from '../../../src/dataplane/core-config';
import type { Result } from '../../../src/dataplane/core-api';
import { Nat64Core } from '../../../src/dataplane/core';
import { allocateShardTables, type ShardTableBuffers } from '../../../src/dataplane/tables/shard-tables';
import { a4, a6 } from '../../rfc/vectors/build';
import { HEADROOM, defaultGlobals } from '../../rfc/vectors/harness';

export const POOL4 = '203.0.113.1';

export function range(addr: string, min: number, max: number): Pool4Range {
  return { address: a4(addr), portMin: min, portMax: max, mark: 0 };
}

export function staticEntry(protocol: 'TCP' | 'UDP' | 'ICMP', v6: string, p6: number, v4: string, p4: number): StaticBibEntry {
  return { protocol, ipv6: a6(v6), ipv6Port: p6, ipv4: a4(v4), ipv4Port: p4 };
}

export function makeConfig(g: Partial<CoreGlobals> = {}, bib: StaticBibEntry[] = [],
  pool4?: Partial<CoreConfig['pool4']>): CoreConfig {
  const r = [range(POOL4, 61001, 65535)];
  return {
    instance: 'test',
    globals: defaultGlobals(g),
    pool4: { TCP: r, UDP: r, ICMP: r, ...pool4 },
    bib,
  };
}

export interface CoreRig {
  core: Nat64Core;
  c: Float64Array;
  buffers: ShardTableBuffers;
}

export function makeCore(cfg: CoreConfig | null = makeConfig(), o: { shard?: number; shards?: number; capacity?: number;
  buffers?: ShardTableBuffers; own?: number[] } = {}): CoreRig {
  const buffers = o.buffers ?? allocateShardTables(o.capacity ?? 1024);
  const c = new Float64Array(COUNTER_COUNT);
  const core = new Nat64Core(o.shard ?? 0, o.shards ?? 1, buffers, c);
  core.setSelf(a6('2001:db8::1'), a4('192.0.2.1'));
  core.configure(cfg, o.own ?? [a4('192.0.2.1')]);
  return { core, c, buffers };
}

export interface Run { r: Result; pkt: Uint8Array }

/** Places pkt after HEADROOM bytes in a fresh buffer, runs it, returns the verdict and a copy of the output. */
export function run(core: Nat64Core, family: 4 | 6, pkt: Uint8Array, now: number): Run {
  const buf = new Uint8Array(HEADROOM + pkt.length + 256);
  buf.set(pkt, HEADROOM);
  const cap = buf.length - HEADROOM;
  const r = family === 6 ? core.process6(buf, HEADROOM, pkt.length, cap, now) : core.process4(buf, HEADROOM, pkt.length, cap, now);
  return { r, pkt: buf.slice(core.out.off, core.out.off + core.out.len) };
}

export function n(c: Float64Array, name: CounterName): number { return c[C[name]]; }

/** Names and values of the non-zero counters (assertion messages). */
export function nonZero(c: Float64Array): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, i] of Object.entries(C)) if (c[i] !== 0) out[k] = c[i];
  return out;
}

export function u32At(b: Uint8Array, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}
export function u16At(b: Uint8Array, o: number): number { return (b[o] << 8) | b[o + 1]; }
