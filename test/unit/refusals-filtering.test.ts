/**
 * Filtering refusals remembered (issue 11, refusal paths): a TCP/UDP packet refused with no
 * session of its own (4->6 bib4-not-found, adf-filtered, tcp-v4-syn-dropped, tcp-syn-needed;
 * 6->4 tcp-syn-needed) leaves a flow-cache entry, and the same flow's next packets are dropped
 * from it, counted exactly as the full path would count them (refusal-remembered on top), until a
 * BIB entry or session appears on the packet's transport address, the SYN bit differs, the ICMP
 * error limiter has a token for its answer, or REFUSAL_MS passes. FlowRig is the shard's glue
 * (ingress.ts) without DPDK.
 */
import * as assert from 'node:assert/strict';
import { Result } from '../../src/dataplane/core-api';
import type { CoreGlobals } from '../../src/dataplane/core-config';
import { REFUSAL_MS } from '../../src/dataplane/flow-cache';
import { icmpErrorBucket } from '../../src/dataplane/translate/icmp-rate-limit';
import { a4, ipv4, ipv6, PROTO, tcp, udp } from '../rfc/vectors/build';
import { makeConfig, makeCore, n, nonZero, POOL4, range, staticEntry } from './helpers/core-harness';
import { FlowRig, type Outcome } from './helpers/flow-rig';

const HR = 128;
const ACK = 0x10, SYN = 0x02;
const NODE = '2001:db8::5';
const Y = '198.51.100.1';
const PEER = '198.51.100.9';
/** The IPv6 address of an IPv4 host (64:ff9b::/96, hex groups: the builder takes no dotted quad). */
const y6 = (v4: string) => { const [p, q, r, s] = v4.split('.').map(Number); return `64:ff9b::${((p << 8) | q).toString(16)}:${((r << 8) | s).toString(16)}`; };
/** pool4 of one port per protocol: the IPv6 node's first mapping is POOL4#61001. */
const P4 = 61001;

function rig(g: Partial<CoreGlobals>, cache = true) {
  const one = [range(POOL4, P4, P4)];
  const core = makeCore(makeConfig({ udpTimeout: 60000, ...g }, [], { UDP: one, TCP: one }), { capacity: 64 });
  return { ...core, fr: new FlowRig(core.core, core.c, cache) };
}

function send(fr: FlowRig, family: 4 | 6, pkt: Uint8Array, now: number): Outcome {
  const buf = new Uint8Array(HR + pkt.length + 128);
  buf.set(pkt, HR);
  return family === 6 ? fr.run6(buf, HR, pkt.length, buf.length - HR, now) : fr.run4(buf, HR, pkt.length, buf.length - HR, now);
}

const udp6 = (dst: string, dport = 53) => ipv6({ src: NODE, dst: y6(dst), nh: PROTO.UDP, l4: udp(5001, dport) });
const tcp6 = (dst: string, flags: number, sport = 5001) => ipv6({ src: NODE, dst: y6(dst), nh: PROTO.TCP, l4: tcp(sport, 80, [], flags) });
const udp4 = (src: string, dport = P4) => ipv4({ src, dst: POOL4, proto: PROTO.UDP, l4: udp(53, dport) });
const tcp4 = (src: string, flags: number, dport = P4) => ipv4({ src, dst: POOL4, proto: PROTO.TCP, l4: tcp(80, dport, [], flags) });

