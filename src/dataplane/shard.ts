import { native } from '../native';
import { RX_DATA, RX_LEN, RX_PORT, V_ACTION } from './abi';
import { C } from './counters';
import { MailboxServer } from './mailbox';
import { ETH_HLEN, ETHERTYPE_IPV4, ETHERTYPE_IPV6 } from './l2/ethernet';
import type { ShardInit, ShardMessage } from './shard-init';
import { ShardContext } from './shard-context';
import { Ingress } from './ingress';
import { Egress } from './egress';
import { EventRing } from './events';
import { SyncRing } from './sync/ring';
import { icmpErrorBucket } from './translate/icmp-rate-limit';
import { EXPIRE_BURST_BUDGET } from './core';
import { MissPrefetch } from './miss-prefetch';

/** Empty polls before an idle shard sleeps (≈ a few hundred µs of spinning keeps latency low under load). */
const SPIN_POLLS = 256;
/** Longest idle sleep; bounds the added latency of the first packet after a quiet period. */
const IDLE_SLEEP_MS = 1;
/**
 * First idle sleep after traffic stops; doubled at each further sleep up to IDLE_SLEEP_MS. A packet
 * arriving in a short gap between bursts waits ~50 µs instead of up to 1 ms, and an idle shard
 * still sleeps 1 ms at a time (after ~2 ms of backing off).
 */
const IDLE_SLEEP_MIN_MS = 0.05;
/**
 * Session slots per shard from which the burst's first pass stages the full path's lookups
 * (miss-prefetch.ts) and loads the sets' first two ways first. Below, the tables and the cache
 * mostly sit in the CPU's caches and the stages cost more than the misses they hide (measured, 6to4
 * UDP 1 shard, shard CPU ns per packet: 64 k sessions 180-204 staged vs 157-180 not; 256 k 200-223
 * vs 214-248; 1 M 317-323 vs 348-369; 4 M 948-1020 vs 1660-1764).
 */
const STAGED_MIN_CAPACITY = 1 << 18;
/** Housekeeping (mailbox, timers, held packets) at least this often while busy. */
const HOUSEKEEPING_MS = 10;
/**
 * Between bursts, housekeeping after this many empty polls (and after every idle sleep), not after
 * each: its Date.now() allocates a heap number, and a shard polling between the bursts of a flood
 * made ~60 MB/s of them (a scavenge every 15-20 ms, with parallel GC tasks on the same cores).
 */
const HOUSEKEEPING_POLLS = 16;

/**
 * One shard: run-to-completion over the rx queues it owns plus its hand-off ring. Receive a burst,
 * prefetch its flow-cache lines, give every frame a verdict (ingress.ts: ARP/ND/echo answered in
 * place, translation by the core, hand-off to the owning shard; egress.ts: route, next hop, hold for
 * ARP/ND), transmit, and do the timers and control messages between bursts (DPDK l3fwd's shape).
 * Nothing here allocates or throws per packet; every exit bumps one counter.
 */
export class Shard {
  private readonly shard: number;
  private readonly ctx: ShardContext;
  private readonly ingress: Ingress;
  private readonly egress: Egress;
  private readonly mailbox: MailboxServer;
  private readonly events: EventRing | null;
  private readonly syncRing: SyncRing | null;
  /** Staged prefetch of the full path's lookups for frames that miss the flow cache. */
  private readonly missPrefetch: MissPrefetch;
  /** Tables of STAGED_MIN_CAPACITY slots or more: missPrefetch runs (else the plain set prefetch). */
  private readonly staged: boolean;
  /** logging-debug: bursts take traceBurst() instead of the plain loop (one check per burst). */
  private debug = false;
  private readonly debugBefore: Float64Array;
  private lastExpire = 0;
  /** core.expire() ran out of budget with sessions still due: go on after every burst and at housekeeping. */
  private expireBehind = false;
  /** Keeps prefetch()'s loads alive (its value means nothing). */
  private prefetched = 0;
  /** Set by a 'test-crash' message (test hooks only); acted on outside the mailbox handler. */
  private crash: 'throw' | 'exit' | null = null;

  constructor(private readonly init: ShardInit) {
    this.shard = init.shard;
    const ctx = this.ctx = new ShardContext(init);
    this.mailbox = new MailboxServer(init.mailbox);
    this.egress = new Egress(ctx);
    this.ingress = new Ingress(ctx, this.egress);
    ctx.core.setSink(this.egress.fragmentSink());
    this.staged = init.tables.capacity >= STAGED_MIN_CAPACITY;
    const plan = ctx.flows.prefetchPlan(this.staged);
    native.flowPrefetchRegister(init.shard, plan.table6, plan.table4, plan.list, plan.ways);
    this.missPrefetch = new MissPrefetch(init.shard, ctx.core, ctx.flows);
    ctx.core.setHeldSynListener(this.egress);
    this.events = init.events ? new EventRing(init.events) : null;
    this.syncRing = init.syncRing ? new SyncRing(init.syncRing) : null;
    this.debugBefore = new Float64Array(ctx.c.length);
    ctx.enabled = this.applyInstance(init.instance);
    const lim = init.icmpErrors ?? { perSecond: 0, burst: 1 };
    icmpErrorBucket.configure(lim.perSecond, lim.burst, Date.now());
  }

