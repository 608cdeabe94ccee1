/**
 * RFC 4884 ICMP extensions in translated ICMP errors (RFC 7915 §4.2 / §5.2): the "original
 * datagram" field is re-padded to the new family's unit and to 128 octets, the length attribute is
 * rewritten in the new field and unit, the extension structure is copied unchanged. Expected
 * packets are built independently with test/rfc/vectors/build.ts (full checksums).
 */
import * as assert from 'node:assert/strict';
import { Result } from '../../src/dataplane/core-api';
import { icmp, icmpExtension, ipv4, ipv6, PROTO, udp, zeroPad } from './vectors/build';
import { assertSamePacket, ipv4HeaderOk, l4SumOk4, l4SumOk6 } from './vectors/check';
import { run4to6, run6to4, totalCount, tuple4, tuple6 } from './vectors/harness';

const H6 = '2001:db8::8';
const R6 = '64:ff9b::c633:6410';
const P4 = '203.0.113.1';
const R4 = '198.51.100.16';
const ROUTER4 = '198.51.100.1';
const ROUTER6 = '64:ff9b::c633:6401';
const DATA = [1, 2, 3, 4];

/** An MPLS Label Stack object (RFC 4950: Class-Num 1, C-Type 1) and an Interface Information-like one. */
const EXT = icmpExtension([[1, 1, [0x00, 0x01, 0x41, 0x01]], [2, 0x0a, [0, 0, 0, 7]]]);
const cat = (...parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => [...p]));

// IPv6 -> IPv4: an IPv6 router reports on a packet that came from IPv4.
const quoted6 = (data = DATA) => ipv6({ src: R6, dst: H6, nh: PROTO.UDP, l4: udp(53, 1234, data), hop: 60 });
const quoted4 = (data = DATA) => ipv4({ src: R4, dst: P4, proto: PROTO.UDP, l4: udp(53, 61001, data), ttl: 60, id: 0x1234 });
const err6 = (type: number, code: number, word: number, body: Uint8Array) =>
  ipv6({ src: H6, dst: R6, nh: PROTO.ICMPV6, l4: icmp(type, code, word, body) });
const expect4 = (type: number, code: number, word: number, body: Uint8Array) =>
  ipv4({ src: P4, dst: R4, proto: PROTO.ICMP, l4: icmp(type, code, word, body), ttl: 63, id: 0x1235 });
const t6to4 = () => tuple4(R4, P4, 53, 61001, PROTO.UDP);

// IPv4 -> IPv6: an IPv4 router reports on a packet translated from IPv6.
const out4 = (data = DATA) => ipv4({ src: P4, dst: R4, proto: PROTO.UDP, l4: udp(61001, 53, data), ttl: 63 });
const out6 = (data = DATA) => ipv6({ src: H6, dst: R6, nh: PROTO.UDP, l4: udp(1234, 53, data), hop: 63 });
const err4 = (type: number, code: number, word: number, body: Uint8Array) =>
  ipv4({ src: ROUTER4, dst: P4, proto: PROTO.ICMP, l4: icmp(type, code, word, body) });
const expect6 = (type: number, code: number, word: number, body: Uint8Array) =>
  ipv6({ src: ROUTER6, dst: H6, nh: PROTO.ICMPV6, l4: icmp(type, code, word, body), hop: 63 });
const t4to6 = () => tuple6(H6, R6, 1234, 53, PROTO.UDP);

/** ICMPv4 length attribute: octet 5, 32-bit words. ICMPv6: octet 4, 64-bit words. */
const len4 = (words: number, low = 0) => ((words << 16) | low) >>> 0;
const len6 = (words: number) => (words << 24) >>> 0;

