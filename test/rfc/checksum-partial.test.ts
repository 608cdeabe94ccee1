/**
 * Partial checksums (issue 10; native/checksum.h through native.checksumFrame, no EAL needed).
 *
 * A CHECKSUM_PARTIAL sender leaves in the TCP/UDP checksum field the sum of the pseudo-header only
 * (RFC 768 "Fields", RFC 793 §3.1 "Checksum", RFC 8200 §8.1: source, destination, upper-layer
 * length, next header), folded and not complemented, for a NIC to finish. These vectors build the
 * complete frame by the RFC definition (test/rfc/vectors/build.ts), derive its partial twin by
 * the same definition, and check that the receive path recognises exactly the twin, finishes it
 * into the complete frame byte for byte, and never touches a frame whose checksum is wrong.
 */
import { strict as assert } from 'node:assert';
import { loadNative, native } from '../../src/native';
import { a4, a4bytes, inetChecksum, ipv4, ipv6, PROTO, tcp, udp } from './vectors/build';

const V6_SRC = '2001:db8::8', V6_DST = '64:ff9b::cb00:7110';
const V4_SRC = '203.0.113.16', V4_DST = '203.0.113.1';
const DATA = Array.from({ length: 101 }, (_, i) => (i * 37 + 11) & 0xff); // odd length: the last byte is padded

function eth(l3: Uint8Array, family: 4 | 6): Uint8Array {
  const f = new Uint8Array(14 + l3.length);
  f.set([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, family === 6 ? 0x86 : 0x08, family === 6 ? 0xdd : 0x00]);
  f.set(l3, 14);
  return f;
}

interface Where { l4: number; len: number; sum: number; family: 4 | 6; proto: number }

/** Where the frame's TCP/UDP header is (after `extBytes` of IPv6 extension headers, carrying `proto`). */
function where(f: Uint8Array, family: 4 | 6, extBytes = 0, proto = family === 6 ? f[14 + 6] : f[14 + 9]): Where {
  const l4 = family === 6 ? 14 + 40 + extBytes : 14 + (f[14] & 15) * 4;
  return { l4, len: f.length - l4, family, proto, sum: l4 + (proto === PROTO.TCP ? 16 : 6) };
}

/** RFC 768 / RFC 793 §3.1 / RFC 8200 §8.1 pseudo-header, as bytes. */
function pseudo(f: Uint8Array, w: Where): Uint8Array {
  const len = [0, 0, w.len >> 8, w.len & 0xff];
  return w.family === 6
    ? Uint8Array.from([...f.subarray(14 + 8, 14 + 40), ...len, 0, 0, 0, w.proto])
    : Uint8Array.from([...f.subarray(14 + 12, 14 + 20), 0, w.proto, w.len >> 8, w.len & 0xff]);
}

/** The partial twin: the checksum field replaced by the folded, uncomplemented pseudo-header sum. */
function partialOf(f: Uint8Array, w: Where): Uint8Array {
  const p = f.slice();
  const s = ~inetChecksum(pseudo(f, w)) & 0xffff;
  p[w.sum] = s >> 8; p[w.sum + 1] = s & 0xff;
  return p;
}

function verifies(f: Uint8Array, w: Where): boolean {
  return inetChecksum(pseudo(f, w), f.subarray(w.l4)) === 0;
}

const cases: Array<{ name: string; frame: () => Uint8Array; family: 4 | 6; ext?: number; proto?: number }> = [
  { name: 'UDP over IPv6 (RFC 768, RFC 8200 §8.1)', family: 6,
    frame: () => eth(ipv6({ src: V6_SRC, dst: V6_DST, nh: PROTO.UDP, l4: udp(40000, 5353, DATA) }), 6) },
  { name: 'TCP over IPv6 (RFC 793 §3.1, RFC 8200 §8.1)', family: 6,
    frame: () => eth(ipv6({ src: V6_SRC, dst: V6_DST, nh: PROTO.TCP, l4: tcp(40000, 80, DATA, 0x18) }), 6) },
  { name: 'UDP over IPv4 (RFC 768)', family: 4,
    frame: () => eth(ipv4({ src: V4_SRC, dst: V4_DST, proto: PROTO.UDP, l4: udp(5353, 61001, DATA), df: true }), 4) },
  { name: 'TCP over IPv4 (RFC 793 §3.1)', family: 4,
    frame: () => eth(ipv4({ src: V4_SRC, dst: V4_DST, proto: PROTO.TCP, l4: tcp(8080, 61001, DATA, 0x18), df: true }), 4) },
  { name: 'UDP over IPv6 after Hop-by-Hop and Destination Options (RFC 8200 §8.1: upper-layer length excludes them)', family: 6, ext: 16, proto: PROTO.UDP,
    frame: () => eth(ipv6({ src: V6_SRC, dst: V6_DST, nh: PROTO.UDP, l4: udp(40000, 5353, DATA),
      ext: [[PROTO.HOPOPTS, [1, 4, 0, 0, 0, 0]], [PROTO.DSTOPTS, [1, 4, 0, 0, 0, 0]]] }), 6) },
];

