import * as assert from 'node:assert/strict';
import { Result } from '../../src/dataplane/core-api';
import { COUNTER_COUNT } from '../../src/dataplane/counters';
import { buildIcmp4Error, buildIcmp6Error } from '../../src/dataplane/translate/icmp-error-build';
import { mtu4to6, mtu6to4, plateau } from '../../src/dataplane/translate/mtu';
import { echo, icmp, ipv4, ipv6, PROTO, tcp, udp } from './vectors/build';
import { assertSamePacket, ipv4HeaderOk, l4SumOk6 } from './vectors/check';
import { defaultGlobals, makeSelf, run4to6, run6to4, totalCount, tuple4, tuple6 } from './vectors/harness';

const H6 = '2001:db8::8';
const R6 = '64:ff9b::c633:6410';
const P4 = '203.0.113.1';
const R4 = '198.51.100.16';
const DATA = [1, 2, 3, 4];
const PLATEAUS = defaultGlobals().mtuPlateaus;

// --- IPv6 -> IPv4: the IPv6 host (or a router near it) reports a problem with a packet that came from IPv4.
const quoted6 = (l4 = udp(53, 1234, DATA), nh: number = PROTO.UDP) => ipv6({ src: R6, dst: H6, nh, l4, hop: 60 });
const quoted4 = (l4 = udp(53, 61001, DATA), proto: number = PROTO.UDP, id = 0x1234) =>
  ipv4({ src: R4, dst: P4, proto, l4, ttl: 60, id });
const err6 = (type: number, code: number, word: number, q: Uint8Array = quoted6()) =>
  ipv6({ src: H6, dst: R6, nh: PROTO.ICMPV6, l4: icmp(type, code, word, q) });
const tErr6 = (proto: number = PROTO.UDP, port = 53) => tuple4(R4, P4, port, 61001, proto);
/** The expected IPv4 error: inner gets Identification 0x1234, the outer one 0x1235 (Self.nextId). */
const expect4 = (type: number, code: number, word: number, q: Uint8Array = quoted4()) =>
  ipv4({ src: P4, dst: R4, proto: PROTO.ICMP, l4: icmp(type, code, word, q), ttl: 63, id: 0x1235 });

// --- IPv4 -> IPv6: an IPv4 router (198.51.100.1) reports a problem with a packet we translated from IPv6.
const ROUTER4 = '198.51.100.1';
const ROUTER6 = '64:ff9b::c633:6401';
const out4 = (l4 = udp(61001, 53, DATA), proto: number = PROTO.UDP) => ipv4({ src: P4, dst: R4, proto, l4, ttl: 63 });
const err4 = (type: number, code: number, word: number, q: Uint8Array = out4()) =>
  ipv4({ src: ROUTER4, dst: P4, proto: PROTO.ICMP, l4: icmp(type, code, word, q) });
const tErr4 = (proto: number = PROTO.UDP, port = 53) => tuple6(H6, R6, 1234, port, proto);
const out6 = (l4 = udp(1234, 53, DATA), nh: number = PROTO.UDP) => ipv6({ src: H6, dst: R6, nh, l4, hop: 63 });
const expect6 = (type: number, code: number, word: number, q: Uint8Array = out6()) =>
  ipv6({ src: ROUTER6, dst: H6, nh: PROTO.ICMPV6, l4: icmp(type, code, word, q), hop: 63 });

