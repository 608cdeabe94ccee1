/**
 * Control-plane reader of a shard's subscriber table (subscribers.ts), while the shard translates:
 * the subscribers holding pool4 ports, with what each holds per protocol, and the limits the shard
 * enforces. Sequence-checked like read.ts; a torn record is retried, then skipped.
 */
import {
  H_SUB_LIMIT, H_SUB_PREFIX_LEN, H_SUB_RATE, SU_COUNT, SU_KEY, SU_SEQ, SU_STRIDE, subscriberCapacity,
} from './layout';
import { checkBuffers, type ShardTableBuffers } from './shard-tables';
import { formatIpv6 } from './read';
import type { SubscriberReport, SubscriberRow } from '../manager-api';

export interface ShardSubscriber {
  /** The prefix's 16 bytes and its length. */
  prefix: Uint8Array;
  length: number;
  /** Held per protocol slot: TCP, UDP, ICMP. */
  held: [number, number, number];
}

export interface ShardSubscribers {
  /** 0: accounting off (no limit configured), the list is empty. */
  prefixLength: number;
  /** Per-shard limits per protocol slot (0 = none) and new mappings per second (0 = none). */
  limits: [number, number, number];
  rate: number;
  subscribers: ShardSubscriber[];
}

const RETRIES = 4;

export function readSubscribers(buffers: ShardTableBuffers): ShardSubscribers {
  checkBuffers(buffers);
  const h = new Int32Array(buffers.header);
  const len = h[H_SUB_PREFIX_LEN];
  const out: ShardSubscribers = {
    prefixLength: len, limits: [h[H_SUB_LIMIT], h[H_SUB_LIMIT + 1], h[H_SUB_LIMIT + 2]], rate: h[H_SUB_RATE], subscribers: [],
  };
  if (len <= 0 || len > 128) return out;
  const r = new Int32Array(buffers.subscriber);
  for (let i = 0, n = subscriberCapacity(buffers.capacity); i < n; i++) {
    const p = i * SU_STRIDE;
    for (let attempt = 0; attempt < RETRIES; attempt++) {
      const seq = Atomics.load(r, p + SU_SEQ);
      if (seq & 1) continue;
      const held: [number, number, number] = [r[p + SU_COUNT], r[p + SU_COUNT + 1], r[p + SU_COUNT + 2]];
      const prefix = new Uint8Array(16);
      for (let k = 0; k < 4; k++) {
        const x = r[p + SU_KEY + k];
        prefix[4 * k] = x >>> 24; prefix[4 * k + 1] = x >>> 16; prefix[4 * k + 2] = x >>> 8; prefix[4 * k + 3] = x;
      }
      if (Atomics.load(r, p + SU_SEQ) !== seq) continue;
      // A free record has no counts (subscribers.ts frees a record when its last entry goes).
      if (held[0] > 0 || held[1] > 0 || held[2] > 0) out.subscribers.push({ prefix, length: len, held });
      break;
    }
  }
  return out;
}

/**
 * All shards' tables as one report: a subscriber's counts summed over the shards, the limits as all
 * shards together enforce them (each shard's times the shard count), the `top` most used first.
 */
export function mergeSubscribers(shards: ShardSubscribers[], top: number): SubscriberReport {
  const on = shards.find((s) => s.prefixLength > 0);
  const n = shards.length;
  const report: SubscriberReport = {
    prefixLength: on?.prefixLength ?? 0,
    limits: on
      ? { tcp: on.limits[0] * n, udp: on.limits[1] * n, icmp: on.limits[2] * n, mappingsPerSecond: on.rate * n }
      : { tcp: 0, udp: 0, icmp: 0, mappingsPerSecond: 0 },
    subscribers: [],
  };
  if (!on) return report;
  const byPrefix = new Map<string, SubscriberRow>();
  for (const s of shards) {
    for (const u of s.subscribers) {
      const key = `${formatIpv6(u.prefix)}/${u.length}`;
      let row = byPrefix.get(key);
      if (!row) { row = { subscriber: key, tcp: 0, udp: 0, icmp: 0, usage: 0 }; byPrefix.set(key, row); }
      row.tcp += u.held[0]; row.udp += u.held[1]; row.icmp += u.held[2];
    }
  }
  const l = report.limits;
  const ratio = (held: number, limit: number) => (limit > 0 ? held / limit : 0);
  const rows = [...byPrefix.values()];
  for (const r of rows) r.usage = Math.max(ratio(r.tcp, l.tcp), ratio(r.udp, l.udp), ratio(r.icmp, l.icmp));
  rows.sort((a, b) => b.usage - a.usage || (b.tcp + b.udp + b.icmp) - (a.tcp + a.udp + a.icmp) || (a.subscriber < b.subscriber ? -1 : 1));
  report.subscribers = rows.slice(0, Math.max(0, top));
  return report;
}
