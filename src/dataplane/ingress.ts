import { native } from '../native';
import { Action, RX_DATA, RX_LEN, RX_MBUF, RX_PORT, V_ACTION, V_LEN, V_PARAM } from './abi';
import { C } from './counters';
import { Result } from './core-api';
import { ETH_HLEN, ETHERTYPE_ARP, ETHERTYPE_IPV4, ETHERTYPE_IPV6, isForUs } from './l2/ethernet';
import { word6 } from './l2/interfaces';
import {
  answerArpRequest, arpSenderIp, arpTargetIp, ARP_SHA, isArpReply, isArpRequest, isValidArp,
} from './l2/arp';
import { advertisedLla, answerNeighborSolicitation, ICMP6_NA, ICMP6_NS, isValidNd, solicitorLla } from './l2/ndp';
import { answerEcho4, answerEcho6 } from './l2/local';
import { get32 } from './packet/bytes';
import { fragCounter, fragmentOwner4, fragmentOwner6, isFragment4, isFragment6 } from './packet/fragments';
import type { Egress } from './egress';
import { icmpErrorBucket } from './translate/icmp-rate-limit';
import { REFUSED_FILTER, REFUSED_QUIET } from './flow-cache';
import type { ShardContext } from './shard-context';

const K_REFUSED_RECENTLY = C['refused-recently'];
const K_REFUSAL_REMEMBERED = C['refusal-remembered'];

/**
 * The way into a shard, one received frame at a time: the L2 checks and EtherType demux, ARP and
 * ND/echo to our own addresses answered in place, then per IP family the flow cache, pool6/pool4,
 * fragments to reassembly, hand-off to the owning shard, and the translation core, whose output
 * goes to egress. Every exit sets the frame's verdict and bumps one counter.
 */
export class Ingress {
  /** Per port index: the port's MAC as a 16-bit and a 32-bit word. */
  private readonly macHi: Int32Array;
  private readonly macLo: Int32Array;

  constructor(private readonly ctx: ShardContext, private readonly egress: Egress) {
    this.macHi = new Int32Array(ctx.ports.length);
    this.macLo = new Int32Array(ctx.ports.length);
    ctx.ports.forEach((p, i) => {
      this.macHi[i] = (p.mac[0] << 8) | p.mac[1];
      this.macLo[i] = (p.mac[2] << 24) | (p.mac[3] << 16) | (p.mac[4] << 8) | p.mac[5];
    });
  }

  /** Rx descriptor `i` of this burst: give it a verdict. */
  frame(i: number, now: number): void {
    const b = i * 4;
    const ctx = this.ctx, rx = ctx.rx, v = ctx.v, buf = ctx.buf, c = ctx.c;
    const frame = rx[b + RX_DATA], len = rx[b + RX_LEN];
    v[b + V_ACTION] = Action.DROP;
    c[C['received']]++;
    const pi = ctx.portIndex[rx[b + RX_PORT]];
    if (len < ETH_HLEN) { c[C['l2-not-for-us']]++; return; }
    // The common frame, unicast to the port's MAC, in two word compares; the rest byte by byte.
    const dv = ctx.dv, hi = this.macHi[pi], lo = this.macLo[pi];
    const unicastToUs = dv.getUint16(frame) === hi && dv.getInt32(frame + 2) === lo;
    if (!unicastToUs && !isForUs(buf, frame, ctx.ports[pi].mac)) { c[C['l2-not-for-us']]++; return; }
    if (dv.getUint16(frame + 6) === hi && dv.getInt32(frame + 8) === lo) { c[C['l2-not-for-us']]++; return; } // our own frame
    const type = dv.getUint16(frame + 12);
    if (type === ETHERTYPE_IPV6) this.ipv6(b, frame, len, pi, now);
    else if (type === ETHERTYPE_IPV4) this.ipv4(b, frame, len, pi, now);
    else if (type === ETHERTYPE_ARP) this.arp(b, frame, len, pi, now);
    else c[C['l2-unknown-ethertype']]++;
  }