describe('refusals: filtering refusals remembered by the flow cache', () => {
  afterEach(() => icmpErrorBucket.configure(0, 1, 0)); // other tests see the unlimited default

  it('adf-filtered, bib4-not-found, tcp-syn-needed and tcp-v4-syn-dropped: the next packets are dropped from the cache, counted as the full path counts them', () => {
    const { c, fr } = rig({ addressDependentFiltering: true, dropExternallyInitiatedTcp: true });
    assert.equal(send(fr, 6, udp6(Y), 1000).r, Result.EMIT4);
    assert.equal(send(fr, 6, tcp6(Y, SYN), 1000).r, Result.EMIT4);
    const cases: Array<[string, Uint8Array]> = [
      ['adf-filtered', udp4(PEER)],
      ['bib4-not-found', udp4(PEER, P4 + 1)],
      ['tcp-syn-needed', tcp4(PEER, ACK)],
      ['tcp-v4-syn-dropped', tcp4(PEER, SYN)],
    ];
    for (const [counter, pkt] of cases) {
      const remembered = fr.refusalRemembered;
      const first = send(fr, 4, pkt, 1001);
      assert.deepEqual([first.r, first.hit, n(c, counter as 'adf-filtered')], [Result.DROP, false, 1], `${counter}: the full path refuses`);
      for (let i = 1; i <= 5; i++) {
        const o = send(fr, 4, pkt, 1001 + i);
        assert.deepEqual([o.r, o.hit], [Result.DROP, true], `${counter}: from the cache`);
      }
      assert.deepEqual([n(c, counter as 'adf-filtered'), fr.refusalRemembered - remembered], [6, 5], counter);
    }
    assert.equal(n(c, 'icmp-error-sent') + n(c, 'icmp-error-rate-limited'), 0, 'icmp-admin-prohibited is off: no answers');
    // REFUSAL_MS later the full path decides again.
    assert.equal(send(fr, 4, udp4(PEER), 1001 + REFUSAL_MS).hit, false);
    assert.equal(n(c, 'adf-filtered'), 7);
  });

  it('UDP hole punching: once the IPv6 node sends to the peer, the peer\'s next packet passes (no waiting for REFUSAL_MS)', () => {
    const { fr } = rig({ addressDependentFiltering: true });
    assert.equal(send(fr, 6, udp6(Y), 1000).r, Result.EMIT4);
    for (let i = 0; i < 3; i++) assert.equal(send(fr, 4, udp4(PEER), 1001 + i).r, Result.DROP);
    assert.equal(fr.refusalRemembered, 2);
    assert.equal(send(fr, 6, udp6(PEER), 1010).r, Result.EMIT4, 'the node punches the hole');
    const o = send(fr, 4, udp4(PEER), 1011);
    assert.deepEqual([o.r, o.hit], [Result.EMIT6, false], 'the remembered refusal no longer applies');
    assert.deepEqual([send(fr, 4, udp4(PEER), 1012).r, fr.refusalRemembered], [Result.EMIT6, 2]);
  });

  it('a static BIB entry added lets the next packet through, without waiting for the cache to be emptied', () => {
    const { core, c, fr } = rig({});
    for (let i = 0; i < 3; i++) assert.equal(send(fr, 4, udp4(PEER, 7000), 1000 + i).r, Result.DROP);
    assert.deepEqual([n(c, 'bib4-not-found'), fr.refusalRemembered], [3, 2]);
    const one = [range(POOL4, P4, P4)];
    core.configure(makeConfig({ udpTimeout: 60000 }, [staticEntry('UDP', NODE, 7000, POOL4, 7000)], { UDP: one, TCP: one }), [a4('192.0.2.1')]);
    assert.equal(send(fr, 4, udp4(PEER, 7000), 1010).r, Result.EMIT6);
  });

  it('with icmp-admin-prohibited its answers still go out at the limiter\'s rate: verdicts and counters as without the cache', () => {
    const script = (cache: boolean) => {
      icmpErrorBucket.configure(100, 1, 0);
      const { c, fr } = rig({ addressDependentFiltering: true, icmpAdminProhibited: true }, cache);
      send(fr, 6, udp6(Y), 1000);
      const rs: Result[] = [];
      for (let i = 0; i < 30; i++) {
        if (i % 10 === 9) icmpErrorBucket.refill(10 * (i + 1)); // one token every 10 packets
        rs.push(send(fr, 4, udp4(PEER), 1000 + i).r);
      }
      return { rs, counters: nonZero(c), remembered: fr.refusalRemembered };
    };
    const full = script(false), cached = script(true);
    assert.deepEqual(cached.rs, full.rs);
    assert.deepEqual(cached.counters, full.counters);
    assert.deepEqual(full.rs.filter((r) => r === Result.EMIT4).length, 4, 'the first refusal and one per token are answered');
    assert.deepEqual([cached.counters['icmp-error-sent'], cached.counters['icmp-error-rate-limited'], cached.remembered], [4, 26, 26]);
  });

  it('a remembered refusal of a TCP ACK does not swallow a SYN of the same 4-tuple: it is stored and the simultaneous open completes', () => {
    const { c, fr } = rig({});
    // The peer's ACK to POOL4#61001, which no BIB entry holds yet: bib4-not-found, remembered.
    for (let i = 0; i < 3; i++) assert.equal(send(fr, 4, tcp4(PEER, ACK), 1000 + i).r, Result.DROP);
    assert.deepEqual([n(c, 'bib4-not-found'), fr.refusalRemembered], [3, 2]);
    // Its SYN is stored (RFC 6146 §3.5.2.2), not dropped from the cache.
    assert.equal(send(fr, 4, tcp4(PEER, SYN), 1010).r, Result.STORE);
    assert.equal(n(c, 'tcp-v4-syn-stored'), 1);
    // The IPv6 node's SYN to the peer meets it: it takes POOL4#61001, and the peer's next packets pass.
    assert.equal(send(fr, 6, tcp6(PEER, SYN), 1020).r, Result.EMIT4);
    assert.equal(send(fr, 4, tcp4(PEER, SYN), 1030).r, Result.EMIT6);
    assert.equal(send(fr, 4, tcp4(PEER, ACK), 1040).r, Result.EMIT6, 'the remembered ACK refusal no longer applies');
  });

  it('drop-externally-initiated-tcp: a remembered SYN refusal ends when the IPv6 node opens the session', () => {
    const { c, fr } = rig({ dropExternallyInitiatedTcp: true });
    assert.equal(send(fr, 6, tcp6(Y, SYN), 1000).r, Result.EMIT4);
    for (let i = 0; i < 3; i++) assert.equal(send(fr, 4, tcp4(PEER, SYN), 1001 + i).r, Result.DROP);
    assert.deepEqual([n(c, 'tcp-v4-syn-dropped'), fr.refusalRemembered], [3, 2]);
    assert.equal(send(fr, 6, tcp6(PEER, SYN), 1010).r, Result.EMIT4);
    assert.equal(send(fr, 4, tcp4(PEER, SYN | ACK), 1011).r, Result.EMIT6);
  });

  it('6->4 tcp-syn-needed: remembered; the flow\'s own SYN still opens it', () => {
    const { c, fr } = rig({});
    for (let i = 0; i < 4; i++) assert.equal(send(fr, 6, tcp6(Y, ACK, 7001), 1000 + i).r, Result.DROP);
    assert.deepEqual([n(c, 'tcp-syn-needed'), fr.refusalRemembered], [4, 3]);
    assert.equal(send(fr, 6, tcp6(Y, SYN, 7001), 1010).r, Result.EMIT4);
    assert.equal(send(fr, 6, tcp6(Y, ACK, 7001), 1011).r, Result.EMIT4);
    assert.equal(n(c, 'tcp-syn-needed'), 4);
  });
});
