import * as assert from 'node:assert/strict';
import { Result } from '../../src/dataplane/core-api';
import { echo, icmp, ipv4, ipv6, PROTO, tcp, udp } from './vectors/build';
import { assertSamePacket, ipv4HeaderOk, l4SumOk4 } from './vectors/check';
import { defaultGlobals, makeSelf, run6to4, totalCount, tuple4 } from './vectors/harness';

// IPv6 host 2001:db8::8 talks to 198.51.100.16 through pool6 64:ff9b::/96 and pool4 203.0.113.1.
const H6 = '2001:db8::8';
const R6 = '64:ff9b::c633:6410';
const P4 = '203.0.113.1';
const R4 = '198.51.100.16';
/** IPv4 Identification and (because of it) the header checksum may differ: RFC 6864 leaves the ID to us. */
const ID_BYTES = [4, 5, 10, 11];

function udp6(data = [1, 2, 3, 4], over: Partial<Parameters<typeof ipv6>[0]> = {}) {
  return ipv6({ src: H6, dst: R6, nh: PROTO.UDP, l4: udp(1234, 53, data), ...over });
}
const tUdp = () => tuple4(P4, R4, 61001, 53, PROTO.UDP);

describe('RFC 7915 §5: IPv6 -> IPv4', () => {
  it('RFC 7915 §5.1/§5.5: UDP header translated, ports from the tuple, checksum updated', () => {
    const r = run6to4(udp6(), tUdp());
    assert.equal(r.result, Result.EMIT4);
    assertSamePacket(r.out, ipv4({ src: P4, dst: R4, proto: PROTO.UDP, l4: udp(61001, 53), ttl: 63 }), ID_BYTES);
    assert.ok(ipv4HeaderOk(r.out));
    assert.ok(l4SumOk4(r.out));
    assert.equal(r.count('translated-6to4'), 1);
    assert.equal(totalCount(r.counters), 1);
  });

  it('RFC 7915 §5.5: TCP header translated, checksum updated', () => {
    const r = run6to4(ipv6({ src: H6, dst: R6, nh: PROTO.TCP, l4: tcp(1234, 80, [9, 8, 7]) }),
      tuple4(P4, R4, 61001, 80, PROTO.TCP));
    assertSamePacket(r.out, ipv4({ src: P4, dst: R4, proto: PROTO.TCP, l4: tcp(61001, 80, [9, 8, 7]), ttl: 63 }), ID_BYTES);
    assert.ok(l4SumOk4(r.out));
  });

  it('RFC 7915 §5.2: ICMPv6 Echo Request (128) -> ICMPv4 Echo (8), identifier from the tuple, no pseudo-header', () => {
    const r = run6to4(ipv6({ src: H6, dst: R6, nh: PROTO.ICMPV6, l4: echo(128, 5, 1) }), tuple4(P4, R4, 61002, 61002, PROTO.ICMP));
    assertSamePacket(r.out, ipv4({ src: P4, dst: R4, proto: PROTO.ICMP, l4: echo(8, 61002, 1), ttl: 63 }), ID_BYTES);
  });

  it('RFC 7915 §5.2: ICMPv6 Echo Reply (129) -> ICMPv4 Echo Reply (0)', () => {
    const r = run6to4(ipv6({ src: H6, dst: R6, nh: PROTO.ICMPV6, l4: echo(129, 7, 3) }), tuple4(P4, R4, 7, 7, PROTO.ICMP));
    assertSamePacket(r.out, ipv4({ src: P4, dst: R4, proto: PROTO.ICMP, l4: echo(0, 7, 3), ttl: 63 }), ID_BYTES);
  });

  it('RFC 1624: the incremental update keeps a wrong incoming checksum wrong', () => {
    const bad = udp6([1, 2, 3, 4]);
    bad[bad.length - 1] ^= 0x55; // payload damaged after the sender computed its checksum
    const r = run6to4(bad, tUdp());
    const expected = ipv4({ src: P4, dst: R4, proto: PROTO.UDP, l4: udp(61001, 53, [1, 2, 3, 4]), ttl: 63 });
    expected[expected.length - 1] ^= 0x55;
    assertSamePacket(r.out, expected, ID_BYTES);
    assert.equal(l4SumOk4(r.out), false);
  });

  it('RFC 7915 §5.1: Traffic Class copied to TOS', () => {
    const r = run6to4(udp6(undefined, { tc: 0xb8 }), tUdp());
    assert.equal(r.out[1], 0xb8);
  });

  it('RFC 7915 §5.1: TOS set to the configured value with override-tos', () => {
    const r = run6to4(udp6(undefined, { tc: 0xb8 }), tUdp(), { g: defaultGlobals({ overrideTos: true, tos: 0x20 }) });
    assert.equal(r.out[1], 0x20);
    assert.ok(ipv4HeaderOk(r.out));
  });

  it('RFC 7915 §5.1: Hop Limit decremented and copied to TTL', () => {
    assert.equal(run6to4(udp6(undefined, { hop: 30 }), tUdp()).out[8], 29);
    assert.equal(run6to4(udp6(undefined, { hop: 30 }), tUdp(), { decrementTtl: false }).out[8], 30);
  });

  it('RFC 7915 §5.1: DF = 0 when the IPv4 packet is <= 1260 bytes, 1 above; MF = 0', () => {
    const small = run6to4(udp6(new Array(1260 - 28).fill(1)), tUdp());
    assert.equal(small.out.length, 1260);
    assert.equal(small.out[6] & 0xe0, 0);
    const big = run6to4(udp6(new Array(1261 - 28).fill(1)), tUdp());
    assert.equal(big.out[6] & 0xe0, 0x40);
  });

  it('RFC 7915 §5.1: the DF threshold follows lowest-ipv6-mtu (Jool)', () => {
    const r = run6to4(udp6(new Array(1400).fill(1)), tUdp(), { g: defaultGlobals({ lowestIpv6Mtu: 1500 }) });
    assert.equal(r.out[6] & 0x40, 0);
  });

  it('RFC 6864: consecutive packets get different Identification values', () => {
    const self = makeSelf();
    const a = run6to4(udp6(), tUdp(), { self });
    const b = run6to4(udp6(), tUdp(), { self });
    assert.notEqual((a.out[4] << 8) | a.out[5], (b.out[4] << 8) | b.out[5]);
  });

  it('RFC 7915 §5.1: Hop-by-Hop and Destination Options headers are skipped (not translated)', () => {
    const pkt = udp6(undefined, { ext: [[PROTO.HOPOPTS, [1, 4, 0, 0, 0, 0]], [PROTO.DSTOPTS, [1, 12, ...new Array(12).fill(0)]]] });
    const r = run6to4(pkt, tUdp());
    assert.equal(r.result, Result.EMIT4);
    assertSamePacket(r.out, ipv4({ src: P4, dst: R4, proto: PROTO.UDP, l4: udp(61001, 53), ttl: 63 }), ID_BYTES);
  });

  it('RFC 7915 §5.1: a Routing header with Segments Left = 0 is skipped', () => {
    const r = run6to4(udp6(undefined, { ext: [[PROTO.ROUTING, [0, 0, 0, 0, 0, 0]]] }), tUdp());
    assert.equal(r.result, Result.EMIT4);
    assert.ok(l4SumOk4(r.out));
  });

  it('RFC 7915 §5.1: a Routing header with Segments Left != 0 MUST NOT be translated (pointer to Segments Left)', () => {
    const r = run6to4(udp6(undefined, { ext: [[PROTO.ROUTING, [0, 1, 0, 0, 0, 0]]] }), tUdp());
    assert.equal(r.result, -1);
    assert.equal(r.count('ext-header-unsupported'), 1);
    assert.equal(r.parsed.badPointer, 43);
    assert.equal(totalCount(r.counters), 1);
  });

  it('RFC 7915 §5.1.1 / RFC 8021: an atomic fragment is translated; ID from its low 16 bits, DF 0', () => {
    const r = run6to4(udp6(undefined, { ext: [[PROTO.FRAGMENT, [0, 0, 0xab, 0xcd, 0x12, 0x34]]] }), tUdp());
    assert.equal(r.result, Result.EMIT4);
    assertSamePacket(r.out, ipv4({ src: P4, dst: R4, proto: PROTO.UDP, l4: udp(61001, 53), ttl: 63, id: 0x1234 }));
  });

  it('fragments that need reassembly are dropped (counter fragmented)', () => {
    const first = run6to4(udp6(undefined, { ext: [[PROTO.FRAGMENT, [0, 1, 0, 0, 0, 9]]] }), tUdp());
    const later = run6to4(udp6(undefined, { ext: [[PROTO.FRAGMENT, [0, 8, 0, 0, 0, 9]]] }), tUdp());
    assert.equal(first.count('fragmented'), 1);
    assert.equal(later.count('fragmented'), 1);
  });

  it('RFC 8200 §8.1: an IPv6 UDP datagram with checksum 0 is discarded (udp6-zero-checksum), not sent on as IPv4 "no checksum"', () => {
    const pkt = udp6();
    pkt[46] = 0; pkt[47] = 0;
    const r = run6to4(pkt, tUdp());
    assert.equal(r.out.length, 0);
    assert.equal(r.count('udp6-zero-checksum'), 1);
    assert.equal(totalCount(r.counters), 1);
  });

  it('RFC 6146 §3.5.3 / drop-icmpv6-info: ICMPv6 informational messages are filtered when configured', () => {
    const r = run6to4(ipv6({ src: H6, dst: R6, nh: PROTO.ICMPV6, l4: echo(128, 5, 1) }), tuple4(P4, R4, 5, 5, 1),
      { g: defaultGlobals({ dropIcmpv6Info: true }) });
    assert.equal(r.result, Result.DROP);
    assert.equal(r.count('icmp-info-filtered'), 1);
  });

  it('RFC 7915 §5.2: MLD/ND and unknown informational messages are silently dropped', () => {
    for (const type of [130, 133, 135, 200]) {
      const r = run6to4(ipv6({ src: H6, dst: R6, nh: PROTO.ICMPV6, l4: icmp(type, 0, 0) }), tuple4(P4, R4, 0, 0, 1));
      assert.equal(r.result, Result.DROP, String(type));
      assert.equal(r.count('icmp-type-untranslatable'), 1);
    }
  });

  it('RFC 7915 §5.1 / RFC 4443 §3.3: Hop Limit 1 is not translated: ICMPv6 Time Exceeded from the translator', () => {
    const pkt = udp6(undefined, { hop: 1 });
    const r = run6to4(pkt, tUdp());
    assert.equal(r.result, Result.EMIT6);
    assertSamePacket(r.out, ipv6({ src: '2001:db8::1', dst: H6, nh: PROTO.ICMPV6, hop: 64, l4: icmp(3, 0, 0, pkt) }));
    assert.equal(r.count('ttl-expired'), 1);
  });

  it('parse6: unknown transport, truncated headers and bad versions are dropped with their counter', () => {
    const sctp = ipv6({ src: H6, dst: R6, nh: 132, l4: new Uint8Array(12) });
    assert.equal(run6to4(sctp, tUdp()).count('unknown-l4-proto'), 1);
    assert.equal(run6to4(udp6().subarray(0, 39), tUdp()).count('ipv6-hdr-truncated'), 1);
    assert.equal(run6to4(udp6().subarray(0, 45), tUdp()).count('ipv6-hdr-truncated'), 1); // payload length > frame
    const short = ipv6({ src: H6, dst: R6, nh: PROTO.TCP, l4: new Uint8Array(12) });
    assert.equal(run6to4(short, tUdp()).count('l4-hdr-truncated'), 1);
    const ah = ipv6({ src: H6, dst: R6, nh: PROTO.UDP, l4: udp(1, 2), ext: [[51, [0, 0, 0, 0, 0, 0]]] });
    assert.equal(run6to4(ah, tUdp()).count('ext-header-unsupported'), 1);
  });

  it('parse6 fills the fields the state layer reads', () => {
    const r = run6to4(udp6(undefined, { tc: 0x12, flow: 0x12345, hop: 9 }), tUdp());
    const p = r.parsed;
    assert.equal(p.family, 6);
    assert.equal(p.tos, 0x12);
    assert.equal(p.flowLabel, 0x12345);
    assert.equal(p.ttl, 9);
    assert.equal(p.proto, PROTO.UDP);
    assert.equal(p.srcPort, 1234);
    assert.equal(p.dstPort, 53);
    assert.equal(p.l4Len, 12);
    assert.equal(p.hdrLen, 40);
    assert.equal(p.dst - p.off, 24);
  });
});
