/** RFC 6146 §3.5.2 (TCP) and the timeouts of §4, by packets through Nat64Core. */
import * as assert from 'node:assert/strict';
import { Result } from '../../src/dataplane/core-api';
import { TcpState } from '../../src/dataplane/tables/tcp-state';
import { a6, icmp, ipv4, ipv6, PROTO, tcp, udp } from './vectors/build';
import { assertSamePacket, ipv4HeaderOk, l4SumOk6 } from './vectors/check';
import { HEADROOM } from './vectors/harness';
import { POOL4, makeConfig, makeCore, n, nonZero, run, staticEntry, u16At, u32At } from '../unit/helpers/core-harness';

const X = '2001:db8::8';
const Y4 = '198.51.100.7';
const Y6 = '64:ff9b::c633:6407';
const SYN = 0x02, ACK = 0x10, FIN = 0x01, RST = 0x04;
const tcp6 = (flags: number, sport = 40000, dport = 80) => ipv6({ src: X, dst: Y6, nh: PROTO.TCP, l4: tcp(sport, dport, [], flags) });
const tcp4 = (flags: number, dst: number | string, dport: number, sport = 80) =>
  ipv4({ src: Y4, dst, proto: PROTO.TCP, l4: tcp(sport, dport, [], flags) });

function onlySession(core: ReturnType<typeof makeCore>['core']): number {
  const t = core.tables;
  for (let s = 0; s < t.buffers.capacity; s++) if (t.sessions.bibOf(s) !== -1) return s;
  return -1;
}

