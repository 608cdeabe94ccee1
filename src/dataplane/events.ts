/**
 * RFC 6888 §4 mapping logs (`logging-bib`, `logging-session`): a per-shard event ring in shared
 * memory. The shard (single producer) writes one fixed-size binary record when a BIB entry or a
 * session is created or removed, and only while the global is on: no allocation, no text, no
 * exception on the fast path; a full ring drops the record and counts it ('log-dropped'). The main
 * thread (single consumer) drains every ring about every 100 ms and turns the records into the
 * lines documented in docs/logging.md. The ring is spsc-ring.ts's; this file is its records.
 */
import {
  BF_STATIC, B_FLAGS, B_PORTS, B_V4, B_V6, H_POOL6, H_POOL6_LEN,
} from './tables/layout';
import { embed } from './rfc6052';
import { formatIpv4 } from './packet/addr-text';
import { formatIpv6 } from './tables/read';
import { COUNTERS } from './counters';
import { createRingBuffer, RingReader, RingWriter } from './spsc-ring';

export const enum MappingEvent { BIB_CREATE = 1, BIB_REMOVE = 2, SESSION_CREATE = 3, SESSION_REMOVE = 4, PACKET = 5, SUBSCRIBER_LIMIT = 6 }
export const EVENT_NAMES = ['', 'bib-create', 'bib-remove', 'session-create', 'session-remove', 'packet', 'subscriber-limit'];
/** subscriber-limit records: R_V6.. the prefix, then its length, what it holds, the limit, and why. */
const R_SUB_LEN = 5, R_SUB_HELD = 6, R_SUB_LIMIT = 7, R_SUB_REASON = 8;
const SUB_REASONS = ['', 'port-limit', 'rate-limit'];
/** logging-debug records: R_V6.. hold the port id, frame length, verdict and up to 4 counter ids. */
const R_DBG_PORT = 1, R_DBG_LEN = 2, R_DBG_ACTION = 3, R_DBG_STEPS = 4, DBG_STEPS = 4;
const ACTIONS = ['drop', 'tx', 'handoff', 'hold'];

/** kind | proto << 8 | static << 16 */
const R_KIND = 0;
const R_V6 = 1;
/** port6 << 16 | port4 */
const R_PORTS = 5;
const R_V4 = 6;
const R_REMOTE4 = 7;
const R_RPORT = 8;
/** Event time in ms since the epoch, split in two words (exact up to 2^53). */
const R_TIME_HI = 9;
const R_TIME_LO = 10;
export const EVENT_STRIDE = 12;
/** Records per shard: at ~100 ms drains, 40 k mappings/s per shard before anything is dropped. */
export const EVENT_CAPACITY = 4096;

/** Counter shown by `stats display` (summed from every ring's `dropped`). */
export const LOG_DROPPED = {
  name: 'log-dropped',
  explain: 'Mapping log records (logging-bib/logging-session) lost because the shard\'s event ring was full.',
} as const;

export function createEventBuffer(capacity = EVENT_CAPACITY): SharedArrayBuffer {
  return createRingBuffer(capacity, EVENT_STRIDE);
}

/** The shard's side: append records. */
export class EventRing {
  private readonly ring: RingWriter;
  private readonly w: Int32Array;

  constructor(buffer: SharedArrayBuffer) {
    this.ring = new RingWriter(buffer, EVENT_STRIDE);
    this.w = this.ring.w;
  }

  /** A BIB entry (record at `p` of the BIB's Int32Array) was created or is being removed. */
  bib(kind: MappingEvent, bib: Int32Array, p: number): void {
    const s = this.ring.slot();
    if (s < 0) return;
    this.writeBib(s, kind, bib, p);
    this.w[s + R_REMOTE4] = 0;
    this.w[s + R_RPORT] = 0;
    this.ring.commit();
  }

  /** A session of BIB entry at `p` with the IPv4 remote (r4, rport) was created or removed. */
  session(kind: MappingEvent, bib: Int32Array, p: number, r4: number, rport: number): void {
    const s = this.ring.slot();
    if (s < 0) return;
    this.writeBib(s, kind, bib, p);
    this.w[s + R_REMOTE4] = r4 | 0;
    this.w[s + R_RPORT] = rport;
    this.ring.commit();
  }

  /**
   * logging-debug: one packet's outcome, the counters its steps bumped (in counter order, at most
   * 4; -1 ends the list). Only called on the shard's separate debug path.
   */
  packet(port: number, len: number, action: number, s0: number, s1: number, s2: number, s3: number): void {
    const s = this.ring.slot();
    if (s < 0) return;
    const w = this.w;
    w[s + R_KIND] = MappingEvent.PACKET;
    w[s + R_DBG_PORT] = port; w[s + R_DBG_LEN] = len; w[s + R_DBG_ACTION] = action;
    w[s + R_DBG_STEPS] = s0; w[s + R_DBG_STEPS + 1] = s1; w[s + R_DBG_STEPS + 2] = s2; w[s + R_DBG_STEPS + 3] = s3;
    const now = Date.now();
    w[s + R_TIME_HI] = Math.floor(now / 4294967296);
    w[s + R_TIME_LO] = now | 0;
    this.ring.commit();
  }

