/**
 * RFC 6146 §3.4 for ICMP errors that arrive in fragments, and for errors that quote a fragment.
 *
 * A stateful NAT64 finds the flow of an ICMP error by the packet it quotes (§3.4), and that packet
 * starts in the first fragment; the rest of the error must still be translated with it. The shard
 * therefore sends every fragment to reassembly (src/dataplane/packet/fragments.ts `isFragment4/6`,
 * native/frag.cc on librte_ip_frag) and feeds the reassembled datagram back in. These vectors check
 * both halves at the core: a fragment on its own is never translated (`fragmented`), and the
 * datagram as native/frag.cc delivers it is translated whole, by its quoted packet:
 *  - IPv4: librte_ip_frag keeps the first fragment's header, sets Total Length, clears MF and the
 *    offset (DF kept), frag.cc recomputes the header checksum: i.e. the datagram as first sent.
 *  - IPv6: the library removes the Fragment Header; frag.cc puts back an atomic one (offset 0, M 0)
 *    with the original Identification, so RFC 7915 §5.1.1 applies to the whole datagram.
 */
import * as assert from 'node:assert/strict';
import { Result } from '../../src/dataplane/core-api';
import { isFragment4, isFragment6 } from '../../src/dataplane/packet/fragments';
import { a4, a6, icmp, inetChecksum, ipv4, ipv6, PROTO, udp } from './vectors/build';
import { assertSamePacket, ipv4HeaderOk, l4SumOk4, l4SumOk6 } from './vectors/check';
import { POOL4, makeCore, n, nonZero, run, u16At, u32At } from '../unit/helpers/core-harness';

const X = '2001:db8::8';
const Y4 = '198.51.100.7';
const Y6 = '64:ff9b::c633:6407';
const ROUTER4 = '198.51.100.254';
const ROUTER4_6 = '64:ff9b::c633:64fe'; // ROUTER4 under the well-known prefix (RFC 6052)
const ROUTER6 = '2001:db8::fe';
const data = (len: number) => Array.from({ length: len }, (_, i) => (i * 7 + 3) & 0xff);

/** RFC 791 §3.2: an IPv4 datagram (IHL 5) cut into fragments of at most `mtu` bytes. */
function fragment4(pkt: Uint8Array, mtu: number): Uint8Array[] {
  const payload = pkt.subarray(20);
  const step = Math.floor((mtu - 20) / 8) * 8;
  const df = pkt[6] & 0x40;
  const out: Uint8Array[] = [];
  for (let at = 0; at < payload.length; at += step) {
    const chunk = payload.subarray(at, Math.min(at + step, payload.length));
    const f = new Uint8Array(20 + chunk.length);
    f.set(pkt.subarray(0, 20));
    f.set(chunk, 20);
    f[2] = f.length >> 8; f[3] = f.length & 0xff;
    const more = at + step < payload.length ? 0x20 : 0;
    f[6] = df | more | ((at / 8) >> 8); f[7] = (at / 8) & 0xff;
    f[10] = 0; f[11] = 0;
    const c = inetChecksum(f.subarray(0, 20));
    f[10] = c >> 8; f[11] = c & 0xff;
    out.push(f);
  }
  return out;
}

/** What native/frag.cc delivers for IPv4: first header, payloads in offset order, MF/offset 0. */
function reassemble4(frags: Uint8Array[]): Uint8Array {
  const off = (f: Uint8Array) => (((f[6] & 0x1f) << 8) | f[7]) * 8;
  const sorted = [...frags].sort((a, b) => off(a) - off(b));
  const total = 20 + sorted.reduce((s, f) => s + f.length - 20, 0);
  const d = new Uint8Array(total);
  d.set(sorted[0].subarray(0, 20));
  for (const f of sorted) d.set(f.subarray(20), 20 + off(f));
  d[2] = total >> 8; d[3] = total & 0xff;
  d[6] &= 0x40; d[7] = 0;
  d[10] = 0; d[11] = 0;
  const c = inetChecksum(d.subarray(0, 20));
  d[10] = c >> 8; d[11] = c & 0xff;
  return d;
}

/** RFC 8200 §4.5: an IPv6 packet without extension headers cut into fragments of at most `mtu` bytes. */
function fragment6(pkt: Uint8Array, mtu: number, id: number): Uint8Array[] {
  const nh = pkt[6];
  const payload = pkt.subarray(40);
  const step = Math.floor((mtu - 48) / 8) * 8;
  const out: Uint8Array[] = [];
  for (let at = 0; at < payload.length; at += step) {
    const chunk = payload.subarray(at, Math.min(at + step, payload.length));
    const f = new Uint8Array(48 + chunk.length);
    f.set(pkt.subarray(0, 40));
    f[4] = (8 + chunk.length) >> 8; f[5] = (8 + chunk.length) & 0xff;
    f[6] = PROTO.FRAGMENT;
    const more = at + step < payload.length ? 1 : 0;
    f.set([nh, 0, (at >> 8) & 0xff, (at & 0xf8) | more, id >>> 24, (id >>> 16) & 0xff, (id >>> 8) & 0xff, id & 0xff], 40);
    f.set(chunk, 48);
    out.push(f);
  }
  return out;
}