/** RFC 7915 §5.2: [ICMPv6 type, code, word] -> [ICMPv4 type, code, word] or null (silently dropped). */
const MAP_6TO4: Array<[string, [number, number, number], [number, number, number] | null]> = [
  ['Destination Unreachable/no route -> Host Unreachable', [1, 0, 0], [3, 1, 0]],
  ['Destination Unreachable/administratively prohibited -> code 10', [1, 1, 0], [3, 10, 0]],
  ['Destination Unreachable/beyond scope -> Host Unreachable', [1, 2, 0], [3, 1, 0]],
  ['Destination Unreachable/address unreachable -> Host Unreachable', [1, 3, 0], [3, 1, 0]],
  ['Destination Unreachable/port unreachable -> Port Unreachable', [1, 4, 0], [3, 3, 0]],
  ['Destination Unreachable/other codes -> drop', [1, 5, 0], null],
  ['Packet Too Big -> Fragmentation Needed, MTU - 20', [2, 0, 1400], [3, 4, 1380]],
  ['Time Exceeded/hop limit -> Time Exceeded code 0', [3, 0, 0], [11, 0, 0]],
  ['Time Exceeded/reassembly -> Time Exceeded code 1', [3, 1, 0], [11, 1, 0]],
  ['Parameter Problem/erroneous header (Next Header) -> pointer 9', [4, 0, 6], [12, 0, 9 << 24]],
  ['Parameter Problem/erroneous header (Payload Length) -> pointer 2', [4, 0, 5], [12, 0, 2 << 24]],
  ['Parameter Problem/erroneous header (Hop Limit) -> pointer 8', [4, 0, 7], [12, 0, 8 << 24]],
  ['Parameter Problem/erroneous header (Source Address) -> pointer 12', [4, 0, 15], [12, 0, 12 << 24]],
  ['Parameter Problem/erroneous header (Destination Address) -> pointer 16', [4, 0, 39], [12, 0, 16 << 24]],
  ['Parameter Problem/erroneous header (Version/TC) -> pointer 0', [4, 0, 0], [12, 0, 0]],
  ['Parameter Problem/erroneous header (TC/Flow) -> pointer 1', [4, 0, 1], [12, 0, 1 << 24]],
  ['Parameter Problem/erroneous header (Flow Label) -> drop', [4, 0, 2], null],
  ['Parameter Problem/erroneous header (beyond the IPv6 header) -> drop', [4, 0, 40], null],
  ['Parameter Problem/unrecognized Next Header -> Protocol Unreachable', [4, 1, 0], [3, 2, 0]],
  ['Parameter Problem/unrecognized option -> drop', [4, 2, 0], null],
  ['unknown error type -> drop', [100, 0, 0], null],
];

/** RFC 7915 §4.2: [ICMPv4 type, code, word] -> [ICMPv6 type, code, word] or null. */
const MAP_4TO6: Array<[string, [number, number, number], [number, number, number] | null]> = [
  ['Net Unreachable -> No route', [3, 0, 0], [1, 0, 0]],
  ['Host Unreachable -> No route', [3, 1, 0], [1, 0, 0]],
  ['Protocol Unreachable -> Parameter Problem/unrecognized Next Header, pointer 6', [3, 2, 0], [4, 1, 6]],
  ['Port Unreachable -> Port unreachable', [3, 3, 0], [1, 4, 0]],
  ['Fragmentation Needed -> Packet Too Big, MTU + 20', [3, 4, 1400], [2, 0, 1420]],
  ['Source Route Failed -> No route', [3, 5, 0], [1, 0, 0]],
  ['Destination Network Unknown -> No route', [3, 6, 0], [1, 0, 0]],
  ['Destination Host Unknown -> No route', [3, 7, 0], [1, 0, 0]],
  ['Source Host Isolated -> No route', [3, 8, 0], [1, 0, 0]],
  ['Network Administratively Prohibited -> administratively prohibited', [3, 9, 0], [1, 1, 0]],
  ['Host Administratively Prohibited -> administratively prohibited', [3, 10, 0], [1, 1, 0]],
  ['Network Unreachable for TOS -> No route', [3, 11, 0], [1, 0, 0]],
  ['Host Unreachable for TOS -> No route', [3, 12, 0], [1, 0, 0]],
  ['Communication Administratively Prohibited -> administratively prohibited', [3, 13, 0], [1, 1, 0]],
  ['Host Precedence Violation -> drop', [3, 14, 0], null],
  ['Precedence cutoff in effect -> administratively prohibited', [3, 15, 0], [1, 1, 0]],
  ['Source Quench -> drop', [4, 0, 0], null],
  ['Redirect -> drop', [5, 0, 0], null],
  ['Time Exceeded code 0 -> Time Exceeded code 0', [11, 0, 0], [3, 0, 0]],
  ['Time Exceeded code 1 -> Time Exceeded code 1', [11, 1, 0], [3, 1, 0]],
  ['Parameter Problem pointer 0 (Version/IHL) -> 0', [12, 0, 0], [4, 0, 0]],
  ['Parameter Problem pointer 1 (TOS) -> 1', [12, 0, 1 << 24], [4, 0, 1]],
  ['Parameter Problem pointer 2 (Total Length) -> 4', [12, 0, 2 << 24], [4, 0, 4]],
  ['Parameter Problem pointer 3 (Total Length) -> 4', [12, 0, 3 << 24], [4, 0, 4]],
  ['Parameter Problem pointer 8 (TTL) -> 7', [12, 0, 8 << 24], [4, 0, 7]],
  ['Parameter Problem pointer 9 (Protocol) -> 6', [12, 0, 9 << 24], [4, 0, 6]],
  ['Parameter Problem pointer 13 (Source) -> 8', [12, 0, 13 << 24], [4, 0, 8]],
  ['Parameter Problem pointer 16 (Destination) -> 24', [12, 0, 16 << 24], [4, 0, 24]],
  ['Parameter Problem code 2 (bad length) -> erroneous header', [12, 2, 9 << 24], [4, 0, 6]],
  ['Parameter Problem pointer 4 (Identification) -> drop', [12, 0, 4 << 24], null],
  ['Parameter Problem pointer 10 (Checksum) -> drop', [12, 0, 10 << 24], null],
  ['Parameter Problem code 1 (missing option) -> drop', [12, 1, 0], null],
  ['Timestamp (informational) -> drop', [13, 0, 0], null],
];

