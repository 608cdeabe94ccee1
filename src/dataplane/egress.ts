import { native } from '../native';
import {
  Action, MIN_HEADROOM, RX_MBUF, RX_PORT, V_ACTION, V_DATA, V_LEN, V_PARAM,
} from './abi';
import { C } from './counters';
import { Result } from './core-api';
import { ETH_HLEN, ETHERTYPE_IPV4, ETHERTYPE_IPV6, writeEthernet } from './l2/ethernet';
import { NeighState } from './l2/neighbors';
import { PENDING_TIMEOUT_MS } from './l2/pending';
import { buildArpRequest, buildGratuitousArp } from './l2/arp';
import { buildNeighborSolicitation, buildUnsolicitedAdvertisement } from './l2/ndp';
import { get32 } from './packet/bytes';
import { HELD_CAPACITY } from './tables/layout';
import type { HeldSynListener } from './tables/held-syn';
import type { PacketSink } from './translate/fragment';
import type { ShardContext } from './shard-context';

/** Source MAC of frames one shard hands to another after hairpin translation. */
const INTERNAL_SOURCE_MAC = new Uint8Array(6);
/**
 * Most fragments one translated packet can become beyond the first: an IPv4 datagram of 65535
 * bytes in fragments of 48 (the 68-byte minimum MTU); IPv6 fragments are far fewer.
 */
const MAX_TRAIN = 1366;

/**
 * The way out of a shard: the verdict of a frame answered in place (txHere), and for the core's
 * output packets route lookup, next-hop MAC, Ethernet header, then transmit, hand-off (hairpin) or
 * hold until ARP/ND resolves the next hop. Also the packets that leave outside a burst: fragments
 * beyond the first, answers to stored IPv4 SYNs, solicitations and released held packets.
 */
export class Egress implements HeldSynListener {
  /** Stored IPv4 SYNs by held-SYN slot: mbuf handle, L3 offset, length (-1: none). */
  private readonly stored = new Float64Array(HELD_CAPACITY * 3).fill(-1);

  /**
   * A fragmented packet being emitted (translate/fragment.ts): set by the sink's lead() while the
   * core runs; the fragments beyond the first wait here (family, L3 offset, length) until emit()
   * has sent the first, so that offset 0 leaves first.
   */
  private train = false;
  private trainCount = 0;
  private readonly trainQ = new Float64Array(MAX_TRAIN * 3);

  constructor(private readonly ctx: ShardContext) {}

  /** Verdict TX for rx descriptor `b`: send `len` bytes at `data` on port index `pi`, in the burst's tx. */
  txHere(b: number, pi: number, data: number, len: number): void {
    const ctx = this.ctx, v = ctx.v;
    v[b + V_ACTION] = Action.TX; v[b + V_PARAM] = ctx.ports[pi].id; v[b + V_DATA] = data; v[b + V_LEN] = len;
    ctx.c[C['transmitted']]++;
  }

  /**
   * After the full path translated and transmitted a packet the flow cache missed: if the core
   * says it took the plain exit, the cache remembers the rewrite (the frame's MAC, the route's
   * port and MTU, the neighbour's age) for the next packets of the flow.
   */
  remember(b: number, family: number): void {
    const ctx = this.ctx;
    if (ctx.v[b + V_ACTION] !== Action.TX || ctx.core.flowSession < 0) return;
    const pi = ctx.routes.port, frame = ctx.core.out.off - ETH_HLEN, gen = ctx.neigh.generation();
    if (family === 6) ctx.flows.fill6(frame, ctx.buf, pi, ctx.ports[pi].mtu, ctx.neigh.lastUpdated, gen);
    else ctx.flows.fill4(frame, ctx.buf, pi, ctx.ports[pi].mtu, ctx.neigh.lastUpdated, gen);
  }

