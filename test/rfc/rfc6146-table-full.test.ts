/**
 * RFC 6146 §3.5.1.1 (UDP), §3.5.2.2 (TCP, V6 SYN in CLOSED), §3.5.3 (ICMP query): "If it is not
 * possible to allocate an appropriate IPv4 transport address or create a BIB entry, then the packet
 * is discarded. The NAT64 SHOULD send an ICMPv6 Destination Unreachable error message with Code 3
 * (Address Unreachable)." pool4 exhaustion is tested in rfc6146-udp-icmp; here the other ways the
 * state of an IPv6 packet cannot be created: a full BIB (bib-table-full) and a full session table
 * (session-table-full), with tables of 2. Same error, same rate limit, same counting as
 * pool4-exhausted: one reason per packet plus the fate of its error. The IPv4 side creates no
 * BIB entry, and a full session table there stays silent (docs/design.md).
 */
import * as assert from 'node:assert/strict';
import { COUNTERS } from '../../src/dataplane/counters';
import { Result } from '../../src/dataplane/core-api';
import { icmpErrorBucket } from '../../src/dataplane/translate/icmp-rate-limit';
import { echo, icmp, ipv4, ipv6, PROTO, tcp, udp } from './vectors/build';
import { assertSamePacket } from './vectors/check';
import { POOL4, makeConfig, makeCore, run, staticEntry, u16At, u32At, type CoreRig } from '../unit/helpers/core-harness';

const X = '2001:db8::8';
const Y4 = '198.51.100.7';
const Y6 = '64:ff9b::c633:6407';
/** The translator's own IPv6 address in core-harness (setSelf): source of the errors it originates. */
const SELF6 = '2001:db8::1';
const SYN = 0x02, ACK = 0x10;

/** The run, and what it changed in the counters (name -> delta). */
function go(rig: CoreRig, family: 4 | 6, pkt: Uint8Array, now = 0): { r: Result; pkt: Uint8Array; delta: Record<string, number> } {
  const before = Float64Array.from(rig.c);
  const o = run(rig.core, family, pkt, now);
  const delta: Record<string, number> = {};
  rig.c.forEach((v, k) => { if (v !== before[k]) delta[COUNTERS[k].name] = v - before[k]; });
  return { ...o, delta };
}

/** ICMPv6 Destination Unreachable 3 (Address Unreachable) from the translator to X, quoting the packet whole. */
function addressUnreachable(pkt: Uint8Array): Uint8Array {
  return ipv6({ src: SELF6, dst: X, nh: PROTO.ICMPV6, hop: 64, l4: icmp(1, 3, 0, pkt) });
}

const udp6 = (sport: number, dport = 53, src = X) => ipv6({ src, dst: Y6, nh: PROTO.UDP, hop: 60, l4: udp(sport, dport) });
const tcp6 = (flags: number, sport = 40000) => ipv6({ src: X, dst: Y6, nh: PROTO.TCP, hop: 60, l4: tcp(sport, 80, [], flags) });
const echo6 = (id: number) => ipv6({ src: X, dst: Y6, nh: PROTO.ICMPV6, hop: 60, l4: echo(128, id, 1) });

/** A core whose BIB (2 slots) is full of static entries of other hosts; the session table is empty. */
function bibFull(g: Parameters<typeof makeConfig>[0] = {}): CoreRig {
  const bib = [staticEntry('UDP', '2001:db8::20', 20, POOL4, 1020), staticEntry('TCP', '2001:db8::21', 21, POOL4, 1021)];
  const rig = makeCore(makeConfig(g, bib), { capacity: 2 });
  assert.equal(rig.core.tables.bib.count, 2);
  return rig;
}

/** A core whose session table (2 slots) is full: X#5000 talks to Y#1 and Y#2 (one BIB entry, 2 sessions). */
function sessionsFull(g: Parameters<typeof makeConfig>[0] = {}): CoreRig {
  const rig = makeCore(makeConfig(g), { capacity: 2 });
  assert.equal(go(rig, 6, udp6(5000, 1)).r, Result.EMIT4);
  assert.equal(go(rig, 6, udp6(5000, 2)).r, Result.EMIT4);
  assert.deepEqual([rig.core.tables.bib.count, rig.core.tables.sessions.count], [1, 2]);
  return rig;
}

