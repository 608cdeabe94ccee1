import { native } from '../native';
import {
  Action, MIN_HEADROOM, RX_DATA, RX_LEN, RX_MBUF, RX_PORT, V_ACTION, V_DATA, V_LEN, V_PARAM,
} from './abi';
import { C } from './counters';
import { Result } from './core-api';
import { Nat64Core } from './core';
import { MailboxServer } from './mailbox';
import { ETH_HLEN, ETHERTYPE_ARP, ETHERTYPE_IPV4, ETHERTYPE_IPV6, isForUs, writeEthernet } from './l2/ethernet';
import { OwnAddresses, PortRuntime, RouteTable, word6 } from './l2/interfaces';
import { NeighborTable, NeighState } from './l2/neighbors';
import { PendingQueue, PENDING_TIMEOUT_MS } from './l2/pending';
import {
  answerArpRequest, arpSenderIp, arpTargetIp, ARP_SHA, buildArpRequest, isArpReply, isArpRequest, isValidArp,
} from './l2/arp';
import { advertisedLla, answerNeighborSolicitation, buildNeighborSolicitation, ICMP6_NA, ICMP6_NS, isValidNd, solicitorLla } from './l2/ndp';
import { answerEcho4, answerEcho6 } from './l2/local';
import type { ShardInit, ShardMessage } from './shard-init';
import { get32 } from './packet/bytes';
import { HELD_CAPACITY } from './tables/layout';
import type { HeldSynListener } from './tables/held-syn';
import type { PacketSink } from './translate/fragment';
import { EventRing } from './events';
import { FlowCache } from './flow-cache';
import { icmpErrorBucket } from './translate/icmp-rate-limit';
import { fragCounter, fragmentOwner4, fragmentOwner6, isFragment4, isFragment6 } from './packet/fragments';

/** Source MAC of frames one shard hands to another after hairpin translation. */
const INTERNAL_SOURCE_MAC = new Uint8Array(6);
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
/** Housekeeping (mailbox, timers, held packets) at least this often while busy. */
const HOUSEKEEPING_MS = 10;

/**
 * One shard: run-to-completion over the rx queues it owns plus its hand-off ring. Receive a burst,
 * give every frame a verdict (ARP/ND/echo answered in place, translation by the core, hand-off to
 * the owning shard, hold for ARP/ND), transmit, and do the timers between bursts (DPDK l3fwd's
 * shape). Nothing here allocates or throws per packet; every exit bumps one counter.
 */
export class Shard implements HeldSynListener {
  private readonly shard: number;
  private readonly buf: Uint8Array;
  /** The same arena as 32/16-bit big-endian words. */
  private readonly dv: DataView;
  /** Per port index: the port's MAC as a 16-bit and a 32-bit word. */
  private readonly macHi: Int32Array;
  private readonly macLo: Int32Array;
  private readonly rx: Uint32Array;
  private readonly v: Int32Array;
  private readonly dataStart: number;
  private readonly bufLen: number;
  private readonly c: Float64Array;
  private readonly core: Nat64Core;
  private readonly mailbox: MailboxServer;
  private readonly ports: PortRuntime[];
  private readonly portIndex = new Int16Array(1024).fill(-1);
  private readonly routes: RouteTable;
  private readonly own: OwnAddresses;
  private readonly neigh: NeighborTable;
  /** Exact-match cache of plain translations (flow-cache.ts): the fast path of common packets. */
  private readonly flows: FlowCache;
  /** dataplane.flowCacheEntries is not 0: TCP/UDP packets try the flow cache first. */
  private readonly cached: boolean;
  private readonly pending = new PendingQueue();
  /** Stored IPv4 SYNs by held-SYN slot: mbuf handle, L3 offset, length (-1: none). */
  private readonly stored = new Float64Array(HELD_CAPACITY * 3).fill(-1);
  private readonly events: EventRing | null;
  /** logging-debug: bursts take traceBurst() instead of the plain loop (one check per burst). */
  private debug = false;
  private readonly debugBefore: Float64Array;
  private enabled: boolean;
  private lastExpire = 0;
  /** Keeps prefetch()'s loads alive (its value means nothing). */
  private prefetched = 0;
  /** Set by a 'test-crash' message (test hooks only); acted on outside the mailbox handler. */
  private crash: 'throw' | 'exit' | null = null;