describe('RFC 6146 §3.5.2 TCP through the core', () => {
  it('a three-way handshake from IPv6, data, then FIN both ways: V6 INIT -> ESTABLISHED -> V4 FIN + V6 FIN RCV', () => {
    const { core, c } = makeCore();
    const syn = run(core, 6, tcp6(SYN), 0);
    assert.equal(syn.r, Result.EMIT4, JSON.stringify(nonZero(c)));
    const t4 = u32At(syn.pkt, 12), tp = u16At(syn.pkt, 20);
    const s = onlySession(core);
    assert.equal(core.tables.sessions.state(s), TcpState.V6_INIT);
    assert.equal(run(core, 4, tcp4(SYN | ACK, t4, tp), 1).r, Result.EMIT6);
    assert.equal(core.tables.sessions.state(s), TcpState.ESTABLISHED);
    assert.equal(run(core, 6, tcp6(ACK), 2).r, Result.EMIT4);
    assert.equal(run(core, 6, tcp6(FIN | ACK), 3).r, Result.EMIT4);
    assert.equal(core.tables.sessions.state(s), TcpState.V6_FIN_RCV);
    assert.equal(run(core, 4, tcp4(FIN | ACK, t4, tp), 4).r, Result.EMIT6);
    assert.equal(core.tables.sessions.state(s), TcpState.V4_FIN_V6_FIN_RCV);
  });

  it('a non-SYN TCP packet without a session is dropped with tcp-syn-needed', () => {
    const { core, c } = makeCore();
    assert.equal(run(core, 6, tcp6(ACK), 0).r, Result.DROP);
    assert.equal(n(c, 'tcp-syn-needed'), 1);
    assert.equal(core.tables.bib.count, 0);
  });

  it('a RST in ESTABLISHED moves to TRANS; it expires after tcp-trans-timeout, BIB entry with it', () => {
    const { core, c } = makeCore(makeConfig({ tcpTransTimeout: 1000 }));
    const syn = run(core, 6, tcp6(SYN), 0);
    run(core, 4, tcp4(SYN | ACK, u32At(syn.pkt, 12), u16At(syn.pkt, 20)), 0);
    run(core, 6, tcp6(RST), 10);
    const s = onlySession(core);
    assert.equal(core.tables.sessions.state(s), TcpState.TRANS);
    core.expire(1009);
    assert.equal(core.tables.sessions.count, 1);
    core.expire(1010);
    assert.equal(core.tables.sessions.count, 0);
    assert.equal(core.tables.bib.count, 0);
    assert.equal(n(c, 'session-expired'), 1);
    assert.equal(n(c, 'bib-expired'), 1);
  });

  it('an IPv4 SYN to a static BIB entry opens V4 INIT and is forwarded; the IPv6 SYN+ACK establishes', () => {
    const { core, c } = makeCore(makeConfig({}, [staticEntry('TCP', '2001:db8::80', 80, POOL4, 80)]));
    const r = run(core, 4, tcp4(SYN, POOL4, 80, 5555), 0);
    assert.equal(r.r, Result.EMIT6, JSON.stringify(nonZero(c)));
    const s = onlySession(core);
    assert.equal(core.tables.sessions.state(s), TcpState.V4_INIT);
    const synack = ipv6({ src: '2001:db8::80', dst: Y6, nh: PROTO.TCP, l4: tcp(80, 5555, [], SYN | ACK) });
    assert.equal(run(core, 6, synack, 1).r, Result.EMIT4);
    assert.equal(core.tables.sessions.state(s), TcpState.ESTABLISHED);
  });

  it('V4 INIT without an IPv6 SYN expires after TCP_INCOMING_SYN (6 s); the static BIB entry stays', () => {
    const { core, c } = makeCore(makeConfig({}, [staticEntry('TCP', '2001:db8::80', 80, POOL4, 80)]));
    run(core, 4, tcp4(SYN, POOL4, 80, 5555), 0);
    core.expire(5999);
    assert.equal(core.tables.sessions.count, 1);
    core.expire(6000);
    assert.equal(core.tables.sessions.count, 0);
    assert.equal(core.tables.bib.count, 1);
    assert.equal(n(c, 'session-expired'), 1);
    assert.equal(n(c, 'bib-expired'), 0);
  });

  it('drop-externally-initiated-tcp drops an IPv4 SYN even with a static BIB entry', () => {
    const { core, c } = makeCore(makeConfig({ dropExternallyInitiatedTcp: true },
      [staticEntry('TCP', '2001:db8::80', 80, POOL4, 80)]));
    assert.equal(run(core, 4, tcp4(SYN, POOL4, 80, 5555), 0).r, Result.DROP);
    assert.equal(n(c, 'tcp-v4-syn-dropped'), 1);
  });

  it('an IPv4 SYN without a BIB entry is stored for 6 s, then its slot expires so the shard can answer Port Unreachable', () => {
    const { core, c } = makeCore();
    const ended: Array<[number, boolean]> = [];
    core.setHeldSynListener({ heldSynEnded: (slot, expired) => { ended.push([slot, expired]); } });
    assert.equal(run(core, 4, tcp4(SYN, POOL4, 61001), 0).r, Result.STORE);
    const slot = core.storedSlot;
    assert.equal(n(c, 'tcp-v4-syn-stored'), 1);
    assert.equal(core.tables.held.count, 1);
    // A retransmission does not replace the stored packet.
    assert.equal(run(core, 4, tcp4(SYN, POOL4, 61001), 1).r, Result.DROP);
    assert.equal(n(c, 'tcp-v4-syn-retransmit'), 1);
    core.expire(5999);
    assert.deepEqual(ended, []);
    core.expire(6000);
    assert.equal(n(c, 'tcp-v4-syn-expired'), 1);
    assert.deepEqual(ended, [[slot, true]]);
    assert.equal(core.tables.held.count, 0);
  });

  it('RFC 6146 §3.5.2.2: when the 6 s pass, the stored IPv4 SYN is answered with ICMPv4 Port Unreachable (3/3) quoting it, from the translator', () => {
    const { core, c } = makeCore();
    const ended: number[] = [];
    core.setHeldSynListener({ heldSynEnded: (slot, expired) => { if (expired) ended.push(slot); } });
    const syn = tcp4(SYN, POOL4, 61001);
    // The shard keeps the SYN's packet (Result.STORE) and, when its slot expires, builds the error
    // around it with portUnreachable4 (src/dataplane/egress.ts heldSynEnded).
    assert.equal(run(core, 4, syn, 0).r, Result.STORE);
    core.expire(6000);
    assert.equal(ended.length, 1);
    const buf = new Uint8Array(HEADROOM + syn.length).fill(0xee);
    buf.set(syn, HEADROOM);
    assert.equal(core.portUnreachable4(buf, HEADROOM, syn.length), Result.EMIT4, JSON.stringify(nonZero(c)));
    const out = buf.slice(core.out.off, core.out.off + core.out.len);
    const expected = ipv4({ src: '192.0.2.1', dst: Y4, proto: PROTO.ICMP, id: u16At(out, 4), ttl: out[8], l4: icmp(3, 3, 0, syn) });
    assertSamePacket(out, expected);
    assert.ok(ipv4HeaderOk(out));
    assert.equal(n(c, 'icmp-error-sent'), 1);
  });

  it('maximum-simultaneous-opens bounds the held SYNs (tcp-so-full)', () => {
    const { core, c } = makeCore(makeConfig({ maximumSimultaneousOpens: 2 }));
    run(core, 4, tcp4(SYN, POOL4, 61001), 0);
    run(core, 4, tcp4(SYN, POOL4, 61002), 0);
    assert.equal(run(core, 4, tcp4(SYN, POOL4, 61003), 0).r, Result.DROP);
    assert.equal(n(c, 'tcp-v4-syn-stored'), 2);
    assert.equal(n(c, 'tcp-so-full'), 1);
  });

  it('with ADF, an IPv4 SYN from a host the IPv6 node never talked to is held; the IPv6 SYN of that connection releases it', () => {
    const { core, c } = makeCore(makeConfig({ addressDependentFiltering: true }));
    const first = run(core, 6, tcp6(SYN, 40000, 443), 0); // X has a mapping, towards port 443 of Y
    const t4 = u32At(first.pkt, 12), tp = u16At(first.pkt, 20);
    const other = ipv4({ src: '198.51.100.99', dst: t4, proto: PROTO.TCP, l4: tcp(7000, tp, [], SYN) });
    const ended: Array<[number, boolean]> = [];
    core.setHeldSynListener({ heldSynEnded: (slot, expired) => { ended.push([slot, expired]); } });
    assert.equal(run(core, 4, other, 1).r, Result.STORE);
    assert.equal(n(c, 'tcp-v4-syn-stored'), 1);
    // Simultaneous open: X now sends its SYN to that host and port; the stored SYN is discarded.
    const mine = ipv6({ src: X, dst: '64:ff9b::c633:6463', nh: PROTO.TCP, l4: tcp(40000, 7000, [], SYN) });
    assert.equal(run(core, 6, mine, 2).r, Result.EMIT4);
    assert.equal(core.tables.held.count, 0);
    assert.deepEqual(ended, [[core.storedSlot, false]]);
    core.expire(10000);
    assert.equal(n(c, 'tcp-v4-syn-expired'), 0);
  });

  it('an ESTABLISHED session idle for tcp-est-timeout is probed (empty ACK, seq 0, to the IPv6 endpoint) and moves to TRANS; an answer revives it, silence expires it', () => {
    const { core, c } = makeCore(makeConfig({ tcpEstTimeout: 10000, tcpTransTimeout: 1000 }));
    const arena = new Uint8Array(4096);
    const sent: Uint8Array[] = [];
    core.setSinkBuffer(arena);
    core.setSink({ room: 2000, alloc: () => 1000, lead: () => assert.fail('no fragment train'), send: (family, off, len) => { assert.equal(family, 6); sent.push(arena.slice(off, off + len)); } });
    const syn = run(core, 6, tcp6(SYN), 0);
    run(core, 4, tcp4(SYN | ACK, u32At(syn.pkt, 12), u16At(syn.pkt, 20)), 0);
    const s = onlySession(core);
    core.expire(10000);
    assert.equal(core.tables.sessions.state(s), TcpState.TRANS);
    assert.equal(n(c, 'tcp-probe-sent'), 1);
    // §3.5.2.2: "a TCP segment for the connection with no data ... sequence number and acknowledgment
    // number are set to zero. All flags but the ACK flag are set to zero."
    assert.equal(sent.length, 1);
    const p = sent[0];
    assert.deepEqual(Array.from(p.subarray(24, 40)), Array.from(a6(X)), 'to the IPv6 node');
    assert.deepEqual(Array.from(p.subarray(8, 24)), Array.from(a6('64:ff9b::c633:6407')), 'from the pool6 address of the IPv4 peer');
    assert.equal(p[6], PROTO.TCP);
    assert.equal(u16At(p, 40), 80, 'source port: the IPv4 peer\'s');
    assert.equal(u16At(p, 42), 40000, 'destination port: the node\'s');
    assert.deepEqual([u32At(p, 44), u32At(p, 48), p[53]], [0, 0, ACK]);
    assert.ok(l4SumOk6(p), 'valid TCP checksum');
    run(core, 6, tcp6(ACK), 10500); // the endpoint's answer revives it
    assert.equal(core.tables.sessions.state(s), TcpState.ESTABLISHED);
    core.expire(20499);
    assert.equal(core.tables.sessions.state(s), TcpState.ESTABLISHED);
    core.expire(20500); // probed again; no answer this time
    assert.equal(n(c, 'tcp-probe-sent'), 2);
    core.expire(21500);
    assert.equal(core.tables.sessions.count, 0);
  });
});