describe('RFC 6146: no room for the state of an IPv6 packet -> ICMPv6 Address Unreachable', () => {
  afterEach(() => icmpErrorBucket.configure(0, 1, 0));

  it('RFC 6146 §3.5.1.1: a UDP packet whose BIB entry cannot be created (bib-table-full) is discarded and answered with ICMPv6 Destination Unreachable, Address Unreachable', () => {
    const rig = bibFull();
    const pkt = udp6(5000);
    const o = go(rig, 6, pkt);
    assert.equal(o.r, Result.EMIT6);
    assertSamePacket(o.pkt, addressUnreachable(pkt));
    assert.deepEqual(o.delta, { 'bib-table-full': 1, 'icmp-error-sent': 1 });
    assert.deepEqual([rig.core.tables.bib.count, rig.core.tables.sessions.count], [2, 0]);
  });

  it('RFC 6146 §3.5.1.1: a UDP packet whose session cannot be created (session-table-full) is answered the same way, and leaves no orphan BIB entry', () => {
    const rig = sessionsFull();
    // A new host: its BIB entry is created, then given back when no session fits.
    const pkt = udp6(5000, 53, '2001:db8::9');
    const o = go(rig, 6, pkt);
    assert.equal(o.r, Result.EMIT6);
    assertSamePacket(o.pkt, ipv6({ src: SELF6, dst: '2001:db8::9', nh: PROTO.ICMPV6, hop: 64, l4: icmp(1, 3, 0, pkt) }));
    assert.deepEqual(o.delta, { 'session-table-full': 1, 'icmp-error-sent': 1 });
    assert.deepEqual([rig.core.tables.bib.count, rig.core.tables.sessions.count], [1, 2]);
    // A known host towards a new destination: its BIB entry stays, the packet is answered too.
    const pkt2 = udp6(5000, 3);
    const o2 = go(rig, 6, pkt2);
    assertSamePacket(o2.pkt, addressUnreachable(pkt2));
    assert.deepEqual(o2.delta, { 'session-table-full': 1, 'icmp-error-sent': 1 });
    // The existing sessions keep translating.
    assert.deepEqual(go(rig, 6, udp6(5000, 1)).delta, { 'translated-6to4': 1 });
  });

  it('RFC 6146 §3.5.2.2: a V6 SYN in CLOSED whose BIB entry cannot be created (bib-table-full) is answered with Address Unreachable', () => {
    const rig = bibFull();
    const pkt = tcp6(SYN);
    const o = go(rig, 6, pkt);
    assert.equal(o.r, Result.EMIT6);
    assertSamePacket(o.pkt, addressUnreachable(pkt));
    assert.deepEqual(o.delta, { 'bib-table-full': 1, 'icmp-error-sent': 1 });
    // A segment that is not a SYN creates nothing: tcp-syn-needed, silent (icmp-admin-prohibited off).
    assert.deepEqual(go(rig, 6, tcp6(ACK)).delta, { 'tcp-syn-needed': 1 });
  });

  it('RFC 6146 §3.5.2.2: a V6 SYN in CLOSED whose session cannot be created (session-table-full) is answered with Address Unreachable', () => {
    const rig = sessionsFull();
    const pkt = tcp6(SYN);
    const o = go(rig, 6, pkt);
    assert.equal(o.r, Result.EMIT6);
    assertSamePacket(o.pkt, addressUnreachable(pkt));
    assert.deepEqual(o.delta, { 'session-table-full': 1, 'icmp-error-sent': 1 });
    assert.deepEqual([rig.core.tables.bib.count, rig.core.tables.sessions.count], [1, 2]);
  });

  it('RFC 6146 §3.5.3: an ICMPv6 echo request whose BIB entry cannot be created (bib-table-full) is answered with Address Unreachable', () => {
    const rig = bibFull();
    const pkt = echo6(0x1234);
    const o = go(rig, 6, pkt);
    assert.equal(o.r, Result.EMIT6);
    assertSamePacket(o.pkt, addressUnreachable(pkt));
    assert.deepEqual(o.delta, { 'bib-table-full': 1, 'icmp-error-sent': 1 });
  });

  it('RFC 6146 §3.5.3: an ICMPv6 echo request whose session cannot be created (session-table-full) is answered with Address Unreachable', () => {
    const rig = sessionsFull();
    const pkt = echo6(0x1234);
    const o = go(rig, 6, pkt);
    assertSamePacket(o.pkt, addressUnreachable(pkt));
    assert.deepEqual(o.delta, { 'session-table-full': 1, 'icmp-error-sent': 1 });
  });

  it('RFC 6146 §3.5.1.1 with RFC 4443 §2.4(f): the same rate limit as pool4-exhausted; a limited error counts its reason and icmp-error-rate-limited', () => {
    const rig = sessionsFull();
    icmpErrorBucket.configure(100, 1, 0);
    assert.deepEqual(go(rig, 6, udp6(5000, 3)).delta, { 'session-table-full': 1, 'icmp-error-sent': 1 });
    const limited = go(rig, 6, udp6(5000, 4));
    assert.equal(limited.r, Result.DROP);
    assert.deepEqual(limited.delta, { 'session-table-full': 1, 'icmp-error-rate-limited': 1 });
    const rig2 = bibFull();
    icmpErrorBucket.configure(100, 1, 0);
    assert.equal(go(rig2, 6, udp6(5000)).r, Result.EMIT6);
    const limited2 = go(rig2, 6, udp6(5001));
    assert.deepEqual([limited2.r, limited2.delta], [Result.DROP, { 'bib-table-full': 1, 'icmp-error-rate-limited': 1 }]);
  });

  it('RFC 6146 §3.5.1.1 with RFC 4443 §2.4(e): never to a multicast source (icmp-error-suppressed, the reason counted too)', () => {
    const rig = sessionsFull();
    const o = go(rig, 6, udp6(5000, 53, 'ff02::1'));
    assert.equal(o.r, Result.DROP);
    assert.deepEqual(o.delta, { 'session-table-full': 1, 'icmp-error-suppressed': 1 });
  });

  it('RFC 6146 §3.5.1.1: with icmp-admin-prohibited on too, a full table answers Address Unreachable (1/3), not "administratively prohibited"', () => {
    const rig = bibFull({ icmpAdminProhibited: true });
    const pkt = udp6(5000);
    const o = go(rig, 6, pkt);
    assert.deepEqual([o.pkt[40], o.pkt[41]], [1, 3]);
    assert.deepEqual(o.delta, { 'bib-table-full': 1, 'icmp-error-sent': 1 });
  });

  it('RFC 6146 §3.5.1 / §3.5.2.2: the IPv4 side is not answered: a full session table drops IPv4 packets silently (session-table-full)', () => {
    const rig = makeCore(makeConfig({}, [staticEntry('TCP', '2001:db8::21', 21, POOL4, 1021)]), { capacity: 2 });
    const m = go(rig, 6, udp6(5000, 53));
    assert.equal(m.r, Result.EMIT4);
    const t4 = u32At(m.pkt, 12), tp = u16At(m.pkt, 20);
    assert.deepEqual([rig.core.tables.bib.count, rig.core.tables.sessions.count], [2, 1]);
    // UDP from another IPv4 host to the mapping (endpoint-independent filtering): the second session.
    assert.equal(go(rig, 4, ipv4({ src: '198.51.100.98', dst: t4, proto: PROTO.UDP, l4: udp(53, tp) })).r, Result.EMIT6);
    const u = go(rig, 4, ipv4({ src: '198.51.100.99', dst: t4, proto: PROTO.UDP, l4: udp(53, tp) }));
    assert.deepEqual([u.r, u.delta], [Result.DROP, { 'session-table-full': 1 }]);
    // An IPv4 SYN to the static TCP entry (V4 INIT would be created).
    const s = go(rig, 4, ipv4({ src: Y4, dst: POOL4, proto: PROTO.TCP, l4: tcp(80, 1021, [], SYN) }));
    assert.deepEqual([s.r, s.delta], [Result.DROP, { 'session-table-full': 1 }]);
  });
});