  /** The burst loop; returns when the control plane asks the shard to stop. */
  run(): void {
    const shard = this.shard, ctx = this.ctx, ingress = this.ingress;
    const mb = this.mailbox;
    let idle = 0;
    let sleepMs = IDLE_SLEEP_MIN_MS;
    let nextHousekeeping = 0;
    for (;;) {
      const n = native.rx(shard);
      if (n > 0) {
        const now = Date.now();
        if (this.debug) this.traceBurst(n, now);
        else {
          if (ctx.enabled && ctx.cached) this.prefetch(n);
          for (let i = 0; i < n; i++) ingress.frame(i, now);
        }
        native.tx(shard, n);
        // Behind on expiry (churn): a little after every burst until caught up (core.ts EXPIRE_BUDGET).
        if (this.expireBehind) this.expireBehind = ctx.core.expire(now, EXPIRE_BURST_BUDGET);
        idle = 0;
        sleepMs = IDLE_SLEEP_MIN_MS;
        if (now < nextHousekeeping) continue;
        nextHousekeeping = now + HOUSEKEEPING_MS;
      } else if (++idle > SPIN_POLLS) {
        mb.sleep(mb.doorbell(), sleepMs);
        sleepMs = Math.min(sleepMs * 2, IDLE_SLEEP_MS);
        idle = SPIN_POLLS - HOUSEKEEPING_POLLS; // poll a few times after waking before sleeping again
      } else if (idle % HOUSEKEEPING_POLLS !== 0) {
        if (mb.stopRequested()) break;
        continue;
      }
      if (mb.stopRequested()) break;
      this.housekeeping(Date.now());
      if (this.crash !== null) this.crashNow();
    }
    this.egress.releasePending();
  }

  private housekeeping(now: number): void {
    const mb = this.mailbox;
    icmpErrorBucket.refill(now);
    if (mb.pending()) mb.serve((m) => this.control(m as ShardMessage));
    if (this.ctx.pending.count > 0) this.egress.retryPending(now);
    const due = now - this.lastExpire >= 100;
    // Expiry every 100 ms, or at each housekeeping (and after each burst) while sessions are left due (churn).
    if (due || this.expireBehind) this.expireBehind = this.ctx.core.expire(now);
    if (due) {
      this.lastExpire = now;
      this.ctx.c[C['frag-timeout']] += native.fragExpire(this.shard);
      mb.beat(now);
    }
  }

  private control(m: ShardMessage): unknown {
    switch (m.type) {
      case 'instance': this.ctx.enabled = this.applyInstance(m.cfg); return true;
      case 'mtu': {
        const i = this.ctx.portIndex[m.port];
        if (i >= 0) this.ctx.ports[i].mtu = m.mtu;
        this.syncMtu();
        return true;
      }
      case 'ping': return { shard: this.shard };
      case 'sync-apply': {
        // A peer's records are not sent on again (every peer hears the sender itself).
        const sessions = this.ctx.core.tables.sessions, ring = sessions.sync;
        sessions.sync = null;
        try {
          return this.ctx.core.applyPeer(m.recs, m.n, Date.now());
        } finally {
          sessions.sync = ring;
        }
      }
      case 'announce': return m.items.filter((a) => this.egress.announce(a.port, a.family, a.addr4, a.addr6)).length;
      case 'test-crash':
        if (!this.init.testHooks) throw Object.assign(new Error('test hooks are off (NAT64_TEST_HOOKS)'), { code: 'E_NO_TEST_HOOKS' });
        this.crash = m.how;
        return true;
    }
  }

  /**
   * Reliability tests only: die the way a bug would, mid-loop, after the mailbox acknowledged the
   * request. 'throw' rejects the Piscina task (the worker thread lives on); 'exit' ends the worker
   * thread (Piscina starts a new one). Either way the manager relaunches the shard over the same
   * shared-memory tables.
   */
  private crashNow(): never {
    if (this.crash === 'exit') process.exit(70);
    throw new Error(`shard ${this.shard}: crash requested by a test hook`);
  }