describe('RFC 7915 §5.2/§5.3: ICMPv6 errors -> ICMPv4, quoted packet translated', () => {
  for (const [name, [t6, c6, w6], want] of MAP_6TO4) {
    it(`RFC 7915 §5.2: ${name}`, () => {
      const r = run6to4(err6(t6, c6, w6), tErr6());
      if (want === null) {
        assert.equal(r.result, Result.DROP);
        assert.equal(r.count('icmp-type-untranslatable'), 1);
        return;
      }
      assert.equal(r.result, Result.EMIT4);
      assertSamePacket(r.out, expect4(want[0], want[1], want[2] >>> 0));
      assert.equal(r.count('translated-6to4'), 1);
    });
  }

  it('RFC 7915 §5.3: quoted TCP translated (ports, addresses, checksum)', () => {
    const r = run6to4(err6(1, 4, 0, quoted6(tcp(80, 1234, [7]), PROTO.TCP)), tErr6(PROTO.TCP, 80));
    assertSamePacket(r.out, expect4(3, 3, 0, quoted4(tcp(80, 61001, [7]), PROTO.TCP)));
  });

  it('RFC 7915 §5.3: quoted ICMPv6 Echo Request becomes ICMPv4 Echo with the tuple identifier', () => {
    const q = quoted6(echo(128, 61002, 9), PROTO.ICMPV6);
    const r = run6to4(err6(3, 0, 0, q), tuple4(R4, P4, 61002, 61002, PROTO.ICMP));
    assertSamePacket(r.out, expect4(11, 0, 0, quoted4(echo(8, 61002, 9), PROTO.ICMP)));
  });

  it('RFC 7915 §5.2 / RFC 1812 §4.3.2.3: the ICMPv4 error is truncated to 576 bytes', () => {
    const big = new Array(1000).fill(0x5a);
    const r = run6to4(err6(1, 4, 0, quoted6(udp(53, 1234, big))), tErr6());
    assert.equal(r.out.length, 576);
    const q = quoted4(udp(53, 61001, big)).subarray(0, 576 - 28);
    assertSamePacket(r.out, expect4(3, 3, 0, q));
    assert.ok(ipv4HeaderOk(r.out));
  });

  it('RFC 7915 §5.2: a quoted packet truncated before its checksum is still translated', () => {
    const q = quoted6(tcp(80, 1234, [7]), PROTO.TCP).subarray(0, 48);
    const r = run6to4(err6(1, 4, 0, q), tErr6(PROTO.TCP, 80));
    const e = quoted4(tcp(80, 61001, [7]), PROTO.TCP).subarray(0, 28);
    assertSamePacket(r.out, expect4(3, 3, 0, e));
  });

  it('RFC 4443 §2.4: an ICMPv6 error with a bad checksum is dropped, not laundered', () => {
    const pkt = err6(1, 4, 0);
    pkt[42] ^= 1;
    assert.equal(run6to4(pkt, tErr6()).count('icmp-bad-checksum'), 1);
  });

  it('RFC 7915 §5.3: an error quoting an error is dropped', () => {
    const inner = quoted6(icmp(1, 0, 0, new Array(40).fill(0)), PROTO.ICMPV6);
    assert.equal(run6to4(err6(1, 4, 0, inner), tErr6()).count('icmp-error-inner-bad'), 1);
  });

  it('RFC 7915 §5.3: a quoted packet shorter than its IPv6 header is dropped', () => {
    assert.equal(run6to4(err6(1, 4, 0, quoted6().subarray(0, 30)), tErr6()).count('icmp-error-inner-bad'), 1);
  });

  it('RFC 4443 §2.4(e.1): an ICMPv6 error with Hop Limit 1 is dropped, no error about an error', () => {
    const pkt = err6(1, 4, 0);
    pkt[7] = 1;
    const r = run6to4(pkt, tErr6());
    assert.equal(r.result, Result.DROP);
    assert.equal(r.count('icmp-error-suppressed'), 1);
  });
});

