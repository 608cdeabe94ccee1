/**
 * RFC 7915 §4.4 / §5.4: "If the IPv4 [IPv6] packet is discarded, then the translator SHOULD be able
 * to send back an ICMPv4 [ICMPv6] error message to the original sender ... Type 3 Code 13
 * [Type 1 Code 1] ... The translator SHOULD allow an administrator to configure whether the ICMP
 * error messages are sent, rate-limited, or not sent." Here: the global icmp-admin-prohibited (off
 * by default), for the refusals listed in docs/design.md ("ICMP errors the translator originates"),
 * through Nat64Core with whole expected packets (checksums computed independently by the builder).
 */
import * as assert from 'node:assert/strict';
import { C, COUNTERS } from '../../src/dataplane/counters';
import { Result } from '../../src/dataplane/core-api';
import { icmpErrorBucket } from '../../src/dataplane/translate/icmp-rate-limit';
import { a4, echo, icmp, ipv4, ipv6, PROTO, tcp, udp } from './vectors/build';
import { assertSamePacket, ipv4HeaderOk, l4SumOk4, l4SumOk6 } from './vectors/check';
import { POOL4, makeConfig, makeCore, run, staticEntry, u16At, u32At, type CoreRig } from '../unit/helpers/core-harness';

const X = '2001:db8::8';
const Y4 = '198.51.100.7';
const Y6 = '64:ff9b::c633:6407';
/** The translator's own addresses in core-harness (setSelf): sources of the errors it originates. */
const SELF6 = '2001:db8::1';
const SELF4 = '192.0.2.1';
const SYN = 0x02, ACK = 0x10, RST = 0x04;
const ID = 0x4d2e;

const on = (over: Parameters<typeof makeConfig>[0] = {}, bib: Parameters<typeof makeConfig>[1] = []) =>
  makeConfig({ icmpAdminProhibited: true, ...over }, bib);
const udp4 = (dport: number, o: { src?: string; data?: number[] } = {}) =>
  ipv4({ src: o.src ?? Y4, dst: POOL4, proto: PROTO.UDP, ttl: 50, id: 0x0101, l4: udp(7000, dport, o.data) });
const tcp4 = (flags: number, dport: number, src = Y4) => ipv4({ src, dst: POOL4, proto: PROTO.TCP, ttl: 50, l4: tcp(80, dport, [], flags) });
const tcp6 = (flags: number, dst = Y6) => ipv6({ src: X, dst, nh: PROTO.TCP, hop: 60, l4: tcp(40000, 80, [], flags) });

/** The run, and what it changed in the counters (name -> delta). */
function go(rig: CoreRig, family: 4 | 6, pkt: Uint8Array, now = 0): { r: Result; pkt: Uint8Array; delta: Record<string, number> } {
  const before = Float64Array.from(rig.c);
  rig.core.self.nextId = ID;
  const o = run(rig.core, family, pkt, now);
  const delta: Record<string, number> = {};
  rig.c.forEach((v, k) => { if (v !== before[k]) delta[COUNTERS[k].name] = v - before[k]; });
  return { ...o, delta };
}

/** ICMPv4 Destination Unreachable 13 from the translator back to the packet's source, quoting it whole. */
function prohibited4(pkt: Uint8Array): Uint8Array {
  const src = `${pkt[12]}.${pkt[13]}.${pkt[14]}.${pkt[15]}`;
  return ipv4({ src: SELF4, dst: src, proto: PROTO.ICMP, ttl: 64, id: ID, l4: icmp(3, 13, 0, pkt) });
}

/** ICMPv6 Destination Unreachable 1 from the translator back to X, quoting the packet whole. */
function prohibited6(pkt: Uint8Array): Uint8Array {
  return ipv6({ src: SELF6, dst: X, nh: PROTO.ICMPV6, hop: 64, l4: icmp(1, 1, 0, pkt) });
}

/** A UDP mapping of X#5000 towards Y: its pool4 transport address. */
function mapUdp(rig: CoreRig): { t4: number; tp: number } {
  const o = run(rig.core, 6, ipv6({ src: X, dst: Y6, nh: PROTO.UDP, l4: udp(5000, 53) }), 0);
  assert.equal(o.r, Result.EMIT4);
  return { t4: u32At(o.pkt, 12), tp: u16At(o.pkt, 20) };
}