/** What native/frag.cc delivers for IPv6: payloads joined behind an atomic Fragment Header with the same ID. */
function reassemble6(frags: Uint8Array[]): Uint8Array {
  const off = (f: Uint8Array) => ((f[42] << 8) | f[43]) & 0xfff8;
  const sorted = [...frags].sort((a, b) => off(a) - off(b));
  const len = sorted.reduce((s, f) => s + f.length - 48, 0);
  const d = new Uint8Array(48 + len);
  d.set(sorted[0].subarray(0, 48));
  for (const f of sorted) d.set(f.subarray(48), 48 + off(f));
  d[4] = (8 + len) >> 8; d[5] = (8 + len) & 0xff;
  d[42] = 0; d[43] = 0;
  return d;
}

function isFrag4(p: Uint8Array): boolean { return isFragment4(p, 0); }
function isFrag6(p: Uint8Array): boolean { return isFragment6(p, 0, p.length); }

describe('RFC 6146 §3.4: ICMP errors that arrive fragmented are reassembled, then classified by their quoted packet', () => {
  it('RFC 6146 §3.4 / RFC 7915 §4.2, §4.3: a fragmented ICMPv4 error (Time Exceeded quoting a whole 1428-byte packet, 3 fragments): no fragment is translated alone; reassembled, it reaches the IPv6 node with its quote translated, cut to 1280 bytes', () => {
    const { core, c } = makeCore();
    const sent6 = ipv6({ src: X, dst: Y6, nh: PROTO.UDP, l4: udp(5000, 53, data(1400)) });
    const o = run(core, 6, sent6, 0);
    assert.equal(o.r, Result.EMIT4, JSON.stringify(nonZero(c)));
    assert.equal(o.pkt.length, 1428);
    // An IPv4 router quotes all of it (RFC 1812 allows up to 576; hosts and RFC 4884 senders quote more):
    // a 1456-byte error, cut into fragments of 576 bytes on its way.
    const err = ipv4({ src: ROUTER4, dst: POOL4, proto: PROTO.ICMP, id: 0x4321, l4: icmp(11, 0, 0, o.pkt) });
    const frags = fragment4(err, 576);
    assert.equal(frags.length, 3);
    for (const f of frags) {
      assert.ok(isFrag4(f), 'the shard sends every fragment to reassembly');
      const before = n(c, 'fragmented');
      assert.equal(run(core, 4, f, 1).r, Result.DROP);
      assert.equal(n(c, 'fragmented'), before + 1, JSON.stringify(nonZero(c)));
    }
    assert.equal(n(c, 'translated-4to6'), 0);

    const whole = reassemble4([frags[2], frags[0], frags[1]]);
    assert.deepEqual(whole, err, 'reassembled = the datagram as the router sent it');
    assert.ok(!isFrag4(whole), 'the reassembled datagram is translated, not reassembled again');
    const r = run(core, 4, whole, 2);
    assert.equal(r.r, Result.EMIT6, JSON.stringify(nonZero(c)));
    // ICMPv6 Time Exceeded from the router's pool6 address to X, quoting X's packet (hop limit 63 as
    // the router saw it), as much of it as fits in 1280 bytes (RFC 4443 §2.4(c)).
    const quoted = ipv6({ src: X, dst: Y6, nh: PROTO.UDP, l4: udp(5000, 53, data(1400)), hop: 63 });
    const expected = ipv6({ src: ROUTER4_6, dst: X, nh: PROTO.ICMPV6, hop: 63, l4: icmp(3, 0, 0, quoted.subarray(0, 1280 - 48)) });
    assertSamePacket(r.pkt, expected);
    assert.ok(l4SumOk6(r.pkt));
    assert.equal(n(c, 'translated-4to6'), 1);
    assert.equal(core.tables.sessions.count, 1, 'an ICMP error creates no session');
  });

  it('RFC 6146 §3.4 / RFC 7915 §5.1.1, §5.2, §5.3: a fragmented ICMPv6 error (Time Exceeded, 2 fragments): no fragment is translated alone; reassembled (atomic Fragment Header, as native/frag.cc delivers it), it reaches the IPv4 node: DF 0, Identification from the Fragment Header, quote translated, cut to 576 bytes', () => {
    const { core, c } = makeCore();
    const o = run(core, 6, ipv6({ src: X, dst: Y6, nh: PROTO.UDP, l4: udp(5000, 53) }), 0);
    assert.equal(o.r, Result.EMIT4, JSON.stringify(nonZero(c)));
    const tport = u16At(o.pkt, 20);
    const sent4 = ipv4({ src: Y4, dst: POOL4, proto: PROTO.UDP, id: 0x0abc, l4: udp(53, tport, data(1100)) });
    const back = run(core, 4, sent4, 1);
    assert.equal(back.r, Result.EMIT6, JSON.stringify(nonZero(c)));
    // A router near X answers with Time Exceeded quoting all 1148 bytes; it arrives in 2 fragments.
    const err = ipv6({ src: ROUTER6, dst: Y6, nh: PROTO.ICMPV6, l4: icmp(3, 0, 0, back.pkt) });
    const frags = fragment6(err, 800, 0xabcd1234);
    assert.equal(frags.length, 2);
    for (const f of frags) {
      assert.ok(isFrag6(f), 'the shard sends every fragment to reassembly');
      const before = n(c, 'fragmented');
      assert.equal(run(core, 6, f, 2).r, Result.DROP);
      assert.equal(n(c, 'fragmented'), before + 1, JSON.stringify(nonZero(c)));
    }
    assert.equal(n(c, 'translated-6to4'), 1);

    const whole = reassemble6([frags[1], frags[0]]);
    assert.ok(!isFrag6(whole), 'an atomic fragment is a whole packet (RFC 8021)');
    const r = run(core, 6, whole, 3);
    assert.equal(r.r, Result.EMIT4, JSON.stringify(nonZero(c)));
    assert.equal(r.pkt.length, 576, 'RFC 1812 §4.3.2.3 / RFC 7915 §5.3: at most 576 bytes');
    assert.ok(ipv4HeaderOk(r.pkt));
    assert.equal(u16At(r.pkt, 4), 0x1234, 'RFC 7915 §5.1.1: Identification = low 16 bits of the Fragment Header');
    assert.equal(r.pkt[6] & 0xe0, 0, 'RFC 7915 §5.1.1: DF 0, MF 0');
    // The quote is the IPv4 packet Y sent, seen after our translation (TTL 63); its Identification
    // and DF are the translator's (RFC 7915 §5.1: no Fragment Header in the quoted IPv6 packet).
    const innerId = u16At(r.pkt, 28 + 4);
    const quoted = ipv4({ src: Y4, dst: POOL4, proto: PROTO.UDP, id: innerId, df: (r.pkt[28 + 6] & 0x40) !== 0, ttl: 63,
      l4: udp(53, tport, data(1100)) });
    const expected = ipv4({ src: POOL4, dst: Y4, proto: PROTO.ICMP, id: 0x1234, ttl: 63, l4: icmp(11, 0, 0, quoted.subarray(0, 576 - 28)) });
    assertSamePacket(r.pkt, expected);
    assert.ok(l4SumOk4(r.pkt));
    assert.equal(n(c, 'translated-6to4'), 2);
    assert.equal(core.tables.sessions.count, 1, 'an ICMP error creates no session');
  });

  it('RFC 6146 §3.4 / RFC 7915 §4.3, §4.1: an ICMPv4 error quoting a first fragment (MF 1, offset 0: its ports are there) is translated by that tuple, the quote an IPv6 first fragment (Fragment Header: M 1, ID = the IPv4 ID); one quoting a later fragment (no ports) is dropped with icmp-error-inner-bad', () => {
    const { core, c } = makeCore();
    // A datagram of X that left as IPv4 fragments (RFC 7915 §5.1.1: DF clear); a router on the IPv4
    // side lets the TTL of the first and of a later fragment run out.
    const o = run(core, 6, ipv6({ src: X, dst: Y6, nh: PROTO.UDP, l4: udp(5000, 53) }), 0);
    const tport = u16At(o.pkt, 20);
    assert.equal(u32At(o.pkt, 12), a4(POOL4));
    const first4 = ipv4({ src: POOL4, dst: Y4, proto: PROTO.UDP, id: 0x5555, mf: true, ttl: 1, l4: udp(tport, 53, data(1472)) });
    const later4 = ipv4({ src: POOL4, dst: Y4, proto: PROTO.UDP, id: 0x5555, fragOffset: 185, ttl: 1, l4: Uint8Array.from(data(1000)), l4sum: 'keep' });
    // RFC 792: the router quotes the header and the first 8 data bytes (of a fragment, the ports only if first).
    const te = (q: Uint8Array) => ipv4({ src: ROUTER4, dst: POOL4, proto: PROTO.ICMP, l4: icmp(11, 0, 0, q.subarray(0, 28)) });

    const r = run(core, 4, te(first4), 1);
    assert.equal(r.r, Result.EMIT6, JSON.stringify(nonZero(c)));
    assert.ok(l4SumOk6(r.pkt));
    assert.deepEqual([r.pkt[40], r.pkt[41]], [3, 0], 'ICMPv6 Time Exceeded');
    assert.deepEqual(r.pkt.subarray(24, 40), a6(X));
    // The quoted packet, X -> Y6 with the ports X used, as RFC 7915 §4.1 translates a first
    // fragment: Fragment Header (Next Header UDP, offset 0, M 1, Identification 0x5555), Payload
    // Length = 1500 - 20 + 8; then the 8 quoted transport bytes (UDP checksum of the whole datagram).
    const q = r.pkt.subarray(48);
    assert.equal(q[6], PROTO.FRAGMENT);
    assert.deepEqual([u16At(q, 48), u16At(q, 50)], [5000, 53]);
    const quoted6 = ipv6({ src: X, dst: Y6, nh: PROTO.UDP, hop: 1, l4: udp(5000, 53, data(1472)), payloadLen: 1480 + 8,
      ext: [[PROTO.FRAGMENT, [0, 1, 0, 0, 0x55, 0x55]]] }).subarray(0, 40 + 8 + 8);
    assertSamePacket(r.pkt, ipv6({ src: ROUTER4_6, dst: X, nh: PROTO.ICMPV6, hop: 63, l4: icmp(3, 0, 0, quoted6) }));

    const before = n(c, 'translated-4to6');
    assert.equal(run(core, 4, te(later4), 2).r, Result.DROP);
    assert.equal(n(c, 'icmp-error-inner-bad'), 1, JSON.stringify(nonZero(c)));
    assert.equal(n(c, 'translated-4to6'), before);
  });
  it('RFC 6146 §3.4 / RFC 7915 §5.3, §5.1.1: an ICMPv6 error quoting a first fragment (M 1, offset 0) is translated by its ports, the quote an IPv4 first fragment (MF 1, ID = low 16 bits); one quoting a later fragment is dropped with icmp-error-inner-bad', () => {
    const { core, c } = makeCore();
    const o = run(core, 6, ipv6({ src: X, dst: Y6, nh: PROTO.UDP, l4: udp(5000, 53) }), 0);
    const tport = u16At(o.pkt, 20);
    // A datagram of Y that left as IPv6 fragments (RFC 7915 §4.1); a router near X quotes the first
    // and a later one (RFC 4443: as much as fits; here the headers and the transport header).
    const first6 = ipv6({ src: Y6, dst: X, nh: PROTO.UDP, l4: udp(53, 5000, data(100)), ext: [[PROTO.FRAGMENT, [0, 1, 0xab, 0xcd, 0x12, 0x34]]] });
    const later6 = ipv6({ src: Y6, dst: X, nh: PROTO.UDP, l4: Uint8Array.from(data(100)), l4sum: 'keep',
      ext: [[PROTO.FRAGMENT, [0x05, 0x08, 0xab, 0xcd, 0x12, 0x34]]] });
    const te = (q: Uint8Array) => ipv6({ src: ROUTER6, dst: Y6, nh: PROTO.ICMPV6, l4: icmp(3, 0, 0, q.subarray(0, 56)) });

    const r = run(core, 6, te(first6), 1);
    assert.equal(r.r, Result.EMIT4, JSON.stringify(nonZero(c)));
    assert.ok(ipv4HeaderOk(r.pkt) && l4SumOk4(r.pkt));
    assert.deepEqual([r.pkt[20], r.pkt[21]], [11, 0], 'ICMPv4 Time Exceeded');
    assert.equal(u32At(r.pkt, 16), a4(Y4));
    const q = r.pkt.subarray(28);
    assert.equal(q[0], 0x45);
    assert.equal(u16At(q, 4), 0x1234, 'Identification: low 16 bits of the Fragment Header');
    assert.equal(u16At(q, 6), 0x2000, 'MF 1, offset 0');
    assert.equal(q[9], PROTO.UDP);
    assert.deepEqual([u32At(q, 12), u32At(q, 16)], [a4(Y4), a4(POOL4)]);
    assert.deepEqual([u16At(q, 20), u16At(q, 22)], [53, tport]);

    const before = n(c, 'translated-6to4');
    assert.equal(run(core, 6, te(later6), 2).r, Result.DROP);
    assert.equal(n(c, 'icmp-error-inner-bad'), 1, JSON.stringify(nonZero(c)));
    assert.equal(n(c, 'translated-6to4'), before);
  });
});
