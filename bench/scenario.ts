/**
 * One benchmark scenario in its own process (EAL initialises once per process). Prints one JSON
 * line (ScenarioResult) on stdout.
 *
 *   node dist/bench/scenario.js '{"device":"gen","stage":"nat64","direction":"6to4","proto":"UDP",
 *                                 "frameBytes":84,"sessions":65536,"shards":1,"seconds":3}'
 *
 * device "null" (default): the translator (Dataplane: shard workers, the real RFC 6146 core) between
 * two net_null ports whose rx/tx callbacks generate and count in the shard's own thread
 * (native/gen.cc, inline mode); device "ring": the same between two ring-backed ports fed and
 * drained by the generator's own thread (another core: shows the cross-core cost). Both:
 *   phase 1 (RFC 9693): each of the N flows once, IPv6 -> IPv4, all must come out: the connection
 *            establishment rate. For 4-to-6 the BIB is then read back and (TCP) each flow gets
 *            its IPv4 SYN+ACK once, so every session is ESTABLISHED.
 *   phase 2: pseudorandom flows over the N, as fast as the rings take them (back-pressure): the
 *            maximum forwarding rate, and exactly what was lost (pause, drain, sent - received).
 *   latency: fixed rates at 10/50/90 % of that maximum, timestamps in the frames' last 6 bytes.
 * device "pcap": the translator between net_pcap (infinite replay of the N frames) and net_null,
 *   the devices the testpmd baseline uses (N <= 64 k: the replay keeps every frame in an mbuf).
 * stage "drop"/"pass"/"handoff": no translation (bench/stage-worker.ts), same devices.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { parseInstance, toCoreConfig } from '../src/control/instance';
import { Dataplane } from '../src/dataplane/manager';
import { hashOwner6 } from '../src/dataplane/classify';
import { FLOW_CACHE_ENTRY_BYTES, flowCacheEntries } from '../src/dataplane/flow-cache';
import { BF_IN_USE, B_FLAGS, B_PORTS, B_STRIDE, B_V4, B_V6, pow2AtLeast } from '../src/dataplane/tables/layout';
import type { ShardTableBuffers } from '../src/dataplane/tables/shard-tables';
import { GEN_HIST_NS, loadNative, native, type GenSpec } from '../src/native';
import { memoryArgs } from '../src/native/eal-args';
import { flows4, flows6, type Flows, type Steer } from './gen-flows';
import { writePcap } from './pcap';
import type { StageJob, StageMode } from './stage-worker';
import {
  CLIENT_PREFIX, CLIENT_ROUTER, DST6, flowOf, frame4, frame6, PORTS_PER_HOST, SERVER4, SERVER4B, TCP_ACK, TCP_SYN, TCP_SYNACK,
  type Proto, type Template,
} from './traffic';

export interface ScenarioSpec {
  /** null: inline generator on net_null (default); ring: generator thread on ring ports; pcap: net_pcap -> net_null. */
  device: 'null' | 'ring' | 'pcap';
  stage: 'nat64' | StageMode;
  direction: '6to4' | '4to6';
  proto: Proto;
  /** IPv6 frame size on the wire (84 or 1518); the IPv4 frame is 20 bytes shorter. */
  frameBytes: number;
  sessions: number;
  shards: number;
  seconds: number;
  steer?: Steer;
  measureLatency?: boolean;
  /** dataplane.flowCacheEntries (per shard and direction; 0: no flow cache); default: the daemon's. */
  flowCacheEntries?: number;
  /**
   * The ports' rxChecksum (default "auto", which is "off" on net_null/net_pcap): "detect" runs the
   * af_packet receive path's partial-checksum recognition on every frame, to show what it costs.
   */
  rxChecksum?: 'detect' | 'off';
  /**
   * IPv6 hosts the N flows come from (default N / 256: 256 ports per host). 1 is the one-host
   * layout of RFC 9693 testers: one source address, every port (past 65535 the ports wrap to 0).
   */
  hosts?: number;
  /**
   * pool4 size in ports (default: enough addresses for 2N flows): whole addresses of ports
   * 1024-65535 from 198.19.0.1 on, the last one cut short. Flows beyond it get no mapping
   * (pool4-exhausted); every packet of theirs is refused.
   */
  pool4Ports?: number;
  /** Fraction of the N flows left without a pool4 port (sets pool4Ports to N x (1 - ratio)). */
  unmappableRatio?: number;
  /**
   * max-iterations of the pool4Ports rows (default "infinity": exactly pool4Ports flows map).
   * "auto" is the daemon's default (Jool's: 1 024 for a 64 k range): a nearly full pool then
   * refuses some flows while ports are still free, and every packet of theirs probes the budget.
   */
  pool4MaxIterations?: 'auto' | 'infinity';
  /**
   * "unresolved": no static neighbour for the IPv6 side's next hop, which net_null never answers:
   * every packet toward IPv6 (the ICMPv6 errors of refusals) waits for Neighbour Discovery.
   */
  neighbor6?: 'static' | 'unresolved';
  /**
   * Phase 2 mixes, into the N established flows, `flows` flood flows never seen before from
   * `hosts` other IPv6 hosts (new 5-tuples; with pool4Ports = N none of them can be mapped, so
   * every flood packet is refused and every translated packet is an established flow's). Picked
   * uniformly from N + flows: the flood is flows / (N + flows) of the offered packets. 4to6: a
   * scan from one IPv4 host to `flows` pool4 transport addresses without a mapping (withScan;
   * pool4Ports must hold them; `hosts` is ignored), refused as bib4-not-found.
   */
  flood?: { flows: number; hosts: number };
  /**
   * Bench-only UDP session timeout in ms (the CoreConfig the bench builds; the daemon's parser
   * keeps its 2-minute minimum): with N flows at R packets/s a flow is idle N / R s on average, so
   * a timeout near that makes sessions expire and be re-created all the time (churn).
   */
  udpTimeoutMs?: number;
  /**
   * The instance's subscriber-port-limit (issue 15; default: the daemon's, 25 % of an address per
   * /128; the one-host layout sets 0). With a flood from one host and room left in pool4 it decides
   * whether that host takes the rest of the pool (0) or stops at its share (the default).
   */
  subscriberPortLimit?: number | string;
  /**
   * Refusal rows (issue 11: every refusal path at most 2x a translated packet of the same size):
   * `refusedRatio` of the N flows (the last ones; default all) are refused in phase 2 by this path,
   * the others translated. Phase 1 sets the state up so that exactly that path refuses them:
   *   6to4 pool4-exhausted: pool4 has ports for the others only;
   *   6to4 tcp-syn-needed: they never sent a SYN (TCP ACKs without a session);
   *   6to4 pool6-mismatch: to an IPv6 destination outside pool6 (refusedRatio 1 only);
   *   no-instance (both directions): the instance is removed before phase 2 (refusedRatio 1 only);
   *   4to6 bib4-not-found: to pool4 transport addresses no BIB entry holds (they made no mapping);
   *   4to6 adf: address-dependent-filtering on, their IPv6 nodes only talked to SERVER4B (UDP);
   *   4to6 drop-externally-initiated-tcp: the global on, IPv4 SYNs to their mappings (TCP);
   *   4to6 tcp-syn-needed: TCP ACKs from SERVER4 to mappings that only talked to SERVER4B;
   *   4to6 pool4-mismatch: to IPv4 addresses outside pool4.
   * Compare processedMpps with the translated rate of the all-mapped row of the same direction,
   * protocol and size (bench/run.ts derives nsPerRefused and refusedCost).
   */
  refusal?: RefusalPath;
  refusedRatio?: number;
  /** The icmp-admin-prohibited global (refusals answered, rate-limited; default off, the daemon's). */
  icmpAdminProhibited?: boolean;
}

