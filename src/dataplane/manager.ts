import * as path from 'node:path';
import Piscina from 'piscina';
import { DEFAULT_MBUF_DATA_ROOM, type DataplaneConfig } from '../control/config-types';
import { deviceIface } from '../control/device-locks';
import { parseIPv4, parseIPv6 } from '../control/inet';
import { native } from '../native';
import type { CoreConfig } from './core-config';
import { COUNTERS, createCounterBuffer } from './counters';
import { IO_COUNTERS } from './io-counters';
import { createEventBuffer, EventReader, formatMappingLine, LOG_DROPPED } from './events';
import { parseMac } from './l2/ethernet';
import { word6, type PortRuntime } from './l2/interfaces';
import { createNeighborBuffer, NeighborTable } from './l2/neighbors';
import { createMailbox, MailboxClient } from './mailbox';
import type { BibRow, DataplaneApi, PortRow, Protocol, SessionRow, ShardStatusRow, SubscriberReport, VirtualRow } from './manager-api';
import { isV4, portRuntime } from './port-runtime';
import type { ShardInit, ShardMessage } from './shard-init';
import { allocateShardTables, type ShardTableBuffers } from './tables/shard-tables';
import { readBib, readSessions, type Within6 } from './tables/read';
import { mergeSubscribers, readSubscribers } from './tables/read-subscribers';
import { countTables } from './tables/count';
import { createSyncRingBuffer, SyncRingReader } from './sync/ring';
import { SessionWalker } from './sync/walk';
import { createRedirectBuffer, RedirectIndex } from './sync/redirect';
import type { SyncDataplane } from '../control/sync/service';
import { VirtualAddressError, VirtualAddresses, type VirtualAddress } from './virtual-addresses';

/**
 * After a claim, the announcements go out again this long after the first ones (ms): one lost
 * frame must not leave a neighbour on the old holder (Keepalived repeats its own likewise).
 */
const ANNOUNCE_REPEAT_MS = [1000, 2000];

interface ShardHandle {
  init: ShardInit;
  mailbox: MailboxClient;
  counters: Float64Array;
  events: EventReader;
  sync: SyncRingReader;
  walker: SessionWalker;
  task: Promise<unknown> | null;
  restarts: number;
  /** Delay before the next relaunch (ms); grows while the shard keeps dying soon after starting. */
  backoffMs: number;
  /** From the task's death to its successor answering the mailbox, last restart (ms); -1: none yet. */
  lastRestartMs: number;
}

export class DataplaneError extends Error {
  constructor(readonly code: string, message: string) { super(message); }
}

/**
 * The main-thread side of the data plane: brings DPDK up (EAL, one packet pool, ports), lays out
 * the shared memory of every shard (tables, counters, mailbox, the neighbour table), starts one
 * long-lived Piscina task per shard, and answers the control plane's queries from shared memory.
 */
export class Dataplane implements DataplaneApi, SyncDataplane {
  private cfg: DataplaneConfig | null = null;
  private pool: Piscina | null = null;
  private shards: ShardHandle[] = [];
  private portList: Array<{ name: string; addresses: string[]; virtualAddresses: string[]; rt: PortRuntime }> = [];
  private virtual: VirtualAddresses | null = null;
  private announceTimers = new Set<NodeJS.Timeout>();
  private instance: CoreConfig | null = null;
  private stopping = false;
  private drainTimer: NodeJS.Timeout | null = null;
  /** RFC 6888 mapping log lines (logging-bib/logging-session), about every 100 ms; the daemon prints them. */
  onMappingLog: (line: string) => void = () => undefined;
  /** Called when a shard worker died and was restarted (reliability: logged by the daemon). */
  onShardRestart: (shard: number, err: unknown) => void = () => undefined;
  /** Called when a restarted shard answers its mailbox again, with the time since it died (ms). */
  onShardResumed: (shard: number, restartMs: number) => void = () => undefined;
  /** Told of every instance the shards accepted (session sync follows ss-enabled and the ss-* globals). */
  onInstance: (cfg: CoreConfig | null) => void = () => undefined;
  /** IPv6 owners of mappings applied from peers (sync/redirect.ts); shared with every shard. */
  private readonly redirectBuffer = createRedirectBuffer();
  private readonly redirect = new RedirectIndex(this.redirectBuffer);
  /** NAT64_TEST_HOOKS in the environment: shards accept 'test-crash' (docs/reliability.md). */
  private readonly testHooks = Boolean(process.env.NAT64_TEST_HOOKS);

