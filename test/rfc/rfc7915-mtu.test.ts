/**
 * Egress MTU of translated packets: RFC 7915 §4.1 / §5.1 / §5.1.1, RFC 6146 §3.7, RFC 8021 (no
 * atomic fragments). Expected packets come from the independent builders; fragments are checked
 * field by field and then put back together to verify the transport checksum end to end.
 */
import * as assert from 'node:assert/strict';
import { COUNTERS, COUNTER_COUNT, type CounterName } from '../../src/dataplane/counters';
import { Result, type OutSpan } from '../../src/dataplane/core-api';
import type { CoreGlobals } from '../../src/dataplane/core-config';
import { Parsed, parse4, parse6 } from '../../src/dataplane/packet/parse';
import type { PacketSink } from '../../src/dataplane/translate/fragment';
import { translate4to6 } from '../../src/dataplane/translate/ipv4-to-ipv6';
import { translate6to4 } from '../../src/dataplane/translate/ipv6-to-ipv4';
import { translatingThePacket6 } from '../../src/dataplane/steps/translating-the-packet';
import type { Self, Tuple } from '../../src/dataplane/translate/tuple';
import { a4, a6, echo, inetChecksum, ipv4, ipv6, PROTO, udp } from './vectors/build';
import { assertSamePacket, ipv4HeaderOk, l4SumOk4 } from './vectors/check';
import { HEADROOM, defaultGlobals, makeSelf, totalCount, tuple4, tuple6 } from './vectors/harness';

const H6 = '2001:db8::8';
const R6 = '64:ff9b::c633:6410';
const P4 = '203.0.113.1';
const R4 = '198.51.100.16';
const SLOT = 2048;

/** A sink over slots after the packet in the same buffer, recording what was sent. */
class TestSink implements PacketSink {
  readonly room = SLOT - HEADROOM;
  sent: Array<{ family: number; off: number; len: number }> = [];
  private next: number;
  constructor(base: number, private readonly slots: number) { this.next = base; }
  alloc(): number {
    if (this.slots <= this.sent.length + this.allocated) return -1;
    this.allocated++;
    const o = this.next + HEADROOM;
    this.next += SLOT;
    return o;
  }
  private allocated = 0;
  /** Every call, in order, with the bytes as they were at that moment (what a transmit would take). */
  calls: Array<{ what: 'lead' | 'send'; family: number; bytes: Uint8Array }> = [];
  buf: Uint8Array | null = null;
  lead(family: number, off: number, len: number): void {
    this.calls.push({ what: 'lead', family, bytes: this.buf!.slice(off, off + len) });
  }
  send(family: number, off: number, len: number): void {
    this.calls.push({ what: 'send', family, bytes: this.buf!.slice(off, off + len) });
    this.sent.push({ family, off, len });
    this.allocated--;
  }
}

interface Out { result: Result | -1; first: Uint8Array; extra: Uint8Array[]; count(n: CounterName): number; total: number;
  calls: TestSink['calls'] }

function run(family: 4 | 6, pkt: Uint8Array, t: Tuple, o: { g?: CoreGlobals; mtu6?: number; mtu4?: number; sink?: boolean;
  slots?: number; hairpin?: boolean } = {}): Out {
  const base = HEADROOM + pkt.length + 64;
  const buf = new Uint8Array(base + 16 * SLOT).fill(0xee);
  buf.set(pkt, HEADROOM);
  const counters = new Float64Array(COUNTER_COUNT);
  const p = new Parsed();
  const out: OutSpan = { off: 0, len: 0 };
  const g = o.g ?? defaultGlobals();
  const self: Self = makeSelf();
  self.mtu6 = o.mtu6 ?? 1500;
  self.mtu4 = o.mtu4 ?? 1500;
  const sink = new TestSink(base, o.slots ?? 16);
  sink.buf = buf;
  self.sink = o.sink === false ? null : sink;
  let result: Result | -1 = -1;
  if (family === 6) {
    if (parse6(buf, HEADROOM, pkt.length, p, counters)) {
      result = o.hairpin !== undefined
        ? translatingThePacket6(buf, HEADROOM, pkt.length, pkt.length, p, t, g, self, out, counters, o.hairpin)
        : translate6to4(buf, HEADROOM, pkt.length, pkt.length, p, t, g, self, out, counters, true);
    }
  } else if (parse4(buf, HEADROOM, pkt.length, p, counters)) {
    result = translate4to6(buf, HEADROOM, pkt.length, pkt.length + 64, p, t, g, self, out, counters, true);
  }
  const first = result === -1 || result === Result.DROP ? new Uint8Array(0) : buf.slice(out.off, out.off + out.len);
  const extra = sink.sent.map((s) => buf.slice(s.off, s.off + s.len));
  const count = (n: CounterName) => counters[COUNTERS.findIndex((c) => c.name === n)];
  return { result, first, extra, count, total: totalCount(counters), calls: sink.calls };
}