  /**
   * A subscriber met its limit (tables/subscribers.ts): reason 1 port limit, 2 rate limit; the
   * prefix's four words at key[k..k+4). Always written (rate-limited by the caller), whatever the
   * logging globals say: RFC 6888 REQ-4's limit is an event the operator must be able to see.
   */
  subscriber(reason: number, proto: number, key: Int32Array, k: number, len: number, held: number, limit: number, now: number): void {
    const s = this.ring.slot();
    if (s < 0) return;
    const w = this.w;
    w[s + R_KIND] = MappingEvent.SUBSCRIBER_LIMIT | ((proto & 0xff) << 8);
    w[s + R_V6] = key[k]; w[s + R_V6 + 1] = key[k + 1]; w[s + R_V6 + 2] = key[k + 2]; w[s + R_V6 + 3] = key[k + 3];
    w[s + R_SUB_LEN] = len; w[s + R_SUB_HELD] = held; w[s + R_SUB_LIMIT] = limit; w[s + R_SUB_REASON] = reason;
    w[s + R_TIME_HI] = Math.floor(now / 4294967296);
    w[s + R_TIME_LO] = now | 0;
    this.ring.commit();
  }


  private writeBib(s: number, kind: MappingEvent, bib: Int32Array, p: number): void {
    const w = this.w;
    const flags = bib[p + B_FLAGS];
    w[s + R_KIND] = kind | ((flags & 0xff) << 8) | ((flags & BF_STATIC) !== 0 ? 0x10000 : 0);
    w[s + R_V6] = bib[p + B_V6];
    w[s + R_V6 + 1] = bib[p + B_V6 + 1];
    w[s + R_V6 + 2] = bib[p + B_V6 + 2];
    w[s + R_V6 + 3] = bib[p + B_V6 + 3];
    w[s + R_PORTS] = bib[p + B_PORTS];
    w[s + R_V4] = bib[p + B_V4];
    const now = Date.now();
    w[s + R_TIME_HI] = Math.floor(now / 4294967296);
    w[s + R_TIME_LO] = now | 0;
  }

}

/** One decoded record (main thread). */
export interface MappingRecord {
  event: string;
  protocol: 'TCP' | 'UDP' | 'ICMP' | string;
  time: number;
  isStatic: boolean;
  ipv6: string; ipv6Port: number;
  ipv4: string; ipv4Port: number;
  /** subscriber-limit records only: the subscriber (prefix/len), what it holds, the limit, why. */
  subscriber?: { prefix: string; held: number; limit: number; reason: string };
  /** logging-debug records only (then the address fields are empty). */
  packet?: { port: number; len: number; verdict: string; steps: string[] };
  /** Sessions only. */
  remote6?: string; remote6Port?: number;
  remote4?: string; remote4Port?: number;
  shard: number;
}

const PROTO: Record<number, string> = { 6: 'TCP', 17: 'UDP', 1: 'ICMP' };

/** The main thread's side: take every record written since the last drain. */
export class EventReader {
  private readonly ring: RingReader;
  private readonly w: Int32Array;
  private readonly a6 = new Uint8Array(16);
  private readonly r6 = new Uint8Array(16);
  private readonly pool6 = new Uint8Array(16);

  constructor(buffer: SharedArrayBuffer, private readonly shard: number, private readonly tableHeader?: SharedArrayBuffer) {
    this.ring = new RingReader(buffer, EVENT_STRIDE);
    this.w = this.ring.w;
  }

  get dropped(): number { return this.ring.dropped; }

  drain(out: (r: MappingRecord) => void, max = this.ring.capacity): number {
    return this.ring.drain((_w, off) => out(this.decode(off)), max);
  }

