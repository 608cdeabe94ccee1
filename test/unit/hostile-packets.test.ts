/**
 * Hostile input for the translation core, case by case (the reliability issue): each packet goes
 * through a Nat64Core configured like the user guide, and the test names the one counter it must
 * bump (or the pair of an ICMP error the core originates). The fuzzer (fuzz-core.test.ts) covers
 * the space in between; these are the cases a reader can look up.
 */
import * as assert from 'node:assert/strict';
import { COUNTERS } from '../../src/dataplane/counters';
import { Result } from '../../src/dataplane/core-api';
import { a6, echo, icmp, inetChecksum, ipv4, ipv6, PROTO, tcp, udp } from '../rfc/vectors/build';
import { X, Y4, Y6, establish, type Flows } from '../fuzz/corpus';
import { checkIpv4, checkIpv6, checkQuoted } from '../fuzz/engine';
import { fixChecksums } from '../fuzz/mutate';
import { CANARY, CANARY_BYTE, HEADROOM, OWN4, Rig } from '../fuzz/rig';

interface Fed { r: Result; out: Uint8Array; delta: Record<string, number> }

/** Runs one packet through its owner shard; returns the verdict, the output and the counter changes. */
function feed(rig: Rig, family: 4 | 6, pkt: Uint8Array, slack = 64): Fed {
  const buf = rig.buf, off = rig.off;
  buf.fill(CANARY_BYTE, off - HEADROOM - CANARY, off - HEADROOM);
  buf.set(pkt, off);
  buf.fill(CANARY_BYTE, off + pkt.length + slack, off + pkt.length + slack + CANARY);
  const s0 = rig.shards[0].core;
  const owner = family === 6 ? s0.ownerOf6(buf, off, pkt.length) : s0.ownerOf4(buf, off, pkt.length);
  const shard = rig.shards[owner];
  const before = Float64Array.from(shard.counters);
  const r = family === 6
    ? shard.core.process6(buf, off, pkt.length, pkt.length + slack, rig.now)
    : shard.core.process4(buf, off, pkt.length, pkt.length + slack, rig.now);
  rig.now += 10;
  const delta: Record<string, number> = {};
  shard.counters.forEach((v, k) => { if (v !== before[k]) delta[COUNTERS[k].name] = v - before[k]; });
  for (let k = off - HEADROOM - CANARY; k < off - HEADROOM; k++) assert.equal(buf[k], CANARY_BYTE, 'wrote before the headroom');
  for (let k = off + pkt.length + slack; k < off + pkt.length + slack + CANARY; k++) assert.equal(buf[k], CANARY_BYTE, 'wrote past cap');
  const o = shard.core.out;
  const out = r === Result.DROP ? new Uint8Array(0) : buf.slice(o.off, o.off + o.len);
  return { r, out, delta };
}

function dropped(f: Fed, counter: string): void {
  assert.deepEqual({ r: f.r, delta: f.delta }, { r: Result.DROP, delta: { [counter]: 1 } });
}

function u16(b: Uint8Array, o: number): number { return (b[o] << 8) | b[o + 1]; }
function put16(b: Uint8Array, o: number, v: number): void { b[o] = v >> 8; b[o + 1] = v & 0xff; }
/** A copy with a header field changed and the checksums the core verifies made right again. */
function edited(p: Uint8Array, edit: (b: Uint8Array) => void): Uint8Array {
  const b = Uint8Array.from(p);
  edit(b);
  fixChecksums(b, 0, b.length);
  return b;
}

const udp6 = (extra: Partial<Parameters<typeof ipv6>[0]> = {}) => ipv6({ src: X, dst: Y6, nh: PROTO.UDP, l4: udp(5000, 53), ...extra });
const pad6 = [1, 4, 0, 0, 0, 0];