const u16 = (b: Uint8Array, o: number) => (b[o] << 8) | b[o + 1];
const u32 = (b: Uint8Array, o: number) => ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
const bytes = (n: number, seed = 7) => Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

function udp6(size: number, over: Partial<Parameters<typeof ipv6>[0]> = {}): Uint8Array {
  return ipv6({ src: H6, dst: R6, nh: PROTO.UDP, l4: udp(1234, 53, bytes(size)), ...over });
}
function udp4(size: number, df: boolean, id = 0xabcd): Uint8Array {
  return ipv4({ src: R4, dst: P4, proto: PROTO.UDP, l4: udp(53, 61001, bytes(size)), df, id });
}
const t64 = () => tuple4(P4, R4, 61001, 53, PROTO.UDP);
const t46 = () => tuple6(R6, H6, 53, 1234, PROTO.UDP);

/** IPv4 fragments in order -> the transport bytes they carry, after checking every header. */
function joinIpv4(frags: Uint8Array[], mtu: number): Uint8Array {
  const parts: Uint8Array[] = [];
  let expectOffset = 0;
  const id = u16(frags[0], 4);
  frags.forEach((f, i) => {
    assert.ok(f.length <= mtu, `fragment ${i} is ${f.length} bytes > ${mtu}`);
    assert.ok(ipv4HeaderOk(f), `fragment ${i} header checksum`);
    assert.equal(u16(f, 2), f.length);
    assert.equal(u16(f, 4), id, 'same Identification in every fragment');
    const field = u16(f, 6);
    assert.equal(field & 0x4000, 0, 'DF clear');
    assert.equal((field & 0x2000) !== 0, i < frags.length - 1, `MF of fragment ${i}`);
    assert.equal((field & 0x1fff) * 8, expectOffset);
    if (i < frags.length - 1) assert.equal((f.length - 20) % 8, 0);
    parts.push(f.subarray(20));
    expectOffset += f.length - 20;
  });
  return Uint8Array.from(parts.flatMap((p) => Array.from(p)));
}

/** IPv6 fragments in order -> the transport bytes, after checking the Fragment Headers. */
function joinIpv6(frags: Uint8Array[], size: number, id: number, nh: number): Uint8Array {
  const parts: Uint8Array[] = [];
  let expectOffset = 0;
  frags.forEach((f, i) => {
    assert.ok(f.length <= size, `fragment ${i} is ${f.length} bytes > ${size}`);
    assert.equal(f[6], PROTO.FRAGMENT);
    assert.equal(u16(f, 4), f.length - 40);
    assert.equal(f[40], nh, 'Fragment Header Next Header');
    assert.equal(f[41], 0);
    const w = u16(f, 42);
    assert.equal(w >>> 3, expectOffset / 8);
    assert.equal(w & 1, i < frags.length - 1 ? 1 : 0, `M of fragment ${i}`);
    assert.equal(w & 6, 0, 'reserved bits');
    assert.equal(u32(f, 44), id);
    if (i < frags.length - 1) assert.equal((f.length - 48) % 8, 0);
    parts.push(f.subarray(48));
    expectOffset += f.length - 48;
  });
  return Uint8Array.from(parts.flatMap((p) => Array.from(p)));
}