  async start(cfg: DataplaneConfig): Promise<void> {
    if (this.cfg) throw new DataplaneError('E_STATE', 'data plane already started');
    this.cfg = cfg;
    native.ealInit(cfg.eal);
    native.mempoolCreate(cfg.mbufs, cfg.mbufDataRoom ?? DEFAULT_MBUF_DATA_ROOM);
    // Before any shard exists: each shard's reassembly table is sized from these.
    native.fragConfigure({ maxFlows: cfg.reassemblyDatagrams ?? 256, timeoutMs: cfg.reassemblyTimeoutMs ?? 2000 });
    const neighbors = createNeighborBuffer();
    const neigh = new NeighborTable(neighbors);
    const rxPairs: Array<Array<{ portId: number; queue: number }>> = Array.from({ length: cfg.shards }, () => []);
    cfg.ports.forEach((p, i) => {
      const id = native.portProbe(p.device);
      const before = native.portInfo(id);
      const rxQueues = Math.max(1, Math.min(cfg.shards, before.maxRxQueues));
      const txQueues = Math.max(1, Math.min(cfg.shards, before.maxTxQueues));
      native.portStart(id, {
        rxQueues, txQueues, mtu: p.mtu, rxChecksum: p.rxChecksum, txChecksum: p.txChecksum, mac: p.mac, iface: deviceIface(p.device),
      });
      // Queue q is polled by shard q; with fewer queues than shards the rest get packets by hand-off.
      for (let q = 0; q < rxQueues; q++) rxPairs[q].push({ portId: id, queue: q });
      const slots = this.portList.reduce((n, q) => n + q.virtualAddresses.length, 0);
      const rt = portRuntime(p, native.portInfo(id), `dataplane.ports[${i}]`, slots);
      this.portList.push({ name: p.name, addresses: p.addresses, virtualAddresses: p.virtualAddresses ?? [], rt });
      for (const n of p.neighbors) {
        const mac = parseMac(n.mac)!;
        if (isV4(n.address)) neigh.learn(4, parseIPv4(n.address) | 0, 0, 0, 0, i, mac, 0, Date.now(), true);
        else {
          const a = parseIPv6(n.address);
          neigh.learn(6, word6(a, 0, 0), word6(a, 0, 1), word6(a, 0, 2), word6(a, 0, 3), i, mac, 0, Date.now(), true);
        }
      }
    });
    this.virtual = new VirtualAddresses(this.portList);
    for (let s = 0; s < cfg.shards; s++) {
      native.shardCreate(s, cfg.shards, rxPairs[s]);
      const counters = createCounterBuffer();
      const mailbox = createMailbox();
      const events = createEventBuffer();
      const syncRing = createSyncRingBuffer();
      const tables = allocateShardTables(cfg.sessionsPerShard, native.adviseHugePages);
      const init: ShardInit = {
        shard: s, shards: cfg.shards, ports: this.portList.map((p) => p.rt), tables,
        counters, mailbox, neighbors, events, syncRing, redirect: this.redirectBuffer, instance: null, virtual: this.virtual.buffer,
        icmpErrors: { perSecond: cfg.icmpErrorsPerSecond ?? 1000, burst: cfg.icmpErrorBurst ?? 50 },
        flowCacheEntries: cfg.flowCacheEntries,
      };
      this.shards.push({
        init, mailbox: new MailboxClient(mailbox), counters: new Float64Array(counters),
        events: new EventReader(events, s, tables.header), sync: new SyncRingReader(syncRing), walker: new SessionWalker(tables),
        task: null, restarts: 0,
        backoffMs: 0, lastRestartMs: -1,
      });
    }
    this.pool = new Piscina({
      filename: path.join(__dirname, 'worker.js'),
      minThreads: cfg.shards, maxThreads: cfg.shards, concurrentTasksPerWorker: 1, idleTimeout: Infinity,
      // Our tasks never return while the daemon runs; Piscina's own Atomics idling is irrelevant.
      atomics: 'disabled',
    });
    for (const h of this.shards) this.launch(h);
    await Promise.all(this.shards.map((h) => h.mailbox.request({ type: 'ping' } satisfies ShardMessage, 15000)));
    this.drainTimer = setInterval(() => this.drainEvents(), 100);
    this.drainTimer.unref();
  }

