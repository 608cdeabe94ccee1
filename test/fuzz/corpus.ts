/**
 * Valid seed packets for the mutator, built with test/rfc/vectors/build.ts. Packets of the IPv4
 * side (replies, ICMP errors quoting our own translated packets) need the pool4 ports the core
 * chose, so the corpus is built after a few flows have been set up through the rig; the ICMP
 * errors then quote packets that match live sessions, which drives the quoted-packet translation
 * (the deepest path of the core) instead of stopping at 'session-not-found'.
 */
import { a4, a6, echo, icmp, inetChecksum, ipv4, ipv6, PROTO, tcp, udp } from '../rfc/vectors/build';
import { OWN4, type Rig } from './rig';

export interface Seed { name: string; family: 4 | 6; bytes: Uint8Array }

export const X = '2001:db8::8';
export const X2 = '2001:db8::9';
export const Y4 = '198.51.100.7';
export const Y6 = '64:ff9b::c633:6407';
const R4 = '198.51.100.1';
const R6 = '2001:db8::fe';
/** 203.0.113.1 under 64:ff9b::/96: the pool6 address of our own pool4 address (hairpinning). */
const OWN6 = '64:ff9b::cb00:7101';

const TCP_SYN = 0x02, TCP_ACK = 0x10, TCP_FIN = 0x01, TCP_RST = 0x04, TCP_PSH = 0x08;

function u16(b: Uint8Array | null, o: number, dflt: number): number { return b === null ? dflt : (b[o] << 8) | b[o + 1]; }

/** The flows the seeds refer to: the outputs of their set-up packets. */
export interface Flows {
  tUdp: number; tTcp: number; tId: number; tHairpin: number;
  udpOut4: Uint8Array | null; tcpOut4: Uint8Array | null; icmpOut4: Uint8Array | null;
  udpOut6: Uint8Array | null; tcpOut6: Uint8Array | null; icmpOut6: Uint8Array | null;
}

/** Sets up (or refreshes) a UDP flow, an established TCP connection, a ping and a hairpin target. */
export function establish(rig: Rig): Flows {
  const udpOut4 = rig.send(6, ipv6({ src: X, dst: Y6, nh: PROTO.UDP, l4: udp(5000, 53) }));
  const tcpOut4 = rig.send(6, ipv6({ src: X, dst: Y6, nh: PROTO.TCP, l4: tcp(5001, 80, [], TCP_SYN) }));
  const icmpOut4 = rig.send(6, ipv6({ src: X, dst: Y6, nh: PROTO.ICMPV6, l4: echo(128, 0x77, 1) }));
  const hair = rig.send(6, ipv6({ src: X2, dst: Y6, nh: PROTO.UDP, l4: udp(6000, 53) }));
  const tUdp = u16(udpOut4, 20, 61001), tTcp = u16(tcpOut4, 20, 61002), tId = u16(icmpOut4, 24, 61003);
  const tcpOut6 = rig.send(4, ipv4({ src: Y4, dst: OWN4, proto: PROTO.TCP, l4: tcp(80, tTcp, [], TCP_SYN | TCP_ACK) }));
  rig.send(6, ipv6({ src: X, dst: Y6, nh: PROTO.TCP, l4: tcp(5001, 80, [], TCP_ACK) }));
  const udpOut6 = rig.send(4, ipv4({ src: Y4, dst: OWN4, proto: PROTO.UDP, l4: udp(53, tUdp) }));
  const icmpOut6 = rig.send(4, ipv4({ src: Y4, dst: OWN4, proto: PROTO.ICMP, l4: echo(0, tId, 1) }));
  return { tUdp, tTcp, tId, tHairpin: u16(hair, 20, 61004), udpOut4, tcpOut4, icmpOut4, udpOut6, tcpOut6, icmpOut6 };
}

function v6(name: string, o: Parameters<typeof ipv6>[0]): Seed { return { name, family: 6, bytes: ipv6(o) }; }
function v4(name: string, o: Parameters<typeof ipv4>[0]): Seed { return { name, family: 4, bytes: ipv4(o) }; }

/** ICMPv6 error from `src` to Y6 quoting `quoted` (a packet we translated towards the IPv6 side). */
function err6(name: string, src: string, type: number, code: number, word: number, quoted: Uint8Array): Seed {
  return v6(name, { src, dst: Y6, nh: PROTO.ICMPV6, l4: icmp(type, code, word, quoted) });
}