  /** Route the core's output packet, find its next hop's MAC, frame it; hairpin it back in if asked. */
  emit(b: number, r: Result, now: number, depth: number): void {
    const ctx = this.ctx, core = ctx.core, out = core.out, buf = ctx.buf, c = ctx.c;
    if (this.train) { this.emitTrain(b, r, now); return; }
    if (r === Result.DROP) return;
    if (r === Result.HAIRPIN) {
      // RFC 6146 §3.8: the IPv4 packet we just produced is for our own pool4: translate it back.
      c[C['hairpin']]++;
      const owner = core.ownerOf4(buf, out.off, out.len);
      if (owner !== ctx.shard || depth > 0) {
        const frame = out.off - ETH_HLEN;
        const pi = ctx.portIndex[ctx.rx[b + RX_PORT]];
        // To our own MAC from a zero source MAC: the owning shard takes it as received, and it cannot
        // be mistaken for one of our own transmissions echoed back by a packet socket.
        writeEthernet(buf, frame, ctx.ports[pi].mac, 0, INTERNAL_SOURCE_MAC, ETHERTYPE_IPV4);
        const v = ctx.v;
        v[b + V_ACTION] = Action.HANDOFF; v[b + V_PARAM] = owner; v[b + V_DATA] = frame; v[b + V_LEN] = out.len + ETH_HLEN;
        c[C['handoff']]++;
        return;
      }
      this.emit(b, core.process4(buf, out.off, out.len, ctx.cap(b, out.off), now), now, depth + 1);
      return;
    }
    if (r === Result.STORE) { this.store(b); return; }
    this.forward(r === Result.EMIT4 ? 4 : 6, out.off, out.len, now, ctx.rx[b + RX_MBUF], b);
  }

  /**
   * Route an L3 packet, find its next hop's MAC, frame it and send it. `b` is the packet's verdict
   * slot (batched tx), or -1 for a packet outside the burst (fragments, answers to stored SYNs),
   * which is sent at once, or freed when it cannot be.
   */
  private forward(family: number, off: number, len: number, now: number, mbuf: number, b: number): void {
    const ctx = this.ctx, buf = ctx.buf, c = ctx.c, routes = ctx.routes, neigh = ctx.neigh;
    const ok = family === 4 ? routes.lookup4(get32(buf, off + 16)) : routes.lookup6(buf, off + 24);
    const port = ok ? ctx.ports[routes.port] : null;
    if (port === null || len > port.mtu) {
      c[port === null ? C['no-route'] : C['packet-too-big']]++;
      if (b < 0) native.free(ctx.shard, mbuf);
      return;
    }
    const pi = routes.port;
    const n0 = family === 4 ? routes.nh4 | 0 : routes.nh6[0];
    const n1 = family === 4 ? 0 : routes.nh6[1], n2 = family === 4 ? 0 : routes.nh6[2], n3 = family === 4 ? 0 : routes.nh6[3];
    const frame = off - ETH_HLEN, type = family === 4 ? ETHERTYPE_IPV4 : ETHERTYPE_IPV6;
    const state = neigh.lookup(family, n0, n1, n2, n3, now);
    if (state === NeighState.REACHABLE || state === NeighState.STATIC) {
      writeEthernet(buf, frame, neigh.mac, 0, port.mac, type);
      if (b >= 0) this.txHere(b, pi, frame, len + ETH_HLEN);
      else { native.send(ctx.shard, port.id, mbuf, frame, len + ETH_HLEN); c[C['transmitted']]++; }
      if (neigh.lastStale && neigh.shouldSolicit(family, n0, n1, n2, n3, pi, now)) this.solicit(pi, family, n0, n1, n2, n3);
      return;
    }
    // Unresolved: keep the packet (frame minus the destination MAC) and ask who has the next hop.
    writeEthernet(buf, frame, port.mac, 0, port.mac, type);
    if (!ctx.pending.add(mbuf, frame, len + ETH_HLEN, pi, family, n0, n1, n2, n3, now + PENDING_TIMEOUT_MS)) {
      c[C['neighbor-unresolved']]++;
      if (b < 0) native.free(ctx.shard, mbuf);
      return;
    }
    if (b >= 0) ctx.v[b + V_ACTION] = Action.HOLD;
    c[C['neighbor-held']]++;
    if (neigh.shouldSolicit(family, n0, n1, n2, n3, pi, now)) this.solicit(pi, family, n0, n1, n2, n3);
  }