  /** Main thread: format what the shards logged since the last drain (events.ts). */
  drainEvents(): void {
    const instance = this.instance?.instance;
    for (const h of this.shards) h.events.drain((r) => this.onMappingLog(formatMappingLine(r, instance)));
  }

  /**
   * Start (or restart) a shard's long-lived task; the tables in shared memory survive a restart.
   * A shard that dies is relaunched after 10 ms, doubling (to 5 s) while it keeps dying within
   * 10 s of its previous start, so a crash loop cannot eat the CPU the other shards translate on.
   */
  private launch(h: ShardHandle): void {
    h.init.instance = this.instance;
    h.init.testHooks = this.testHooks;
    const startedAt = Date.now();
    h.task = this.pool!.run(h.init).then(
      () => undefined,
      (err: unknown) => {
        if (this.stopping) return;
        const diedAt = Date.now();
        h.restarts++;
        h.backoffMs = diedAt - startedAt < 10_000 ? Math.min(5000, h.backoffMs * 2 || 10) : 10;
        this.onShardRestart(h.init.shard, err);
        setTimeout(() => {
          if (this.stopping) return;
          this.launch(h);
          // Translating again once it answers its mailbox (it serves it from the burst loop).
          h.mailbox.request({ type: 'ping' } satisfies ShardMessage, 15000).then(
            () => { h.lastRestartMs = Date.now() - diedAt; this.onShardResumed(h.init.shard, h.lastRestartMs); },
            () => undefined,
          );
        }, h.backoffMs);
      },
    );
  }

  /** Reliability tests only (NAT64_TEST_HOOKS): make a shard's task die, to watch it come back. */
  async crashShard(shard: number, how: 'throw' | 'exit'): Promise<void> {
    const h = this.shards[shard];
    if (!h) throw new DataplaneError('E_ARG', `no shard ${shard}`);
    await h.mailbox.request({ type: 'test-crash', how } satisfies ShardMessage);
  }

  async setInstance(cfg: CoreConfig | null): Promise<void> {
    const previous = this.instance;
    const results = await Promise.allSettled(this.shards.map((h) => h.mailbox.request({ type: 'instance', cfg } satisfies ShardMessage)));
    const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
    if (failed) {
      // Every shard or none: put back what the others had.
      await Promise.allSettled(this.shards.map((h) => h.mailbox.request({ type: 'instance', cfg: previous } satisfies ShardMessage)));
      const e = failed.reason as { code?: string; message?: string };
      throw new DataplaneError(e.code ?? 'E_SHARD', `a shard refused the instance: ${e.message}`);
    }
    this.instance = cfg;
    this.onInstance(cfg);
  }

  // ---- session sync (control/sync/service.ts) ----

  get syncShards(): number { return this.shards.length; }
  syncReader(shard: number): SyncRingReader { return this.shards[shard].sync; }
  syncWalker(shard: number): SessionWalker { return this.shards[shard].walker; }
  redirectIndex(): RedirectIndex { return this.redirect; }
  syncApply(shard: number, recs: Int32Array, n: number): Promise<number[]> {
    return this.shards[shard].mailbox.request<number[]>({ type: 'sync-apply', recs, n } satisfies ShardMessage);
  }

  counters(): { total: Record<string, number>; perShard: Array<Record<string, number>> } {
    const total: Record<string, number> = {};
    for (const c of COUNTERS) total[c.name] = 0;
    for (const c of IO_COUNTERS) total[c.name] = 0;
    const perShard = this.shards.map((h) => {
      const row: Record<string, number> = {};
      COUNTERS.forEach((c, i) => { row[c.name] = h.counters[i]; total[c.name] += h.counters[i]; });
      const io = this.stopping ? null : native.shardStats(h.init.shard);
      for (const c of IO_COUNTERS) { row[c.name] = io ? io[c.key] : 0; total[c.name] += row[c.name]; }
      row[LOG_DROPPED.name] = h.events.dropped;
      return row;
    });
    total[LOG_DROPPED.name] = perShard.reduce((n, r) => n + r[LOG_DROPPED.name], 0);
    return { total, perShard };
  }

  ports(): PortRow[] {
    return this.portList.map((p) => ({
      ...native.portInfo(p.rt.id), configName: p.name, addresses: p.addresses,
      virtualAddresses: this.virtual ? this.virtual.rows(p.name).map((r) => ({ address: r.address, claimed: r.claimed })) : [],
      stats: native.portStats(p.rt.id),
    }));
  }

