import * as assert from 'node:assert/strict';
import { Result } from '../../src/dataplane/core-api';
import { COUNTERS } from '../../src/dataplane/counters';
import { icmpErrorBucket } from '../../src/dataplane/translate/icmp-rate-limit';
import { echo, icmp, ipv4, ipv6, PROTO, tcp, udp } from './vectors/build';
import { assertSamePacket, ipv4HeaderOk, l4SumOk4, l4SumOk6 } from './vectors/check';
import { defaultGlobals, run4to6, totalCount, tuple6 } from './vectors/harness';
import { POOL4, makeCore, run, type CoreRig } from '../unit/helpers/core-harness';

// 198.51.100.16 answers the IPv6 host 2001:db8::8 through pool4 203.0.113.1 and pool6 64:ff9b::/96.
const H6 = '2001:db8::8';
const R6 = '64:ff9b::c633:6410';
const P4 = '203.0.113.1';
const R4 = '198.51.100.16';

function udp4(data = [1, 2, 3, 4], over: Partial<Parameters<typeof ipv4>[0]> = {}) {
  return ipv4({ src: R4, dst: P4, proto: PROTO.UDP, l4: udp(53, 61001, data), ...over });
}
const tUdp = () => tuple6(R6, H6, 53, 1234, PROTO.UDP);
const udp6 = (data = [1, 2, 3, 4], over: Partial<Parameters<typeof ipv6>[0]> = {}) =>
  ipv6({ src: R6, dst: H6, nh: PROTO.UDP, l4: udp(53, 1234, data), hop: 63, ...over });