describe('RFC 7915 §5 / RFC 6146 §3.7: IPv6 -> IPv4 larger than the IPv4 egress MTU', () => {
  it('RFC 7915 §5.1 (DF set): ICMPv6 Packet Too Big with MTU = IPv4 MTU + 20, quoting the original packet', () => {
    const pkt = udp6(1400); // IPv6 1448 -> IPv4 1428 > 1400, and > 1260 so DF would be set
    const r = run(6, pkt, t64(), { mtu4: 1400 });
    assert.equal(r.result, Result.EMIT6);
    const expected = ipv6({ src: '2001:db8::1', dst: H6, nh: PROTO.ICMPV6, hop: 64,
      l4: Uint8Array.from([2, 0, 0, 0, 0, 0, 1420 >> 8, 1420 & 0xff, ...pkt.subarray(0, 1280 - 48)]) });
    assertSamePacket(r.first, expected);
    assert.equal(r.count('packet-too-big'), 1);
    assert.equal(r.count('icmp-error-sent'), 1);
    assert.equal(r.count('translated-6to4'), 0);
    assert.equal(r.extra.length, 0);
  });

  it('RFC 7915 §5.1: the Packet Too Big MTU adds back the extension headers translation removes', () => {
    const pkt = udp6(1400, { ext: [[PROTO.DSTOPTS, [1, 4, 0, 0, 0, 0]]] });
    const r = run(6, pkt, t64(), { mtu4: 1400 });
    assert.equal(r.result, Result.EMIT6);
    assert.equal(u32(r.first, 44), 1428);
  });

  it('RFC 8200 §5: the Packet Too Big MTU is never below 1280', () => {
    const r = run(6, udp6(1300), t64(), { mtu4: 1000 });
    assert.equal(r.result, Result.EMIT6);
    assert.equal(r.first[40], 2);
    assert.equal(u32(r.first, 44), 1280);
  });

  it('RFC 7915 §5.1 (DF clear, <= lowest-ipv6-mtu - 20): translated and split into IPv4 fragments of the egress MTU', () => {
    const pkt = udp6(1232); // IPv6 1280 -> IPv4 1260: DF clear
    const r = run(6, pkt, t64(), { mtu4: 576 });
    assert.equal(r.result, Result.EMIT4);
    const frags = [r.first, ...r.extra];
    assert.equal(frags.length, 3); // 552 + 552 + 136 transport bytes
    const l4 = joinIpv4(frags, 576);
    const whole = ipv4({ src: P4, dst: R4, proto: PROTO.UDP, l4: udp(61001, 53, bytes(1232)), ttl: 63 });
    assert.deepEqual(l4, whole.subarray(20), 'the fragments carry the translated datagram');
    const rebuilt = Uint8Array.from([...frags[0].subarray(0, 20), ...l4]);
    rebuilt[2] = rebuilt.length >> 8; rebuilt[3] = rebuilt.length & 0xff;
    assert.ok(l4SumOk4(rebuilt), 'UDP checksum verifies over the reassembled datagram');
    assert.equal(r.count('translated-6to4'), 1);
    assert.equal(r.count('mtu-fragmented'), 1);
    assert.equal(r.total, 2);
  });

  it('RFC 7915 §5.1.1: a packet with a Fragment Header (atomic) leaves with DF clear, fragmented; ID from the header', () => {
    const pkt = udp6(1452, { ext: [[PROTO.FRAGMENT, [0, 0, 0x77, 0x66, 0x12, 0x34]]] }); // IPv6 1508
    const r = run(6, pkt, t64(), { mtu4: 1000 });
    assert.equal(r.result, Result.EMIT4);
    const frags = [r.first, ...r.extra];
    assert.equal(frags.length, 2);
    assert.equal(u16(frags[0], 4), 0x1234);
    const l4 = joinIpv4(frags, 1000);
    assert.equal(l4.length, 8 + 1452);
  });

  it('RFC 7915 §5.1: a translated packet of exactly the IPv4 MTU is neither fragmented nor refused', () => {
    const r = run(6, udp6(1472), t64(), { mtu4: 1500 }); // IPv4 20 + 8 + 1472 = 1500
    assert.equal(r.result, Result.EMIT4);
    assert.equal(r.first.length, 1500);
    assert.equal(r.extra.length, 0);
    assert.equal(u16(r.first, 6), 0x4000, 'DF set, not a fragment');
  });

  it('RFC 6146 §3.8: a packet that will be hairpinned is not held to the IPv4 MTU', () => {
    const r = run(6, udp6(1400), t64(), { mtu4: 1000, hairpin: true });
    assert.equal(r.result, Result.EMIT4);
    assert.equal(r.first.length, 1428);
  });

  it('RFC 7915 §5.1: the hop limit check comes first (Time Exceeded, not Packet Too Big)', () => {
    const r = run(6, udp6(1400, { hop: 1 }), t64(), { mtu4: 1000 });
    assert.equal(r.first[40], 3);
    assert.equal(r.count('ttl-expired'), 1);
  });

  it('no buffer for a later fragment: dropped with fragment-alloc-failed', () => {
    const r = run(6, udp6(1232), t64(), { mtu4: 576, sink: false });
    assert.equal(r.result, Result.DROP);
    assert.equal(r.count('fragment-alloc-failed'), 1);
    assert.equal(r.total, 1);
  });
});