/** ICMPv4 error from a router to our pool4 address quoting `quoted` (a packet we translated to IPv4). */
function err4(name: string, type: number, code: number, word: number, quoted: Uint8Array): Seed {
  return v4(name, { src: R4, dst: OWN4, proto: PROTO.ICMP, l4: icmp(type, code, word, quoted) });
}

export function buildCorpus(f: Flows): Seed[] {
  const seeds: Seed[] = [];
  const add = (s: Seed): void => { seeds.push(s); };
  const U6 = (sport: number, dport: number, extra: Partial<Parameters<typeof ipv6>[0]> = {}) =>
    ({ src: X, dst: Y6, nh: PROTO.UDP, l4: udp(sport, dport), ...extra });
  const pad6 = [1, 4, 0, 0, 0, 0]; // PadN: an 8-byte options header with nothing in it

  // ---- IPv6 side ----
  add(v6('udp6', U6(5000, 53)));
  for (const [n, fl] of [['syn', TCP_SYN], ['ack', TCP_ACK], ['fin', TCP_FIN | TCP_ACK], ['rst', TCP_RST],
    ['psh', TCP_PSH | TCP_ACK]] as const) {
    add(v6(`tcp6-${n}`, { src: X, dst: Y6, nh: PROTO.TCP, l4: tcp(5001, 80, fl === (TCP_PSH | TCP_ACK) ? [1, 2, 3] : [], fl) }));
  }
  add(v6('tcp6-new-syn', { src: X, dst: Y6, nh: PROTO.TCP, l4: tcp(5555, 443, [], TCP_SYN) }));
  add(v6('echo6-request', { src: X, dst: Y6, nh: PROTO.ICMPV6, l4: echo(128, 0x77, 2) }));
  add(v6('echo6-reply', { src: X, dst: Y6, nh: PROTO.ICMPV6, l4: echo(129, 0x78, 2) }));
  add(v6('icmp6-ns', { src: X, dst: Y6, nh: PROTO.ICMPV6, l4: icmp(135, 0, 0, new Uint8Array(16)) }));
  add(v6('udp6-hop-dst', U6(5000, 53, { ext: [[PROTO.HOPOPTS, pad6], [PROTO.DSTOPTS, pad6]] })));
  add(v6('udp6-routing-sl0', U6(5000, 53, { ext: [[PROTO.ROUTING, [0, 0, 0, 0, 0, 0]]] })));
  add(v6('udp6-routing-sl1', U6(5000, 53, { ext: [[PROTO.ROUTING, [0, 1, 0, 0, 0, 0]]] })));
  add(v6('udp6-atomic-frag', U6(5000, 53, { ext: [[PROTO.FRAGMENT, [0, 0, 0, 0, 0x12, 0x34]]] })));
  add(v6('udp6-first-frag', U6(5000, 53, { ext: [[PROTO.FRAGMENT, [0, 1, 0, 0, 0x12, 0x35]]] })));
  add(v6('udp6-later-frag', U6(5000, 53, { ext: [[PROTO.FRAGMENT, [0, 0x40, 0, 0, 0x12, 0x35]]] })));
  add(v6('udp6-dstopts-x20', U6(5000, 53, { ext: Array.from({ length: 20 }, () => [PROTO.DSTOPTS, pad6] as [number, number[]]) })));
  add(v6('udp6-hop1', U6(5000, 53, { hop: 1 })));
  add(v6('udp6-hop0', U6(5000, 53, { hop: 0 })));
  add(v6('udp6-esp', { src: X, dst: Y6, nh: 50, l4: new Uint8Array(16) }));
  add(v6('udp6-no-next', { src: X, dst: Y6, nh: 59, l4: new Uint8Array(0) }));
  add(v6('udp6-empty-l4', { src: X, dst: Y6, nh: PROTO.UDP, l4: new Uint8Array(0), l4sum: 'keep' }));
  add(v6('udp6-plen0', U6(5000, 53, { payloadLen: 0 })));
  add(v6('udp6-hbh-jumbo', U6(5000, 53, { payloadLen: 0, ext: [[PROTO.HOPOPTS, [0xc2, 4, 0, 1, 0, 0x10]]] })));
  add(v6('udp6-1500', { src: X, dst: Y6, nh: PROTO.UDP, l4: udp(5000, 53, Array(1452).fill(7)) }));
  add(v6('udp6-jumbo', { src: X, dst: Y6, nh: PROTO.UDP, l4: udp(5000, 53, Array(65535 - 8).fill(9)) }));
  add(v6('udp6-jumbo-atomic', { src: X, dst: Y6, nh: PROTO.UDP, l4: udp(5000, 53, Array(65535 - 16).fill(9)),
    ext: [[PROTO.FRAGMENT, [0, 0, 0, 0, 0x12, 0x36]]] }));
  add(v6('udp6-hairpin', { src: X, dst: OWN6, nh: PROTO.UDP, l4: udp(7000, f.tHairpin) }));
  add(v6('udp6-not-pool6', { src: X, dst: '2001:db8:5::1', nh: PROTO.UDP, l4: udp(5000, 53) }));

  const q6: Array<[string, Uint8Array | null]> = [['udp', f.udpOut6], ['tcp', f.tcpOut6], ['echo', f.icmpOut6]];
  const types6: Array<[number, number, number]> = [[1, 4, 0], [1, 0, 0], [1, 1, 0], [2, 0, 1400], [2, 0, 1000], [3, 0, 0],
    [4, 0, 7], [4, 0, 40], [4, 1, 40], [4, 2, 0], [7, 0, 0]];
  for (const [qn, q] of q6) {
    if (q === null) continue;
    for (const [t, c, w] of types6) add(err6(`err6-${t}.${c}-${qn}`, X, t, c, w, q));
    add(err6(`err6-1.4-${qn}-48`, R6, 1, 4, 0, q.subarray(0, 48)));
    add(err6(`err6-1.4-${qn}-40`, R6, 1, 4, 0, q.subarray(0, 40)));
    add(err6(`err6-err6-${qn}`, R6, 1, 4, 0, err6('', X, 1, 4, 0, q).bytes));
  }
  add(err6('err6-quoting-ext', X, 1, 4, 0, ipv6({ src: Y6, dst: X, nh: PROTO.UDP, l4: udp(53, 5000),
    ext: [[PROTO.HOPOPTS, pad6]] })));
  add(err6('err6-quoting-first-frag', X, 3, 1, 0, ipv6({ src: Y6, dst: X, nh: PROTO.UDP, l4: udp(53, 5000),
    ext: [[PROTO.FRAGMENT, [0, 1, 0, 0, 0, 9]]] })));
  add(err6('err6-quoting-huge-plen', X, 1, 4, 0, ipv6({ src: Y6, dst: X, nh: PROTO.UDP, l4: udp(53, 5000), payloadLen: 0xffff })));

  // ---- IPv4 side ----
  const T4 = (fl: number, data: number[] = []) => ({ src: Y4, dst: OWN4, proto: PROTO.TCP, l4: tcp(80, f.tTcp, data, fl) });
  add(v4('udp4', { src: Y4, dst: OWN4, proto: PROTO.UDP, l4: udp(53, f.tUdp) }));
  for (const [n, fl] of [['synack', TCP_SYN | TCP_ACK], ['ack', TCP_ACK], ['fin', TCP_FIN | TCP_ACK], ['rst', TCP_RST],
    ['psh', TCP_PSH | TCP_ACK]] as const) add(v4(`tcp4-${n}`, T4(fl, fl === (TCP_PSH | TCP_ACK) ? [4, 5] : [])));
  add(v4('tcp4-unsolicited-syn', { src: Y4, dst: OWN4, proto: PROTO.TCP, l4: tcp(80, 62000, [], TCP_SYN) }));
  add(v4('echo4-reply', { src: Y4, dst: OWN4, proto: PROTO.ICMP, l4: echo(0, f.tId, 3) }));
  add(v4('echo4-request', { src: Y4, dst: OWN4, proto: PROTO.ICMP, l4: echo(8, f.tId, 3) }));
  add(v4('icmp4-timestamp', { src: Y4, dst: OWN4, proto: PROTO.ICMP, l4: icmp(13, 0, f.tId << 16, new Uint8Array(12)) }));
  const U4 = (extra: Partial<Parameters<typeof ipv4>[0]> = {}) => ({ src: Y4, dst: OWN4, proto: PROTO.UDP, l4: udp(53, f.tUdp), ...extra });
  add(v4('udp4-nop-options', U4({ options: [1, 1, 1, 1] })));
  add(v4('udp4-record-route', U4({ options: [7, 7, 4, 0, 0, 0, 0, 0] })));
  add(v4('udp4-lsrr', U4({ options: [131, 7, 4, 1, 2, 3, 4, 0] })));
  add(v4('udp4-lsrr-done', U4({ options: [131, 7, 8, 1, 2, 3, 4, 0] })));
  add(v4('udp4-ihl15', U4({ options: Array(40).fill(1) })));
  add(v4('udp4-mf', U4({ mf: true, id: 5 })));
  add(v4('udp4-later-frag', U4({ fragOffset: 100, id: 5 })));
  add(v4('udp4-df', U4({ df: true })));
  add(v4('udp4-ttl1', U4({ ttl: 1 })));
  add(v4('udp4-ttl0', U4({ ttl: 0 })));
  const noSum = udp(53, f.tUdp);
  add(v4('udp4-no-checksum', U4({ l4: noSum, l4sum: 'keep' })));
  add(v4('udp4-total20', U4({ totalLen: 20 })));
  add(v4('udp4-lying-udp-len', U4({ l4: Uint8Array.from([0, 53, f.tUdp >> 8, f.tUdp & 0xff, 0, 200, 0, 0, 1, 2]) })));
  add(v4('udp4-1500', U4({ l4: udp(53, f.tUdp, Array(1472).fill(3)) })));
  add(v4('udp4-jumbo', U4({ l4: udp(53, f.tUdp, Array(65535 - 28).fill(5)) })));
  add(v4('udp4-unknown-port', U4({ l4: udp(53, 61999) })));
  add(v4('udp4-other-address', U4({ dst: '203.0.113.2' })));
  add(v4('gre4', { src: Y4, dst: OWN4, proto: 47, l4: new Uint8Array(8), l4sum: 'keep' }));

  const q4: Array<[string, Uint8Array | null]> = [['udp', f.udpOut4], ['tcp', f.tcpOut4], ['echo', f.icmpOut4]];
  const types4: Array<[number, number, number]> = [[3, 3, 0], [3, 1, 0], [3, 2, 0], [3, 4, 1400], [3, 4, 0], [3, 13, 0],
    [3, 14, 0], [4, 0, 0], [5, 1, 0], [11, 0, 0], [11, 1, 0], [12, 0, 8 << 24], [12, 0, 5 << 24], [12, 1, 0]];
  for (const [qn, q] of q4) {
    if (q === null) continue;
    for (const [t, c, w] of types4) add(err4(`err4-${t}.${c}-${qn}`, t, c, w >>> 0, q));
    add(err4(`err4-3.3-${qn}-28`, 3, 3, 0, q.subarray(0, 28)));
    add(err4(`err4-3.3-${qn}-20`, 3, 3, 0, q.subarray(0, 20)));
    add(err4(`err4-err4-${qn}`, 3, 3, 0, err4('', 3, 3, 0, q).bytes));
  }
  if (f.udpOut4 !== null) {
    const withOpts = Uint8Array.from(f.udpOut4);
    add(err4('err4-quoting-options', 3, 3, 0, ipv4({ src: OWN4, dst: Y4, proto: PROTO.UDP, l4: withOpts.subarray(20),
      l4sum: 'keep', options: [1, 1, 1, 1] })));
    add(err4('err4-quoting-mf', 3, 3, 0, ipv4({ src: OWN4, dst: Y4, proto: PROTO.UDP, l4: withOpts.subarray(20),
      l4sum: 'keep', mf: true })));
    add(err4('err4-quoting-huge-total', 3, 3, 0, ipv4({ src: OWN4, dst: Y4, proto: PROTO.UDP, l4: withOpts.subarray(20),
      l4sum: 'keep', totalLen: 0xffff })));
    const big = Uint8Array.from([...f.udpOut4, ...Array(1400).fill(1)]);
    add(err4('err4-long-quote', 3, 4, 1300, big));
  }

  // ---- Partial checksums (issue 10): TCP/UDP as a Linux sender hands them over on a veth, bridge,
  // TAP or virtio link (CHECKSUM_PARTIAL), for the I/O layer's receive step the engine runs ----
  const byName = new Map(seeds.map((s) => [s.name, s]));
  for (const n of PARTIAL_TWINS) {
    const s = byName.get(n);
    if (s !== undefined) add(partialTwin(s));
  }
  // IPv4 with DF whose IPv6 form is exactly the MTU (1500): the largest frame finished on transmit.
  add(partialTwin(v4('udp4-df-1480', { src: Y4, dst: OWN4, proto: PROTO.UDP, l4: udp(53, f.tUdp, Array(1452).fill(3)), df: true })));
  // A real checksum that equals the pseudo-header sum: it verifies, so it must be left alone.
  for (const n of ['udp6', 'tcp6-psh', 'udp4']) {
    const s = byName.get(n);
    if (s !== undefined) add(pseudoLookalike(s));
  }
  return seeds;
}