  async setPortMtu(name: string, mtu: number): Promise<void> {
    const p = this.portList.find((x) => x.name === name);
    if (!p) throw new DataplaneError('E_PORT_NOT_FOUND', `no port named '${name}'`);
    native.portSetMtu(p.rt.id, mtu);
    p.rt.mtu = mtu;
    await Promise.all(this.shards.map((h) => h.mailbox.request({ type: 'mtu', port: p.rt.id, mtu } satisfies ShardMessage)));
  }

  /**
   * `nat64 port claim` / `port release` (docs/ha.md): hold or give up virtual addresses (all, those
   * of `port`, or the listed ones; checked before anything changes). Idempotent: only the addresses
   * a claim newly takes are announced, so a check that re-asserts a claim every few seconds
   * (config/keepalived/nat64-vrrp-check.sh) costs nothing while they are held. A failed
   * announcement does not undo the claim: the repeats try again, and neighbours that ask get answers.
   */
  async setVirtual(claim: boolean, port?: string, addresses?: string[]): Promise<VirtualRow[]> {
    const va = this.virtual;
    if (!va) throw new DataplaneError('E_STATE', 'data plane not started');
    let selected: VirtualAddress[];
    try {
      selected = va.select(port, addresses, this.portList.map((p) => p.name));
    } catch (e) {
      if (e instanceof VirtualAddressError) throw new DataplaneError(e.code, e.message);
      throw e;
    }
    const taken = va.set(selected, claim);
    if (claim && taken.length > 0) {
      await this.announce(taken).catch(() => undefined);
      for (const ms of ANNOUNCE_REPEAT_MS) {
        const t = setTimeout(() => {
          this.announceTimers.delete(t);
          const still = taken.filter((v) => va.isClaimed(v));
          if (still.length && !this.stopping) this.announce(still).catch(() => undefined);
        }, ms);
        t.unref();
        this.announceTimers.add(t);
      }
    }
    return selected.map((v) => ({ port: v.port, address: v.text, claimed: va.isClaimed(v) }));
  }

  /** Shard 0 sends the announcements (any shard could: each has a tx queue on every port). */
  private async announce(list: VirtualAddress[]): Promise<void> {
    const items = list.map((v) => ({ port: v.portIndex, family: v.family, addr4: v.addr4, addr6: v.addr6 }));
    await this.shards[0].mailbox.request({ type: 'announce', items } satisfies ShardMessage);
  }

  bib(protocol?: Protocol, within?: Within6): BibRow[] {
    return this.shards.flatMap((h) => readBib(h.init.tables as ShardTableBuffers, h.init.shard, protocol, within));
  }

  sessions(protocol?: Protocol, within?: Within6): SessionRow[] {
    const now = Date.now();
    return this.shards.flatMap((h) => readSessions(h.init.tables as ShardTableBuffers, h.init.shard, now, protocol, within));
  }

  subscribers(top: number): SubscriberReport {
    return mergeSubscribers(this.shards.map((h) => readSubscribers(h.init.tables as ShardTableBuffers)), top);
  }

  /** BIB entries and sessions per shard and protocol (metrics): counts only, no rows. */
  tableCounts(): Array<{ shard: number; bib: Record<Protocol, number>; sessions: Record<Protocol, number> }> {
    return this.shards.map((h) => ({ shard: h.init.shard, ...countTables(h.init.tables as ShardTableBuffers) }));
  }

  /** Shard liveness and restarts (for status displays and the reliability tests). */
  shardStatus(): ShardStatusRow[] {
    const now = Date.now() % 0x7fffffff;
    return this.shards.map((h) => ({
      shard: h.init.shard, restarts: h.restarts, lastRestartMs: h.lastRestartMs, heartbeatAgeMs: now - h.mailbox.heartbeat(),
    }));
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (this.drainTimer) clearInterval(this.drainTimer);
    for (const t of this.announceTimers) clearTimeout(t);
    this.drainEvents();
    for (const h of this.shards) h.mailbox.stop();
    const deadline = new Promise((r) => setTimeout(r, 5000).unref());
    await Promise.race([Promise.allSettled(this.shards.map((h) => h.task)), deadline]);
    if (this.pool) await this.pool.destroy();
    if (native.ealInitialized()) native.shutdown();
  }
}