  constructor(private readonly init: ShardInit) {
    this.shard = init.shard;
    const views = native.shardAttach(init.shard);
    this.buf = new Uint8Array(views.arena);
    this.rx = views.rxDesc;
    this.v = views.verdict;
    this.dataStart = views.mbufDataStart;
    this.bufLen = views.mbufBufLen;
    this.c = new Float64Array(init.counters);
    this.ports = init.ports;
    this.dv = new DataView(views.arena);
    this.macHi = new Int32Array(init.ports.length);
    this.macLo = new Int32Array(init.ports.length);
    init.ports.forEach((p, i) => {
      this.portIndex[p.id] = i;
      this.macHi[i] = (p.mac[0] << 8) | p.mac[1];
      this.macLo[i] = (p.mac[2] << 24) | (p.mac[3] << 16) | (p.mac[4] << 8) | p.mac[5];
    });
    this.routes = new RouteTable(init.ports);
    this.own = new OwnAddresses(init.ports);
    this.neigh = new NeighborTable(init.neighbors);
    this.mailbox = new MailboxServer(init.mailbox);
    this.core = new Nat64Core(init.shard, init.shards, init.tables, this.c);
    this.core.setSink(this.fragmentSink());
    this.core.setSinkBuffer(this.buf);
    this.cached = init.flowCacheEntries !== 0;
    this.flows = new FlowCache(init.tables.capacity, init.ports.map((p) => p.mac), this.core, this.c, native,
      this.cached ? init.flowCacheEntries : 4);
    const plan = this.flows.prefetchPlan();
    native.flowPrefetchRegister(init.shard, plan.table6, plan.table4, plan.list, plan.ways);
    this.core.setHeldSynListener(this);
    this.events = init.events ? new EventRing(init.events) : null;
    this.debugBefore = new Float64Array(this.c.length);
    this.enabled = this.applyInstance(init.instance);
    const lim = init.icmpErrors ?? { perSecond: 0, burst: 1 };
    icmpErrorBucket.configure(lim.perSecond, lim.burst, Date.now());
  }