/**
 * Seeds that get a `-partial` twin: UDP and TCP of both directions (new flows, the established
 * connection, replies to pool4 ports), with IPv6 extension headers, IPv4 options, hop limit / TTL
 * 1 (answered with an error quoting the partial packet), 1500 bytes (udp6-1500's IPv6 form is
 * exactly the MTU, so it may be finished on transmit; udp4-1500 has DF clear and is fragmented:
 * finished on receive), hairpinning.
 */
export const PARTIAL_TWINS: readonly string[] = ['udp6', 'tcp6-syn', 'tcp6-ack', 'tcp6-psh', 'tcp6-new-syn', 'udp6-hop-dst',
  'udp6-hop1', 'udp6-1500', 'udp6-hairpin', 'udp4', 'tcp4-synack', 'tcp4-ack', 'tcp4-psh', 'udp4-nop-options', 'udp4-df',
  'udp4-ttl1', 'udp4-1500'];

/** Where a seed's TCP/UDP checksum sits and its pseudo-header (RFC 768, RFC 793 §3.1, RFC 8200 §8.1), as bytes. */
function transport(s: Seed, b: Uint8Array): { l4: number; sum: number; pseudo: Uint8Array } {
  let l4: number, proto: number, pseudo: Uint8Array;
  if (s.family === 4) {
    l4 = (b[0] & 15) * 4;
    proto = b[9];
    const len = ((b[2] << 8) | b[3]) - l4;
    pseudo = Uint8Array.from([...b.subarray(12, 20), 0, proto, len >> 8, len & 0xff]);
  } else {
    let nh = b[6];
    l4 = 40;
    while (nh === PROTO.HOPOPTS || nh === PROTO.DSTOPTS) { nh = b[l4]; l4 += (b[l4 + 1] + 1) * 8; }
    proto = nh;
    const len = 40 + ((b[4] << 8) | b[5]) - l4;
    pseudo = Uint8Array.from([...b.subarray(8, 40), len >>> 24, (len >> 16) & 0xff, (len >> 8) & 0xff, len & 0xff, 0, 0, 0, proto]);
  }
  if (proto !== PROTO.TCP && proto !== PROTO.UDP) throw new Error(`seed ${s.name} is not TCP/UDP`);
  return { l4, sum: l4 + (proto === PROTO.TCP ? 16 : 6), pseudo };
}

