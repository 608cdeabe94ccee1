import { strict as assert } from 'node:assert';
import { DemoNetwork } from '../../src/demo/run-demo';
import { nsExec } from '../../src/demo/topology';
import { a6, echo, icmp, ipv4, ipv6, PROTO, tcp, udp } from '../rfc/vectors/build';
import { assertSamePacket, ipv4HeaderOk, l4SumOk4, l4SumOk6 } from '../rfc/vectors/check';
import { ETH_IPV4, ETH_IPV6, exchange, ip4bytes, macOf, u16, type CaptureSpec, type Frame } from './helpers/raw-packets';

/**
 * The RFC 7915 / RFC 6146 vectors of test/rfc/ end to end: crafted frames injected with raw
 * AF_PACKET sockets from a node of the sample network to the real daemon's MAC, and what comes out
 * captured on the other side's eth0 and compared byte for byte with a packet built independently
 * (test/rfc/vectors/build.ts). Some vectors let the nodes' own kernels answer (ICMP errors for a
 * closed port, echo replies, RSTs): those answers are captured where they are sent too, so the
 * expected translation is built from them.
 *
 * Bytes allowed to differ are listed per vector: the IPv4 Identification the translator chooses
 * (RFC 6864) and the checksums that cover it. The pool4 port is not "allowed to differ": it is
 * learned from the first translated packet, checked against `session display`, and then part of
 * every expected packet.
 */
const H6 = '2001:db8::2';
const R6 = '64:ff9b::cb00:7110'; // 203.0.113.16 in 64:ff9b::/96 (RFC 6052)
const T6 = '2001:db8::1';
const P4 = '203.0.113.1';
const H4 = '203.0.113.16';
/** IPv4 Identification and the header checksum over it. */
const ID_BYTES = [4, 5, 10, 11];
/** An ICMPv4 error quoting an IPv4 packet translated from IPv6: both Identifications, both header checksums, the ICMP checksum. */
const ERR4_BYTES = [...ID_BYTES, 22, 23, 28 + 4, 28 + 5, 28 + 10, 28 + 11];

const DATA = [0x6e, 0x61, 0x74, 0x36, 0x34, 0x21, 0x00, 0x01];

/** IPv4 from the translator to the IPv4 node, protocol `proto`, then [offset, bytes] pairs. */
function to4(proto: number, ...more: Array<[number, number[]]>): Array<[number, number[]]> {
  return [[9, [proto]], [12, ip4bytes(P4)], [16, ip4bytes(H4)], ...more];
}
/** IPv6 from `src` to the IPv6 node, next header `nh`, then [offset, bytes] pairs. */
function to6(nh: number, src = R6, ...more: Array<[number, number[]]>): Array<[number, number[]]> {
  return [[6, [nh]], [8, [...a6(src)]], [24, [...a6(H6)]], ...more];
}