  /**
   * The core fragmented the packet: its first fragment (core.out, in the received mbuf) leaves now,
   * outside the burst's batched transmit, and the others after it, in offset order. The frame's
   * verdict becomes HOLD (JS sends or frees the mbuf itself). A whole datagram can thus pass an
   * earlier one of the same burst still waiting for the batch: the order of fragments on the
   * wire matters to filters, the order of datagrams is not promised by IP. If the core dropped the
   * packet (a later fragment found no buffer), the fragments already written are freed.
   */
  private emitTrain(b: number, r: Result, now: number): void {
    const ctx = this.ctx, out = ctx.core.out, q = this.trainQ, n = this.trainCount;
    this.train = false;
    this.trainCount = 0;
    const ok = r === Result.EMIT4 || r === Result.EMIT6;
    if (ok) {
      ctx.v[b + V_ACTION] = Action.HOLD;
      this.forward(r === Result.EMIT4 ? 4 : 6, out.off, out.len, now, ctx.rx[b + RX_MBUF], -1);
    }
    for (let i = 0; i < n; i++) {
      const off = q[i * 3 + 1];
      if (ok) this.forward(q[i * 3], off, q[i * 3 + 2], now, this.sinkMbuf(off), -1);
      else native.free(ctx.shard, this.sinkMbuf(off));
    }
  }

  /** The mbuf of an L3 offset fragmentSink().alloc() returned. */
  private sinkMbuf(off: number): number { return off - MIN_HEADROOM - ETH_HLEN - this.ctx.dataStart; }

  /** RFC 6146 §3.5.2.2: keep the IPv4 SYN the core stored (its L3 packet is where process4 saw it). */
  private store(b: number): void {
    const ctx = this.ctx, slot = ctx.core.storedSlot, st = this.stored;
    const ip = ctx.core.storedOff; // a hairpinned SYN is not where its frame came in
    if (st[slot * 3] >= 0) native.free(ctx.shard, st[slot * 3]); // a slot a dead predecessor left behind
    st[slot * 3] = ctx.rx[b + RX_MBUF];
    st[slot * 3 + 1] = ip;
    st[slot * 3 + 2] = ((ctx.buf[ip + 2] << 8) | ctx.buf[ip + 3]);
    ctx.v[b + V_ACTION] = Action.HOLD;
  }

  /**
   * The core ended a stored SYN's slot: after 6 s without an IPv6 SYN the IPv4 sender gets ICMP
   * Port Unreachable quoting it (RFC 6146 §3.5.2.2); otherwise the packet is just freed.
   */
  heldSynEnded(slot: number, expired: boolean): void {
    const ctx = this.ctx, st = this.stored, mbuf = st[slot * 3], ip = st[slot * 3 + 1], len = st[slot * 3 + 2];
    st[slot * 3] = -1;
    if (mbuf < 0) { if (expired) ctx.c[C['tcp-v4-syn-lost']]++; return; }
    if (!expired) { native.free(ctx.shard, mbuf); return; }
    const core = ctx.core, out = core.out, now = Date.now();
    const r = core.portUnreachable4(ctx.buf, ip, len);
    if (r === Result.HAIRPIN) { this.hairpinError(mbuf, now); return; }
    if (r === Result.DROP) {
      native.free(ctx.shard, mbuf);
      return;
    }
    this.forward(4, out.off, out.len, now, mbuf, -1);
  }

  /**
   * The Port Unreachable of a hairpinned SYN (core.portUnreachable4) is addressed to our pool4: it
   * goes back in as IPv4 (RFC 6146 §3.8) and leaves as ICMPv6 to the IPv6 node. Only here when
   * this shard owns it (the shard of the IPv6 node's BIB entry, by the quoted source port): a
   * packet outside a burst cannot be handed to another shard, so with several shards it is lost
   * when the SYN's port and the node's mapping belong to different ones (hairpin-error-lost).
   */
  private hairpinError(mbuf: number, now: number): void {
    const ctx = this.ctx, core = ctx.core, out = core.out, c = ctx.c;
    c[C['hairpin']]++;
    if (core.ownerOf4(ctx.buf, out.off, out.len) !== ctx.shard) {
      c[C['hairpin-error-lost']]++;
      native.free(ctx.shard, mbuf);
      return;
    }
    const r = core.process4(ctx.buf, out.off, out.len, mbuf + ctx.dataStart + ctx.bufLen - out.off, now);
    if (r === Result.EMIT6) this.forward(6, out.off, out.len, now, mbuf, -1);
    else native.free(ctx.shard, mbuf);
  }