describe('hostile packets: each dropped with its own counter', () => {
  let rig: Rig;
  let f: Flows;
  beforeEach(() => {
    rig = new Rig(1, 1024);
    f = establish(rig);
  });
  const udp4 = (extra: Partial<Parameters<typeof ipv4>[0]> = {}) =>
    ipv4({ src: Y4, dst: OWN4, proto: PROTO.UDP, l4: udp(53, f.tUdp), ...extra });

  describe('truncated headers', () => {
    it('an IPv6 header of 39 bytes: ipv6-hdr-truncated', () => dropped(feed(rig, 6, udp6().subarray(0, 39)), 'ipv6-hdr-truncated'));
    it('an IPv4 header of 19 bytes: ipv4-hdr-truncated', () => dropped(feed(rig, 4, udp4().subarray(0, 19)), 'ipv4-hdr-truncated'));
    it('nothing at all: ipv6-hdr-truncated / ipv4-hdr-truncated', () => {
      dropped(feed(rig, 6, new Uint8Array(0)), 'ipv6-hdr-truncated');
      dropped(feed(rig, 4, new Uint8Array(0)), 'ipv4-hdr-truncated');
    });
    it('a UDP header cut to 4 bytes (lengths consistent): l4-hdr-truncated', () => {
      dropped(feed(rig, 6, ipv6({ src: X, dst: Y6, nh: PROTO.UDP, l4: Uint8Array.of(0x13, 0x88, 0, 53), l4sum: 'keep' })), 'l4-hdr-truncated');
      dropped(feed(rig, 4, udp4({ l4: Uint8Array.of(0, 53, 0xee, 0x49), l4sum: 'keep' })), 'l4-hdr-truncated');
    });
    it('a TCP header of 19 bytes: l4-hdr-truncated', () => {
      const t = tcp(5001, 80, [], 0x10).subarray(0, 19);
      dropped(feed(rig, 6, ipv6({ src: X, dst: Y6, nh: PROTO.TCP, l4: t, l4sum: 'keep' })), 'l4-hdr-truncated');
    });
    it('an ICMP header of 4 bytes: l4-hdr-truncated', () => {
      dropped(feed(rig, 6, ipv6({ src: X, dst: Y6, nh: PROTO.ICMPV6, l4: Uint8Array.of(128, 0, 0, 0), l4sum: 'keep' })), 'l4-hdr-truncated');
    });
  });

  describe('lengths that lie', () => {
    it('IPv6 Payload Length past the end of the packet: ipv6-hdr-truncated', () => {
      dropped(feed(rig, 6, udp6({ payloadLen: 13 })), 'ipv6-hdr-truncated'); // 12 present
      dropped(feed(rig, 6, udp6({ payloadLen: 0xffff })), 'ipv6-hdr-truncated');
    });
    it('IPv4 Total Length past the end, or below the header: ipv4-hdr-truncated', () => {
      dropped(feed(rig, 4, udp4({ totalLen: 33 })), 'ipv4-hdr-truncated');
      dropped(feed(rig, 4, udp4({ totalLen: 0xffff })), 'ipv4-hdr-truncated');
      dropped(feed(rig, 4, udp4({ totalLen: 19 })), 'ipv4-hdr-truncated');
      dropped(feed(rig, 4, udp4({ totalLen: 0 })), 'ipv4-hdr-truncated');
    });
    it('a UDP Length that lies is carried, not trusted: translated with the IP lengths', () => {
      const p = udp4({ l4: Uint8Array.of(0, 53, f.tUdp >> 8, f.tUdp & 0xff, 0xff, 0xff, 0, 0, 1, 2), l4sum: 'keep' });
      const r = feed(rig, 4, p);
      assert.equal(r.r, Result.EMIT6);
      assert.deepEqual(r.delta, { 'translated-4to6': 1 });
      assert.equal(checkIpv6(r.out, 0, r.out.length), null);
      assert.equal(r.out.length, 40 + 10);
    });
    it('trailing bytes after the declared length are not translated', () => {
      const p = udp6();
      const padded = Uint8Array.from([...p, 0xde, 0xad, 0xbe, 0xef]);
      const r = feed(rig, 6, padded);
      assert.equal(r.r, Result.EMIT4);
      assert.equal(u16(r.out, 2), r.out.length);
      assert.equal(r.out.length, 20 + p.length - 40);
    });
  });

  describe('bad IHL', () => {
    for (const ihl of [0, 1, 4]) {
      it(`IHL ${ihl}: ipv4-hdr-truncated`, () => dropped(feed(rig, 4, edited(udp4(), (b) => { b[0] = 0x40 | ihl; })), 'ipv4-hdr-truncated'));
    }
    it('IHL 15 on a 28-byte packet: ipv4-hdr-truncated', () => {
      dropped(feed(rig, 4, edited(udp4(), (b) => { b[0] = 0x4f; })), 'ipv4-hdr-truncated');
    });
    it('IHL larger than Total Length: ipv4-hdr-truncated', () => {
      dropped(feed(rig, 4, edited(udp4({ options: Array(40).fill(1) }), (b) => put16(b, 2, 40))), 'ipv4-hdr-truncated');
    });
    it('version 6 in an IPv4 header, version 4 in an IPv6 one', () => {
      dropped(feed(rig, 4, edited(udp4(), (b) => { b[0] = 0x65; })), 'ipv4-hdr-truncated');
      const p = udp6();
      p[0] = 0x40;
      dropped(feed(rig, 6, p), 'ipv6-hdr-truncated');
    });
    it('a header checksum that does not verify: ipv4-bad-checksum', () => {
      const p = udp4();
      p[10] ^= 1;
      dropped(feed(rig, 4, p), 'ipv4-bad-checksum');
    });
  });

  describe('bogus extension header chains', () => {
    it('Hdr Ext Len 255 with 8 bytes behind it: ipv6-hdr-truncated', () => {
      const p = udp6({ ext: [[PROTO.DSTOPTS, pad6]] });
      p[41] = 255;
      dropped(feed(rig, 6, p), 'ipv6-hdr-truncated');
    });
    it('a loop of destination options running off the end of the packet: ipv6-hdr-truncated', () => {
      const p = udp6({ ext: Array.from({ length: 30 }, () => [PROTO.DSTOPTS, pad6] as [number, number[]]) });
      p[40 + 29 * 8] = PROTO.DSTOPTS; // the last one names another dest-opts: the UDP header is read as one
      const r = feed(rig, 6, p);
      // 8 bytes of UDP header parse as an options header, then nothing is left.
      dropped(r, 'ipv6-hdr-truncated');
    });
    it('40 destination options headers in a row are walked and removed: translated', () => {
      const r = feed(rig, 6, udp6({ ext: Array.from({ length: 40 }, () => [PROTO.DSTOPTS, pad6] as [number, number[]]) }));
      assert.equal(r.r, Result.EMIT4);
      assert.deepEqual(r.delta, { 'translated-6to4': 1 });
      assert.equal(checkIpv4(r.out, 0, r.out.length), null);
    });
    it('two Fragment Headers: ipv6-hdr-truncated', () => {
      const frag: [number, number[]] = [PROTO.FRAGMENT, [0, 0, 0, 0, 0, 1]];
      dropped(feed(rig, 6, udp6({ ext: [frag, frag] })), 'ipv6-hdr-truncated');
    });
    it('a Routing header with Segments Left: not translated (ext-header-unsupported), answered with Parameter Problem (RFC 7915 §5.1)', () => {
      const f = feed(rig, 6, udp6({ ext: [[PROTO.ROUTING, [0, 1, 0, 0, 0, 0]]] }));
      assert.deepEqual({ r: f.r, delta: f.delta }, { r: Result.EMIT6, delta: { 'ext-header-unsupported': 1, 'icmp-error-sent': 1 } });
      // Type 4 code 0, pointer = Segments Left: 40 (IPv6 header) + 3 (its offset in the Routing header).
      assert.deepEqual([f.out[40], f.out[41], (f.out[44] << 24) | (f.out[45] << 16) | (f.out[46] << 8) | f.out[47]], [4, 0, 43]);
    });
    it('ESP, AH, Mobility: ext-header-unsupported; No Next Header: unknown-l4-proto', () => {
      for (const nh of [50, 51, 135]) dropped(feed(rig, 6, ipv6({ src: X, dst: Y6, nh, l4: new Uint8Array(16) })), 'ext-header-unsupported');
      dropped(feed(rig, 6, ipv6({ src: X, dst: Y6, nh: 59, l4: new Uint8Array(0) })), 'unknown-l4-proto');
    });
    it('a chain cut inside an extension header: ipv6-hdr-truncated', () => {
      const p = udp6({ ext: [[PROTO.HOPOPTS, pad6], [PROTO.DSTOPTS, pad6]] });
      dropped(feed(rig, 6, edited(p.subarray(0, 52), (b) => put16(b, 4, 12))), 'ipv6-hdr-truncated');
    });
  });

  describe('ICMP errors quoting garbage', () => {
    it('ICMPv6 error quoting random bytes: icmp-error-inner-bad', () => {
      const junk = Uint8Array.from({ length: 48 }, (_, i) => (i * 37 + 11) & 0xff);
      dropped(feed(rig, 6, ipv6({ src: X, dst: Y6, nh: PROTO.ICMPV6, l4: icmp(1, 4, 0, junk) })), 'icmp-error-inner-bad');
    });
    it('ICMPv4 error quoting random bytes: icmp-error-inner-bad', () => {
      const junk = Uint8Array.from({ length: 28 }, (_, i) => (i * 53 + 7) & 0xff);
      dropped(feed(rig, 4, ipv4({ src: '198.51.100.1', dst: OWN4, proto: PROTO.ICMP, l4: icmp(3, 3, 0, junk) })), 'icmp-error-inner-bad');
    });
    it('ICMP errors quoting nothing: icmp-error-inner-bad', () => {
      dropped(feed(rig, 6, ipv6({ src: X, dst: Y6, nh: PROTO.ICMPV6, l4: icmp(1, 4, 0) })), 'icmp-error-inner-bad');
      dropped(feed(rig, 4, ipv4({ src: '198.51.100.1', dst: OWN4, proto: PROTO.ICMP, l4: icmp(3, 3, 0) })), 'icmp-error-inner-bad');
    });
    it('a quoted IPv4 header with IHL 3: icmp-error-inner-bad', () => {
      const q = Uint8Array.from(f.udpOut4!);
      q[0] = 0x43;
      dropped(feed(rig, 4, ipv4({ src: '198.51.100.1', dst: OWN4, proto: PROTO.ICMP, l4: icmp(3, 3, 0, q) })), 'icmp-error-inner-bad');
    });
    it('an ICMP error with a wrong checksum: icmp-bad-checksum', () => {
      const p = ipv4({ src: '198.51.100.1', dst: OWN4, proto: PROTO.ICMP, l4: icmp(3, 3, 0, f.udpOut4!) });
      p[22] ^= 0x40;
      dropped(feed(rig, 4, p), 'icmp-bad-checksum');
    });
    it('an ICMPv6 error about a flow we do not have: bib6-not-found', () => {
      const q = ipv6({ src: Y6, dst: '2001:db8::77', nh: PROTO.UDP, l4: udp(53, 4242) });
      dropped(feed(rig, 6, ipv6({ src: '2001:db8::77', dst: Y6, nh: PROTO.ICMPV6, l4: icmp(1, 4, 0, q) })), 'bib6-not-found');
    });
    it('an ICMPv4 error about a pool4 port with no mapping: bib4-not-found', () => {
      const q = ipv4({ src: OWN4, dst: Y4, proto: PROTO.UDP, l4: udp(61999, 53) });
      dropped(feed(rig, 4, ipv4({ src: '198.51.100.1', dst: OWN4, proto: PROTO.ICMP, l4: icmp(3, 3, 0, q) })), 'bib4-not-found');
    });
  });

  describe('ICMP errors quoting ICMP errors', () => {
    it('ICMPv6 error quoting an ICMPv6 error: icmp-error-inner-bad', () => {
      const inner = ipv6({ src: Y6, dst: X, nh: PROTO.ICMPV6, l4: icmp(1, 4, 0, f.udpOut6!) });
      dropped(feed(rig, 6, ipv6({ src: X, dst: Y6, nh: PROTO.ICMPV6, l4: icmp(3, 0, 0, inner) })), 'icmp-error-inner-bad');
    });
    it('ICMPv4 error quoting an ICMPv4 error: icmp-error-inner-bad', () => {
      const inner = ipv4({ src: OWN4, dst: Y4, proto: PROTO.ICMP, l4: icmp(3, 3, 0, f.udpOut4!) });
      dropped(feed(rig, 4, ipv4({ src: '198.51.100.1', dst: OWN4, proto: PROTO.ICMP, l4: icmp(11, 0, 0, inner) })), 'icmp-error-inner-bad');
    });
    it('no Time Exceeded about an ICMP error whose hop limit runs out: ttl-expired, icmp-error-suppressed', () => {
      const p = ipv6({ src: X, dst: Y6, nh: PROTO.ICMPV6, hop: 1, l4: icmp(1, 4, 0, f.udpOut6!) });
      const fed = feed(rig, 6, p);
      assert.deepEqual({ r: fed.r, delta: fed.delta }, { r: Result.DROP, delta: { 'ttl-expired': 1, 'icmp-error-suppressed': 1 } });
    });
  });

  describe('zero-length payloads', () => {
    it('IPv6 Payload Length 0 with a UDP next header: l4-hdr-truncated', () => {
      dropped(feed(rig, 6, ipv6({ src: X, dst: Y6, nh: PROTO.UDP, l4: new Uint8Array(0), l4sum: 'keep' })), 'l4-hdr-truncated');
    });
    it('IPv4 Total Length 20: l4-hdr-truncated', () => dropped(feed(rig, 4, udp4({ totalLen: 20 })), 'l4-hdr-truncated'));
    it('a UDP datagram with no data is translated, both ways', () => {
      const a = feed(rig, 6, ipv6({ src: X, dst: Y6, nh: PROTO.UDP, l4: udp(5000, 53, []) }));
      assert.equal(a.r, Result.EMIT4);
      assert.equal(a.out.length, 28);
      const b = feed(rig, 4, udp4({ l4: udp(53, f.tUdp, []) }));
      assert.equal(b.r, Result.EMIT6);
      assert.equal(b.out.length, 48);
    });
    it('an echo request with no data is translated', () => {
      const r = feed(rig, 6, ipv6({ src: X, dst: Y6, nh: PROTO.ICMPV6, l4: echo(128, 0x77, 9, []) }));
      assert.equal(r.r, Result.EMIT4);
      assert.equal(inetChecksum(r.out.subarray(20)), 0);
    });
  });

  describe('jumbo lengths', () => {
    it('IPv4 Total Length 65535 becomes IPv6 Payload Length 65515 (no egress MTU on the IPv6 side here: DF clear, fragmented)', () => {
      const r = feed(rig, 4, udp4({ l4: udp(53, f.tUdp, Array(65535 - 28).fill(5)) }));
      assert.equal(r.r, Result.EMIT6);
      assert.equal(checkIpv6(r.out, 0, r.out.length), null);
      assert.equal(r.delta['translated-4to6'], 1);
    });
    it('an IPv6 packet of 65535 payload bytes and no Fragment Header: Packet Too Big for the egress MTU', () => {
      const r = feed(rig, 6, udp6({ l4: udp(5000, 53, Array(65535 - 8).fill(9)) }));
      assert.equal(r.r, Result.EMIT6);
      assert.deepEqual(r.delta, { 'packet-too-big': 1, 'icmp-error-sent': 1 });
      assert.equal(r.out[40], 2);
    });
    it('regression: a 65535-byte IPv6 atomic fragment no longer becomes an IPv4 datagram over 65535 bytes', () => {
      // Before the fix: translated and fragmented, its last fragment ending at byte 65547 of the
      // datagram (Total Length 20 + 65527 does not fit 16 bits). Now: Packet Too Big reporting
      // the largest IPv6 packet that translates (65535 - 20 + 48 bytes of headers).
      const p = udp6({ l4: udp(5000, 53, Array(65535 - 16).fill(9)), ext: [[PROTO.FRAGMENT, [0, 0, 0, 0, 0x12, 0x36]]] });
      const r = feed(rig, 6, p);
      assert.equal(r.r, Result.EMIT6);
      assert.deepEqual(r.delta, { 'packet-too-big': 1, 'icmp-error-sent': 1 });
      assert.equal(r.out[40], 2);
      assert.equal((r.out[44] << 24 | r.out[45] << 16 | r.out[46] << 8 | r.out[47]) >>> 0, 65535 - 20 + 48);
    });
    it('regression: an ICMPv6 error quoting Payload Length 65535 quotes IPv4 Total Length 65535, not 19', () => {
      const q = ipv6({ src: Y6, dst: X, nh: PROTO.UDP, l4: udp(53, 5000), payloadLen: 0xffff });
      const r = feed(rig, 6, ipv6({ src: X, dst: Y6, nh: PROTO.ICMPV6, l4: icmp(1, 4, 0, q) }));
      assert.equal(r.r, Result.EMIT4);
      assert.deepEqual(r.delta, { 'translated-6to4': 1 });
      assert.equal(checkQuoted(r.out, 28, r.out.length, 4), null);
      assert.equal(u16(r.out, 28 + 2), 0xffff);
    });
    it('Hop-by-Hop Jumbo Payload option (RFC 2675, Payload Length 0): ipv6-hdr-truncated', () => {
      dropped(feed(rig, 6, udp6({ payloadLen: 0, ext: [[PROTO.HOPOPTS, [0xc2, 4, 0, 1, 0, 0x10]]] })), 'ipv6-hdr-truncated');
    });
  });

  describe('fragments', () => {
    it('overlapping IPv4 fragments are dropped one by one: fragmented', () => {
      const first = udp4({ mf: true, id: 77, l4: udp(53, f.tUdp, Array(32).fill(1)) });
      const overlap = ipv4({ src: Y4, dst: OWN4, proto: PROTO.UDP, id: 77, fragOffset: 2, l4: new Uint8Array(24), l4sum: 'keep' });
      dropped(feed(rig, 4, first), 'fragmented');
      dropped(feed(rig, 4, overlap), 'fragmented');
    });
    it('overlapping IPv6 fragments are dropped one by one: fragmented', () => {
      const first = udp6({ l4: udp(5000, 53, Array(32).fill(1)), ext: [[PROTO.FRAGMENT, [0, 1, 0, 0, 0, 77]]] });
      const overlap = ipv6({ src: X, dst: Y6, nh: PROTO.UDP, l4: new Uint8Array(24), l4sum: 'keep',
        ext: [[PROTO.FRAGMENT, [0, 2 << 3 | 1, 0, 0, 0, 77]]] });
      dropped(feed(rig, 6, first), 'fragmented');
      dropped(feed(rig, 6, overlap), 'fragmented');
    });
  });

  it('the session of the flows used above is still there after all this (quoted errors still translate)', () => {
    const r = feed(rig, 4, ipv4({ src: '198.51.100.1', dst: OWN4, proto: PROTO.ICMP, l4: icmp(3, 3, 0, f.udpOut4!) }));
    assert.equal(r.r, Result.EMIT6);
    assert.deepEqual(r.delta, { 'translated-4to6': 1 });
    assert.deepEqual(r.out.subarray(24, 40), a6(X));
    assert.equal(checkQuoted(r.out, 48, r.out.length, 6), null);
  });
});