  private ipv6(b: number, frame: number, len: number, pi: number, now: number): void {
    const ctx = this.ctx, buf = ctx.buf, c = ctx.c, core = ctx.core;
    const ip = frame + ETH_HLEN;
    const payload = (buf[ip + 4] << 8) | buf[ip + 5];
    if (len < ETH_HLEN + 40 || (buf[ip] >>> 4) !== 6 || ETH_HLEN + 40 + payload > len) { c[C['ipv6-hdr-truncated']]++; return; }
    const l3len = 40 + payload; // frames may carry Ethernet padding after the packet
    const nh = buf[ip + 6];
    const tried = ctx.enabled && ctx.cached && (nh === 17 || nh === 6);
    if (tried) {
      const flen = ctx.flows.hit6(buf, ip, payload, now, ctx.neigh.generation());
      if (flen > 0) { this.egress.txHere(b, ctx.flows.port, ctx.flows.frame, flen); return; }
      if (flen === REFUSED_FILTER) { c[K_REFUSAL_REMEMBERED]++; return; } // counted by the cache as the full path would
      // Refused for want of state less than a second ago: not tried again unless its ICMPv6 error
      // could go out now (then the full path answers it, or maps the flow if it now can).
      if (flen === REFUSED_QUIET || (flen < 0 && !icmpErrorBucket.ready())) { c[K_REFUSED_RECENTLY]++; return; }
    }
    const ownPort = ctx.own.port6(buf, ip + 24);
    if (buf[ip + 24] === 0xff || ownPort >= 0) { this.local6(b, frame, len, pi, payload, now); return; }
    if (!ctx.enabled) { c[C['no-instance']]++; return; }
    if (core.inPool6(buf, ip + 24)) {
      if (isFragment6(buf, ip, l3len)) { this.reassemble(b, 6, fragmentOwner6(buf, ip, ctx.shards)); return; }
      const owner = core.ownerOf6(buf, ip, l3len);
      if (owner !== ctx.shard) { this.handoff(b, owner); return; }
      // A new flow of a host with no mapping while pool4 is full: refused as the full path would, without it.
      if (tried && core.refuseUnmapped6(buf, ip, payload, now)) { ctx.flows.refused6(now, core.refusedBySubscriber); return; }
      const r = core.process6(buf, ip, l3len, ctx.cap(b, ip), now);
      if (tried && core.refusedNoState) ctx.flows.refused6(now, core.refusedBySubscriber);
      else if (tried && core.refusedFilter >= 0) ctx.flows.filtered6(now, core.refusedFilter, core.refusalPaced, buf[ip + 53]);
      this.egress.emit(b, r, now, 0);
      if (tried && r === Result.EMIT4) this.egress.remember(b, 6);
      return;
    }
    c[C['pool6-mismatch']]++;
  }