describe('RFC 7915 §4: IPv4 -> IPv6 larger than the IPv6 egress MTU', () => {
  it('RFC 7915 §4 (DF set): ICMPv4 Fragmentation Needed with Next-Hop MTU = IPv6 MTU - 20, quoting the original', () => {
    const pkt = udp4(1472, true); // IPv4 1500 -> IPv6 1520 > 1500
    const r = run(4, pkt, t46(), { mtu6: 1500 });
    assert.equal(r.result, Result.EMIT4);
    const f = r.first;
    assert.equal(f.length, 576);
    assert.ok(ipv4HeaderOk(f));
    assert.equal(u32(f, 12), a4('203.0.113.1'));
    assert.equal(u32(f, 16), a4(R4));
    assert.deepEqual([f[20], f[21]], [3, 4]);
    assert.equal(u16(f, 24), 0);
    assert.equal(u16(f, 26), 1480);
    assert.equal(inetChecksum(f.subarray(20)), 0);
    assert.deepEqual(f.subarray(28), pkt.subarray(0, 548), 'the original IPv4 packet is quoted');
    assert.equal(r.count('packet-too-big'), 1);
    assert.equal(r.count('translated-4to6'), 0);
  });

  it('RFC 7915 §4 (DF set): a packet that fits the IPv6 MTU is translated whole, without a Fragment Header', () => {
    const r = run(4, udp4(1452, true), t46(), { mtu6: 1500 }); // IPv6 1500
    assert.equal(r.result, Result.EMIT6);
    assert.equal(r.first.length, 1500);
    assert.equal(r.first[6], PROTO.UDP);
  });

  it('RFC 7915 §4.1 (DF clear, larger than lowest-ipv6-mtu): IPv6 fragments of <= 1280 bytes, Fragment Header ID = IPv4 ID', () => {
    const pkt = udp4(1472, false, 0xabcd); // IPv6 1520
    const r = run(4, pkt, t46(), { mtu6: 1500 });
    assert.equal(r.result, Result.EMIT6);
    const frags = [r.first, ...r.extra];
    assert.equal(frags.length, 2); // 1232 + 248 transport bytes
    const l4 = joinIpv6(frags, 1280, 0xabcd, PROTO.UDP);
    const whole = ipv6({ src: R6, dst: H6, nh: PROTO.UDP, l4: udp(53, 1234, bytes(1472)), hop: 63 });
    assert.deepEqual(l4, whole.subarray(40), 'same transport bytes (checksum included) as the unfragmented translation');
    for (const f of frags) {
      assert.deepEqual(f.subarray(8, 24), a6(R6));
      assert.deepEqual(f.subarray(24, 40), a6(H6));
      assert.equal(f[7], 63);
    }
    assert.equal(r.count('translated-4to6'), 1);
    assert.equal(r.count('mtu-fragmented'), 1);
    assert.equal(r.total, 2);
  });

  it('RFC 7915 §4.1: lowest-ipv6-mtu above the IPv6 MTU -> fragments sized to the IPv6 MTU', () => {
    const r = run(4, udp4(1800, false), t46(), { mtu6: 1400, g: defaultGlobals({ lowestIpv6Mtu: 1500 }) });
    const frags = [r.first, ...r.extra];
    assert.equal(frags.length, 2);
    joinIpv6(frags, 1400, 0xabcd, PROTO.UDP);
    assert.equal(frags[0].length, 1400);
  });

  it('RFC 7915 §4.1: ICMPv4 echo with DF clear is fragmented after its ICMPv6 checksum is computed', () => {
    const pkt = ipv4({ src: R4, dst: P4, proto: PROTO.ICMP, l4: echo(0, 77, 1, bytes(1600)), id: 0x4242 });
    const r = run(4, pkt, tuple6(R6, H6, 9, 9, PROTO.ICMP), { mtu6: 1500 });
    const l4 = joinIpv6([r.first, ...r.extra], 1280, 0x4242, PROTO.ICMPV6);
    const whole = ipv6({ src: R6, dst: H6, nh: PROTO.ICMPV6, l4: echo(129, 9, 1, bytes(1600)), hop: 63 });
    assert.deepEqual(l4, whole.subarray(40));
  });

  it('RFC 7915 §4.1: with lowest-ipv6-mtu and the IPv6 MTU at 9000 a DF-clear 1948-byte packet is not fragmented', () => {
    const r = run(4, udp4(1900, false), t46(), { mtu6: 9000, g: defaultGlobals({ lowestIpv6Mtu: 9000 }) });
    assert.equal(r.result, Result.EMIT6);
    assert.equal(r.extra.length, 0, 'fits: no fragments');
  });

  it('no buffer for a later fragment: dropped with fragment-alloc-failed', () => {
    const r = run(4, udp4(1472, false), t46(), { slots: 0 });
    assert.equal(r.result, Result.DROP);
    assert.equal(r.count('fragment-alloc-failed'), 1);
    assert.equal(r.total, 1);
  });
});