  private decode(s: number): MappingRecord {
    const w = this.w;
    const kind = w[s + R_KIND] & 0xff, proto = (w[s + R_KIND] >>> 8) & 0xff;
    const time = w[s + R_TIME_HI] * 4294967296 + (w[s + R_TIME_LO] >>> 0);
    if (kind === MappingEvent.PACKET) {
      const steps: string[] = [];
      for (let k = 0; k < DBG_STEPS; k++) {
        const id = w[s + R_DBG_STEPS + k];
        if (id >= 0 && id < COUNTERS.length) steps.push(COUNTERS[id].name);
      }
      return {
        event: 'packet', protocol: '', time, isStatic: false, ipv6: '', ipv6Port: 0, ipv4: '', ipv4Port: 0, shard: this.shard,
        packet: { port: w[s + R_DBG_PORT], len: w[s + R_DBG_LEN], verdict: ACTIONS[w[s + R_DBG_ACTION]] ?? String(w[s + R_DBG_ACTION]), steps },
      };
    }
    for (let k = 0; k < 4; k++) {
      const x = w[s + R_V6 + k];
      this.a6[4 * k] = x >>> 24; this.a6[4 * k + 1] = x >>> 16; this.a6[4 * k + 2] = x >>> 8; this.a6[4 * k + 3] = x;
    }
    if (kind === MappingEvent.SUBSCRIBER_LIMIT) {
      return {
        event: 'subscriber-limit', protocol: PROTO[proto] ?? String(proto), time, isStatic: false,
        ipv6: '', ipv6Port: 0, ipv4: '', ipv4Port: 0, shard: this.shard,
        subscriber: {
          prefix: `${formatIpv6(this.a6)}/${w[s + R_SUB_LEN]}`, held: w[s + R_SUB_HELD], limit: w[s + R_SUB_LIMIT],
          reason: SUB_REASONS[w[s + R_SUB_REASON]] ?? String(w[s + R_SUB_REASON]),
        },
      };
    }
    const ports = w[s + R_PORTS];
    const rec: MappingRecord = {
      event: EVENT_NAMES[kind] ?? `event-${kind}`,
      protocol: PROTO[proto] ?? String(proto),
      time,
      isStatic: (w[s + R_KIND] & 0x10000) !== 0,
      ipv6: formatIpv6(this.a6), ipv6Port: ports >>> 16,
      ipv4: formatIpv4(w[s + R_V4] >>> 0), ipv4Port: ports & 0xffff,
      shard: this.shard,
    };
    if (kind === MappingEvent.SESSION_CREATE || kind === MappingEvent.SESSION_REMOVE) {
      const r4 = w[s + R_REMOTE4] >>> 0, rport = w[s + R_RPORT];
      rec.remote4 = formatIpv4(r4);
      rec.remote4Port = rport;
      rec.remote6 = this.remote6(r4);
      rec.remote6Port = proto === 1 ? rec.ipv6Port : rport;
    }
    return rec;
  }

  /** pool6 + the IPv4 remote (RFC 6052), from the pool6 the shard publishes in its table header. */
  private remote6(r4: number): string {
    if (!this.tableHeader) return '';
    const h = new Int32Array(this.tableHeader);
    const len = h[H_POOL6_LEN];
    if (![32, 40, 48, 56, 64, 96].includes(len)) return '';
    for (let k = 0; k < 4; k++) {
      const x = h[H_POOL6 + k];
      this.pool6[4 * k] = x >>> 24; this.pool6[4 * k + 1] = x >>> 16; this.pool6[4 * k + 2] = x >>> 8; this.pool6[4 * k + 3] = x;
    }
    embed(this.pool6, len, r4, this.r6, 0);
    return formatIpv6(this.r6);
  }
}

/**
 * The documented line (docs/logging.md): logfmt, one mapping per line, the event's own time.
 *   nat64-mapping time=2025-01-01T00:00:00.000Z event=bib-create proto=TCP ipv6=2001:db8::2#40000 ipv4=203.0.113.1#61001 static=false shard=0
 *   nat64-mapping time=... event=session-create proto=TCP ipv6=2001:db8::2#40000 ipv6-remote=64:ff9b::cb00:7110#8080 ipv4=203.0.113.1#61001 ipv4-remote=203.0.113.16#8080 shard=0
 */
export function formatMappingLine(r: MappingRecord, instance?: string): string {
  if (r.subscriber) {
    // RFC 6888 REQ-4: the subscriber that met its limit (mapping-log style, its own line prefix).
    const u = r.subscriber, inst = instance !== undefined ? ` instance=${JSON.stringify(instance)}` : '';
    const what = u.reason === 'rate-limit' ? `new-mappings-per-second=${u.limit}` : `held=${u.held} limit=${u.limit}`;
    return `nat64-subscriber time=${new Date(r.time).toISOString()}${inst} event=${u.reason} proto=${r.protocol} subscriber=${u.prefix} ${what} shard=${r.shard}`;
  }
  if (r.packet) {
    const p = r.packet;
    return `nat64-debug time=${new Date(r.time).toISOString()} shard=${r.shard} port=${p.port} len=${p.len} verdict=${p.verdict} steps=${p.steps.join(',') || '-'}`;
  }
  const parts = [`nat64-mapping time=${new Date(r.time).toISOString()}`];
  if (instance !== undefined) parts.push(`instance=${JSON.stringify(instance)}`);
  parts.push(`event=${r.event}`, `proto=${r.protocol}`, `ipv6=${r.ipv6}#${r.ipv6Port}`);
  if (r.remote6 !== undefined) parts.push(`ipv6-remote=${r.remote6}#${r.remote6Port}`);
  parts.push(`ipv4=${r.ipv4}#${r.ipv4Port}`);
  if (r.remote4 !== undefined) parts.push(`ipv4-remote=${r.remote4}#${r.remote4Port}`);
  else parts.push(`static=${r.isStatic}`);
  parts.push(`shard=${r.shard}`);
  return parts.join(' ');
}