/**
 * The seed as a CHECKSUM_PARTIAL sender hands it over: the checksum field holds the pseudo-header
 * sum, folded and not complemented, instead of the checksum.
 */
export function partialTwin(s: Seed): Seed {
  const b = Uint8Array.from(s.bytes);
  const t = transport(s, b);
  const p = ~inetChecksum(t.pseudo) & 0xffff;
  b[t.sum] = p >> 8;
  b[t.sum + 1] = p & 0xff;
  return { name: `${s.name}-partial`, family: s.family, bytes: b };
}

/**
 * The partial twin with its first payload word chosen so that the segment verifies: a complete,
 * correct checksum that happens to equal the pseudo-header sum (the classifier must say complete).
 */
function pseudoLookalike(s: Seed): Seed {
  const b = partialTwin(s).bytes;
  const t = transport(s, b);
  const w = t.l4 + (t.sum - t.l4 === 16 ? 20 : 8); // first data byte (TCP without options)
  if (w + 2 > b.length) throw new Error(`seed ${s.name} has no payload word`);
  // Adding the complement of the segment's sum to one of its words makes it sum to all ones.
  let v = ((b[w] << 8) | b[w + 1]) + inetChecksum(t.pseudo, b.subarray(t.l4));
  v = (v & 0xffff) + (v >>> 16);
  b[w] = v >> 8;
  b[w + 1] = v & 0xff;
  if (inetChecksum(t.pseudo, b.subarray(t.l4)) !== 0) throw new Error(`seed ${s.name}: lookalike does not verify`);
  return { name: `${s.name}-sum-is-pseudo`, family: s.family, bytes: b };
}

export { a4, a6 };