  /** The burst loop; returns when the control plane asks the shard to stop. */
  run(): void {
    const shard = this.shard;
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
          if (this.enabled && this.cached) this.prefetch(n);
          for (let i = 0; i < n; i++) this.frame(i, now);
        }
        native.tx(shard, n);
        idle = 0;
        sleepMs = IDLE_SLEEP_MIN_MS;
        if (now < nextHousekeeping) continue;
        nextHousekeeping = now + HOUSEKEEPING_MS;
      } else if (++idle > SPIN_POLLS) {
        mb.sleep(mb.doorbell(), sleepMs);
        sleepMs = Math.min(sleepMs * 2, IDLE_SLEEP_MS);
        idle = SPIN_POLLS - 16; // poll a few times after waking before sleeping again
      }
      if (mb.stopRequested()) break;
      this.housekeeping(Date.now());
      if (this.crash !== null) this.crashNow();
    }
    this.releasePending();
  }

  private housekeeping(now: number): void {
    const mb = this.mailbox;
    icmpErrorBucket.refill(now);
    if (mb.pending()) mb.serve((m) => this.control(m as ShardMessage));
    if (this.pending.count > 0) this.retryPending(now);
    if (now - this.lastExpire >= 100) {
      this.lastExpire = now;
      this.core.expire(now);
      this.c[C['frag-timeout']] += native.fragExpire(this.shard);
      mb.beat(now);
    }
  }

  private control(m: ShardMessage): unknown {
    switch (m.type) {
      case 'instance': this.enabled = this.applyInstance(m.cfg); return true;
      case 'mtu': {
        const i = this.portIndex[m.port];
        if (i >= 0) this.ports[i].mtu = m.mtu;
        this.syncMtu();
        return true;
      }
      case 'ping': return { shard: this.shard };
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
    // Mapping logs follow the new globals; on removal the old setting still logs what goes away.
    if (cfg !== null) this.setLogging(cfg.globals.logging.bib, cfg.globals.logging.session);
    this.debug = cfg !== null && cfg.globals.logging.debug === true && this.events !== null;
    this.core.configure(cfg, this.own.all4());
    if (cfg === null) this.setLogging(false, false);
    const self6 = new Uint8Array(16);
    const v6port = this.ports.findIndex((p) => p.v6.length > 0);
    if (v6port >= 0) this.own.first6(v6port, self6, 0);
    const v4port = this.ports.findIndex((p) => p.v4.length > 0);
    this.core.setSelf(self6, v4port >= 0 ? this.own.first4(v4port) : 0);
    this.syncMtu();
    return cfg !== null && cfg.globals.manuallyEnabled;
  }

  /** logging-bib / logging-session: the tables write to the event ring only while on (events.ts). */
  private setLogging(bib: boolean, session: boolean): void {
    const t = this.core.tables;
    t.bib.log = bib ? this.events : null;
    t.sessions.log = session ? this.events : null;
  }

  /**
   * The logging-debug path: each frame as usual, then one trace record with its verdict and the
   * counters its steps bumped (every exit of a step counts, so they name the steps it went
   * through). Copies the counters per packet: for debugging only, never taken when the global is off.
   */
  private traceBurst(n: number, now: number): void {
    const c = this.c, before = this.debugBefore, rx = this.rx, ev = this.events!;
    for (let i = 0; i < n; i++) {
      before.set(c);
      this.frame(i, now);
      let s0 = -1, s1 = -1, s2 = -1, s3 = -1, k = 0;
      for (let j = 0; j < c.length && k < 4; j++) {
        if (c[j] === before[j] || j === C['received']) continue;
        if (k === 0) s0 = j; else if (k === 1) s1 = j; else if (k === 2) s2 = j; else s3 = j;
        k++;
      }
      ev.packet(rx[i * 4 + RX_PORT], rx[i * 4 + RX_LEN], this.v[i * 4 + V_ACTION], s0, s1, s2, s3);
    }
  }

  /** The core's MTU arithmetic (RFC 7915 §4.4/§5.4) uses the MTUs of the IPv6-side and IPv4-side ports. */
  private syncMtu(): void {
    const v6port = this.ports.findIndex((p) => p.v6.length > 0);
    const v4port = this.ports.findIndex((p) => p.v4.length > 0);
    this.core.setMtu(v6port >= 0 ? this.ports[v6port].mtu : 1280, v4port >= 0 ? this.ports[v4port].mtu : 1500);
    this.flows.invalidate(); // also reached from applyInstance: configuration and MTUs both end here
  }

  /**
   * First pass over a burst: start the flow-cache loads of every TCP/UDP frame (FlowCache.note6, touch)
   * so that their cache misses overlap; the second pass (frame()) then finds the lines in cache.
   * Only the bytes it reads are checked: frame() validates everything as before.
   */
  private prefetch(n: number): void {
    const rx = this.rx, buf = this.buf, flows = this.flows;
    for (let i = 0; i < n; i++) {
      const b = i * 4, frame = rx[b + RX_DATA], ip = frame + ETH_HLEN;
      flows.skip(i);
      if (rx[b + RX_LEN] < ETH_HLEN + 44) continue;
      const type = this.dv.getUint16(frame + 12);
      if (type === ETHERTYPE_IPV6) {
        const nh = buf[ip + 6];
        if (nh === 17 || nh === 6) flows.note6(i, buf, ip);
      } else if (type === ETHERTYPE_IPV4 && buf[ip] === 0x45) {
        const proto = buf[ip + 9];
        if (proto === 17 || proto === 6) flows.note4(i, buf, ip);
      }
    }
    // The sets' lines by native prefetch (non-blocking, unlike a JS load), then the sessions' words.
    native.flowPrefetch(this.shard, n);
    this.prefetched = flows.touchSessions(n);
  }

  // ---- per frame -------------------------------------------------------------------------------

  private frame(i: number, now: number): void {
    const b = i * 4;
    const rx = this.rx, v = this.v, buf = this.buf, c = this.c;
    const frame = rx[b + RX_DATA], len = rx[b + RX_LEN];
    v[b + V_ACTION] = Action.DROP;
    c[C['received']]++;
    const pi = this.portIndex[rx[b + RX_PORT]];
    if (len < ETH_HLEN) { c[C['l2-not-for-us']]++; return; }
    // The common frame, unicast to the port's MAC, in two word compares; the rest byte by byte.
    const dv = this.dv, hi = this.macHi[pi], lo = this.macLo[pi];
    const unicastToUs = dv.getUint16(frame) === hi && dv.getInt32(frame + 2) === lo;
    if (!unicastToUs && !isForUs(buf, frame, this.ports[pi].mac)) { c[C['l2-not-for-us']]++; return; }
    if (dv.getUint16(frame + 6) === hi && dv.getInt32(frame + 8) === lo) { c[C['l2-not-for-us']]++; return; } // our own frame
    const type = dv.getUint16(frame + 12);
    if (type === ETHERTYPE_IPV6) this.ipv6(b, frame, len, pi, now);
    else if (type === ETHERTYPE_IPV4) this.ipv4(b, frame, len, pi, now);
    else if (type === ETHERTYPE_ARP) this.arp(b, frame, len, pi, now);
    else c[C['l2-unknown-ethertype']]++;
  }

  /** Bytes writable from `off` to the end of this descriptor's mbuf buffer. */
  private cap(b: number, off: number): number {
    return this.rx[b + RX_MBUF] + this.dataStart + this.bufLen - off;
  }

  private ipv6(b: number, frame: number, len: number, pi: number, now: number): void {
    const buf = this.buf, c = this.c;
    const ip = frame + ETH_HLEN;
    const payload = (buf[ip + 4] << 8) | buf[ip + 5];
    if (len < ETH_HLEN + 40 || (buf[ip] >>> 4) !== 6 || ETH_HLEN + 40 + payload > len) { c[C['ipv6-hdr-truncated']]++; return; }
    const l3len = 40 + payload; // frames may carry Ethernet padding after the packet
    const nh = buf[ip + 6];
    const tried = this.enabled && this.cached && (nh === 17 || nh === 6);
    if (tried) {
      const flen = this.flows.hit6(buf, ip, payload, now, this.neigh.generation());
      if (flen > 0) { this.txHere(b, this.flows.port, this.flows.frame, flen); return; }
    }
    const ownPort = this.own.port6(buf, ip + 24);
    if (buf[ip + 24] === 0xff || ownPort >= 0) { this.local6(b, frame, len, pi, payload, now); return; }
    if (!this.enabled) { c[C['no-instance']]++; return; }
    if (this.core.inPool6(buf, ip + 24)) {
      if (isFragment6(buf, ip, l3len)) { this.reassemble(b, 6, fragmentOwner6(buf, ip, this.init.shards)); return; }
      const owner = this.core.ownerOf6(buf, ip, l3len);
      if (owner !== this.shard) { this.handoff(b, owner); return; }
      const r = this.core.process6(buf, ip, l3len, this.cap(b, ip), now);
      this.emit(b, r, now, 0);
      if (tried && r === Result.EMIT4) this.remember(b, 6);
      return;
    }
    c[C['pool6-mismatch']]++;
  }

  private local6(b: number, frame: number, len: number, pi: number, payload: number, now: number): void {
    const buf = this.buf, c = this.c, ip = frame + ETH_HLEN, icmp = ip + 40;
    if (buf[ip + 6] !== 58 || payload < 8) { c[C['local-not-handled']]++; return; }
    const type = buf[icmp];
    if (type === ICMP6_NS || type === ICMP6_NA) {
      if (!isValidNd(buf, ip, payload)) { c[C['nd-ignored']]++; return; }
      const targetOurs = this.own.port6(buf, icmp + 8) === pi;
      if (type === ICMP6_NS) {
        if (!targetOurs) { c[C['nd-ignored']]++; return; }
        const lla = solicitorLla(buf, icmp, payload);
        if (lla >= 0) this.learn6(buf, ip + 8, pi, buf, lla, now);
        const flen = answerNeighborSolicitation(buf, frame, this.ports[pi].mac, payload);
        this.txHere(b, pi, frame, flen);
        c[C['nd-solicit-answered']]++;
        return;
      }
      const lla = advertisedLla(buf, icmp, payload);
      if (lla < 0) { c[C['nd-ignored']]++; return; }
      this.learn6(buf, icmp + 8, pi, buf, lla, now);
      c[C['nd-advert-learned']]++;
      return;
    }
    if (buf[ip + 24] !== 0xff && answerEcho6(buf, frame, payload)) {
      this.txHere(b, pi, frame, ETH_HLEN + 40 + payload);
      c[C['local-icmp-echo-answered']]++;
      return;
    }
    c[C['local-not-handled']]++;
  }

  private ipv4(b: number, frame: number, len: number, pi: number, now: number): void {
    const buf = this.buf, c = this.c;
    const ip = frame + ETH_HLEN;
    const total = (buf[ip + 2] << 8) | buf[ip + 3];
    const ihl = (buf[ip] & 0x0f) * 4;
    if (len < ETH_HLEN + 20 || (buf[ip] >>> 4) !== 4 || ihl < 20 || total < ihl || ETH_HLEN + total > len) {
      c[C['ipv4-hdr-truncated']]++; return;
    }
    const dst = get32(buf, ip + 16);
    const proto = buf[ip + 9];
    const tried = this.enabled && this.cached && ihl === 20 && (proto === 17 || proto === 6);
    if (tried) {
      const flen = this.flows.hit4(buf, ip, total, now, this.neigh.generation());
      if (flen > 0) { this.txHere(b, this.flows.port, this.flows.frame, flen); return; }
    }
    const ownPort = this.own.port4(dst);
    if (this.enabled && this.core.isPool4Address(dst)) {
      if (isFragment4(buf, ip)) { this.reassemble(b, 4, fragmentOwner4(buf, ip, this.init.shards)); return; }
      const owner = this.core.ownerOf4(buf, ip, total);
      if (owner !== this.shard) { this.handoff(b, owner); return; }
      const missesBefore = c[C['bib4-not-found']];
      const r = this.core.process4(buf, ip, total, this.cap(b, ip), now);
      // Like Jool, a packet for our own address that matches no mapping is the host's: answer pings.
      if (r === Result.DROP && ownPort >= 0 && c[C['bib4-not-found']] !== missesBefore && answerEcho4(buf, frame, total)) {
        c[C['bib4-not-found']]--;
        c[C['local-icmp-echo-answered']]++;
        this.txHere(b, pi, frame, ETH_HLEN + total);
        return;
      }
      this.emit(b, r, now, 0);
      if (tried && r === Result.EMIT6) this.remember(b, 4);
      return;
    }
    if (ownPort >= 0) {
      if (answerEcho4(buf, frame, total)) {
        this.txHere(b, pi, frame, ETH_HLEN + total);
        c[C['local-icmp-echo-answered']]++;
      } else c[C['local-not-handled']]++;
      return;
    }
    c[this.enabled ? C['pool4-mismatch'] : C['no-instance']]++;
  }

  private arp(b: number, frame: number, len: number, pi: number, now: number): void {
    const buf = this.buf, c = this.c, arp = frame + ETH_HLEN;
    if (!isValidArp(buf, arp, len - ETH_HLEN)) { c[C['arp-ignored']]++; return; }
    const target = arpTargetIp(buf, arp);
    const ours = this.own.port4(target) === pi || (this.enabled && this.core.isPool4Address(target));
    if (!ours) { c[C['arp-ignored']]++; return; }
    const sender = arpSenderIp(buf, arp);
    // RFC 826 "merge": whoever asks for us or answers us is a neighbour worth remembering.
    if (sender !== 0) this.neigh.learn(4, sender | 0, 0, 0, 0, pi, buf, arp + ARP_SHA, now);
    if (isArpRequest(buf, arp)) {
      this.txHere(b, pi, frame, answerArpRequest(buf, frame, this.ports[pi].mac));
      c[C['arp-request-answered']]++;
    } else if (isArpReply(buf, arp)) c[C['arp-reply-learned']]++;
    else c[C['arp-ignored']]++;
  }

  private learn6(buf: Uint8Array, addrOff: number, pi: number, macBuf: Uint8Array, macOff: number, now: number): void {
    if (buf[addrOff] === 0xff) return;
    let zero = true;
    for (let k = 0; k < 16; k++) if (buf[addrOff + k] !== 0) { zero = false; break; }
    if (zero) return;
    this.neigh.learn(6, word6(buf, addrOff, 0), word6(buf, addrOff, 1), word6(buf, addrOff, 2), word6(buf, addrOff, 3),
      pi, macBuf, macOff, now);
  }

  // ---- output ----------------------------------------------------------------------------------

  private txHere(b: number, pi: number, data: number, len: number): void {
    const v = this.v;
    v[b + V_ACTION] = Action.TX; v[b + V_PARAM] = this.ports[pi].id; v[b + V_DATA] = data; v[b + V_LEN] = len;
    this.c[C['transmitted']]++;
  }

  /**
   * After the full path translated and transmitted a packet the flow cache missed: if the core
   * says it took the plain exit, the cache remembers the rewrite (the frame's MAC, the route's
   * port and MTU, the neighbour's age) for the next packets of the flow.
   */
  private remember(b: number, family: number): void {
    if (this.v[b + V_ACTION] !== Action.TX || this.core.flowSession < 0) return;
    const pi = this.routes.port, frame = this.core.out.off - ETH_HLEN, gen = this.neigh.generation();
    if (family === 6) this.flows.fill6(frame, this.buf, pi, this.ports[pi].mtu, this.neigh.lastUpdated, gen);
    else this.flows.fill4(frame, this.buf, pi, this.ports[pi].mtu, this.neigh.lastUpdated, gen);
  }

  /**
   * A fragment to translate: its datagram is reassembled (native/frag.cc) by the shard that owns
   * the fragment's (source, destination, Identification), then comes back through rx() whole.
   */
  private reassemble(b: number, family: number, owner: number): void {
    if (owner !== this.shard) { this.handoff(b, owner); return; }
    const r = native.fragReassemble(this.shard, this.rx[b + RX_MBUF], family);
    this.v[b + V_ACTION] = Action.HOLD; // the addon owns the mbuf now, whatever happened to it
    this.c[fragCounter(r)]++;
  }

  private handoff(b: number, owner: number): void {
    this.v[b + V_ACTION] = Action.HANDOFF; this.v[b + V_PARAM] = owner; this.v[b + V_LEN] = 0;
    this.c[C['handoff']]++;
  }

  /** Route the core's output packet, find its next hop's MAC, frame it; hairpin it back in if asked. */
  private emit(b: number, r: Result, now: number, depth: number): void {
    const core = this.core, out = core.out, buf = this.buf, c = this.c;
    if (r === Result.DROP) return;
    if (r === Result.HAIRPIN) {
      // RFC 6146 §3.8: the IPv4 packet we just produced is for our own pool4: translate it back.
      c[C['hairpin']]++;
      const owner = core.ownerOf4(buf, out.off, out.len);
      if (owner !== this.shard || depth > 0) {
        const frame = out.off - ETH_HLEN;
        const pi = this.portIndex[this.rx[b + RX_PORT]];
        // To our own MAC from a zero source MAC: the owning shard takes it as received, and it cannot
        // be mistaken for one of our own transmissions echoed back by a packet socket.
        writeEthernet(buf, frame, this.ports[pi].mac, 0, INTERNAL_SOURCE_MAC, ETHERTYPE_IPV4);
        const v = this.v;
        v[b + V_ACTION] = Action.HANDOFF; v[b + V_PARAM] = owner; v[b + V_DATA] = frame; v[b + V_LEN] = out.len + ETH_HLEN;
        c[C['handoff']]++;
        return;
      }
      this.emit(b, core.process4(buf, out.off, out.len, this.cap(b, out.off), now), now, depth + 1);
      return;
    }
    if (r === Result.STORE) { this.store(b); return; }
    this.forward(r === Result.EMIT4 ? 4 : 6, out.off, out.len, now, this.rx[b + RX_MBUF], b);
  }

  /**
   * Route an L3 packet, find its next hop's MAC, frame it and send it. `b` is the packet's verdict
   * slot (batched tx), or -1 for a packet outside the burst (fragments, answers to stored SYNs),
   * which is sent at once, or freed when it cannot be.
   */
  private forward(family: number, off: number, len: number, now: number, mbuf: number, b: number): void {
    const buf = this.buf, c = this.c, routes = this.routes;
    const ok = family === 4 ? routes.lookup4(get32(buf, off + 16)) : routes.lookup6(buf, off + 24);
    const port = ok ? this.ports[routes.port] : null;
    if (port === null || len > port.mtu) {
      c[port === null ? C['no-route'] : C['packet-too-big']]++;
      if (b < 0) native.free(this.shard, mbuf);
      return;
    }
    const pi = routes.port;
    const n0 = family === 4 ? routes.nh4 | 0 : routes.nh6[0];
    const n1 = family === 4 ? 0 : routes.nh6[1], n2 = family === 4 ? 0 : routes.nh6[2], n3 = family === 4 ? 0 : routes.nh6[3];
    const frame = off - ETH_HLEN, type = family === 4 ? ETHERTYPE_IPV4 : ETHERTYPE_IPV6;
    const state = this.neigh.lookup(family, n0, n1, n2, n3, now);
    if (state === NeighState.REACHABLE || state === NeighState.STATIC) {
      writeEthernet(buf, frame, this.neigh.mac, 0, port.mac, type);
      if (b >= 0) this.txHere(b, pi, frame, len + ETH_HLEN);
      else { native.send(this.shard, port.id, mbuf, frame, len + ETH_HLEN); c[C['transmitted']]++; }
      if (this.neigh.lastStale && this.neigh.shouldSolicit(family, n0, n1, n2, n3, pi, now)) this.solicit(pi, family, n0, n1, n2, n3);
      return;
    }
    // Unresolved: keep the packet (frame minus the destination MAC) and ask who has the next hop.
    writeEthernet(buf, frame, port.mac, 0, port.mac, type);
    if (!this.pending.add(mbuf, frame, len + ETH_HLEN, pi, family, n0, n1, n2, n3, now + PENDING_TIMEOUT_MS)) {
      c[C['neighbor-unresolved']]++;
      if (b < 0) native.free(this.shard, mbuf);
      return;
    }
    if (b >= 0) this.v[b + V_ACTION] = Action.HOLD;
    c[C['neighbor-held']]++;
    if (this.neigh.shouldSolicit(family, n0, n1, n2, n3, pi, now)) this.solicit(pi, family, n0, n1, n2, n3);
  }

  /** RFC 6146 §3.5.2.2: keep the IPv4 SYN the core stored (its L3 packet is where process4 saw it). */
  private store(b: number): void {
    const slot = this.core.storedSlot, st = this.stored;
    const ip = this.rx[b + RX_DATA] + ETH_HLEN;
    if (st[slot * 3] >= 0) native.free(this.shard, st[slot * 3]); // a slot a dead predecessor left behind
    st[slot * 3] = this.rx[b + RX_MBUF];
    st[slot * 3 + 1] = ip;
    st[slot * 3 + 2] = ((this.buf[ip + 2] << 8) | this.buf[ip + 3]);
    this.v[b + V_ACTION] = Action.HOLD;
  }

  /**
   * The core ended a stored SYN's slot: after 6 s without an IPv6 SYN the IPv4 sender gets ICMP
   * Port Unreachable quoting it (RFC 6146 §3.5.2.2); otherwise the packet is just freed.
   */
  heldSynEnded(slot: number, expired: boolean): void {
    const st = this.stored, mbuf = st[slot * 3], ip = st[slot * 3 + 1], len = st[slot * 3 + 2];
    st[slot * 3] = -1;
    if (mbuf < 0) { if (expired) this.c[C['tcp-v4-syn-lost']]++; return; }
    if (!expired) { native.free(this.shard, mbuf); return; }
    const out = this.core.out;
    if (this.core.portUnreachable4(this.buf, ip, len) === Result.DROP) {
      native.free(this.shard, mbuf);
      return;
    }
    this.forward(4, out.off, out.len, Date.now(), mbuf, -1);
  }

  /**
   * Fresh mbufs for the fragments of a translated packet beyond the first (translate/fragment.ts):
   * the core writes the L3 packet at MIN_HEADROOM + 14 into the buffer, so the mbuf handle is
   * recovered from the offset by arithmetic. Made once; nothing is allocated per packet.
   */
  private fragmentSink(): PacketSink {
    const l3 = MIN_HEADROOM + ETH_HLEN;
    return {
      room: this.bufLen - l3,
      alloc: () => {
        const m = native.alloc(this.shard);
        return m < 0 ? -1 : m + this.dataStart + l3;
      },
      send: (family, off, len) => this.forward(family, off, len, Date.now(), off - l3 - this.dataStart, -1),
    };
  }

  /** Send an ARP request or Neighbour Solicitation from a fresh mbuf (slow path). */
  private solicit(pi: number, family: number, n0: number, n1: number, n2: number, n3: number): void {
    const port = this.ports[pi];
    const mbuf = native.alloc(this.shard);
    if (mbuf < 0) return;
    const frame = mbuf + this.dataStart + MIN_HEADROOM;
    let len: number;
    if (family === 4) {
      len = buildArpRequest(this.buf, frame, port.mac, this.own.first4(pi), n0 >>> 0);
    } else {
      const src = frame + 256; // our address, staged past the end of the solicitation being written
      if (!this.own.first6(pi, this.buf, src)) { native.free(this.shard, mbuf); return; }
      len = buildNeighborSolicitation(this.buf, frame, port.mac, this.buf, src, n0, n1, n2, n3);
    }
    native.send(this.shard, port.id, mbuf, frame, len);
    this.c[C['neighbor-solicit-sent']]++;
  }

  private retryPending(now: number): void {
    const q = this.pending, neigh = this.neigh;
    for (let i = q.count - 1; i >= 0; i--) {
      const family = q.family(i), pi = q.port(i);
      const n0 = q.nh(i, 0), n1 = q.nh(i, 1), n2 = q.nh(i, 2), n3 = q.nh(i, 3);
      const state = neigh.lookup(family, n0, n1, n2, n3, now);
      if (state === NeighState.REACHABLE || state === NeighState.STATIC) {
        const frame = q.data(i);
        for (let k = 0; k < 6; k++) this.buf[frame + k] = neigh.mac[k];
        native.send(this.shard, this.ports[pi].id, q.mbuf(i), frame, q.len(i));
        this.c[C['transmitted']]++;
        q.remove(i);
      } else if (now > q.deadline(i)) {
        native.free(this.shard, q.mbuf(i));
        this.c[C['neighbor-unresolved']]++;
        q.remove(i);
      } else if (neigh.shouldSolicit(family, n0, n1, n2, n3, pi, now)) {
        this.solicit(pi, family, n0, n1, n2, n3);
      }
    }
  }

  private releasePending(): void {
    const q = this.pending;
    while (q.count > 0) { native.free(this.shard, q.mbuf(q.count - 1)); q.remove(q.count - 1); }
  }
}