describe('RFC 7915 §4.4: ICMPv4 "administratively prohibited" for refused IPv4 packets (icmp-admin-prohibited)', () => {
  afterEach(() => icmpErrorBucket.configure(0, 1, 0)); // other tests see the unlimited default

  it('RFC 7915 §4.4 switch off (the default, as Jool): an unsolicited IPv4 packet is dropped silently, counted bib4-not-found only', () => {
    const rig = makeCore();
    const o = go(rig, 4, udp4(62000));
    assert.equal(o.r, Result.DROP);
    assert.deepEqual(o.delta, { 'bib4-not-found': 1 });
  });

  it('RFC 7915 §4.4 / RFC 6146 §3.5.1: no BIB entry -> ICMPv4 3/13 to the IPv4 source quoting the packet (exact bytes, checksums)', () => {
    const rig = makeCore(on());
    const pkt = udp4(62000);
    const o = go(rig, 4, pkt);
    assert.equal(o.r, Result.EMIT4);
    assertSamePacket(o.pkt, prohibited4(pkt));
    assert.ok(ipv4HeaderOk(o.pkt) && l4SumOk4(o.pkt) && ipv4HeaderOk(o.pkt.subarray(28)));
    assert.deepEqual(o.delta, { 'bib4-not-found': 1, 'icmp-error-sent': 1 }, 'one reason, plus the error it called for');
    assert.equal(rig.core.tables.bib.count + rig.core.tables.sessions.count, 0, 'no state created');
  });

  it('RFC 7915 §4.4 / RFC 1812 §4.3.2.3: the ICMPv4 error is at most 576 bytes (the quote is cut)', () => {
    const rig = makeCore(on());
    const pkt = udp4(62000, { data: new Array(1200).fill(0x33) });
    const o = go(rig, 4, pkt);
    assert.equal(o.pkt.length, 576);
    assertSamePacket(o.pkt, ipv4({ src: SELF4, dst: Y4, proto: PROTO.ICMP, ttl: 64, id: ID, l4: icmp(3, 13, 0, pkt.subarray(0, 548)) }));
  });

  it('RFC 7915 §4.4 / RFC 6146 §3.5.3: an ICMPv4 echo request (not an error) to a pool4 identifier with no mapping is answered', () => {
    const rig = makeCore(on());
    const pkt = ipv4({ src: Y4, dst: POOL4, proto: PROTO.ICMP, l4: echo(8, 62000, 1) });
    const o = go(rig, 4, pkt);
    assertSamePacket(o.pkt, prohibited4(pkt));
    assert.deepEqual(o.delta, { 'bib4-not-found': 1, 'icmp-error-sent': 1 });
  });

  it('RFC 6146 §3.5.1 (MAY, code 13): a packet address-dependent filtering drops is answered (adf-filtered)', () => {
    const rig = makeCore(on({ addressDependentFiltering: true }));
    const { t4, tp } = mapUdp(rig);
    const pkt = ipv4({ src: '198.51.100.99', dst: t4, proto: PROTO.UDP, l4: udp(53, tp) });
    const o = go(rig, 4, pkt);
    assert.equal(o.r, Result.EMIT4);
    assertSamePacket(o.pkt, prohibited4(pkt));
    assert.deepEqual(o.delta, { 'adf-filtered': 1, 'icmp-error-sent': 1 });
    assert.equal(go(rig, 4, ipv4({ src: Y4, dst: t4, proto: PROTO.UDP, l4: udp(53, tp) })).r, Result.EMIT6, 'a known host still passes');
  });

  it('RFC 6146 §3.5.2.2: an IPv4 SYN refused by drop-externally-initiated-tcp is answered (tcp-v4-syn-dropped)', () => {
    const rig = makeCore(on({ dropExternallyInitiatedTcp: true }, [staticEntry('TCP', '2001:db8::80', 80, POOL4, 8080)]));
    const pkt = tcp4(SYN, 8080);
    const o = go(rig, 4, pkt);
    assertSamePacket(o.pkt, prohibited4(pkt));
    assert.deepEqual(o.delta, { 'tcp-v4-syn-dropped': 1, 'icmp-error-sent': 1 });
  });

  it('RFC 6146 §3.5.2.2: a TCP segment that is not a SYN, without a BIB entry (bib4-not-found) or without a session (tcp-syn-needed), is answered', () => {
    const rig = makeCore(on({}, [staticEntry('TCP', '2001:db8::80', 80, POOL4, 8080)]));
    const noBib = tcp4(ACK, 62000);
    const a = go(rig, 4, noBib);
    assertSamePacket(a.pkt, prohibited4(noBib));
    assert.deepEqual(a.delta, { 'bib4-not-found': 1, 'icmp-error-sent': 1 });
    const noSession = tcp4(ACK, 8080);
    const b = go(rig, 4, noSession);
    assertSamePacket(b.pkt, prohibited4(noSession));
    assert.deepEqual(b.delta, { 'tcp-syn-needed': 1, 'icmp-error-sent': 1 });
  });

  it('RFC 6146 §3.5.2.2 / RFC 5382 REQ-4: an unsolicited SYN is never answered at once: stored, its retransmission, one over maximum-simultaneous-opens', () => {
    const rig = makeCore(on({ maximumSimultaneousOpens: 1 }));
    assert.deepEqual(go(rig, 4, tcp4(SYN, 62000)).delta, { 'tcp-v4-syn-stored': 1 });
    assert.equal(go(rig, 4, tcp4(SYN, 62000)).r, Result.DROP);
    const full = go(rig, 4, tcp4(SYN, 62001));
    assert.equal(full.r, Result.DROP);
    assert.deepEqual(full.delta, { 'tcp-so-full': 1 });
    assert.equal(rig.c[C['tcp-v4-syn-retransmit']], 1);
    assert.equal(rig.c[C['icmp-error-sent']], 0);
  });

  it('RFC 7915 §4.4: never about an ICMPv4 error (no BIB entry for its quoted packet: bib4-not-found, nothing else)', () => {
    const rig = makeCore(on());
    const quoted = ipv4({ src: POOL4, dst: Y4, proto: PROTO.UDP, l4: udp(62000, 53) });
    const err = ipv4({ src: Y4, dst: POOL4, proto: PROTO.ICMP, l4: icmp(3, 3, 0, quoted) });
    const o = go(rig, 4, err);
    assert.equal(o.r, Result.DROP);
    assert.deepEqual(o.delta, { 'bib4-not-found': 1 });
  });

  it('RFC 1812 §4.3.2.7: not to a multicast, broadcast or unspecified source (icmp-error-suppressed)', () => {
    const rig = makeCore(on());
    for (const src of ['224.0.0.9', '255.255.255.255', '0.0.0.0']) {
      const o = go(rig, 4, udp4(62000, { src }));
      assert.equal(o.r, Result.DROP, src);
      assert.deepEqual(o.delta, { 'bib4-not-found': 1, 'icmp-error-suppressed': 1 }, src);
    }
  });

  it('not the second pass of a hairpinned packet (its source is our own pool4 address: the error would be for ourselves)', () => {
    const rig = makeCore(on());
    const first = go(rig, 6, ipv6({ src: X, dst: '64:ff9b::cb00:7101', nh: PROTO.UDP, l4: udp(5000, 62000) }));
    assert.equal(first.r, Result.HAIRPIN);
    const second = go(rig, 4, first.pkt);
    assert.equal(second.r, Result.DROP);
    assert.deepEqual(second.delta, { 'bib4-not-found': 1 });
  });

  it('not an echo request to one of the translator\'s own addresses (the shard answers it as the host\'s); other packets to it are', () => {
    const rig = makeCore(on(), { own: [a4(POOL4)] });
    const ping = go(rig, 4, ipv4({ src: Y4, dst: POOL4, proto: PROTO.ICMP, l4: echo(8, 62000, 1) }));
    assert.equal(ping.r, Result.DROP);
    assert.deepEqual(ping.delta, { 'bib4-not-found': 1 });
    const pkt = udp4(62000);
    assertSamePacket(go(rig, 4, pkt).pkt, prohibited4(pkt));
  });

  it('RFC 7915 §4.4 "rate-limited": the shard\'s ICMP error bucket (icmpErrorsPerSecond / icmpErrorBurst) bounds them', () => {
    const rig = makeCore(on());
    icmpErrorBucket.configure(100, 2, 0);
    assert.equal(go(rig, 4, udp4(62000)).r, Result.EMIT4);
    assert.equal(go(rig, 4, udp4(62001)).r, Result.EMIT4);
    const limited = go(rig, 4, udp4(62002));
    assert.equal(limited.r, Result.DROP);
    assert.deepEqual(limited.delta, { 'bib4-not-found': 1, 'icmp-error-rate-limited': 1 });
    icmpErrorBucket.refill(10); // 10 ms at 100/s: one more
    assert.equal(go(rig, 4, udp4(62003)).r, Result.EMIT4);
  });

  it('resources are not refusals: a full session table stays silent (session-table-full)', () => {
    const rig = makeCore(on(), { capacity: 2 });
    const { t4, tp } = mapUdp(rig);
    assert.equal(go(rig, 4, ipv4({ src: '198.51.100.98', dst: t4, proto: PROTO.UDP, l4: udp(53, tp) })).r, Result.EMIT6);
    const o = go(rig, 4, ipv4({ src: '198.51.100.99', dst: t4, proto: PROTO.UDP, l4: udp(53, tp) }));
    assert.equal(o.r, Result.DROP);
    assert.deepEqual(o.delta, { 'session-table-full': 1 });
  });
});