describe('RFC 4884 / RFC 7915 §5.2: ICMPv6 error with an extension -> ICMPv4 error with the extension', () => {
  it('RFC 4884 §4.1: Time Exceeded, 128-octet field (16 words of 64 bits) -> 32 words of 32 bits, extension copied', () => {
    const r = run6to4(err6(3, 0, len6(16), cat(zeroPad(quoted6(), 128), EXT)), t6to4());
    assert.equal(r.result, Result.EMIT4);
    assertSamePacket(r.out, expect4(11, 0, len4(32), cat(zeroPad(quoted4(), 128), EXT)));
    assert.equal(r.out[20 + 5], 32);
    assert.ok(ipv4HeaderOk(r.out) && l4SumOk4(r.out));
    assert.equal(r.count('translated-6to4'), 1);
    assert.equal(totalCount(r.counters), 1);
  });

  it('RFC 4884 §4.1: a full 128-octet IPv6 quote shrinks to 108 octets and is zero-padded back to 128', () => {
    const q6 = quoted6(new Array(80).fill(0x33)); // 40 + 8 + 80 = 128
    assert.equal(q6.length, 128);
    const r = run6to4(err6(1, 4, len6(16), cat(q6, EXT)), t6to4());
    assertSamePacket(r.out, expect4(3, 3, len4(32), cat(zeroPad(quoted4(new Array(80).fill(0x33)), 128), EXT)));
    assert.ok(l4SumOk4(r.out));
  });

  it('RFC 4884 §4.1: a longer field keeps all of the quote, padded to 32 bits', () => {
    const data = new Array(200).fill(0x44); // IPv6 quote 248 octets -> IPv4 228 (57 words)
    const r = run6to4(err6(1, 0, len6(31), cat(quoted6(data), EXT)), t6to4());
    assertSamePacket(r.out, expect4(3, 1, len4(57), cat(quoted4(data), EXT)));
  });

  it('RFC 4884 §5 / RFC 7915 §5.2: a length attribute past the end of the message means no extension (translated as before)', () => {
    const body = cat(zeroPad(quoted6(), 128), EXT);
    const r = run6to4(err6(3, 0, len6(100), body), t6to4());
    assert.equal(r.result, Result.EMIT4);
    // As without RFC 4884: everything after the quoted header is carried as opaque quoted bytes, length 0.
    assertSamePacket(r.out, expect4(11, 0, 0, cat(quoted4(), body.subarray(quoted6().length))));
    assert.equal(totalCount(r.counters), 1);
  });

  it('RFC 4884 §4.1: a length attribute below 128 octets means no extension', () => {
    const body = cat(quoted6(), new Uint8Array(12), EXT); // 64 octets = 8 words
    const r = run6to4(err6(3, 0, len6(8), body), t6to4());
    assertSamePacket(r.out, expect4(11, 0, 0, cat(quoted4(), body.subarray(quoted6().length))));
  });

  it('RFC 4884 §7: a structure that is not version 2 means no extension', () => {
    const bad = Uint8Array.from(EXT);
    bad[0] = 0x10;
    const body = cat(zeroPad(quoted6(), 128), bad);
    const r = run6to4(err6(3, 0, len6(16), body), t6to4());
    assertSamePacket(r.out, expect4(11, 0, 0, cat(quoted4(), body.subarray(quoted6().length))));
  });

  it('RFC 4884 §4.1 / RFC 1812 §4.3.2.3: the quote is cut (on 32 bits, >= 128) so that the extension fits in 576 octets', () => {
    const data = new Array(600).fill(0x55); // IPv6 quote 648 octets (81 words) -> IPv4 628
    const r = run6to4(err6(1, 4, len6(81), cat(quoted6(data), EXT)), t6to4());
    assert.equal(r.out.length, 576);
    // 576 - 20 - 8 - 20 (extension) = 528 octets of quote = 132 words.
    assert.equal(EXT.length, 20);
    assertSamePacket(r.out, expect4(3, 3, len4(132), cat(quoted4(data).subarray(0, 528), EXT)));
    assert.ok(l4SumOk4(r.out));
  });

  it('RFC 4884 §4.1: an extension that cannot fit with 128 octets of quote is dropped, length 0', () => {
    const big = icmpExtension([[1, 1, new Array(496).fill(0x66)]]); // 504 octets
    const r = run6to4(err6(3, 0, len6(16), cat(zeroPad(quoted6(), 128), big)), t6to4());
    assertSamePacket(r.out, expect4(11, 0, 0, quoted4()));
    assert.ok(l4SumOk4(r.out));
  });
});