for (const shards of [1, 2]) {
  describe(`RFC vectors end to end through the daemon, raw sockets (${shards} shard${shards > 1 ? 's' : ''})`, function () {
    this.timeout(120000);
    const net = new DemoNetwork({ prefix: `n64rv${shards}`, shards, log: () => undefined });
    let mac6 = '', mac4 = '', h6Mac = '', h4Mac = '';
    let h6: string, h4: string, h6b: string;
    /** The pool4 port of the UDP flow [H6]#40001 -> [R6]#7001, learned in the first vector. */
    let udpPort = 0;
    let udpOut4: Uint8Array = new Uint8Array(0);
    let udpIn6: Uint8Array = new Uint8Array(0);

    const counters = (): Record<string, number> => {
      const rows = JSON.parse(net.cli(['stats', 'display', '--json', '--all']).stdout) as Array<{ name: string; value: number }>;
      return Object.fromEntries(rows.map((r) => [r.name, r.value]));
    };
    const send6 = (...packets: Uint8Array[]) => ({ ns: h6, dstMac: mac6, ethertype: ETH_IPV6, packets });
    const send4 = (...packets: Uint8Array[]) => ({ ns: h4, dstMac: mac4, ethertype: ETH_IPV4, packets });
    const at4 = (match: CaptureSpec['match'], o: Partial<CaptureSpec> = {}): CaptureSpec => ({ ns: h4, ethertype: ETH_IPV4, match, ...o });
    const at6 = (match: CaptureSpec['match'], o: Partial<CaptureSpec> = {}): CaptureSpec => ({ ns: h6, ethertype: ETH_IPV6, match, ...o });
    const one = (frames: Frame[], what: string): Uint8Array => {
      assert.equal(frames.length, 1, `${what}: expected one frame, got ${frames.length}\n--- daemon ---\n${net.daemonOutput.slice(-2000)}`);
      return frames[0].l3;
    };
    const fromTranslator = (f: Frame[], mac: string, dst: string) => {
      assert.equal(f[0].srcMac, mac, 'source MAC is the translator port');
      assert.equal(f[0].dstMac, dst, 'destination MAC is the node (resolved by the translator)');
    };
    const udpOn = (port: number) => (data = DATA, o: { ttl?: number; tos?: number; id?: number } = {}) =>
      ipv4({ src: H4, dst: P4, proto: PROTO.UDP, l4: udp(7001, port, data), ttl: 64, id: 0x5151, ...o });

    before(async () => {
      await net.up();
      const r = net.cli(['instance', 'add', 'example', '--pool6', '64:ff9b::/96']);
      assert.equal(r.status, 0, r.stderr);
      const t = net.topology!;
      [h6, h6b, h4] = [t.v6Nodes[0].ns, t.v6Nodes[1].ns, t.v4Node.ns];
      const ports = JSON.parse(net.cli(['port', 'display', '--json']).stdout) as Array<{ configName: string; mac: string }>;
      mac6 = ports.find((p) => p.configName === 'v6')!.mac.toLowerCase();
      mac4 = ports.find((p) => p.configName === 'v4')!.mac.toLowerCase();
      h6Mac = macOf(h6);
      h4Mac = macOf(h4);
      // The nodes' kernels answer the vectors (port unreachable, echo reply) and their answers are
      // what the translator's output is compared with: the harness needs every one of them, several
      // a second to one destination. This is the test's instrument, not help for the translator,
      // which meets the nodes' default offloads, MTUs and MACs like everywhere else.
      nsExec(h4, ['sysctl', '-qw', 'net.ipv4.icmp_ratelimit=0']);
      nsExec(h6, ['sysctl', '-qw', 'net.ipv6.icmp.ratelimit=0']);
    });
    after(async () => { await net.down(); });

    it('RFC 7915 §5.1/§5.5, RFC 6146 §3.5.1: UDP 6->4; the IPv4 node\'s Port Unreachable comes back as ICMPv6 1/4 quoting the original (§4.2/§4.3)', async () => {
      const pkt = ipv6({ src: H6, dst: R6, nh: PROTO.UDP, l4: udp(40001, 7001, DATA), hop: 64 });
      const [out4, err4, err6] = await exchange(send6(pkt), [
        at4(to4(PROTO.UDP, [22, u16(7001)])),
        at4([[9, [PROTO.ICMP]], [12, ip4bytes(H4)], [20, [3, 3]]], { direction: 'out' }),
        at6(to6(PROTO.ICMPV6, R6, [40, [1, 4]])),
      ]);
      const got4 = one(out4, 'translated UDP at the IPv4 node');
      fromTranslator(out4, mac4, h4Mac);
      udpPort = (got4[20] << 8) | got4[21];
      udpOut4 = got4;
      const sessions = JSON.parse(net.cli(['-i', 'example', 'session', 'display', '--json', '--udp']).stdout) as Array<Record<string, unknown>>;
      assert.ok(sessions.some((s) => s.ipv6LocalPort === 40001 && s.ipv4LocalPort === udpPort && s.ipv4Remote === H4), JSON.stringify(sessions));
      assertSamePacket(got4, ipv4({ src: P4, dst: H4, proto: PROTO.UDP, l4: udp(udpPort, 7001, DATA), ttl: 63 }), ID_BYTES);
      assert.ok(ipv4HeaderOk(got4) && l4SumOk4(got4));
      // The IPv4 node's kernel answered Port Unreachable; translated with its TOS and TTL - 1.
      const kernelErr = one(err4, 'ICMP Port Unreachable sent by the IPv4 node');
      const quotedBack = ipv6({ src: H6, dst: R6, nh: PROTO.UDP, l4: udp(40001, 7001, DATA), hop: 63 });
      assertSamePacket(one(err6, 'ICMPv6 Destination Unreachable at the IPv6 node'),
        ipv6({ src: R6, dst: H6, nh: PROTO.ICMPV6, hop: kernelErr[8] - 1, tc: kernelErr[1], l4: icmp(1, 4, 0, quotedBack) }));
      fromTranslator(err6, mac6, h6Mac);
    });

    it('RFC 7915 §4.1/§4.5: UDP 4->6 on that session; the IPv6 node\'s Port Unreachable comes back as ICMPv4 3/3 quoting the original (§5.2/§5.3)', async () => {
      const pkt = udpOn(udpPort)([9, 8, 7, 6, 5]);
      const [in6, err6, err4] = await exchange(send4(pkt), [
        at6(to6(PROTO.UDP, R6, [40, u16(7001)])),
        at6([[6, [PROTO.ICMPV6]], [8, [...a6(H6)]], [40, [1, 4]]], { direction: 'out' }),
        at4(to4(PROTO.ICMP, [20, [3, 3]])),
      ]);
      udpIn6 = one(in6, 'translated UDP at the IPv6 node');
      assertSamePacket(udpIn6, ipv6({ src: R6, dst: H6, nh: PROTO.UDP, l4: udp(7001, 40001, [9, 8, 7, 6, 5]), hop: 63 }));
      fromTranslator(in6, mac6, h6Mac);
      const kernelErr = one(err6, 'ICMPv6 Port Unreachable sent by the IPv6 node');
      const quoted = ipv4({ src: H4, dst: P4, proto: PROTO.UDP, l4: udp(7001, udpPort, [9, 8, 7, 6, 5]), ttl: 63 });
      const got = one(err4, 'ICMPv4 Destination Unreachable at the IPv4 node');
      assertSamePacket(got, ipv4({ src: P4, dst: H4, proto: PROTO.ICMP, ttl: kernelErr[7] - 1, tos: ((kernelErr[0] & 15) << 4) | (kernelErr[1] >> 4),
        l4: icmp(3, 3, 0, quoted) }), ERR4_BYTES);
      assert.ok(ipv4HeaderOk(got) && l4SumOk4(got) && ipv4HeaderOk(got.subarray(28)), 'outer, ICMP and quoted header checksums');
    });

    it('RFC 7915 §4.1: a DF-clear 1500-byte IPv4 datagram leaves as IPv6 fragments in offset order, offset 0 first (as Jool)', async () => {
      const data = Array.from({ length: 1472 }, (_, i) => (i * 7) & 0xff);
      const [frags] = await exchange(send4(udpOn(udpPort)(data, { id: 0x6a6a })), [
        at6([[6, [PROTO.FRAGMENT]], [8, [...a6(R6)]], [24, [...a6(H6)]], [44, [0, 0, 0x6a, 0x6a]]], { max: 2, timeoutMs: 3000 }),
      ]);
      assert.equal(frags.length, 2, `two fragments at the IPv6 node\n--- daemon ---\n${net.daemonOutput.slice(-2000)}`);
      const offsets = frags.map((f) => ((f.l3[42] << 8) | f.l3[43]) & 0xfff8);
      assert.deepEqual(offsets, [0, offsets[1]], 'offset 0 arrives first');
      assert.ok(offsets[1] > 0);
    });

    it('RFC 7915 §4.2/§5.2: ICMP echo both ways (identifier mapped by RFC 6146 §3.5.3 and restored on the reply)', async () => {
      const pkt = ipv6({ src: H6, dst: R6, nh: PROTO.ICMPV6, l4: echo(128, 0x4242, 7, DATA), hop: 64 });
      const [req4, rep4, rep6] = await exchange(send6(pkt), [
        at4(to4(PROTO.ICMP, [20, [8, 0]])),
        at4([[9, [PROTO.ICMP]], [12, ip4bytes(H4)], [20, [0, 0]]], { direction: 'out' }),
        at6(to6(PROTO.ICMPV6, R6, [40, [129, 0]])),
      ]);
      const got4 = one(req4, 'Echo at the IPv4 node');
      const id = (got4[24] << 8) | got4[25];
      assertSamePacket(got4, ipv4({ src: P4, dst: H4, proto: PROTO.ICMP, l4: echo(8, id, 7, DATA), ttl: 63 }), ID_BYTES);
      const sessions = JSON.parse(net.cli(['-i', 'example', 'session', 'display', '--json', '--icmp']).stdout) as Array<Record<string, unknown>>;
      assert.ok(sessions.some((s) => s.ipv6LocalPort === 0x4242 && s.ipv4LocalPort === id), JSON.stringify(sessions));
      const reply = one(rep4, 'Echo Reply sent by the IPv4 node');
      assertSamePacket(one(rep6, 'Echo Reply at the IPv6 node'),
        ipv6({ src: R6, dst: H6, nh: PROTO.ICMPV6, hop: reply[8] - 1, tc: reply[1], l4: echo(129, 0x4242, 7, DATA) }));
    });

    it('RFC 7915 §5.5/§4.5: TCP both ways (SYN 6->4, the IPv4 node\'s RST and a crafted ACK 4->6)', async () => {
      const syn = ipv6({ src: H6, dst: R6, nh: PROTO.TCP, l4: tcp(40003, 7003, [], 0x02), hop: 64 });
      const [syn4, rst4, rst6] = await exchange(send6(syn), [
        at4(to4(PROTO.TCP, [22, u16(7003)])),
        at4([[9, [PROTO.TCP]], [12, ip4bytes(H4)], [20, u16(7003)]], { direction: 'out' }),
        at6(to6(PROTO.TCP, R6, [40, u16(7003)])),
      ]);
      const got = one(syn4, 'SYN at the IPv4 node');
      const port = (got[20] << 8) | got[21];
      assertSamePacket(got, ipv4({ src: P4, dst: H4, proto: PROTO.TCP, l4: tcp(port, 7003, [], 0x02), ttl: 63 }), ID_BYTES);
      assert.ok(l4SumOk4(got));
      // The IPv4 node has no listener on 7003: its RST, translated.
      const krst = one(rst4, 'RST sent by the IPv4 node');
      const rstL4 = Uint8Array.from(krst.subarray(20));
      rstL4.set(u16(40003), 2);
      assertSamePacket(one(rst6, 'RST at the IPv6 node'), ipv6({ src: R6, dst: H6, nh: PROTO.TCP, hop: krst[8] - 1, tc: krst[1], l4: rstL4 }));
      // RFC 6146 §3.5.2.2: TRANS + a non-RST packet -> ESTABLISHED, translated.
      const ack = ipv4({ src: H4, dst: P4, proto: PROTO.TCP, l4: tcp(7003, port, [5, 6, 7], 0x10), ttl: 64 });
      const [ack6] = await exchange(send4(ack), [at6(to6(PROTO.TCP, R6, [40, u16(7003)], [53, [0x10]]))]);
      assertSamePacket(one(ack6, 'ACK at the IPv6 node'), ipv6({ src: R6, dst: H6, nh: PROTO.TCP, l4: tcp(7003, 40003, [5, 6, 7], 0x10), hop: 63 }));
    });

    it('RFC 6146 §3.8 / §3.5.2.2 (Jool): a hairpinned SYN to our pool4 and an unmapped port is stored, then answered after 6 s with ICMPv6 Port Unreachable', async function () {
      this.timeout(30000);
      const P6 = '64:ff9b::cb00:7101'; // our own pool4 address 203.0.113.1 through pool6
      // A SYN to the IPv4 node first gives [H6]#40007 its TCP mapping; its pool4 port decides which
      // shard the Port Unreachable belongs to (egress.ts hairpinError), so the hairpinned SYN goes to
      // a port of that same shard.
      await exchange(send6(ipv6({ src: H6, dst: R6, nh: PROTO.TCP, l4: tcp(40007, 9, [], 0x02), hop: 64 })), [at4(to4(PROTO.TCP, [22, u16(9)]))]);
      const tcpSessions = JSON.parse(net.cli(['-i', 'example', 'session', 'display', '--json', '--tcp']).stdout) as Array<{ ipv6LocalPort: number; ipv4LocalPort: number }>;
      const mapped = tcpSessions.find((x) => x.ipv6LocalPort === 40007);
      assert.ok(mapped, JSON.stringify(tcpSessions));
      const dport = 5000 + (mapped.ipv4LocalPort % shards); // below pool4's 61001-65535: never mapped
      const before = counters();
      const syn = ipv6({ src: H6, dst: P6, nh: PROTO.TCP, l4: tcp(40007, dport, [], 0x02), hop: 64 });
      const started = Date.now();
      const [err] = await exchange(send6(syn), [at6([[6, [PROTO.ICMPV6]], [8, [...a6(P6)]], [24, [...a6(H6)]], [40, [1, 4]]], { timeoutMs: 10000 })]);
      const got = one(err, 'ICMPv6 Port Unreachable at the IPv6 node');
      assert.ok(Date.now() - started >= 5500, `answered after ${Date.now() - started} ms, not before 6 s`);
      fromTranslator(err, mac6, h6Mac);
      const quoted = ipv6({ src: H6, dst: P6, nh: PROTO.TCP, l4: tcp(40007, dport, [], 0x02), hop: 63 });
      assertSamePacket(got, ipv6({ src: P6, dst: H6, nh: PROTO.ICMPV6, hop: 64, l4: icmp(1, 4, 0, quoted) }));
      const after = counters();
      assert.equal(after['tcp-v4-syn-stored'] - (before['tcp-v4-syn-stored'] ?? 0), 1);
      assert.equal(after['hairpin-error-lost'] ?? 0, 0);
    });

    it('RFC 1624 / RFC 7915 §4.5, §5.5: a bad transport checksum stays bad, both ways', async () => {
      const bad6 = ipv6({ src: H6, dst: R6, nh: PROTO.UDP, l4: udp(40001, 7001, DATA), hop: 64 });
      bad6[bad6.length - 1] ^= 0x55;
      const [o4] = await exchange(send6(bad6), [at4(to4(PROTO.UDP, [22, u16(7001)]))]);
      const exp4 = ipv4({ src: P4, dst: H4, proto: PROTO.UDP, l4: udp(udpPort, 7001, DATA), ttl: 63 });
      exp4[exp4.length - 1] ^= 0x55;
      const got4 = one(o4, 'UDP with a bad checksum at the IPv4 node');
      assertSamePacket(got4, exp4, ID_BYTES);
      assert.equal(l4SumOk4(got4), false);

      const bad4 = udpOn(udpPort)(DATA);
      bad4[bad4.length - 1] ^= 0x55;
      const [o6] = await exchange(send4(bad4), [at6(to6(PROTO.UDP, R6, [40, u16(7001)]))]);
      const exp6 = ipv6({ src: R6, dst: H6, nh: PROTO.UDP, l4: udp(7001, 40001, DATA), hop: 63 });
      exp6[exp6.length - 1] ^= 0x55;
      const got6 = one(o6, 'UDP with a bad checksum at the IPv6 node');
      assertSamePacket(got6, exp6);
      assert.equal(l4SumOk6(got6), false);
    });

    it('RFC 7915 §4.5 / RFC 6146 §3.4: an IPv4 UDP datagram with a zero checksum leaves with a computed one', async () => {
      const zero = ipv4({ src: H4, dst: P4, proto: PROTO.UDP, l4: udp(7001, udpPort, DATA), ttl: 64, l4sum: 'keep' });
      const [o6] = await exchange(send4(zero), [at6(to6(PROTO.UDP, R6, [40, u16(7001)]))]);
      const got = one(o6, 'UDP at the IPv6 node');
      assertSamePacket(got, ipv6({ src: R6, dst: H6, nh: PROTO.UDP, l4: udp(7001, 40001, DATA), hop: 63 }));
      assert.ok(l4SumOk6(got));
    });

    it('RFC 7915 §5.1/§4.1: Traffic Class copied to TOS and TOS to Traffic Class', async () => {
      const [o4] = await exchange(send6(ipv6({ src: H6, dst: R6, nh: PROTO.UDP, l4: udp(40001, 7001, DATA), hop: 64, tc: 0xb8 })),
        [at4(to4(PROTO.UDP, [22, u16(7001)]))]);
      assertSamePacket(one(o4, 'UDP at the IPv4 node'), ipv4({ src: P4, dst: H4, proto: PROTO.UDP, l4: udp(udpPort, 7001, DATA), ttl: 63, tos: 0xb8 }), ID_BYTES);
      const [o6] = await exchange(send4(udpOn(udpPort)(DATA, { tos: 0x28 })), [at6(to6(PROTO.UDP, R6, [40, u16(7001)]))]);
      assertSamePacket(one(o6, 'UDP at the IPv6 node'), ipv6({ src: R6, dst: H6, nh: PROTO.UDP, l4: udp(7001, 40001, DATA), hop: 63, tc: 0x28 }));
    });

    it('RFC 7915 §5.1 / RFC 4443 §3.3: Hop Limit 1 -> ICMPv6 Time Exceeded from the translator, nothing reaches IPv4', async () => {
      const before = counters()['ttl-expired'] ?? 0;
      const pkt = ipv6({ src: H6, dst: R6, nh: PROTO.UDP, l4: udp(40001, 7001, DATA), hop: 1 });
      const [te, o4] = await exchange(send6(pkt), [
        at6(to6(PROTO.ICMPV6, T6, [40, [3, 0]])),
        at4(to4(PROTO.UDP, [22, u16(7001)]), { timeoutMs: 1000 }),
      ]);
      assertSamePacket(one(te, 'Time Exceeded at the IPv6 node'), ipv6({ src: T6, dst: H6, nh: PROTO.ICMPV6, hop: 64, l4: icmp(3, 0, 0, pkt) }));
      assert.equal(o4.length, 0);
      assert.equal(counters()['ttl-expired'], before + 1);
    });

    it('RFC 7915 §4.1 / RFC 792: TTL 1 -> ICMPv4 Time Exceeded from the translator, nothing reaches IPv6', async () => {
      const pkt = udpOn(udpPort)(DATA, { ttl: 1 });
      const [te, o6] = await exchange(send4(pkt), [
        at4(to4(PROTO.ICMP, [20, [11, 0]])),
        at6(to6(PROTO.UDP, R6, [40, u16(7001)]), { timeoutMs: 1000 }),
      ]);
      const got = one(te, 'Time Exceeded at the IPv4 node');
      assertSamePacket(got, ipv4({ src: P4, dst: H4, proto: PROTO.ICMP, ttl: 64, l4: icmp(11, 0, 0, pkt) }), ID_BYTES);
      assert.ok(l4SumOk4(got));
      assert.equal(o6.length, 0);
    });

    it('RFC 7915 §4.2: ICMPv4 Fragmentation Needed (MTU 1400) about a translated flow -> ICMPv6 Packet Too Big 1420', async () => {
      const err = ipv4({ src: H4, dst: P4, proto: PROTO.ICMP, ttl: 64, l4: icmp(3, 4, 1400, udpOut4) });
      const [o6] = await exchange(send4(err), [at6(to6(PROTO.ICMPV6, R6, [40, [2, 0]]))]);
      const quotedBack = ipv6({ src: H6, dst: R6, nh: PROTO.UDP, l4: udp(40001, 7001, DATA), hop: 63 });
      assertSamePacket(one(o6, 'Packet Too Big at the IPv6 node'), ipv6({ src: R6, dst: H6, nh: PROTO.ICMPV6, hop: 63, l4: icmp(2, 0, 1420, quotedBack) }));
    });

    it('RFC 7915 §5.2: ICMPv6 Packet Too Big (MTU 1400) about a translated flow -> ICMPv4 Fragmentation Needed 1380', async () => {
      const err = ipv6({ src: H6, dst: R6, nh: PROTO.ICMPV6, hop: 64, l4: icmp(2, 0, 1400, udpIn6) });
      const [o4] = await exchange(send6(err), [at4(to4(PROTO.ICMP, [20, [3, 4]]))]);
      const quoted = ipv4({ src: H4, dst: P4, proto: PROTO.UDP, l4: udp(7001, udpPort, [9, 8, 7, 6, 5]), ttl: 63 });
      const got = one(o4, 'Fragmentation Needed at the IPv4 node');
      assertSamePacket(got, ipv4({ src: P4, dst: H4, proto: PROTO.ICMP, ttl: 63, l4: icmp(3, 4, 1380, quoted) }), ERR4_BYTES);
      assert.ok(l4SumOk4(got) && ipv4HeaderOk(got.subarray(28)));
    });

    it('RFC 7915 §5.1: a Routing header with Segments Left != 0 is not translated (dropped, ext-header-unsupported; a Parameter Problem, if any, points at Segments Left)', async () => {
      const before = counters()['ext-header-unsupported'] ?? 0;
      const pkt = ipv6({ src: H6, dst: R6, nh: PROTO.UDP, l4: udp(40001, 7001, DATA), hop: 64, ext: [[PROTO.ROUTING, [0, 1, 0, 0, 0, 0]]] });
      const [o4, pp] = await exchange(send6(pkt), [
        at4(to4(PROTO.UDP, [22, u16(7001)]), { timeoutMs: 1000 }),
        at6(to6(PROTO.ICMPV6, T6, [40, [4]]), { timeoutMs: 1000 }),
      ]);
      assert.equal(o4.length, 0, 'nothing translated');
      assert.equal(counters()['ext-header-unsupported'], before + 1);
      // RFC 7915 §5.1 SHOULD: Parameter Problem code 0 pointing at Segments Left (offset 43).
      if (pp.length) assertSamePacket(pp[0].l3, ipv6({ src: T6, dst: H6, nh: PROTO.ICMPV6, hop: 64, l4: icmp(4, 0, 43, pkt) }));
    });

    it('RFC 6146 §3.5.1: an unsolicited IPv4 packet (no BIB entry) is dropped: nothing reaches IPv6, bib4-not-found moves', async () => {
      const used = new Set((JSON.parse(net.cli(['-i', 'example', 'session', 'display', '--json', '--udp']).stdout) as Array<{ ipv4LocalPort: number }>)
        .map((s) => s.ipv4LocalPort));
      let port = 62000;
      while (used.has(port)) port++;
      const before = counters()['bib4-not-found'] ?? 0;
      const [a, b] = await exchange(send4(udpOn(port)(DATA)), [
        at6([[6, [PROTO.UDP]]], { timeoutMs: 1000 }),
        { ns: h6b, ethertype: ETH_IPV6, match: [[6, [PROTO.UDP]]], timeoutMs: 1000 },
      ]);
      assert.equal(a.length + b.length, 0);
      assert.equal(counters()['bib4-not-found'], before + 1);
    });

    it('RFC 7915 §4.4: with icmp-admin-prohibited (global update) that packet is answered with ICMPv4 3/13 quoting it; a real UDP socket gets EHOSTUNREACH', async () => {
      const used = new Set((JSON.parse(net.cli(['-i', 'example', 'session', 'display', '--json', '--udp']).stdout) as Array<{ ipv4LocalPort: number }>)
        .map((s) => s.ipv4LocalPort));
      let port = 62100;
      while (used.has(port)) port++;
      const g = (v: string) => assert.equal(net.cli(['-i', 'example', 'global', 'update', 'icmp-admin-prohibited', v]).status, 0);
      g('true');
      try {
        const before = counters();
        const pkt = udpOn(port)(DATA);
        const [e4, o6] = await exchange(send4(pkt), [
          at4(to4(PROTO.ICMP, [20, [3, 13]])),
          at6([[6, [PROTO.UDP]]], { timeoutMs: 1000 }),
        ]);
        const got = one(e4, 'ICMPv4 Destination Unreachable 13 at the IPv4 node');
        fromTranslator(e4, mac4, h4Mac);
        assertSamePacket(got, ipv4({ src: P4, dst: H4, proto: PROTO.ICMP, ttl: 64, l4: icmp(3, 13, 0, pkt) }), ID_BYTES);
        assert.ok(ipv4HeaderOk(got) && l4SumOk4(got));
        assert.equal(o6.length, 0, 'nothing translated');
        const after = counters();
        assert.equal(after['bib4-not-found'], (before['bib4-not-found'] ?? 0) + 1);
        assert.equal(after['icmp-error-sent'], (before['icmp-error-sent'] ?? 0) + 1);
        // The IPv4 node's own stack: a connected UDP socket learns "administratively prohibited"
        // (Linux maps ICMP 3/13 to EHOSTUNREACH).
        const client = 'import socket,sys\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\ns.settimeout(3)\n' +
          's.connect((sys.argv[1],int(sys.argv[2])))\ns.send(b"x")\ntry:\n s.recv(100); print("answer")\n' +
          'except socket.timeout: print("timeout")\nexcept OSError as e: print(e.errno)';
        let port2 = port + 1;
        while (used.has(port2)) port2++;
        assert.equal(nsExec(h4, ['python3', '-c', client, P4, String(port2)]).trim(), '113', 'EHOSTUNREACH');
      } finally {
        g('false');
      }
    });

    it('RFC 7915 §5.1: Flow Label ignored; Hop-by-Hop and Destination Options headers skipped (Protocol = last Next Header)', async () => {
      const pkt = ipv6({ src: H6, dst: R6, nh: PROTO.UDP, l4: udp(40001, 7001, DATA), hop: 64, flow: 0x12345,
        ext: [[PROTO.HOPOPTS, [1, 4, 0, 0, 0, 0]], [PROTO.DSTOPTS, [1, 12, ...new Array(12).fill(0)]]] });
      const [o4] = await exchange(send6(pkt), [at4(to4(PROTO.UDP, [22, u16(7001)]))]);
      assertSamePacket(one(o4, 'UDP at the IPv4 node'), ipv4({ src: P4, dst: H4, proto: PROTO.UDP, l4: udp(udpPort, 7001, DATA), ttl: 63 }), ID_BYTES);
    });

    it('RFC 7915 §4.1: IPv4 options are ignored (not translated)', async () => {
      const pkt = ipv4({ src: H4, dst: P4, proto: PROTO.UDP, l4: udp(7001, udpPort, DATA), ttl: 64, options: [1, 1, 1, 0] });
      const [o6] = await exchange(send4(pkt), [at6(to6(PROTO.UDP, R6, [40, u16(7001)]))]);
      assertSamePacket(one(o6, 'UDP at the IPv6 node'), ipv6({ src: R6, dst: H6, nh: PROTO.UDP, l4: udp(7001, 40001, DATA), hop: 63 }));
    });

    it('RFC 7915 §5.1: DF = 0 up to lowest-ipv6-mtu - 20 (1260 bytes), DF = 1 above', async () => {
      const sized = (total: number) => ipv6({ src: H6, dst: R6, nh: PROTO.UDP, l4: udp(40001, 7001, new Array(total - 28).fill(0x5a)), hop: 64 });
      const [o4] = await exchange(send6(sized(1260), sized(1261)), [at4(to4(PROTO.UDP, [22, u16(7001)]), { max: 2 })]);
      assert.equal(o4.length, 2);
      const bySize = new Map(o4.map((f) => [f.l3.length, f.l3]));
      assert.equal(bySize.get(1260)![6] & 0xe0, 0, 'DF clear at 1260 bytes');
      assert.equal(bySize.get(1261)![6] & 0xe0, 0x40, 'DF set at 1261 bytes');
      assert.ok(l4SumOk4(bySize.get(1261)!));
    });

    it('RFC 7915 §5.1 override-tos / RFC 6146 §3.5.3 drop-icmpv6-info, switched on with global update', async () => {
      const g = (k: string, v: string) => assert.equal(net.cli(['-i', 'example', 'global', 'update', k, v]).status, 0, k);
      g('override-tos', 'true'); g('tos', '32');
      g('drop-icmpv6-info', 'true');
      try {
        const [o4] = await exchange(send6(ipv6({ src: H6, dst: R6, nh: PROTO.UDP, l4: udp(40001, 7001, DATA), hop: 64, tc: 0xb8 })),
          [at4(to4(PROTO.UDP, [22, u16(7001)]))]);
        assertSamePacket(one(o4, 'UDP at the IPv4 node'), ipv4({ src: P4, dst: H4, proto: PROTO.UDP, l4: udp(udpPort, 7001, DATA), ttl: 63, tos: 32 }), ID_BYTES);
        const before = counters()['icmp-info-filtered'] ?? 0;
        const [e4] = await exchange(send6(ipv6({ src: H6, dst: R6, nh: PROTO.ICMPV6, l4: echo(128, 0x4343, 1, DATA), hop: 64 })),
          [at4(to4(PROTO.ICMP), { timeoutMs: 1000 })]);
        assert.equal(e4.length, 0, 'echo request filtered');
        assert.equal(counters()['icmp-info-filtered'], before + 1);
      } finally {
        g('override-tos', 'false'); g('tos', '0'); g('drop-icmpv6-info', 'false');
      }
    });

    it('the daemon is still running after every vector', () => {
      assert.equal(net.cli(['instance', 'display']).status, 0, net.daemonOutput.slice(-2000));
    });
  });
}