describe('RFC 7915 §4.2/§4.3: ICMPv4 errors -> ICMPv6, quoted packet translated', () => {
  for (const [name, [t4, c4, w4], want] of MAP_4TO6) {
    it(`RFC 7915 §4.2: ${name}`, () => {
      const r = run4to6(err4(t4, c4, w4 >>> 0), tErr4());
      if (want === null) {
        assert.equal(r.result, Result.DROP);
        assert.equal(r.count('icmp-type-untranslatable'), 1);
        return;
      }
      assert.equal(r.result, Result.EMIT6);
      assertSamePacket(r.out, expect6(want[0], want[1], want[2]));
      assert.equal(r.count('translated-4to6'), 1);
    });
  }

  it('RFC 7915 §4.2: Fragmentation Needed with MTU 0 uses the greatest plateau below the quoted Total Length', () => {
    const data = new Array(1500 - 28).fill(0x11);
    const self = makeSelf();
    self.mtu6 = 9000; self.mtu4 = 9000;
    const r = run4to6(err4(3, 4, 0, out4(udp(61001, 53, data))), tErr4(), { self });
    // Total Length 1500 -> plateau 1492 (RFC 1191) -> + 20.
    assert.equal((r.out[44] << 24 | r.out[45] << 16 | r.out[46] << 8 | r.out[47]) >>> 0, 1512);
  });

  it('RFC 7915 §4.3: quoted TCP translated', () => {
    const r = run4to6(err4(3, 3, 0, out4(tcp(61001, 80, [3]), PROTO.TCP)), tErr4(PROTO.TCP, 80));
    assertSamePacket(r.out, expect6(1, 4, 0, out6(tcp(1234, 80, [3]), PROTO.TCP)));
  });

  it('RFC 7915 §4.3: quoted ICMPv4 Echo becomes ICMPv6 Echo Request with the tuple identifier', () => {
    const r = run4to6(err4(11, 0, 0, out4(echo(8, 61002, 2), PROTO.ICMP)), tuple6(H6, R6, 77, 77, PROTO.ICMP));
    assertSamePacket(r.out, expect6(3, 0, 0, out6(echo(128, 77, 2), PROTO.ICMPV6)));
  });

  it('RFC 792: a quote of only the IPv4 header + 8 bytes is translated', () => {
    const q = out4(tcp(61001, 80, [3]), PROTO.TCP).subarray(0, 28);
    const r = run4to6(err4(3, 3, 0, q), tErr4(PROTO.TCP, 80));
    const e = out6(tcp(1234, 80, [3]), PROTO.TCP).subarray(0, 48);
    assertSamePacket(r.out, expect6(1, 4, 0, e));
  });

  it('RFC 7915 §4.2 / RFC 4443 §2.4(c): the ICMPv6 error is truncated to 1280 bytes', () => {
    const big = new Array(1400).fill(0x77);
    const r = run4to6(err4(3, 3, 0, out4(udp(61001, 53, big))), tErr4());
    assert.equal(r.out.length, 1280);
    assertSamePacket(r.out, expect6(1, 4, 0, out6(udp(1234, 53, big)).subarray(0, 1280 - 48)));
  });

  // RFC 7915 §4.1 (Fragment Header: Next Header = the protocol, ICMP 1 -> 58; Fragment Offset and M
  // copied; Identification = the IPv4 one, high 16 bits zero; Payload Length = Total Length - IHL*4
  // + 8) applied to the quoted packet (§4.3: the inner header is translated like the outer one).
  // Only a first fragment reaches translation (a later one has no ports: icmp-error-inner-bad).
  /** The first `len` transport bytes of the datagram `l4` as an IPv4 first fragment (MF 1) we sent. */
  const firstFrag4 = (l4: Uint8Array, len: number, proto: number = PROTO.UDP, id = 0xbeef) =>
    ipv4({ src: P4, dst: R4, proto, l4, ttl: 63, id, mf: true, totalLen: 20 + len }).subarray(0, 20 + len);
  /** Its translation: the same bytes behind an IPv6 header and a Fragment Header (offset 0, M 1). */
  const firstFrag6 = (l4: Uint8Array, len: number, nh: number = PROTO.UDP, id = 0xbeef) =>
    ipv6({ src: H6, dst: R6, nh, l4, hop: 63, payloadLen: 8 + len,
      ext: [[PROTO.FRAGMENT, [0, 1, 0, 0, id >> 8, id & 0xff]]] }).subarray(0, 48 + len);

  it('RFC 7915 §4.3 / §4.1: a quoted IPv4 first fragment (MF 1) is quoted with an IPv6 Fragment Header (nh 44 -> UDP, offset 0, M 1, ID = IPv4 ID), Payload Length + 8, ICMPv6 checksum over it all', () => {
    const datagram = udp(61001, 53, Array.from({ length: 400 }, (_, i) => i & 0xff));
    const r = run4to6(err4(11, 0, 0, firstFrag4(datagram, 104)), tErr4());
    assert.equal(r.result, Result.EMIT6, JSON.stringify(Array.from(r.counters.entries()).filter(([, v]) => v)));
    const want = firstFrag6(udp(1234, 53, Array.from({ length: 400 }, (_, i) => i & 0xff)), 104);
    assertSamePacket(r.out, expect6(3, 0, 0, want));
    const q = r.out.subarray(48);
    assert.equal(q[6], PROTO.FRAGMENT, 'quoted IPv6 Next Header: Fragment');
    assert.equal((q[4] << 8) | q[5], 104 + 8, 'quoted Payload Length: Total Length - 20 + 8');
    assert.deepEqual(Array.from(q.subarray(40, 48)), [PROTO.UDP, 0, 0, 1, 0, 0, 0xbe, 0xef]);
    assert.equal(r.count('translated-4to6'), 1);
    assert.equal(totalCount(r.counters), 1);
  });

  it('RFC 7915 §4.3 / §4.1: a quoted ICMPv4 Echo first fragment: the Fragment Header\'s Next Header is ICMPv6 (58)', () => {
    const q4 = firstFrag4(echo(8, 61002, 2, new Array(100).fill(0x42)), 48, PROTO.ICMP, 0x0707);
    const r = run4to6(err4(3, 3, 0, q4), tuple6(H6, R6, 77, 77, PROTO.ICMP));
    assert.equal(r.result, Result.EMIT6);
    const q = r.out.subarray(48);
    assert.equal(q[6], PROTO.FRAGMENT);
    assert.equal((q[4] << 8) | q[5], 48 + 8);
    assert.deepEqual(Array.from(q.subarray(40, 48)), [PROTO.ICMPV6, 0, 0, 1, 0, 0, 0x07, 0x07]);
    assert.deepEqual([q[48], q[49], (q[52] << 8) | q[53]], [128, 0, 77], 'Echo Request with the tuple identifier');
    assert.equal(r.out.length, 48 + 48 + 48);
    assert.ok(l4SumOk6(r.out), 'ICMPv6 checksum over the Fragment Header too');
  });

  it('RFC 7915 §4.2 / RFC 4443 §2.4(c): a quoted first fragment is cut with the error at 1280 bytes, its Fragment Header kept', () => {
    const big = Array.from({ length: 2000 }, (_, i) => (i * 3) & 0xff);
    const r = run4to6(err4(3, 3, 0, firstFrag4(udp(61001, 53, big), 1480)), tErr4());
    assert.equal(r.out.length, 1280);
    assertSamePacket(r.out, expect6(1, 4, 0, firstFrag6(udp(1234, 53, big), 1480).subarray(0, 1280 - 48)));
    assert.equal((r.out[48 + 4] << 8) | r.out[48 + 5], 1480 + 8, 'the quoted Payload Length is the declared one');
  });

  it('RFC 7915 §4.3: a quoted packet that is no fragment (DF set or not) gets no Fragment Header', () => {
    const q4 = ipv4({ src: P4, dst: R4, proto: PROTO.UDP, l4: udp(61001, 53, DATA), ttl: 63, df: true });
    const r = run4to6(err4(3, 3, 0, q4), tErr4());
    assertSamePacket(r.out, expect6(1, 4, 0, out6()));
  });

  it('RFC 792: an ICMPv4 error with a bad checksum is dropped, not laundered', () => {
    const pkt = err4(3, 3, 0);
    pkt[22] ^= 1;
    assert.equal(run4to6(pkt, tErr4()).count('icmp-bad-checksum'), 1);
  });

  it('RFC 7915 §4.3: an error quoting an error is dropped', () => {
    const inner = out4(icmp(3, 1, 0, new Array(28).fill(0)), PROTO.ICMP);
    assert.equal(run4to6(err4(3, 3, 0, inner), tErr4()).count('icmp-error-inner-bad'), 1);
  });

  it('RFC 7915 §4.2: the outer source is the IPv4 router embedded in pool6 (RFC 6052)', () => {
    const r = run4to6(err4(3, 3, 0), tErr4(), { g: defaultGlobals({ pool6: Uint8Array.of(0x20, 1, 0xd, 0xb8, 0, 0x64, ...new Array(10).fill(0)), pool6Len: 48 }) });
    assert.deepEqual(r.out.subarray(8, 24), Uint8Array.of(0x20, 1, 0xd, 0xb8, 0, 0x64, 198, 51, 0, 100, 1, 0, 0, 0, 0, 0));
  });
});