describe('partial checksums: recognised, finished, never a repair (issue 10, native/checksum.h)', () => {
  before(() => { loadNative(); });

  for (const c of cases) {
    describe(c.name, () => {
      it('the complete frame is left alone', () => {
        const f = c.frame(), before = f.slice();
        assert.ok(verifies(f, where(f, c.family, c.ext, c.proto)), 'the vector itself verifies');
        assert.equal(native.checksumFrame(f, 'classify'), 'complete');
        assert.deepEqual(f, before);
      });
      it('its partial twin is recognised, and finishing it gives the complete frame byte for byte', () => {
        const f = c.frame(), w = where(f, c.family, c.ext, c.proto), p = partialOf(f, w);
        assert.ok(!verifies(p, w));
        assert.equal(native.checksumFrame(p, 'classify'), 'partial');
        assert.equal(native.checksumFrame(p, 'complete'), 'complete');
        assert.deepEqual(p, f);
      });
      it('"offload" writes what a TX checksum offload expects: the pseudo-header sum (the partial twin)', () => {
        const f = c.frame(), w = where(f, c.family, c.ext, c.proto), want = partialOf(f, w);
        assert.equal(native.checksumFrame(f, 'offload'), 'partial');
        assert.deepEqual(f, want);
      });
      it('a wrong checksum stays wrong: damaged data or a damaged field is not taken for partial', () => {
        const f = c.frame(), w = where(f, c.family, c.ext, c.proto);
        const data = f.slice(); data[data.length - 3] ^= 0x40;
        assert.equal(native.checksumFrame(data, 'classify'), 'complete');
        assert.ok(!verifies(data, w));
        const field = f.slice(); field[w.sum + 1] ^= 0x01;
        assert.equal(native.checksumFrame(field, 'classify'), 'complete');
        assert.ok(!verifies(field, w));
      });
    });
  }

  it('a valid checksum that happens to equal the pseudo-header sum is never touched', () => {
    // Choose two payload bytes so that the complete checksum equals the pseudo-header sum P:
    // ~(P + D) = P, i.e. the data must sum to ~P - P (one's complement arithmetic).
    const base = ipv6({ src: V6_SRC, dst: V6_DST, nh: PROTO.UDP, l4: udp(40000, 5353, [0, 0, ...DATA.slice(0, 20)]) });
    const f = eth(base, 6), w = where(f, 6);
    const P = ~inetChecksum(pseudo(f, w)) & 0xffff;
    f[w.sum] = P >> 8; f[w.sum + 1] = P & 0xff;
    // With the adjusting word at 0, the one's-complement sum over everything is ~need; adding need makes it 0xffff.
    const need = inetChecksum(pseudo(f, w), f.subarray(w.l4));
    f[w.l4 + 8] = need >> 8; f[w.l4 + 9] = need & 0xff;
    assert.ok(verifies(f, w), 'constructed: checksum correct');
    assert.equal((f[w.sum] << 8) | f[w.sum + 1], P, 'constructed: checksum equals the pseudo-header sum');
    const before = f.slice();
    assert.equal(native.checksumFrame(f, 'classify'), 'complete');
    assert.deepEqual(f, before);
  });

  it('RFC 768: an IPv4 UDP datagram without a checksum (0) is not partial (RFC 7915 §4.5 computes one later)', () => {
    const f = eth(ipv4({ src: V4_SRC, dst: V4_DST, proto: PROTO.UDP, l4: udp(5353, 61001, DATA) }), 4), w = where(f, 4);
    f[w.sum] = 0; f[w.sum + 1] = 0;
    assert.equal(native.checksumFrame(f, 'classify'), 'complete');
  });

  it('not looked at: fragments (their sender summed the whole datagram), a Routing header (RFC 8200 §8.1 final destination), ICMP, truncated frames', () => {
    const frag4 = eth(ipv4({ src: V4_SRC, dst: V4_DST, proto: PROTO.UDP, l4: udp(5353, 61001, DATA), mf: true }), 4);
    assert.equal(native.checksumFrame(frag4, 'classify'), 'none');
    const frag6 = eth(ipv6({ src: V6_SRC, dst: V6_DST, nh: PROTO.UDP, l4: udp(40000, 5353, DATA),
      ext: [[PROTO.FRAGMENT, [0, 0, 0, 0, 0x12, 0x34]]] }), 6);
    assert.equal(native.checksumFrame(frag6, 'classify'), 'none');
    const routing = eth(ipv6({ src: V6_SRC, dst: V6_DST, nh: PROTO.UDP, l4: udp(40000, 5353, DATA),
      ext: [[PROTO.ROUTING, [0, 1, 0, 0, 0, 0]]] }), 6);
    assert.equal(native.checksumFrame(routing, 'classify'), 'none');
    const icmp = eth(ipv4({ src: V4_SRC, dst: V4_DST, proto: PROTO.ICMP, l4: Uint8Array.from([8, 0, 0, 0, 0, 1, 0, 1]) }), 4);
    assert.equal(native.checksumFrame(icmp, 'classify'), 'none');
    const whole = eth(ipv6({ src: V6_SRC, dst: V6_DST, nh: PROTO.TCP, l4: tcp(40000, 80, DATA, 0x18) }), 6);
    assert.equal(native.checksumFrame(whole.subarray(0, whole.length - 1), 'classify'), 'none');
    const short = eth(ipv4({ src: V4_SRC, dst: V4_DST, proto: PROTO.TCP, l4: Uint8Array.from(tcp(1, 2).subarray(0, 12)), l4sum: 'keep' }), 4);
    assert.equal(native.checksumFrame(short, 'classify'), 'none');
  });

  it('addresses come from the IP header the frame has now (what transmit finishing relies on after translation)', () => {
    const f = eth(ipv4({ src: V4_SRC, dst: V4_DST, proto: PROTO.UDP, l4: udp(5353, 61001, DATA), df: true }), 4);
    const w = where(f, 4);
    const p = partialOf(f, w);
    // Rewrite the destination (as translation of another flow would) and its IPv4 header checksum: the
    // partial field no longer matches, so it is not taken for partial; finishing still uses the new header.
    p.set(a4bytes(a4('198.51.100.7')), 14 + 16);
    assert.equal(native.checksumFrame(p, 'classify'), 'complete');
    assert.equal(native.checksumFrame(p, 'complete'), 'complete');
    assert.ok(verifies(p, w));
  });
});