describe('RFC 7915 §5.4: ICMPv6 "administratively prohibited" for refused IPv6 packets (icmp-admin-prohibited)', () => {
  afterEach(() => icmpErrorBucket.configure(0, 1, 0));

  it('RFC 7915 §5.4 switch off (the default): a TCP segment without a session is dropped silently, counted tcp-syn-needed only', () => {
    const rig = makeCore();
    const o = go(rig, 6, tcp6(ACK));
    assert.equal(o.r, Result.DROP);
    assert.deepEqual(o.delta, { 'tcp-syn-needed': 1 });
  });

  it('RFC 7915 §5.4 / RFC 6146 §3.5.2.2: switch on: -> ICMPv6 1/1 from the translator to the IPv6 source quoting the packet (exact bytes, checksum)', () => {
    const rig = makeCore(on());
    for (const flags of [ACK, RST]) {
      const pkt = tcp6(flags);
      const o = go(rig, 6, pkt);
      assert.equal(o.r, Result.EMIT6);
      assertSamePacket(o.pkt, prohibited6(pkt));
      assert.ok(l4SumOk6(o.pkt));
      assert.deepEqual(o.delta, { 'tcp-syn-needed': 1, 'icmp-error-sent': 1 });
    }
    assert.equal(rig.core.tables.bib.count, 0, 'no state created');
  });

  it('RFC 7915 §5.4 / RFC 4443 §2.4(c): the ICMPv6 error is at most 1280 bytes (the quote is cut)', () => {
    const rig = makeCore(on());
    const pkt = ipv6({ src: X, dst: Y6, nh: PROTO.TCP, hop: 60, l4: tcp(40000, 80, new Array(1400).fill(0x44), ACK) });
    const o = go(rig, 6, pkt);
    assert.equal(o.pkt.length, 1280);
    assertSamePacket(o.pkt, ipv6({ src: SELF6, dst: X, nh: PROTO.ICMPV6, hop: 64, l4: icmp(1, 1, 0, pkt.subarray(0, 1232)) }));
  });

  it('RFC 7915 §5.4 / RFC 6052 §3.1: a destination pool6-strict refuses (non-global IPv4 under 64:ff9b::/96) is answered', () => {
    const rig = makeCore(on({ pool6Strict: true }));
    const pkt = ipv6({ src: X, dst: '64:ff9b::a00:1', nh: PROTO.UDP, l4: udp(5000, 53) });
    const o = go(rig, 6, pkt);
    assertSamePacket(o.pkt, prohibited6(pkt));
    assert.deepEqual(o.delta, { 'pool6-mismatch': 1, 'icmp-error-sent': 1 });
  });

  it('RFC 7915 §5.4: "unless the discarded packet is itself an ICMPv6 message": drop-icmpv6-info and pool6-strict echo requests stay silent', () => {
    const a = go(makeCore(on({ dropIcmpv6Info: true })), 6, ipv6({ src: X, dst: Y6, nh: PROTO.ICMPV6, l4: echo(128, 1, 1) }));
    assert.deepEqual([a.r, a.delta], [Result.DROP, { 'icmp-info-filtered': 1 }]);
    const b = go(makeCore(on({ pool6Strict: true })), 6, ipv6({ src: X, dst: '64:ff9b::a00:1', nh: PROTO.ICMPV6, l4: echo(128, 1, 1) }));
    assert.deepEqual([b.r, b.delta], [Result.DROP, { 'pool6-mismatch': 1 }]);
  });

  it('RFC 7915 §5.4: never about an ICMPv6 error (no session for its quoted packet)', () => {
    const rig = makeCore(on());
    const quoted = ipv6({ src: Y6, dst: X, nh: PROTO.UDP, l4: udp(53, 5000) });
    const o = go(rig, 6, ipv6({ src: X, dst: Y6, nh: PROTO.ICMPV6, l4: icmp(1, 4, 0, quoted) }));
    assert.equal(o.r, Result.DROP);
    assert.deepEqual(o.delta, { 'bib6-not-found': 1 });
  });

  it('not for a packet that was not addressed to the translator (outside pool6: pool6-mismatch, silent)', () => {
    const rig = makeCore(on());
    const o = go(rig, 6, ipv6({ src: X, dst: '2001:db8:1::7', nh: PROTO.TCP, l4: tcp(40000, 80, [], ACK) }));
    assert.deepEqual([o.r, o.delta], [Result.DROP, { 'pool6-mismatch': 1 }]);
  });

  it('not with no instance or manually-enabled false (nothing is translated, nothing refused)', () => {
    const rig = makeCore(on({ manuallyEnabled: false }));
    assert.deepEqual(go(rig, 6, tcp6(ACK)).delta, { 'no-instance': 1 });
    assert.deepEqual(go(rig, 4, udp4(62000)).delta, { 'no-instance': 1 });
  });

  it('RFC 4443 §2.4(e): not to a multicast or unspecified source (icmp-error-suppressed)', () => {
    const rig = makeCore(on());
    for (const src of ['ff02::1', '::']) {
      const o = go(rig, 6, ipv6({ src, dst: Y6, nh: PROTO.TCP, l4: tcp(40000, 80, [], ACK) }));
      assert.deepEqual([o.r, o.delta], [Result.DROP, { 'tcp-syn-needed': 1, 'icmp-error-suppressed': 1 }], src);
    }
  });

  it('RFC 7915 §5.4 "rate-limited": one bucket with the ICMPv4 errors', () => {
    const rig = makeCore(on());
    icmpErrorBucket.configure(1, 1, 0);
    assert.equal(go(rig, 4, udp4(62000)).r, Result.EMIT4);
    const limited = go(rig, 6, tcp6(ACK));
    assert.deepEqual([limited.r, limited.delta], [Result.DROP, { 'tcp-syn-needed': 1, 'icmp-error-rate-limited': 1 }]);
  });

  it('pool4 exhaustion keeps its own error, RFC 6146 §3.5.1.1 Address Unreachable (1/3), with the switch on too', () => {
    const cfg = makeConfig({ icmpAdminProhibited: true }, [], { UDP: [{ address: a4(POOL4), portMin: 7000, portMax: 7000, mark: 0 }] });
    const rig = makeCore(cfg);
    go(rig, 6, ipv6({ src: X, dst: Y6, nh: PROTO.UDP, l4: udp(5000, 53) }));
    const o = go(rig, 6, ipv6({ src: X, dst: Y6, nh: PROTO.UDP, l4: udp(5001, 53) }));
    assert.deepEqual([o.pkt[40], o.pkt[41]], [1, 3]);
    assert.deepEqual(o.delta, { 'pool4-exhausted': 1, 'icmp-error-sent': 1 });
  });
});