describe('RFC 7915 §4.2/§5.2: Packet Too Big <-> Fragmentation Needed MTU arithmetic', () => {
  it('RFC 7915 §5.2: minimum(MTU - 20, IPv4 next-hop MTU, IPv6 next-hop MTU - 20)', () => {
    assert.equal(mtu6to4(1400, 1500, 1500), 1380);
    assert.equal(mtu6to4(1500, 1500, 1400), 1400);
    assert.equal(mtu6to4(1500, 1300, 1500), 1280);
    assert.equal(mtu6to4(100000, 70000, 70000), 0xffff);
  });
  it('RFC 7915 §4.2: minimum(MTU + 20, IPv6 next-hop MTU, IPv4 next-hop MTU + 20), at least 1280', () => {
    assert.equal(mtu4to6(1400, 0, PLATEAUS, 1500, 1500), 1420);
    assert.equal(mtu4to6(1490, 0, PLATEAUS, 1500, 1500), 1500);
    assert.equal(mtu4to6(1490, 0, PLATEAUS, 9000, 1400), 1420);
    assert.equal(mtu4to6(576, 0, PLATEAUS, 1500, 1500), 1280);
  });
  it('RFC 7915 §4.2 / RFC 1191 §7: MTU 0 -> greatest plateau less than the quoted Total Length', () => {
    assert.equal(plateau(1500, PLATEAUS), 1492);
    assert.equal(plateau(1492, PLATEAUS), 1006);
    assert.equal(plateau(4000, PLATEAUS), 2002);
    assert.equal(mtu4to6(0, 4000, PLATEAUS, 9000, 9000), 2022);
  });
});