describe('RFC 4884 / RFC 7915 §4.2: ICMPv4 error with an extension -> ICMPv6 error with the extension', () => {
  it('RFC 4884 §4.2: Time Exceeded, 128-octet field (32 words of 32 bits) -> 16 words of 64 bits, extension copied', () => {
    const r = run4to6(err4(11, 0, len4(32), cat(zeroPad(out4(), 128), EXT)), t4to6());
    assert.equal(r.result, Result.EMIT6);
    assertSamePacket(r.out, expect6(3, 0, len6(16), cat(zeroPad(out6(), 128), EXT)));
    assert.equal(r.out[40 + 4], 16);
    assert.ok(l4SumOk6(r.out));
    assert.equal(r.count('translated-4to6'), 1);
    assert.equal(totalCount(r.counters), 1);
  });

  it('RFC 4884 §4.2: a full 128-octet IPv4 quote grows to 148 octets and is zero-padded to 152 (19 words)', () => {
    const data = new Array(100).fill(0x21); // 20 + 8 + 100 = 128
    const r = run4to6(err4(3, 3, len4(32), cat(out4(data), EXT)), t4to6());
    assertSamePacket(r.out, expect6(1, 4, len6(19), cat(zeroPad(out6(data), 152), EXT)));
    assert.ok(l4SumOk6(r.out));
  });

  it('RFC 4884 §4.2: Destination Unreachable/host unreachable keeps the extension as ICMPv6 no route', () => {
    const r = run4to6(err4(3, 1, len4(32), cat(zeroPad(out4(), 128), EXT)), t4to6());
    assertSamePacket(r.out, expect6(1, 0, len6(16), cat(zeroPad(out6(), 128), EXT)));
  });

  it('RFC 4884 §4.1/§4.2: Parameter Problem (pointer octet 4, length octet 5) -> ICMPv6 Parameter Problem, which has no length attribute: extension dropped', () => {
    const r = run4to6(err4(12, 0, len4(32, 0) | (9 << 24), cat(zeroPad(out4(), 128), EXT)), t4to6());
    assertSamePacket(r.out, expect6(4, 0, 6, out6()));
  });

  it('RFC 4884 §4.6: an ICMPv6 type without a length attribute (Packet Too Big) drops the extension', () => {
    const r = run4to6(err4(3, 4, len4(32, 1400), cat(zeroPad(out4(), 128), EXT)), t4to6());
    assertSamePacket(r.out, expect6(2, 0, 1420, out6()));
  });

  it('RFC 4884 §5 / RFC 7915 §4.2: a length attribute past the end of the message means no extension (translated as before)', () => {
    const body = cat(zeroPad(out4(), 128), EXT);
    const r = run4to6(err4(11, 0, len4(200), body), t4to6());
    assertSamePacket(r.out, expect6(3, 0, 0, cat(out6(), body.subarray(out4().length))));
    assert.equal(totalCount(r.counters), 1);
  });

  it('RFC 4884 §4.1: a length attribute below 128 octets means no extension', () => {
    const body = cat(zeroPad(out4(), 64), EXT);
    const r = run4to6(err4(11, 0, len4(16), body), t4to6());
    assertSamePacket(r.out, expect6(3, 0, 0, cat(out6(), body.subarray(out4().length))));
  });

  it('RFC 4884 §4.2 / RFC 4443 §2.4(c): the quote is cut (on 64 bits, >= 128) so that the extension fits in 1280 octets', () => {
    const data = new Array(992).fill(0x77); // IPv4 quote 1020 octets (255 words) -> IPv6 1040
    const ext = icmpExtension([[1, 1, new Array(196).fill(0x12)]]); // 204 octets
    const r = run4to6(err4(11, 0, len4(255), cat(out4(data), ext)), t4to6());
    // 1280 - 40 - 8 - 204 = 1028 -> 1024 octets of quote on a 64-bit boundary (128 words): 1276 octets.
    assert.equal(r.out.length, 1276);
    assertSamePacket(r.out, expect6(3, 0, len6(128), cat(out6(data).subarray(0, 1024), ext)));
    assert.ok(l4SumOk6(r.out));
  });
});