export type RefusalPath = 'pool4-exhausted' | 'tcp-syn-needed' | 'pool6-mismatch' | 'no-instance' | 'bib4-not-found' | 'adf'
  | 'drop-externally-initiated-tcp' | 'pool4-mismatch';

export interface Latency { load: number; pps: number; p50us: number; p90us: number; p99us: number; maxus: number; lossRatio: number }

export interface ScenarioResult extends ScenarioSpec {
  /** Frame size entering the translator (IPv4 frames are 20 bytes shorter). */
  inFrameBytes: number;
  mpps: number;
  lossRatio: number;
  /** Flows sent once (and their state removed) before phase 1, to let the JIT optimise the full path. */
  warmupFlows?: number;
  /** Phase 1: N new sessions, all out; null when not measured or not all came out. */
  sessionsPerSecond: number | null;
  phase1Lost: number | null;
  nsPerPacket: number;
  latency: Latency[];
  /** Table bytes per session slot and per established session (BIB + sessions + indexes + expiry). */
  bytesPerSessionSlot: number | null;
  bytesPerSession: number | null;
  /** The flow caches of every shard (both directions), per established session: derived state, on top. */
  flowCacheBytesPerSession: number | null;
  tableCapacity: number | null;
  counters: Record<string, number>;
  io: Record<string, number>;
  /** Flows that got no pool4 mapping in phase 1 (pool4-exhausted), as a fraction of N. */
  unmappedFlows?: number;
  /** Phase 2: translated packets per second (Mpps, the translator's counter), refusals excluded. */
  translatedMpps?: number;
  /**
   * flood: the established flows' packets the translator did not translate, as a fraction of
   * theirs (exact: received - refusals of the flood = the established flows' packets). Inline
   * generation has no receive queue to overflow: a slower shard lowers the rate, not this.
   */
  establishedLoss?: number;
  /**
   * CPU cost on a shared machine: phase 1's new sessions per second of the shard threads' CPU
   * time, and phase 2's shard CPU time per packet (the busiest `shards` threads of the process,
   * /proc/self/task). Unlike the wall-clock rates they do not fall when another job takes the core.
   */
  sessionsPerCpuSecond?: number | null;
  cpuNsPerPacket?: number;
  /** Phase 2 counters of interest, per second (new sessions, expiries, refusals). */
  perSecond?: Record<string, number>;
  /** Phase 2: packets the translator received per second (Mpps: translated + refused + anything else). */
  processedMpps?: number;
  /** Phase 2: received but not translated, per second (Mpps): the refusal rows' refused packets. */
  refusedMpps?: number;
  /** Phase 2: the shard threads' CPU time per packet received (cpuNsPerPacket counts frames out, which refusals have none of). */
  cpuNsPerProcessed?: number;
  /**
   * Phase 2, inline generator (net_null): of cpuNsPerProcessed, the time the generator spent making
   * the frame inside the shard's rx_burst (native/gen.cc). It grows with the flow table (random
   * reads of 8 M+ flows' addresses); a NIC would not charge the shard for it.
   */
  genCpuNsPerProcessed?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Phase 0 (JIT warm-up) flows, at most. */
const WARMUP_FLOWS = 65536;
const FCS = 4;
const RING = 4096;

function template(spec: ScenarioSpec, dir: '6to4' | '4to6', flags: number): Template {
  return dir === '6to4' ? frame6(spec.frameBytes, spec.proto, undefined, flags) : frame4(spec.frameBytes - 20, spec.proto, 0, 0, flags);
}

function genSpec(portId: number, t: Template, f: Flows, extra: Partial<GenSpec>): GenSpec {
  return { portId, template: t.frame, addrOff: t.addrOff, portOff: t.portOff, l4CsumOff: t.l4CsumOff, ipCsumOff: t.ipCsumOff,
    udp: t.udp, addr: f.addr, port: f.port, queue: f.queue, ...extra };
}

/** RFC 9693 phase 1 (or any fixed count): send `count` frames of flows 0..N-1, wait until they are all out. */
async function sendAll(spec: GenSpec, count: number, timeoutMs: number): Promise<{ seconds: number; lost: number }> {
  native.genStart({ ...spec, count, random: false, pps: 0 });
  const deadline = Date.now() + timeoutMs;
  let s = native.genStats();
  let lastRx = -1, stable = 0;
  while (Date.now() < deadline) {
    await sleep(count > 100000 ? 50 : 5);
    s = native.genStats();
    if (s.received >= count) break;
    // Everything sent and nothing more coming out for 200 ms: the rest was dropped.
    if (!s.generating && s.received === lastRx) { if (++stable * (count > 100000 ? 50 : 5) > 200) break; } else stable = 0;
    lastRx = s.received;
  }
  native.genStop();
  return { seconds: (s.lastRxNs - s.firstTxNs) / 1e9, lost: count - s.received };
}

/**
 * CPU time (user + system, in seconds) of each thread of this process, by thread id (Linux
 * /proc/self/task/<tid>/stat, USER_HZ ticks). The shard threads are the busiest ones: their CPU
 * time per packet is a cost figure that holds on a shared machine where the wall-clock rate
 * depends on how much of a core the shard got.
 */
function threadCpu(): Map<string, number> {
  const out = new Map<string, number>();
  const hz = 100;
  for (const tid of fs.readdirSync('/proc/self/task')) {
    try {
      const stat = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(tid, (Number(f[11]) + Number(f[12])) / hz); // fields 14 and 15 (utime, stime)
    } catch { /* the thread ended */ }
  }
  return out;
}

/** CPU seconds of the `n` busiest threads between two threadCpu() snapshots. */
function busiestCpu(a: Map<string, number>, b: Map<string, number>, n: number): number {
  const d = [...b.entries()].map(([tid, v]) => v - (a.get(tid) ?? 0)).sort((x, y) => y - x);
  return d.slice(0, n).reduce((x, y) => x + y, 0);
}

/** Phase 2 at back-pressure: warm-up, a measured window, then pause and drain for the exact loss. */
async function maxRate(spec: GenSpec, seconds: number, counters: () => Record<string, number> = () => ({}), shards = 1):
  Promise<{ mpps: number; lossRatio: number; windowNs: number; delta: Record<string, number>; cpuNsPerPacket: number; cpuSeconds: number;
    genSeconds: number }> {
  native.genStart({ ...spec, count: 0, random: true, pps: 0 });
  await sleep(500);
  const a = native.genStats(), ca = counters(), ta = threadCpu();
  await sleep(seconds * 1000);
  const b = native.genStats(), cb = counters(), tb = threadCpu();
  const delta: Record<string, number> = {};
  for (const [k, v] of Object.entries(cb)) delta[k] = v - (ca[k] ?? 0);
  native.genPause();
  await sleep(200);
  const c = native.genStats();
  native.genStop();
  const windowNs = b.nowNs - a.nowNs, cpuSeconds = busiestCpu(ta, tb, shards);
  return { mpps: ((b.received - a.received) / windowNs) * 1e3, lossRatio: c.sent > 0 ? Math.max(0, (c.sent - c.received) / c.sent) : 1, windowNs,
    delta, cpuNsPerPacket: (cpuSeconds * 1e9) / Math.max(1, b.received - a.received), cpuSeconds, genSeconds: (b.genNs - a.genNs) / 1e9 };
}

function percentile(h: Uint32Array, total: number, q: number): number {
  const want = Math.max(1, Math.ceil(total * q));
  let acc = 0;
  for (let i = 0; i < h.length; i++) { acc += h[i]; if (acc >= want) return ((i + 0.5) * GEN_HIST_NS) / 1000; }
  return NaN;
}

async function latencyAt(spec: GenSpec, load: number, mpps: number, seconds: number): Promise<Latency> {
  const pps = Math.max(1000, load * mpps * 1e6);
  native.genStart({ ...spec, count: 0, random: true, pps, stamp: true });
  await sleep(300);
  native.genHistogram(); // drop the warm-up
  await sleep(seconds * 1000);
  const h = native.genHistogram();
  native.genPause();
  await sleep(100);
  const s = native.genStats();
  native.genStop();
  let total = 0, max = 0;
  for (let i = 0; i < h.length; i++) if (h[i]) { total += h[i]; max = i; }
  return { load, pps: Math.round(pps), p50us: percentile(h, total, 0.5), p90us: percentile(h, total, 0.9), p99us: percentile(h, total, 0.99),
    maxus: ((max + 1) * GEN_HIST_NS) / 1000, lossRatio: s.sent + s.missed > 0 ? (s.sent + s.missed - s.received) / (s.sent + s.missed) : 1 };
}

/**
 * The pool4 transport address of every flow, read straight from the shards' BIB buffers (bench
 * only: Dataplane.bib() makes a row object with address strings per entry, too slow at 4 M).
 */
function readBack(dp: Dataplane, n: number, pph: number): { a4: Uint32Array; p4: Uint16Array; found: number } {
  const a4 = new Uint32Array(n), p4 = new Uint16Array(n);
  let found = 0;
  const shards = (dp as unknown as { shards: Array<{ init: { tables: ShardTableBuffers } }> }).shards;
  for (const h of shards) {
    const rec = new Int32Array(h.init.tables.bib);
    for (let p = 0; p < rec.length; p += B_STRIDE) {
      if ((rec[p + B_FLAGS] & BF_IN_USE) === 0) continue;
      const host = rec[p + B_V6 + 3] >>> 0, port6 = rec[p + B_PORTS] >>> 16;
      const k = flowOf(host, port6, pph);
      if (k < 0 || k >= n) continue;
      a4[k] = rec[p + B_V4] >>> 0;
      p4[k] = rec[p + B_PORTS] & 0xffff;
      found++;
    }
  }
  return { a4, p4, found };
}

function tableBytes(dp: Dataplane): { bytes: number; capacity: number } {
  const shards = (dp as unknown as { shards: Array<{ init: { tables: ShardTableBuffers } }> }).shards;
  let bytes = 0, capacity = 0;
  for (const h of shards) {
    const t = h.init.tables;
    capacity += t.capacity;
    for (const v of Object.values(t)) if (v instanceof SharedArrayBuffer) bytes += v.byteLength;
  }
  return { bytes, capacity };
}

function ioTotals(shards: number): Record<string, number> {
  const io: Record<string, number> = {};
  for (let s = 0; s < shards; s++) for (const [k, v] of Object.entries(native.shardStats(s))) io[k] = (io[k] ?? 0) + v;
  return io;
}

function pool4Prefix(n: number): string {
  const addresses = Math.max(1, 2 ** Math.ceil(Math.log2(Math.ceil((2 * n) / 64512))));
  return `198.19.0.0/${32 - Math.log2(addresses)}`;
}

const POOL4_PORTS_PER_ADDRESS = 65535 - 1024 + 1;

/**
 * pool4 entries of exactly `ports` ports: 198.19.0.1, .2, ... with 1024-65535, the last cut short.
 * max-iterations infinity: every port is found (with Jool's auto, 1 024 for a 64 k range, random
 * allocation leaves a few percent of a nearly full pool unreachable: "2 %" would be 17 %).
 */
function pool4OfPorts(proto: Proto, ports: number, maxIterations = 'infinity'): Array<Record<string, string>> {
  const out: Array<Record<string, string>> = [];
  for (let a = 1, left = Math.max(1, Math.round(ports)); left > 0; a++, left -= POOL4_PORTS_PER_ADDRESS) {
    out.push({ protocol: proto, prefix: `198.19.${a >> 8}.${a & 0xff}`, 'port range': `1024-${1024 + Math.min(left, POOL4_PORTS_PER_ADDRESS) - 1}`,
      'max-iterations': maxIterations });
  }
  return out;
}

/** Ports per IPv6 host of the spec's layout. */
function portsPerHost(spec: ScenarioSpec): number {
  return spec.hosts === undefined ? PORTS_PER_HOST : Math.min(65536, Math.ceil(spec.sessions / Math.max(1, spec.hosts)));
}

/** Host numbers of flood flows start here (established flows' hosts count from 1). */
const FLOOD_HOST_BASE = 0x10000000;

/** The established flows followed by the flood's: other hosts, every flow a new 5-tuple. */
function withFlood(f: Flows, flood: { flows: number; hosts: number }, shards: number): Flows {
  const n = f.addr.length, m = flood.flows, pph = Math.ceil(m / Math.max(1, flood.hosts));
  const out: Flows = { addr: new Uint32Array(n + m), port: new Uint16Array(n + m), queue: new Uint8Array(n + m) };
  out.addr.set(f.addr); out.port.set(f.port); out.queue.set(f.queue);
  const a6 = Uint8Array.from([0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), dv = new DataView(a6.buffer);
  for (let k = 0; k < m; k++) {
    out.addr[n + k] = FLOOD_HOST_BASE + Math.floor(k / pph);
    out.port[n + k] = (1024 + (k % pph)) & 0xffff;
    if (shards === 1) continue;
    dv.setUint32(12, out.addr[n + k]);
    out.queue[n + k] = hashOwner6(17, a6, 0, out.port[n + k], shards);
  }
  return out;
}

/**
 * 4->6 floods (a scan: one IPv4 source to many pool4 transport addresses): the established flows
 * followed by `m` flows to pool4 transport addresses no BIB entry holds (pool4OfPorts' addresses
 * 198.19.0.1, .2, ..., ports 1024-65535, in order, the established flows' skipped): every packet
 * a new 5-tuple, refused as bib4-not-found. pool4 must hold them (spec.pool4Ports).
 */
function withScan(f: Flows, m: number, shards: number): Flows {
  const n = f.addr.length;
  const held = new Set<number>();
  for (let k = 0; k < n; k++) held.add(f.addr[k] * 65536 + f.port[k]);
  const out: Flows = { addr: new Uint32Array(n + m), port: new Uint16Array(n + m), queue: new Uint8Array(n + m) };
  out.addr.set(f.addr); out.port.set(f.port); out.queue.set(f.queue);
  for (let k = 0, i = 0; k < m; i++) {
    const a = 0xc6130001 + Math.floor(i / POOL4_PORTS_PER_ADDRESS), port = 1024 + (i % POOL4_PORTS_PER_ADDRESS);
    if (held.has(a * 65536 + port)) continue;
    out.addr[n + k] = a; out.port[n + k] = port; out.queue[n + k] = port % shards;
    k++;
  }
  return out;
}

/** Flows f[from, to) (views, no copy). */
function slice(f: Flows, from: number, to: number): Flows {
  return { addr: f.addr.subarray(from, to), port: f.port.subarray(from, to), queue: f.queue.subarray(from, to) };
}

/** The refusal row's refused fraction (0: not a refusal row). */
function refusedShare(spec: ScenarioSpec): number {
  if (!spec.refusal) return 0;
  const r = spec.refusedRatio ?? 1;
  if (r !== 1 && (spec.refusal === 'no-instance' || spec.refusal === 'pool6-mismatch' || (spec.refusal === 'tcp-syn-needed' && spec.direction === '6to4'))) {
    throw new Error(`refusal ${spec.refusal}: refusedRatio 1 only (one template, one instance)`);
  }
  return r;
}

/**
 * bib4-not-found rows: for each refused flow (from `from` on) a pool4 transport address (of the
 * pool4 prefix, ports 1024-65535) that no BIB entry holds, all distinct (as many flow-cache keys as
 * flows; the BIB still holds every flow's mapping, as full as in the all-mapped row).
 */
function freeTransportAddresses(back: { a4: Uint32Array; p4: Uint16Array }, n: number, from: number, prefix: string): void {
  const held = new Set<number>();
  for (let k = 0; k < n; k++) if (back.a4[k] !== 0) held.add(back.a4[k] * 65536 + back.p4[k]);
  const [base, len] = prefix.split('/');
  const b = base.split('.').reduce((a, x) => a * 256 + Number(x), 0);
  let a = 0, port = 1024;
  for (let k = from; k < n; k++) {
    while (held.has((b + a) * 65536 + port)) if (++port > 65535) { port = 1024; a = (a + 1) % 2 ** (32 - Number(len)); }
    back.a4[k] = b + a; back.p4[k] = port;
    if (++port > 65535) { port = 1024; a = (a + 1) % 2 ** (32 - Number(len)); }
  }
}

function pool4Of(spec: ScenarioSpec): Array<Record<string, string>> {
  const unmappable = spec.refusal === 'pool4-exhausted' ? refusedShare(spec) : spec.unmappableRatio;
  const ports = spec.pool4Ports ?? (unmappable ? Math.max(1, spec.sessions * (1 - unmappable)) : 0);
  return ports > 0 ? pool4OfPorts(spec.proto, ports, spec.pool4MaxIterations) : [{ protocol: spec.proto, prefix: pool4Prefix(spec.sessions), 'port range': '1024-65535' }];
}

function ealArgs(): string[] {
  // Without hugepages (NAT64_NO_HUGE=1: the host's few are another process's) EAL reserves 64 MB
  // unless told; the pcap rows keep every flow's frame in an mbuf.
  const mem = memoryArgs();
  return ['--no-pci', '--iova-mode=va', '--no-telemetry', '-l', '0', '--log-level=error', ...mem, ...(mem.includes('--no-huge') ? ['-m', '3072'] : [])];
}

/** Gen ports must exist before the Dataplane probes them: EAL first, then Dataplane.start without its ealInit. */
function ealWithGenPorts(queues: number): void {
  loadNative();
  native.ealInit(ealArgs());
  native.genPortCreate('gen6', queues, RING);
  native.genPortCreate('gen4', queues, RING);
  native.ealInit = () => undefined;
}

async function runTranslator(spec: ScenarioSpec): Promise<ScenarioResult> {
  const n = spec.sessions, steer = spec.steer ?? 'owner', pph = portsPerHost(spec);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nat64-bench-'));
  const pcap = spec.device === 'pcap';
  if (pcap) {
    writePcap(path.join(dir, 'v6.pcap'), (function* () { for (let k = 0; k < n; k++) yield frame6(spec.frameBytes, spec.proto, k, spec.proto === 'TCP' ? TCP_SYN : TCP_ACK, pph).frame; })());
  } else if (spec.device === 'ring') ealWithGenPorts(spec.shards);
  const devices = { pcap: [`net_pcap0,rx_pcap=${path.join(dir, 'v6.pcap')},infinite_rx=1`, 'net_null0,no-rx=1'],
    ring: ['net_ring_gen6', 'net_ring_gen4'], null: ['net_null0', 'net_null1'] }[spec.device];
  const dp = new Dataplane();
  const result: Partial<ScenarioResult> = { latency: [], sessionsPerSecond: null, phase1Lost: null };
  // A flood with room left in pool4 (issue 15's rows) needs table room for what it may map too.
  const room = spec.flood && spec.direction === '6to4' && spec.pool4Ports !== undefined && spec.pool4Ports > n
    ? Math.min(spec.flood.flows, spec.pool4Ports - n) : 0;
  const sessionsPerShard = Math.max(1024, Math.ceil(((n + room) * (spec.shards > 1 ? 1.1 : 1)) / spec.shards));
  try {
    await dp.start({
      eal: ealArgs(), shards: spec.shards, mbufs: pcap ? Math.max(16383, n + 8192 * spec.shards) | 1 : 32767,
      sessionsPerShard,
      ...(spec.flowCacheEntries === undefined ? {} : { flowCacheEntries: spec.flowCacheEntries }),
      ports: [
        { name: 'v6', device: devices[0],
          addresses: ['2001:db8::1/64'], routes: [{ prefix: CLIENT_PREFIX, via: CLIENT_ROUTER }], mtu: 1500,
          neighbors: spec.neighbor6 === 'unresolved' ? [] : [{ address: CLIENT_ROUTER, mac: '02:00:00:00:00:99' }], rxChecksum: spec.rxChecksum ?? 'auto', txChecksum: 'auto' },
        { name: 'v4', device: devices[1], addresses: ['198.18.0.1/24'], routes: [], mtu: 1500,
          neighbors: [{ address: SERVER4, mac: '02:00:00:00:00:10' }, { address: SERVER4B, mac: '02:00:00:00:00:11' }], rxChecksum: spec.rxChecksum ?? 'auto', txChecksum: 'auto' },
      ],
    });
    // The one-host layout is one subscriber using the whole pool (RFC 9693 testers): the daemon's
    // default per-subscriber limit (25 % of an address, issue 15) would refuse three quarters of it.
    const inst = parseInstance({ instance: 'bench', framework: 'netfilter',
      global: { pool6: '64:ff9b::/96', ...(spec.hosts !== undefined ? { 'subscriber-port-limit': 0 } : {}),
        ...(spec.subscriberPortLimit !== undefined ? { 'subscriber-port-limit': spec.subscriberPortLimit } : {}),
        ...(spec.refusal === 'adf' ? { 'address-dependent-filtering': true } : {}),
        ...(spec.refusal === 'drop-externally-initiated-tcp' ? { 'drop-externally-initiated-tcp': true } : {}),
        ...(spec.icmpAdminProhibited ? { 'icmp-admin-prohibited': true } : {}) },
      pool4: pool4Of(spec) }, 'bench');
    const coreConfig = () => {
      const cfg = toCoreConfig(inst);
      // Bench only: the CoreConfig is ours; `nat64 global update udp-timeout` still refuses < 2 min.
      if (spec.udpTimeoutMs !== undefined) cfg.globals.udpTimeout = spec.udpTimeoutMs;
      return cfg;
    };
    await dp.setInstance(coreConfig());
    const [p6, p4] = [native.portProbe(devices[0].split(',')[0]), native.portProbe(devices[1].split(',')[0])];
    if (spec.device === 'null') { native.genAttach(p6, spec.shards); native.genAttach(p4, spec.shards); }
    const mem = tableBytes(dp);
    result.tableCapacity = mem.capacity;
    result.bytesPerSessionSlot = mem.bytes / mem.capacity;
    let before = dp.counters().total;
    if (pcap) {
      Object.assign(result, await pcapRate(dp, spec));
    } else {
      native.genZeroPool();
      const f6 = flows6(n, spec.proto, spec.shards, steer, pph);
      const t6 = template(spec, '6to4', spec.proto === 'TCP' ? TCP_SYN : TCP_ACK);
      // Warm-up (phase 0): a fresh worker runs its first packets in V8's interpreter and baseline
      // tiers, and at 64 k flows phase 1 lasts ~0.2 s, mostly that. The first WARMUP_FLOWS flows go
      // through once, then the instance is removed (every session and BIB entry with it) and added
      // again, so phase 1 measures establishment by optimised code on empty tables.
      result.warmupFlows = Math.min(n, WARMUP_FLOWS);
      await sendAll(genSpec(p6, t6, f6, {}), result.warmupFlows, 60000);
      await dp.setInstance(null);
      await dp.setInstance(coreConfig());
      before = dp.counters().total;
      const t1 = threadCpu();
      // Refusal rows: the refused flows (the last ones) talk to SERVER4B only in phase 1 (adf,
      // drop-externally-initiated-tcp, 4to6 tcp-syn-needed). Every flow has its mapping, so the
      // tables are as full as in the all-mapped row (bib4-not-found goes to other ports of pool4;
      // 6to4 tcp-syn-needed sends ACKs to SERVER4B, with which no flow has a session).
      const share = refusedShare(spec), keep = n - Math.round(share * n);
      const viaB = spec.refusal === 'adf' || spec.refusal === 'drop-externally-initiated-tcp' || (spec.refusal === 'tcp-syn-needed' && spec.direction === '4to6');
      const count1 = viaB ? keep : n;
      const p1 = count1 === 0 ? { seconds: 0, lost: 0 } : await sendAll(genSpec(p6, t6, viaB ? slice(f6, 0, keep) : f6, {}), count1, 120000);
      if (viaB && keep < n) {
        const tB = frame6(spec.frameBytes, spec.proto, undefined, spec.proto === 'TCP' ? TCP_SYN : TCP_ACK, PORTS_PER_HOST, DST6.serverB);
        const pB = await sendAll(genSpec(p6, tB, slice(f6, keep, n), {}), n - keep, 120000);
        p1.lost += pB.lost; p1.seconds += pB.seconds;
      }
      const p1Cpu = busiestCpu(t1, threadCpu(), spec.shards);
      const unmapped = (dp.counters().total['pool4-exhausted'] ?? 0) - (before['pool4-exhausted'] ?? 0);
      result.unmappedFlows = unmapped / n;
      // A refused flow's frame never comes out (its ICMPv6 error, rate-limited, may: counted as out).
      result.phase1Lost = unmapped > 0 ? Math.max(0, p1.lost - unmapped) : p1.lost;
      result.sessionsPerSecond = result.phase1Lost === 0 && p1.seconds > 0 ? (n - unmapped) / p1.seconds : null;
      result.sessionsPerCpuSecond = result.phase1Lost === 0 && p1Cpu > 0 ? (n - unmapped) / p1Cpu : null;
      let gs: GenSpec;
      if (spec.direction === '6to4') {
        const dst6 = spec.refusal === 'pool6-mismatch' ? DST6.notPool6 : spec.refusal === 'tcp-syn-needed' ? DST6.serverB : DST6.server;
        gs = genSpec(p6, frame6(spec.frameBytes, spec.proto, undefined, TCP_ACK, PORTS_PER_HOST, dst6), f6, {});
      } else {
        const back = readBack(dp, n, pph);
        if (back.found < n && !spec.unmappableRatio && !spec.pool4Ports) process.stderr.write(`4to6: only ${back.found} of ${n} BIB entries read back\n`);
        // A flow without a mapping still sends to pool4 (198.19.0.1), to a port below the pool4
        // range that no BIB entry holds: every packet of it is refused (no BIB entry for IPv4).
        if (spec.refusal === 'bib4-not-found') freeTransportAddresses(back, n, keep, pool4Prefix(n));
        // pool4-mismatch: TEST-NET-3 (203.0.113.0/24), one address per 256 flows.
        if (spec.refusal === 'pool4-mismatch') for (let k = keep; k < n; k++) { back.a4[k] = 0xcb007100 + ((k >>> 8) & 0xff); back.p4[k] = 1024 + (k & 0xff); }
        for (let k = 0; k < n; k++) if (back.a4[k] === 0) { back.a4[k] = 0xc6130001; back.p4[k] = 1 + (k % 1000); }
        const f4 = flows4(back.a4, back.p4, spec.shards, steer);
        // Every flow once in the 4->6 direction before the rate is measured, as phase 1 did for 6->4:
        // TCP needs the SYN+ACK (-> ESTABLISHED); UDP's first 4->6 packet of a flow takes the full path
        // and fills the 4->6 flow cache, which a 0.5 s warm-up of random flows would leave half
        // empty at 1 M flows (first-time misses inside the measured window).
        await sendAll(genSpec(p4, template(spec, '4to6', spec.proto === 'TCP' ? TCP_SYNACK : TCP_ACK), f4, {}), n, 120000);
        gs = genSpec(p4, template(spec, '4to6', spec.refusal === 'drop-externally-initiated-tcp' ? TCP_SYN : TCP_ACK), f4, {});
        if (spec.flood) gs = genSpec(p4, template(spec, '4to6', TCP_ACK), withScan(f4, spec.flood.flows, spec.shards), {});
      }
      if (spec.refusal === 'no-instance') await dp.setInstance(null);
      if (spec.flood && spec.direction === '6to4') gs = genSpec(p6, template(spec, '6to4', TCP_ACK), withFlood(f6, spec.flood, spec.shards), {});
      const key = spec.direction === '6to4' ? 'translated-6to4' : 'translated-4to6';
      const r = await maxRate(gs, spec.seconds, () => dp.counters().total, spec.shards);
      const d = r.delta, perNs = 1e9 / r.windowNs;
      result.mpps = r.mpps;
      result.cpuNsPerPacket = r.cpuNsPerPacket;
      result.translatedMpps = ((d[key] ?? 0) * perNs) / 1e6;
      result.processedMpps = ((d['received'] ?? 0) * perNs) / 1e6;
      result.refusedMpps = (((d['received'] ?? 0) - (d[key] ?? 0)) * perNs) / 1e6;
      result.cpuNsPerProcessed = (r.cpuSeconds * 1e9) / Math.max(1, d['received'] ?? 0);
      result.genCpuNsPerProcessed = (r.genSeconds * 1e9) / Math.max(1, d['received'] ?? 0);
      result.perSecond = {};
      for (const k of ['pool4-exhausted', 'refused-recently', 'session-table-full', 'session-expired', 'bib-expired', 'icmp-error-sent',
        'icmp-error-rate-limited', 'bib4-not-found', 'adf-filtered', 'tcp-v4-syn-dropped', 'tcp-syn-needed', 'no-instance', 'pool6-mismatch',
        'pool4-mismatch', 'refusal-remembered']) {
        if (d[k]) result.perSecond[k] = Math.round(d[k] * perNs);
      }
      if (spec.flood) {
        // Flood flows the pool still had room for (issue 15's rows) are translated like established ones.
        const refused = (d['pool4-exhausted'] ?? 0) + (d['refused-recently'] ?? 0) + (d['bib-table-full'] ?? 0) + (d['session-table-full'] ?? 0)
          + (d['bib4-not-found'] ?? 0)
          + (d['subscriber-port-limit'] ?? 0) + (d['subscriber-rate-limit'] ?? 0);
        const established = (d['received'] ?? 0) - refused;
        result.establishedLoss = established > 0 ? Math.max(0, 1 - (d[key] ?? 0) / established) : 1;
      }
      result.lossRatio = r.lossRatio;
      if (spec.measureLatency) {
        for (const load of [0.1, 0.5, 0.9]) result.latency!.push(await latencyAt(gs, load, r.mpps, Math.min(2, spec.seconds)));
      }
    }
    const sessions = dp.counters().total;
    result.bytesPerSession = mem.bytes / Math.max(1, n);
    const cacheEntries = spec.flowCacheEntries === 0 ? 0 : flowCacheEntries(pow2AtLeast(sessionsPerShard), spec.flowCacheEntries);
    result.flowCacheBytesPerSession = (2 * cacheEntries * FLOW_CACHE_ENTRY_BYTES * spec.shards) / Math.max(1, n);
    const counters: Record<string, number> = {};
    for (const [k, v] of Object.entries(sessions)) if (v - (before[k] ?? 0) > 0) counters[k] = v - (before[k] ?? 0);
    result.counters = counters;
    result.io = ioTotals(spec.shards);
  } finally {
    native.genStop();
    await dp.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const mpps = result.mpps ?? 0;
  return { ...spec, ...result, inFrameBytes: spec.direction === '6to4' ? spec.frameBytes : spec.frameBytes - 20, mpps,
    lossRatio: result.lossRatio ?? 1, nsPerPacket: mpps > 0 ? (1000 / mpps) * spec.shards : 0 } as ScenarioResult;
}

/** net_pcap -> net_null: the rate out of the IPv4 port over a window; loss from the shards' counters. */
async function pcapRate(dp: Dataplane, spec: ScenarioSpec): Promise<Partial<ScenarioResult>> {
  await sleep(Math.min(20000, 500 + spec.sessions / 50)); // phase 1 happens in the first replay
  const v4 = dp.ports().find((p) => p.configName === 'v4')!;
  const c1 = dp.counters().total, tx1 = native.portStats(v4.portId).opackets, w1 = process.hrtime.bigint();
  await sleep(spec.seconds * 1000);
  const c2 = dp.counters().total, tx2 = native.portStats(v4.portId).opackets;
  const secs = Number(process.hrtime.bigint() - w1) / 1e9;
  const received = c2['received'] - c1['received'], translated = c2['translated-6to4'] - c1['translated-6to4'];
  const refused = (c2['pool4-exhausted'] ?? 0) - (c1['pool4-exhausted'] ?? 0) + (c2['refused-recently'] ?? 0) - (c1['refused-recently'] ?? 0);
  return { mpps: (tx2 - tx1) / secs / 1e6, translatedMpps: translated / secs / 1e6, unmappedFlows: received > 0 ? refused / received : 0,
    lossRatio: received > 0 ? Math.max(0, 1 - translated / received) : 1 };
}

/** No translation: the stage worker's fixed verdicts over the same gen devices (1 shard). */
async function runStage(spec: ScenarioSpec): Promise<ScenarioResult> {
  const mode = spec.stage as StageMode;
  const ring = spec.device === 'ring';
  if (ring) ealWithGenPorts(1); else { loadNative(); native.ealInit(ealArgs()); }
  const p6 = native.portProbe(ring ? 'net_ring_gen6' : 'net_null0'), p4 = native.portProbe(ring ? 'net_ring_gen4' : 'net_null1');
  native.mempoolCreate(32767);
  for (const p of [p6, p4]) native.portStart(p, { rxQueues: 1, txQueues: 1, mtu: 1500 });
  native.shardCreate(0, 1, [{ portId: p6, queue: 0 }, { portId: p4, queue: 0 }]);
  if (!ring) { native.genAttach(p6, 1); native.genAttach(p4, 1); }
  native.genZeroPool();
  const stop = new SharedArrayBuffer(4);
  const job: StageJob = { shard: 0, mode, outPort: p4, stop };
  const w = new Worker(path.join(__dirname, 'stage-worker.js'), { workerData: job });
  const done = new Promise((resolve, reject) => { w.once('message', resolve); w.once('error', reject); });
  try {
    const f6 = flows6(spec.sessions, spec.proto, 1, 'spread');
    const gs = genSpec(p6, template(spec, '6to4', TCP_ACK), f6, {});
    let mpps: number, lossRatio: number;
    if (mode === 'drop') {
      // Nothing comes out: the rate is what the shard took from the ring.
      native.genStart({ ...gs, random: true });
      await sleep(500);
      const a = native.genStats();
      await sleep(spec.seconds * 1000);
      const b = native.genStats();
      native.genStop();
      mpps = ((b.sent - a.sent) / (b.nowNs - a.nowNs)) * 1e3;
      lossRatio = 0;
    } else ({ mpps, lossRatio } = await maxRate(gs, spec.seconds));
    return { ...spec, inFrameBytes: spec.frameBytes, mpps, lossRatio, sessionsPerSecond: null, phase1Lost: null,
      nsPerPacket: mpps > 0 ? 1000 / mpps : 0, latency: [], bytesPerSessionSlot: null, bytesPerSession: null, flowCacheBytesPerSession: null, tableCapacity: null,
      counters: {}, io: ioTotals(1) };
  } finally {
    Atomics.store(new Int32Array(stop), 0, 1);
    await done;
    native.genStop();
    native.shutdown();
  }
}

export function runScenario(spec: ScenarioSpec): Promise<ScenarioResult> {
  return spec.stage === 'nat64' ? runTranslator(spec) : runStage(spec);
}

if (require.main === module) {
  runScenario(JSON.parse(process.argv[2]) as ScenarioSpec).then(
    (r) => { process.stdout.write(`${JSON.stringify(r)}\n`); process.exit(0); },
    (e) => { process.stderr.write(`scenario failed: ${(e as Error).stack ?? e}\n`); process.exit(1); },
  );
}