  private applyInstance(cfg: ShardInit['instance']): boolean {
    const ctx = this.ctx;
    // Mapping logs follow the new globals; on removal the old setting still logs what goes away.
    if (cfg !== null) this.setLogging(cfg.globals.logging.bib, cfg.globals.logging.session);
    // ss-enabled: sessions created, changed and removed from now on are written for the peers.
    this.ctx.core.tables.sessions.sync = cfg !== null && cfg.globals.ssEnabled === true ? this.syncRing : null;
    this.debug = cfg !== null && cfg.globals.logging.debug === true && this.events !== null;
    ctx.core.configure(cfg, ctx.own.all4());
    if (cfg === null) this.setLogging(false, false);
    const self6 = new Uint8Array(16);
    const v6port = ctx.ports.findIndex((p) => p.v6.length > 0);
    if (v6port >= 0) ctx.own.first6(v6port, self6, 0);
    const v4port = ctx.ports.findIndex((p) => p.v4.length > 0);
    ctx.core.setSelf(self6, v4port >= 0 ? ctx.own.first4(v4port) : 0);
    this.syncMtu();
    return cfg !== null && cfg.globals.manuallyEnabled;
  }

  /** logging-bib / logging-session: the tables write to the event ring only while on (events.ts). */
  private setLogging(bib: boolean, session: boolean): void {
    const t = this.ctx.core.tables;
    t.bib.log = bib ? this.events : null;
    t.sessions.log = session ? this.events : null;
    t.subscribers.log = this.events; // subscriber-limit lines: always (RFC 6888 REQ-4, rate-limited)
  }

  /**
   * The logging-debug path: each frame as usual, then one trace record with its verdict and the
   * counters its steps bumped (every exit of a step counts, so they name the steps it went
   * through). Copies the counters per packet: for debugging only, never taken when the global is off.
   */
  private traceBurst(n: number, now: number): void {
    const c = this.ctx.c, before = this.debugBefore, rx = this.ctx.rx, v = this.ctx.v, ev = this.events!;
    for (let i = 0; i < n; i++) {
      before.set(c);
      this.ingress.frame(i, now);
      let s0 = -1, s1 = -1, s2 = -1, s3 = -1, k = 0;
      for (let j = 0; j < c.length && k < 4; j++) {
        if (c[j] === before[j] || j === C['received']) continue;
        if (k === 0) s0 = j; else if (k === 1) s1 = j; else if (k === 2) s2 = j; else s3 = j;
        k++;
      }
      ev.packet(rx[i * 4 + RX_PORT], rx[i * 4 + RX_LEN], v[i * 4 + V_ACTION], s0, s1, s2, s3);
    }
  }

  /** The core's MTU arithmetic (RFC 7915 §4.4/§5.4) uses the MTUs of the IPv6-side and IPv4-side ports. */
  private syncMtu(): void {
    const ctx = this.ctx;
    const v6port = ctx.ports.findIndex((p) => p.v6.length > 0);
    const v4port = ctx.ports.findIndex((p) => p.v4.length > 0);
    ctx.core.setMtu(v6port >= 0 ? ctx.ports[v6port].mtu : 1280, v4port >= 0 ? ctx.ports[v4port].mtu : 1500);
    ctx.flows.invalidate(); // also reached from applyInstance: configuration and MTUs both end here
  }

  /**
   * First pass over a burst: start the flow-cache loads of every TCP/UDP frame (FlowCache.note6, touch)
   * so that their cache misses overlap; the second pass (Ingress.frame) then finds the lines in cache.
   * Only the bytes it reads are checked: Ingress.frame validates everything as before.
   */
  private prefetch(n: number): void {
    const ctx = this.ctx, rx = ctx.rx, buf = ctx.buf, dv = ctx.dv, flows = ctx.flows;
    for (let i = 0; i < n; i++) {
      const b = i * 4, frame = rx[b + RX_DATA], ip = frame + ETH_HLEN;
      flows.skip(i);
      if (rx[b + RX_LEN] < ETH_HLEN + 44) continue;
      const type = dv.getUint16(frame + 12);
      if (type === ETHERTYPE_IPV6) {
        const nh = buf[ip + 6];
        if (nh === 17 || nh === 6) flows.note6(i, buf, ip);
      } else if (type === ETHERTYPE_IPV4 && buf[ip] === 0x45) {
        const proto = buf[ip + 9];
        if (proto === 17 || proto === 6) flows.note4(i, buf, ip);
      }
    }
    // The sets' lines by native prefetch (non-blocking, unlike a JS load), then the sessions' words
    // hits touch, then for the frames whose set does not hold their flow, the full path's lines.
    native.flowPrefetch(this.shard, n);
    this.prefetched = this.staged ? this.missPrefetch.run(n, rx, buf) : flows.touchSessions(n);
  }
}