  /**
   * Fresh mbufs for the fragments of a translated packet beyond the first (translate/fragment.ts):
   * the core writes the L3 packet at MIN_HEADROOM + 14 into the buffer, so the mbuf handle is
   * recovered from the offset by arithmetic. After lead() (a fragment train) send() queues them
   * for emitTrain(); otherwise (the TCP probe) it sends at once. Made once; nothing is allocated
   * per packet.
   */
  fragmentSink(): PacketSink {
    const ctx = this.ctx, l3 = MIN_HEADROOM + ETH_HLEN;
    return {
      room: ctx.bufLen - l3,
      alloc: () => {
        const m = native.alloc(ctx.shard);
        return m < 0 ? -1 : m + ctx.dataStart + l3;
      },
      lead: () => { this.train = true; },
      send: (family, off, len) => {
        if (!this.train || this.trainCount === MAX_TRAIN) {
          this.forward(family, off, len, Date.now(), this.sinkMbuf(off), -1);
          return;
        }
        const q = this.trainQ, i = this.trainCount++ * 3;
        q[i] = family; q[i + 1] = off; q[i + 2] = len;
      },
    };
  }

  /** Send an ARP request or Neighbour Solicitation from a fresh mbuf (slow path). */
  private solicit(pi: number, family: number, n0: number, n1: number, n2: number, n3: number): void {
    const ctx = this.ctx, buf = ctx.buf, port = ctx.ports[pi];
    const mbuf = native.alloc(ctx.shard);
    if (mbuf < 0) return;
    const frame = mbuf + ctx.dataStart + MIN_HEADROOM;
    let len: number;
    if (family === 4) {
      len = buildArpRequest(buf, frame, port.mac, ctx.own.first4(pi), n0 >>> 0);
    } else {
      const src = frame + 256; // our address, staged past the end of the solicitation being written
      if (!ctx.own.first6(pi, buf, src)) { native.free(ctx.shard, mbuf); return; }
      len = buildNeighborSolicitation(buf, frame, port.mac, buf, src, n0, n1, n2, n3);
    }
    native.send(ctx.shard, port.id, mbuf, frame, len);
    ctx.c[C['neighbor-solicit-sent']]++;
  }

  /**
   * A virtual address this node just claimed: a gratuitous ARP (IPv4, `addr4`) or an unsolicited
   * Neighbour Advertisement (IPv6, `addr6`) on its port, so that neighbours move to us at once
   * instead of when their cache entry ages out (slow path, control message).
   */
  announce(pi: number, family: 4 | 6, addr4: number, addr6: Uint8Array): boolean {
    const ctx = this.ctx, buf = ctx.buf, port = ctx.ports[pi];
    const mbuf = native.alloc(ctx.shard);
    if (mbuf < 0) return false;
    const frame = mbuf + ctx.dataStart + MIN_HEADROOM;
    const len = family === 4 ? buildGratuitousArp(buf, frame, port.mac, addr4 >>> 0)
      : buildUnsolicitedAdvertisement(buf, frame, port.mac, addr6, 0);
    native.send(ctx.shard, port.id, mbuf, frame, len);
    ctx.c[C['vip-announced']]++;
    return true;
  }

  /** Held packets (housekeeping): send those whose next hop resolved, drop the expired, ask again. */
  retryPending(now: number): void {
    const ctx = this.ctx, q = ctx.pending, neigh = ctx.neigh;
    // Oldest first, and remove() keeps the order: the fragments of a packet leave in offset order.
    for (let i = 0; i < q.count;) {
      const family = q.family(i), pi = q.port(i);
      const n0 = q.nh(i, 0), n1 = q.nh(i, 1), n2 = q.nh(i, 2), n3 = q.nh(i, 3);
      const state = neigh.lookup(family, n0, n1, n2, n3, now);
      if (state === NeighState.REACHABLE || state === NeighState.STATIC) {
        const frame = q.data(i);
        for (let k = 0; k < 6; k++) ctx.buf[frame + k] = neigh.mac[k];
        native.send(ctx.shard, ctx.ports[pi].id, q.mbuf(i), frame, q.len(i));
        ctx.c[C['transmitted']]++;
        q.remove(i);
      } else if (now > q.deadline(i)) {
        native.free(ctx.shard, q.mbuf(i));
        ctx.c[C['neighbor-unresolved']]++;
        q.remove(i);
      } else {
        if (neigh.shouldSolicit(family, n0, n1, n2, n3, pi, now)) this.solicit(pi, family, n0, n1, n2, n3);
        i++;
      }
    }
  }

  /** The shard stops: give every held packet's mbuf back. */
  releasePending(): void {
    const ctx = this.ctx, q = ctx.pending;
    while (q.count > 0) { native.free(ctx.shard, q.mbuf(q.count - 1)); q.remove(q.count - 1); }
  }
}
