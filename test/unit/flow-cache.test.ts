/**
 * The flow cache (src/dataplane/flow-cache.ts) against the full path: identical packet sequences
 * through a shard with the cache and one without must leave the same bytes, the same verdicts,
 * the same counters and the same tables (sessions, last-use times, expiry lists, BIB), whatever
 * the mix of flows, TCP flags, TTLs, sizes, DF bits, TOS, bad checksums, options, MTU and
 * configuration changes and expiry.
 */
import { strict as assert } from 'node:assert';
import { Result } from '../../src/dataplane/core-api';
import { COUNTERS } from '../../src/dataplane/counters';
import type { CoreGlobals } from '../../src/dataplane/core-config';
import { PROTO, a4, a6, ipv4, ipv6, tcp, udp } from '../rfc/vectors/build';
import { Prng } from '../fuzz/prng';
import { makeConfig, makeCore, range, type CoreRig } from './helpers/core-harness';
import { FlowRig } from './helpers/flow-rig';

const HR = 128;
const SLOT = 4096;
const SERVER = '198.51.100.7';
/** A second IPv4 host that no IPv6 node talks to first: address-dependent filtering refuses it. */
const SERVER2 = '198.51.100.9';
const ACK = 0x10, PSH = 0x08, SYN = 0x02, FIN = 0x01, RST = 0x04;

interface Side { rig: CoreRig; fr: FlowRig; buf: Uint8Array }

function side(cache: boolean, g: Partial<CoreGlobals>, entries?: number): Side {
  const r = [range('203.0.113.1', 1024, 65535), range('203.0.113.2', 1024, 65535)];
  const rig = makeCore(makeConfig(g, [], { TCP: r, UDP: r, ICMP: r }), { capacity: 256 });
  return { rig, fr: new FlowRig(rig.core, rig.c, cache, 1500, 256, entries), buf: new Uint8Array(SLOT) };
}

function counters(c: Float64Array): Record<string, number> {
  const o: Record<string, number> = {};
  COUNTERS.forEach((d, i) => { if (c[i] !== 0) o[d.name] = c[i]; });
  return o;
}

function tables(s: Side): Buffer[] {
  const b = s.rig.buffers;
  return [b.header, b.bib, b.bibHash6, b.bibHash4, b.session, b.sessionTime, b.sessionHash, b.sessionAddrHash]
    .map((x) => Buffer.from(new Uint8Array(x).slice()));
}