describe('RFC 7915 §4: IPv4 -> IPv6', () => {
  it('RFC 7915 §4.1/§4.5: UDP header translated, Flow Label 0, checksum updated', () => {
    const r = run4to6(udp4(), tUdp());
    assert.equal(r.result, Result.EMIT6);
    assertSamePacket(r.out, udp6());
    assert.equal(r.count('translated-4to6'), 1);
    assert.equal(totalCount(r.counters), 1);
  });

  it('RFC 7915 §4.5: TCP header translated, checksum updated', () => {
    const r = run4to6(ipv4({ src: R4, dst: P4, proto: PROTO.TCP, l4: tcp(80, 61001, [5, 6]) }), tuple6(R6, H6, 80, 1234, PROTO.TCP));
    assertSamePacket(r.out, ipv6({ src: R6, dst: H6, nh: PROTO.TCP, l4: tcp(80, 1234, [5, 6]), hop: 63 }));
  });

  it('RFC 7915 §4.2: ICMPv4 Echo (8) -> ICMPv6 Echo Request (128), checksum gains the pseudo-header', () => {
    const r = run4to6(ipv4({ src: R4, dst: P4, proto: PROTO.ICMP, l4: echo(8, 61002, 4) }), tuple6(R6, H6, 5, 5, PROTO.ICMP));
    assertSamePacket(r.out, ipv6({ src: R6, dst: H6, nh: PROTO.ICMPV6, l4: echo(128, 5, 4), hop: 63 }));
    assert.ok(l4SumOk6(r.out));
  });

  it('RFC 7915 §4.2: ICMPv4 Echo Reply (0) -> ICMPv6 Echo Reply (129)', () => {
    const r = run4to6(ipv4({ src: R4, dst: P4, proto: PROTO.ICMP, l4: echo(0, 61002, 4) }), tuple6(R6, H6, 5, 5, PROTO.ICMP));
    assertSamePacket(r.out, ipv6({ src: R6, dst: H6, nh: PROTO.ICMPV6, l4: echo(129, 5, 4), hop: 63 }));
  });

  it('RFC 7915 §4.2: other ICMPv4 informational types (timestamp, address mask, router ...) are dropped', () => {
    for (const type of [9, 10, 13, 14, 15, 16, 17, 18, 42]) {
      const r = run4to6(ipv4({ src: R4, dst: P4, proto: PROTO.ICMP, l4: icmp(type, 0, 0) }), tUdp());
      assert.equal(r.result, Result.DROP, String(type));
      assert.equal(r.count('icmp-type-untranslatable'), 1);
    }
  });

  it('RFC 1624: the incremental update keeps a wrong incoming checksum wrong', () => {
    const bad = udp4([1, 2, 3, 4]);
    bad[bad.length - 2] ^= 0x0f;
    const r = run4to6(bad, tUdp());
    const expected = udp6([1, 2, 3, 4]);
    expected[expected.length - 2] ^= 0x0f;
    assertSamePacket(r.out, expected);
    assert.equal(l4SumOk6(r.out), false);
  });

  it('RFC 7915 §4.5 / RFC 6146 §3.4: a zero IPv4 UDP checksum is replaced by the full checksum', () => {
    const pkt = udp4();
    pkt[26] = 0; pkt[27] = 0;
    const r = run4to6(pkt, tUdp());
    assertSamePacket(r.out, udp6());
    assert.ok(l4SumOk6(r.out));
  });

  it('RFC 7915 §4.1: TOS copied to Traffic Class', () => {
    const r = run4to6(udp4(undefined, { tos: 0xb8 }), tUdp());
    assertSamePacket(r.out, udp6(undefined, { tc: 0xb8 }));
  });

  it('RFC 7915 §4.1: Traffic Class 0 with zeroize-traffic-class', () => {
    const r = run4to6(udp4(undefined, { tos: 0xb8 }), tUdp(), { g: defaultGlobals({ zeroizeTrafficClass: true }) });
    assertSamePacket(r.out, udp6());
  });

  it('RFC 7915 §4.1: TTL decremented and copied to Hop Limit', () => {
    assert.equal(run4to6(udp4(undefined, { ttl: 20 }), tUdp()).out[7], 19);
    assert.equal(run4to6(udp4(undefined, { ttl: 20 }), tUdp(), { decrementTtl: false }).out[7], 20);
  });

  it('RFC 7915 §4.1 / RFC 792: TTL 1 is not translated: ICMPv4 Time Exceeded from the translator', () => {
    const pkt = udp4(undefined, { ttl: 1 });
    const r = run4to6(pkt, tUdp());
    assert.equal(r.result, Result.EMIT4);
    assertSamePacket(r.out, ipv4({ src: P4, dst: R4, proto: PROTO.ICMP, ttl: 64, l4: icmp(11, 0, 0, pkt) }), [4, 5, 10, 11]);
    assert.equal(r.count('ttl-expired'), 1);
  });

  it('RFC 7915 §4.1: IPv4 options are ignored (not translated)', () => {
    const r = run4to6(udp4(undefined, { options: [1, 1, 1, 0] }), tUdp());
    assertSamePacket(r.out, udp6());
  });

  it('RFC 7915 §4.1: an unexpired source route option MUST NOT be translated', () => {
    const lsrr = [131, 7, 4, 192, 0, 2, 1, 0];
    const r = run4to6(udp4(undefined, { options: lsrr }), tUdp());
    assert.equal(r.result, -1);
    assert.equal(r.count('ipv4-source-route'), 1);
    const expired = [131, 7, 8, 192, 0, 2, 1, 0];
    assert.equal(run4to6(udp4(undefined, { options: expired }), tUdp()).result, Result.EMIT6);
  });

  it('fragments that need reassembly are dropped (counter fragmented); DF alone is fine', () => {
    assert.equal(run4to6(udp4(undefined, { mf: true }), tUdp()).count('fragmented'), 1);
    assert.equal(run4to6(udp4(undefined, { fragOffset: 3 }), tUdp()).count('fragmented'), 1);
    assert.equal(run4to6(udp4(undefined, { df: true }), tUdp()).result, Result.EMIT6);
  });

  it('parse4: bad header checksum, truncation and unknown protocols are dropped with their counter', () => {
    const bad = udp4();
    bad[10] ^= 1;
    assert.equal(run4to6(bad, tUdp()).count('ipv4-bad-checksum'), 1);
    assert.equal(run4to6(udp4().subarray(0, 19), tUdp()).count('ipv4-hdr-truncated'), 1);
    assert.equal(run4to6(udp4().subarray(0, 30), tUdp()).count('ipv4-hdr-truncated'), 1);
    assert.equal(run4to6(ipv4({ src: R4, dst: P4, proto: 47, l4: new Uint8Array(8), l4sum: 'keep' }), tUdp())
      .count('unknown-l4-proto'), 1);
    assert.equal(run4to6(ipv4({ src: R4, dst: P4, proto: PROTO.TCP, l4: new Uint8Array(10) }), tUdp())
      .count('l4-hdr-truncated'), 1);
  });

  it('parse4 fills the fields the state layer reads', () => {
    const p = run4to6(udp4(undefined, { tos: 3, ttl: 7, id: 0xbeef, df: true }), tUdp()).parsed;
    assert.equal(p.family, 4);
    assert.equal(p.src4, 0xc6336410);
    assert.equal(p.dst4, 0xcb007101);
    assert.equal(p.id, 0xbeef);
    assert.equal(p.df, true);
    assert.equal(p.ttl, 7);
    assert.equal(p.tos, 3);
    assert.equal(p.srcPort, 53);
    assert.equal(p.dstPort, 61001);
  });
});