describe('RFC 6146 §3.5.1 / §4 UDP and ICMP timeouts', () => {
  it('a UDP session expires after udp-timeout since its last use, and its dynamic BIB entry with it', () => {
    const { core, c } = makeCore(makeConfig({ udpTimeout: 300000 }));
    run(core, 6, ipv6({ src: X, dst: Y6, nh: PROTO.UDP, l4: udp(5000, 53) }), 0);
    run(core, 6, ipv6({ src: X, dst: Y6, nh: PROTO.UDP, l4: udp(5000, 53) }), 100000); // refresh
    core.expire(399999);
    assert.equal(core.tables.sessions.count, 1);
    core.expire(400000);
    assert.equal(core.tables.sessions.count, 0);
    assert.equal(core.tables.bib.count, 0);
    assert.equal(n(c, 'session-expired'), 1);
    assert.equal(n(c, 'bib-expired'), 1);
    // The freed slots serve new flows.
    assert.equal(run(core, 6, ipv6({ src: X, dst: Y6, nh: PROTO.UDP, l4: udp(5001, 53) }), 400001).r, Result.EMIT4);
  });

  it('the BIB entry stays while another session uses it', () => {
    const { core } = makeCore(makeConfig({ udpTimeout: 1000 }));
    run(core, 6, ipv6({ src: X, dst: Y6, nh: PROTO.UDP, l4: udp(5000, 53) }), 0);
    run(core, 6, ipv6({ src: X, dst: Y6, nh: PROTO.UDP, l4: udp(5000, 54) }), 500);
    core.expire(1000);
    assert.equal(core.tables.sessions.count, 1);
    assert.equal(core.tables.bib.count, 1);
  });
});