  private local6(b: number, frame: number, len: number, pi: number, payload: number, now: number): void {
    const ctx = this.ctx, buf = ctx.buf, c = ctx.c, ip = frame + ETH_HLEN, icmp = ip + 40;
    if (buf[ip + 6] !== 58 || payload < 8) { c[C['local-not-handled']]++; return; }
    const type = buf[icmp];
    if (type === ICMP6_NS || type === ICMP6_NA) {
      if (!isValidNd(buf, ip, payload)) { c[C['nd-ignored']]++; return; }
      const targetOurs = ctx.own.port6(buf, icmp + 8) === pi;
      if (type === ICMP6_NS) {
        if (!targetOurs) { c[ctx.own.released6(buf, icmp + 8) ? C['vip-not-held'] : C['nd-ignored']]++; return; }
        const lla = solicitorLla(buf, icmp, payload);
        if (lla >= 0) this.learn6(buf, ip + 8, pi, buf, lla, now);
        const flen = answerNeighborSolicitation(buf, frame, ctx.ports[pi].mac, payload);
        this.egress.txHere(b, pi, frame, flen);
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
      this.egress.txHere(b, pi, frame, ETH_HLEN + 40 + payload);
      c[C['local-icmp-echo-answered']]++;
      return;
    }
    c[C['local-not-handled']]++;
  }

  private ipv4(b: number, frame: number, len: number, pi: number, now: number): void {
    const ctx = this.ctx, buf = ctx.buf, c = ctx.c, core = ctx.core;
    const ip = frame + ETH_HLEN;
    const total = (buf[ip + 2] << 8) | buf[ip + 3];
    const ihl = (buf[ip] & 0x0f) * 4;
    if (len < ETH_HLEN + 20 || (buf[ip] >>> 4) !== 4 || ihl < 20 || total < ihl || ETH_HLEN + total > len) {
      c[C['ipv4-hdr-truncated']]++; return;
    }
    const dst = get32(buf, ip + 16);
    const proto = buf[ip + 9];
    const tried = ctx.enabled && ctx.cached && ihl === 20 && (proto === 17 || proto === 6);
    if (tried) {
      const flen = ctx.flows.hit4(buf, ip, total, now, ctx.neigh.generation());
      if (flen > 0) { this.egress.txHere(b, ctx.flows.port, ctx.flows.frame, flen); return; }
      // A flow refused in filtering less than a second ago, nothing opened since: dropped and
      // counted by the cache as the full path would (flow-cache.ts filtered4).
      if (flen === REFUSED_FILTER) { c[K_REFUSAL_REMEMBERED]++; return; }
    }
    const ownPort = ctx.own.port4(dst);
    if (ctx.enabled && core.isPool4Address(dst)) {
      if (isFragment4(buf, ip)) { this.reassemble(b, 4, fragmentOwner4(buf, ip, ctx.shards)); return; }
      const owner = core.ownerOf4(buf, ip, total);
      if (owner !== ctx.shard) { this.handoff(b, owner); return; }
      // To a pool4 transport address nobody holds (a scan): refused as the full path would, without it.
      if (tried && core.refuseUnmapped4(buf, ip, total)) { ctx.flows.filtered4(now, core.refusedFilter, false, buf[ip + 33]); return; }
      const missesBefore = c[C['bib4-not-found']];
      const r = core.process4(buf, ip, total, ctx.cap(b, ip), now);
      // buf[ip + 33]: the TCP flags (IHL 5 when tried; ignored for UDP).
      if (tried && core.refusedFilter >= 0) ctx.flows.filtered4(now, core.refusedFilter, core.refusalPaced, buf[ip + 33]);
      // Like Jool, a packet for our own address that matches no mapping is the host's: answer pings.
      if (r === Result.DROP && ownPort >= 0 && c[C['bib4-not-found']] !== missesBefore && answerEcho4(buf, frame, total)) {
        c[C['bib4-not-found']]--;
        c[C['local-icmp-echo-answered']]++;
        this.egress.txHere(b, pi, frame, ETH_HLEN + total);
        return;
      }
      this.egress.emit(b, r, now, 0);
      if (tried && r === Result.EMIT6) this.egress.remember(b, 4);
      return;
    }
    if (ownPort >= 0) {
      if (answerEcho4(buf, frame, total)) {
        this.egress.txHere(b, pi, frame, ETH_HLEN + total);
        c[C['local-icmp-echo-answered']]++;
      } else c[C['local-not-handled']]++;
      return;
    }
    c[ctx.enabled ? C['pool4-mismatch'] : C['no-instance']]++;
  }

  private arp(b: number, frame: number, len: number, pi: number, now: number): void {
    const ctx = this.ctx, buf = ctx.buf, c = ctx.c, arp = frame + ETH_HLEN;
    if (!isValidArp(buf, arp, len - ETH_HLEN)) { c[C['arp-ignored']]++; return; }
    const target = arpTargetIp(buf, arp);
    const own = ctx.own;
    const ours = own.port4(target) === pi || (ctx.enabled && ctx.core.isPool4Address(target) && !own.released4(target));
    if (!ours) { c[own.released4(target) ? C['vip-not-held'] : C['arp-ignored']]++; return; }
    const sender = arpSenderIp(buf, arp);
    // RFC 826 "merge": whoever asks for us or answers us is a neighbour worth remembering.
    if (sender !== 0) ctx.neigh.learn(4, sender | 0, 0, 0, 0, pi, buf, arp + ARP_SHA, now);
    if (isArpRequest(buf, arp)) {
      this.egress.txHere(b, pi, frame, answerArpRequest(buf, frame, ctx.ports[pi].mac));
      c[C['arp-request-answered']]++;
    } else if (isArpReply(buf, arp)) c[C['arp-reply-learned']]++;
    else c[C['arp-ignored']]++;
  }

  private learn6(buf: Uint8Array, addrOff: number, pi: number, macBuf: Uint8Array, macOff: number, now: number): void {
    if (buf[addrOff] === 0xff) return;
    let zero = true;
    for (let k = 0; k < 16; k++) if (buf[addrOff + k] !== 0) { zero = false; break; }
    if (zero) return;
    this.ctx.neigh.learn(6, word6(buf, addrOff, 0), word6(buf, addrOff, 1), word6(buf, addrOff, 2), word6(buf, addrOff, 3),
      pi, macBuf, macOff, now);
  }

  /**
   * A fragment to translate: its datagram is reassembled (native/frag.cc) by the shard that owns
   * the fragment's (source, destination, Identification), then comes back through rx() whole.
   */
  private reassemble(b: number, family: number, owner: number): void {
    const ctx = this.ctx;
    if (owner !== ctx.shard) { this.handoff(b, owner); return; }
    const r = native.fragReassemble(ctx.shard, ctx.rx[b + RX_MBUF], family);
    ctx.v[b + V_ACTION] = Action.HOLD; // the addon owns the mbuf now, whatever happened to it
    ctx.c[fragCounter(r)]++;
  }

  /** Not this shard's flow: the frame goes, unchanged, to the owning shard's hand-off ring. */
  private handoff(b: number, owner: number): void {
    const ctx = this.ctx, v = ctx.v;
    v[b + V_ACTION] = Action.HANDOFF; v[b + V_PARAM] = owner; v[b + V_LEN] = 0;
    ctx.c[C['handoff']]++;
  }
}