describe('RFC 8021 / RFC 7915 §4.1, §5.1.1: atomic fragments', () => {
  it('RFC 8021 §2: a DF-clear IPv4 packet that fits gets no Fragment Header (no atomic fragment is generated)', () => {
    const r = run(4, udp4(100, false), t46());
    assert.equal(r.result, Result.EMIT6);
    assert.equal(r.first[6], PROTO.UDP);
    assert.equal(r.first.length, 40 + 108);
  });

  it('RFC 8021 / RFC 7915 §4.2: Fragmentation Needed with a tiny MTU becomes Packet Too Big 1280, never a request for atomic fragments', () => {
    const quoted = ipv4({ src: P4, dst: R4, proto: PROTO.UDP, l4: udp(61001, 53), df: true });
    const err = ipv4({ src: '198.51.100.254', dst: P4, proto: PROTO.ICMP, l4: Uint8Array.from([3, 4, 0, 0, 0, 0, 0x01, 0x28, ...quoted]) });
    const r = run(4, err, tuple6(H6, R6, 1234, 53, PROTO.UDP));
    assert.equal(r.result, Result.EMIT6);
    assert.equal(r.first[40], 2);
    assert.equal(u32(r.first, 44), 1280);
  });

  it('RFC 6946 / RFC 7915 §5.1.1: an incoming atomic fragment is processed as a whole packet: DF 0, MF 0, offset 0, ID = low 16 bits', () => {
    const r = run(6, udp6(4, { ext: [[PROTO.FRAGMENT, [0, 0, 0xfe, 0xdc, 0xba, 0x98]]] }), t64());
    assert.equal(r.result, Result.EMIT4);
    assert.equal(u16(r.first, 4), 0xba98);
    assert.equal(u16(r.first, 6), 0);
    assert.equal(r.first[9], PROTO.UDP);
    assert.ok(l4SumOk4(r.first));
  });

  it('RFC 7915 §5.1: without a Fragment Header a packet of <= 1260 bytes leaves with DF 0 and no fragmentation', () => {
    const r = run(6, udp6(100), t64());
    assert.equal(u16(r.first, 6), 0);
    assert.equal(r.extra.length, 0);
  });
});

/** Fragment offset in bytes (IPv4 header field, or the IPv6 Fragment Header's). */
const fragOffset = (family: number, f: Uint8Array) => family === 4 ? (u16(f, 6) & 0x1fff) * 8 : u16(f, 42) & 0xfff8;

describe('Fragments leave in offset order, offset 0 first (as Jool and Linux send them)', () => {
  // RFC 791 / RFC 8200 allow any order, but stateless filters and middleboxes that need the
  // transport header drop or delay later fragments that arrive before the first.
  const cases: Array<[string, 4 | 6, () => Out]> = [
    ['RFC 7915 §5.1 IPv6 -> IPv4 (4 IPv4 fragments)', 4, () => run(6, udp6(1232), t64(), { mtu4: 400 })],
    ['RFC 7915 §4.1 IPv4 -> IPv6 (3 IPv6 fragments)', 6, () => run(4, udp4(3000, false), t46(), { mtu6: 1500 })],
  ];
  for (const [name, fam, go] of cases) {
    it(`${name}: the sink gets the first fragment (lead, final bytes) before any later one, then ascending offsets`, () => {
      const r = go();
      assert.equal(r.result, fam === 4 ? Result.EMIT4 : Result.EMIT6);
      assert.ok(r.calls.length >= 3, `${r.calls.length} calls`);
      assert.equal(r.calls[0].what, 'lead', 'the first call announces offset 0');
      assert.deepEqual(r.calls[0].bytes, r.first, 'the first fragment is complete when the sink is told');
      assert.equal(fragOffset(fam, r.calls[0].bytes), 0);
      let last = 0;
      r.calls.slice(1).forEach((c, i) => {
        assert.equal(c.what, 'send');
        assert.equal(c.family, fam);
        const off = fragOffset(fam, c.bytes);
        assert.ok(off > last, `fragment ${i + 1} at offset ${off} after ${last}`);
        last = off;
      });
      assert.deepEqual(r.calls.slice(1).map((c) => c.bytes), r.extra, 'sent bytes are final');
    });
  }

  it('no buffer for the third fragment: the packet is dropped after the lead (the shard frees what was written)', () => {
    const r = run(6, udp6(1232), t64(), { mtu4: 400, slots: 1 });
    assert.equal(r.result, Result.DROP);
    assert.equal(r.calls[0].what, 'lead');
    assert.equal(r.count('fragment-alloc-failed'), 1);
  });
});