describe('ICMP errors generated by the translator (RFC 4443 §2.4, RFC 1812 §4.3.2.7)', () => {
  const run = (fam: 4 | 6, pkt: Uint8Array, type: number, code: number) => {
    const buf = new Uint8Array(128 + pkt.length);
    buf.set(pkt, 128);
    const counters = new Float64Array(COUNTER_COUNT);
    const out = { off: 0, len: 0 };
    const r = fam === 6
      ? buildIcmp6Error(buf, 128, pkt.length, type, code, 0, makeSelf(), out, counters)
      : buildIcmp4Error(buf, 128, pkt.length, type, code, 0, makeSelf(), out, counters);
    return { r, bytes: buf.slice(out.off, out.off + out.len), counters };
  };

  it('RFC 4443 §3.1: Address Unreachable wraps the offending packet, from the translator\'s address', () => {
    const pkt = ipv6({ src: H6, dst: R6, nh: PROTO.UDP, l4: udp(1234, 53) });
    const { r, bytes } = run(6, pkt, 1, 3);
    assert.equal(r, Result.EMIT6);
    assertSamePacket(bytes, ipv6({ src: '2001:db8::1', dst: H6, nh: PROTO.ICMPV6, l4: icmp(1, 3, 0, pkt) }));
  });

  it('RFC 4443 §2.4(c): the generated ICMPv6 error is at most 1280 bytes', () => {
    const pkt = ipv6({ src: H6, dst: R6, nh: PROTO.UDP, l4: udp(1234, 53, new Array(1400).fill(3)) });
    const { bytes } = run(6, pkt, 1, 4);
    assert.equal(bytes.length, 1280);
    assertSamePacket(bytes, ipv6({ src: '2001:db8::1', dst: H6, nh: PROTO.ICMPV6, l4: icmp(1, 4, 0, pkt.subarray(0, 1232)) }));
  });

  it('RFC 1812 §4.3.2.3: the generated ICMPv4 error is at most 576 bytes', () => {
    const pkt = ipv4({ src: R4, dst: P4, proto: PROTO.UDP, l4: udp(53, 61001, new Array(1000).fill(3)) });
    const { r, bytes } = run(4, pkt, 3, 3);
    assert.equal(r, Result.EMIT4);
    assert.equal(bytes.length, 576);
    assertSamePacket(bytes, ipv4({ src: P4, dst: R4, proto: PROTO.ICMP, l4: icmp(3, 3, 0, pkt.subarray(0, 548)) }), [4, 5, 10, 11]);
  });

  const suppressed6: Array<[string, Uint8Array]> = [
    ['an ICMPv6 error', ipv6({ src: H6, dst: R6, nh: PROTO.ICMPV6, l4: icmp(1, 0, 0, new Array(48).fill(0)) })],
    ['a multicast source', ipv6({ src: 'ff02::1', dst: R6, nh: PROTO.UDP, l4: udp(1, 2) })],
    ['the unspecified source', ipv6({ src: '::', dst: R6, nh: PROTO.UDP, l4: udp(1, 2) })],
    ['a multicast destination', ipv6({ src: H6, dst: 'ff02::1', nh: PROTO.UDP, l4: udp(1, 2) })],
    ['a non-first fragment', ipv6({ src: H6, dst: R6, nh: PROTO.UDP, l4: udp(1, 2), ext: [[PROTO.FRAGMENT, [0, 8, 0, 0, 0, 1]]] })],
  ];
  for (const [what, pkt] of suppressed6) {
    it(`RFC 4443 §2.4(e): no ICMPv6 error about ${what}`, () => {
      const { r, counters } = run(6, pkt, 1, 3);
      assert.equal(r, Result.DROP);
      assert.equal(counters.reduce((a, b) => a + b, 0), 1);
    });
  }

  const suppressed4: Array<[string, Uint8Array]> = [
    ['an ICMPv4 error', ipv4({ src: R4, dst: P4, proto: PROTO.ICMP, l4: icmp(3, 1, 0, new Array(28).fill(0)) })],
    ['a broadcast destination', ipv4({ src: R4, dst: '255.255.255.255', proto: PROTO.UDP, l4: udp(1, 2) })],
    ['a multicast source', ipv4({ src: '224.0.0.5', dst: P4, proto: PROTO.UDP, l4: udp(1, 2) })],
    ['a non-first fragment', ipv4({ src: R4, dst: P4, proto: PROTO.UDP, l4: udp(1, 2), fragOffset: 10 })],
  ];
  for (const [what, pkt] of suppressed4) {
    it(`RFC 1812 §4.3.2.7: no ICMPv4 error about ${what}`, () => {
      const { r, counters } = run(4, pkt, 3, 3);
      assert.equal(r, Result.DROP);
      assert.equal(counters.reduce((a, b) => a + b, 0), 1);
    });
  }
});