/**
 * RFC 7915 §4.1: "if an unexpired source route option is present, then the packet MUST instead be
 * discarded, and an ICMPv4 "Destination Unreachable, Source Route Failed" (Type 3, Code 5) error
 * message SHOULD be returned to the sender." Through Nat64Core (the error is the core's): always
 * on, from the translator's IPv4 address (core-harness setSelf), quoting the packet; the builder's
 * RFC 1812 §4.3.2.7 suppression and the shard's rate limit apply as to every error we originate.
 */
describe('RFC 7915 §4.1: an unexpired source route option is answered with ICMPv4 Source Route Failed (3/5)', () => {
  afterEach(() => icmpErrorBucket.configure(0, 1, 0)); // other tests see the unlimited default

  const SELF4 = '192.0.2.1';
  const ID = 0x5a5a;
  const LSRR = [131, 7, 4, 192, 0, 2, 9, 0]; // Loose Source Route, pointer 4: one hop left, then End of List
  const SSRR = [137, 7, 4, 192, 0, 2, 9, 0]; // Strict Source Route, same route
  const sr4 = (options: number[], o: Partial<Parameters<typeof ipv4>[0]> = {}) =>
    ipv4({ src: R4, dst: POOL4, proto: PROTO.UDP, ttl: 50, id: 0x0102, options, l4: udp(53, 61001, [9, 8, 7, 6, 5]), ...o });

  function go(rig: CoreRig, pkt: Uint8Array): { r: Result; pkt: Uint8Array; delta: Record<string, number> } {
    const before = Float64Array.from(rig.c);
    rig.core.self.nextId = ID;
    const o = run(rig.core, 4, pkt, 0);
    const delta: Record<string, number> = {};
    rig.c.forEach((v, k) => { if (v !== before[k]) delta[COUNTERS[k].name] = v - before[k]; });
    return { ...o, delta };
  }

  for (const [name, opt] of [['LSRR (131)', LSRR], ['SSRR (137)', SSRR]] as const) {
    it(`RFC 7915 §4.1: an IPv4 packet with an unexpired ${name} is not translated; ICMPv4 3/5 goes back to its source, quoting it (exact bytes, checksums)`, () => {
      const rig = makeCore();
      const pkt = sr4([...opt]);
      const o = go(rig, pkt);
      assert.equal(o.r, Result.EMIT4, JSON.stringify(o.delta));
      assertSamePacket(o.pkt, ipv4({ src: SELF4, dst: R4, proto: PROTO.ICMP, ttl: 64, id: ID, l4: icmp(3, 5, 0, pkt) }));
      assert.ok(ipv4HeaderOk(o.pkt) && l4SumOk4(o.pkt));
      assert.deepEqual(o.delta, { 'ipv4-source-route': 1, 'icmp-error-sent': 1 });
      assert.equal(rig.core.tables.sessions.count, 0);
    });
  }

  it('RFC 7915 §4.1: an expired source route (pointer past the option) is no reason for an error: the packet goes on to the state lookup', () => {
    const o = go(makeCore(), sr4([131, 7, 8, 192, 0, 2, 9, 0]));
    assert.equal(o.r, Result.DROP);
    assert.deepEqual(o.delta, { 'bib4-not-found': 1 });
  });

  it('RFC 7915 §4.1 / RFC 1812 §4.3.2.7: no 3/5 about an ICMP error, or from a broadcast / multicast / unspecified / loopback source (icmp-error-suppressed)', () => {
    const rig = makeCore();
    const err = ipv4({ src: R4, dst: POOL4, proto: PROTO.ICMP, options: LSRR, l4: icmp(11, 0, 0, new Array(28).fill(0)) });
    for (const pkt of [err, sr4(LSRR, { src: '0.0.0.0' }), sr4(LSRR, { src: '255.255.255.255' }),
      sr4(LSRR, { src: '224.0.0.9' }), sr4(LSRR, { src: '127.0.0.1' })]) {
      const o = go(rig, pkt);
      assert.equal(o.r, Result.DROP);
      assert.deepEqual(o.delta, { 'ipv4-source-route': 1, 'icmp-error-suppressed': 1 });
    }
  });

  it('RFC 7915 §4.1: no 3/5 about a packet that does not parse but for the option: a fragment (reassembled first), a cut transport header', () => {
    const rig = makeCore();
    const later = ipv4({ src: R4, dst: POOL4, proto: PROTO.UDP, options: LSRR, fragOffset: 3, l4: Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]), l4sum: 'keep' });
    assert.deepEqual(go(rig, later).delta, { fragmented: 1 });
    assert.deepEqual(go(rig, sr4(LSRR, { mf: true })).delta, { fragmented: 1 });
    const cut = ipv4({ src: R4, dst: POOL4, proto: PROTO.UDP, options: LSRR, l4: Uint8Array.from([0, 53, 0xee, 0x49, 0, 8]), l4sum: 'keep' });
    assert.deepEqual(go(rig, cut).delta, { 'l4-hdr-truncated': 1 });
  });

  it('RFC 7915 §4.1 / RFC 1812 §4.3.2.8: the 3/5 errors share the shard\'s ICMP error bucket (icmp-error-rate-limited)', () => {
    const rig = makeCore();
    icmpErrorBucket.configure(100, 1, 0);
    assert.equal(go(rig, sr4(LSRR)).r, Result.EMIT4);
    const limited = go(rig, sr4(LSRR));
    assert.equal(limited.r, Result.DROP);
    assert.deepEqual(limited.delta, { 'ipv4-source-route': 1, 'icmp-error-rate-limited': 1 });
    icmpErrorBucket.refill(10); // 10 ms at 100/s: one more
    assert.equal(go(rig, sr4(LSRR)).r, Result.EMIT4);
  });

  it('RFC 7915 §4.1: only packets the translator would translate are answered: not one to an address outside pool4, nor one from our own addresses', () => {
    const rig = makeCore();
    for (const pkt of [sr4(LSRR, { dst: '198.51.100.99' }), sr4(LSRR, { src: SELF4 }), sr4(LSRR, { src: POOL4 })]) {
      const o = go(rig, pkt);
      assert.equal(o.r, Result.DROP);
      assert.deepEqual(o.delta, { 'ipv4-source-route': 1 });
    }
  });

  it('RFC 7915 §4.1: the 3/5 is on by default and with icmp-admin-prohibited off (it is no policy refusal)', () => {
    const rig = makeCore();
    assert.equal(rig.core.globals?.icmpAdminProhibited, false);
    assert.equal(go(rig, sr4(SSRR)).r, Result.EMIT4);
  });
});