describe('flow cache: the same outcome as the full path', () => {
  // Default size, then dataplane.flowCacheEntries 8 (two sets: 24 flows keep evicting each other).
  // Seeds 9-12: filtering refusals remembered (flow-cache.ts filtered4/filtered6): address-
  // dependent filtering, drop-externally-initiated-tcp and icmp-admin-prohibited switched on and
  // off, a quarter of the IPv4 packets from a host no IPv6 node talked to.
  const cases: Array<[number, number?, Partial<CoreGlobals>?]> = [[1], [2], [3], [4], [5], [6], [7, 8], [8, 8],
    [9, undefined, { addressDependentFiltering: true }], [10, undefined, { addressDependentFiltering: true, dropExternallyInitiatedTcp: true }],
    [11, undefined, { dropExternallyInitiatedTcp: true, icmpAdminProhibited: true }], [12, 8, { addressDependentFiltering: true }]];
  for (const [seed, entries, filtering] of cases) {
    it(`random sequence ${seed}${entries ? `, ${entries} entries` : ''}${filtering ? `, ${Object.keys(filtering).join(', ')}` : ''}: bytes, verdicts, counters and tables identical; ${entries ? 'some' : 'most'} packets hit`, () => {
      const r = new Prng(seed);
      const g: Partial<CoreGlobals> = { udpTimeout: 2000, tcpEstTimeout: 4000, tcpTransTimeout: 1500, icmpTimeout: 1000, ...filtering };
      const slow = side(false, g), fast = side(true, g, entries);
      const nFlows = 24;
      const proto = (k: number) => (k % 3 === 0 ? PROTO.TCP : PROTO.UDP);
      const client = (k: number) => `2001:db8:1::${(k % 5) + 1}`;
      const cport = (k: number) => 20000 + k;
      // The pool4 transport address of each flow, learnt from its latest translation.
      const a4of = new Array<number>(nFlows).fill(-1), p4of = new Array<number>(nFlows).fill(-1);
      let now = 1_000_000, hits = 0, total = 0;
      for (let i = 0; i < 6000; i++) {
        now += r.int(8) === 0 ? r.int(200) : r.int(3);
        if (r.chance(0.002)) now += 3000; // let sessions expire
        if (r.chance(0.05)) { slow.rig.core.expire(now); fast.rig.core.expire(now); }
        if (r.chance(0.0005)) {
          const mtu4 = r.chance(0.5) ? 1500 : 600 + r.int(600), mtu6 = r.chance(0.5) ? 1500 : 1280 + r.int(300);
          for (const s of [slow, fast]) { s.rig.core.setMtu(mtu6, mtu4); s.fr.flows.invalidate(); }
        }
        if (r.chance(0.0005)) { const m = r.chance(0.5) ? 1500 : 700 + r.int(800); slow.fr.portMtu = m; fast.fr.portMtu = m; fast.fr.flows.invalidate(); }
        if (r.chance(0.0005)) { fast.fr.gen++; slow.fr.gen++; }
        if (r.chance(0.0005)) {
          const g2 = { ...g, overrideTos: r.chance(0.5), tos: r.byte(), zeroizeTrafficClass: r.chance(0.5),
            lowestIpv6Mtu: r.chance(0.5) ? 1280 : 1400, handleRstDuringFinRcv: r.chance(0.5),
            ...(filtering ? { addressDependentFiltering: r.chance(0.5), dropExternallyInitiatedTcp: r.chance(0.5), icmpAdminProhibited: r.chance(0.5) } : {}) };
          const rr = [range('203.0.113.1', 1024, 65535), range('203.0.113.2', 1024, 65535)];
          for (const s of [slow, fast]) { s.rig.core.configure(makeConfig(g2, [], { TCP: rr, UDP: rr, ICMP: rr }), [a4('192.0.2.1')]); s.fr.flows.invalidate(); }
        }
        const k = r.int(nFlows), p = proto(k);
        const flags = p !== PROTO.TCP ? 0 : r.chance(0.8) ? ACK | (r.chance(0.5) ? PSH : 0)
          : [SYN, SYN | ACK, FIN | ACK, RST, ACK, 0][r.int(6)];
        const dataLen = r.chance(0.9) ? r.int(64) : r.chance(0.5) ? 1200 + r.int(200) : 1400 + r.int(600);
        const data = Array.from({ length: dataLen }, (_, j) => (j * 7 + k) & 0xff);
        const l4 = p === PROTO.TCP ? tcp(cport(k), 80, data, flags) : udp(cport(k), 53, data);
        const ttl = r.chance(0.03) ? 1 + r.int(2) : 64;
        const from6 = a4of[k] < 0 || r.chance(0.5);
        let pkt: Uint8Array;
        if (from6) {
          pkt = ipv6({ src: client(k), dst: a6(`64:ff9b::${SERVER}`), nh: p, l4, hop: ttl, tc: r.chance(0.1) ? r.byte() : 0,
            ext: r.chance(0.02) ? [[PROTO.DSTOPTS, [1, 4, 0, 0, 0, 0]]] : undefined });
        } else {
          const l4b = p === PROTO.TCP ? tcp(80, p4of[k], data, flags) : udp(53, p4of[k], data);
          pkt = ipv4({ src: filtering && r.chance(0.25) ? SERVER2 : SERVER, dst: a4of[k], proto: p, l4: l4b, ttl, tos: r.chance(0.1) ? r.byte() : 0, df: r.chance(0.7),
            options: r.chance(0.02) ? [1, 1, 1, 0] : undefined, l4sum: p === PROTO.UDP && r.chance(0.03) ? 'keep' : 'fill' });
          if (r.chance(0.01)) pkt[10] ^= 0x40; // bad header checksum
          if (r.chance(0.01)) pkt[6] |= 0x20; // MF: a fragment (the shard reassembles; here the core drops it)
        }
        const outs = [slow, fast].map((s) => {
          s.buf.fill(0);
          s.buf.set(pkt, HR);
          const cap = SLOT - HR - 64;
          return from6 ? s.fr.run6(s.buf, HR, pkt.length, cap, now) : s.fr.run4(s.buf, HR, pkt.length, cap, now);
        });
        total++;
        if (outs[1].hit) hits++;
        const ctx = `packet ${i} flow ${k} ${from6 ? '6->4' : '4->6'} flags ${flags} ttl ${ttl} len ${pkt.length} hit ${outs[1].hit}`;
        assert.equal(outs[1].r, outs[0].r, ctx);
        assert.equal(outs[1].tooBig, outs[0].tooBig, ctx);
        if (outs[0].r === Result.EMIT4 || outs[0].r === Result.EMIT6) {
          assert.equal(outs[1].off, outs[0].off, ctx);
          assert.equal(outs[1].len, outs[0].len, ctx);
        }
        assert.ok(Buffer.from(slow.buf).equals(Buffer.from(fast.buf)), `${ctx}: buffers differ`);
        assert.deepEqual(counters(fast.rig.c), counters(slow.rig.c), ctx);
        assert.equal(fast.rig.core.self.nextId, slow.rig.core.self.nextId, ctx);
        if (from6 && outs[0].r === Result.EMIT4 && outs[0].len > 20) {
          const o = outs[0].off;
          const b = slow.buf;
          a4of[k] = ((b[o + 12] << 24) | (b[o + 13] << 16) | (b[o + 14] << 8) | b[o + 15]) >>> 0;
          p4of[k] = (b[o + 20] << 8) | b[o + 21];
        }
        if (i % 500 === 0) assert.deepEqual(tables(fast), tables(slow), `${ctx}: tables differ`);
      }
      assert.deepEqual(tables(fast), tables(slow), 'tables differ at the end');
      if (filtering && !filtering.icmpAdminProhibited) assert.ok(fast.fr.refusalRemembered > 20, `${fast.fr.refusalRemembered} refusals remembered`);
      assert.ok(hits > total / (entries ? 50 : 3), `only ${hits} of ${total} packets hit the cache`);
      if (entries) assert.ok(hits < total / 3, `${hits} of ${total} packets hit ${entries} entries`);
    });
  }

  it('a session that expired, or whose TCP state changes, misses and the full path decides', () => {
    const g: Partial<CoreGlobals> = { udpTimeout: 1000 };
    const s = side(true, g);
    const pkt = ipv6({ src: '2001:db8:1::9', dst: a6(`64:ff9b::${SERVER}`), nh: PROTO.UDP, l4: udp(4000, 53) });
    const send = (now: number) => { s.buf.fill(0); s.buf.set(pkt, HR); return s.fr.run6(s.buf, HR, pkt.length, 2048, now); };
    assert.equal(send(10).hit, false);
    assert.equal(send(20).hit, true);
    s.rig.core.expire(5000);
    const o = send(5001);
    assert.equal(o.hit, false, 'the expired session must not be used');
    assert.equal(o.r, Result.EMIT4);
    assert.equal(send(5002).hit, true);
    s.fr.flows.invalidate();
    assert.equal(send(5003).hit, false, 'invalidate() empties the cache');
  });

  it('one session under two keys (pool6 /64, RFC 6052 suffix bits): filling the second forgets the first, wherever it is', () => {
    // The 6->4 key holds the whole IPv6 destination, but a prefix shorter than /96 leaves suffix
    // bits that do not name the session: two keys, one session, in different sets. The back
    // pointer names one set; the other entry must go when the second is filled, or it would
    // outlive the session (a hit on a removed, later reused, session slot).
    const rig = makeCore(makeConfig({ pool6: a6('64:ff9b:1:2::'), pool6Len: 64, udpTimeout: 1000 }), { capacity: 64 });
    const fr = new FlowRig(rig.core, rig.c, true, 1500, 64);
    const send = (dst: string, now: number) => {
      const p = ipv6({ src: '2001:db8::1', dst: a6(dst), nh: PROTO.UDP, l4: udp(5000, 53) });
      const w = new Uint8Array(2048);
      w.set(p, HR);
      return fr.run6(w, HR, p.length, 1900, now);
    };
    const A = '64:ff9b:1:2:c6:3364:100:0', B = '64:ff9b:1:2:c6:3364:100:1';
    assert.equal(send(A, 10).hit, false);
    assert.equal(send(A, 11).hit, true);
    const s = rig.core.flowSession;
    assert.equal(send(B, 12).hit, false);
    assert.equal(rig.core.flowSession, s, 'B is the same session');
    assert.equal(send(B, 13).hit, true);
    rig.core.expire(5000); // the session goes: neither key may hit
    assert.equal(send(A, 5001).hit, false);
    assert.equal(send(B, 5002).hit, false);
  });

  it('the burst prefetch notes the set each flow is cached in (note6/note4 hash like hit6/hit4)', () => {
    const s = side(true, {});
    const plan = s.fr.flows.prefetchPlan();
    const word = (b: Uint8Array, o: number) => ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]);
    // Entry layout (flow-cache.ts): 6->4 key words 1-4 source, 9 ports; 4->6 words 1 source, 2 destination, 3 ports.
    const cachedIn = (t: Int32Array, e: number, words: Array<[number, number]>) => {
      for (let w = 0; w < 4; w++) if (words.every(([k, x]) => t[e + 16 * w + k] === x)) return true;
      return false;
    };
    for (let k = 0; k < 40; k++) {
      const pkt = ipv6({ src: `2001:db8:${k}::${k + 1}`, dst: a6(`64:ff9b::${SERVER}`), nh: k % 2 ? PROTO.TCP : PROTO.UDP,
        l4: k % 2 ? tcp(3000 + k, 80, [], ACK) : udp(3000 + k, 53) });
      s.buf.fill(0); s.buf.set(pkt, HR);
      const o = s.fr.run6(s.buf, HR, pkt.length, 2048, 100 + k);
      if (k % 2 === 0) assert.equal(o.r, Result.EMIT4); // TCP without SYN is refused (no session): only a remembered refusal
      const out = s.buf.slice(o.off, o.off + o.len);
      s.buf.fill(0); s.buf.set(pkt, HR);
      s.fr.flows.note6(0, s.buf, HR);
      const e = plan.list[0];
      assert.ok(e >= 0, 'a 6->4 set');
      if (k % 2 === 0) {
        assert.ok(cachedIn(plan.table6, e, [[1, word(pkt, 8)], [2, word(pkt, 12)], [3, word(pkt, 16)], [4, word(pkt, 20)], [9, word(pkt, 40)]]),
          `flow ${k}: not in the noted set`);
        // The reply: its 4->6 entry is made by the full path, then note4 must point at it.
        const reply = ipv4({ src: SERVER, dst: word(out, 12) >>> 0, proto: PROTO.UDP, l4: udp(53, (out[20] << 8) | out[21]) });
        s.buf.fill(0); s.buf.set(reply, HR);
        assert.equal(s.fr.run4(s.buf, HR, reply.length, 2048, 200 + k).r, Result.EMIT6);
        s.buf.fill(0); s.buf.set(reply, HR);
        s.fr.flows.note4(0, s.buf, HR);
        const f = plan.list[0];
        assert.ok(f < 0 && f !== -0x80000000, 'a 4->6 set');
        assert.ok(cachedIn(plan.table4, -1 - f, [[1, word(reply, 12)], [2, word(reply, 16)], [3, word(reply, 20)]]),
          `flow ${k}: reply not in the noted set`);
      }
    }
    s.fr.flows.skip(0);
    assert.equal(plan.list[0], -0x80000000);
    assert.equal(typeof s.fr.flows.touch(1), 'number');
  });
});
