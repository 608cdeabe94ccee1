/** RFC 6146 §3.5.1 (UDP), §3.5.3 (ICMP query), §3.6, §3.8 through Nat64Core, packet by packet. */
import * as assert from 'node:assert/strict';
import { Result } from '../../src/dataplane/core-api';
import { a4, a6, echo, ipv4, ipv6, PROTO, udp } from './vectors/build';
import { ipv4HeaderOk, l4SumOk4, l4SumOk6 } from './vectors/check';
import { POOL4, makeConfig, makeCore, n, nonZero, run, staticEntry, u16At, u32At } from '../unit/helpers/core-harness';

const X = '2001:db8::8';
const Y4 = '198.51.100.7';
const Y6 = '64:ff9b::c633:6407'; // 198.51.100.7 under the well-known prefix

function udp6(src: string, sport: number, dst: string, dport: number): Uint8Array {
  return ipv6({ src, dst, nh: PROTO.UDP, l4: udp(sport, dport) });
}
function udp4(src: string | number, sport: number, dst: string | number, dport: number): Uint8Array {
  return ipv4({ src, dst, proto: PROTO.UDP, l4: udp(sport, dport) });
}

describe('RFC 6146 §3.5.1 UDP through the core', () => {
  it('an IPv6 UDP packet creates a BIB entry and a session; the IPv4 reply comes back translated', () => {
    const { core, c } = makeCore();
    const out = run(core, 6, udp6(X, 5000, Y6, 53), 1000);
    assert.equal(out.r, Result.EMIT4, JSON.stringify(nonZero(c)));
    assert.ok(ipv4HeaderOk(out.pkt) && l4SumOk4(out.pkt));
    const t4 = u32At(out.pkt, 12), tport = u16At(out.pkt, 20);
    assert.equal(t4, a4(POOL4));
    assert.ok(tport >= 61001 && tport <= 65535);
    assert.equal(u32At(out.pkt, 16), a4(Y4));
    assert.equal(u16At(out.pkt, 22), 53);
    assert.equal(core.tables.bib.count, 1);
    assert.equal(core.tables.sessions.count, 1);

    const back = run(core, 4, udp4(Y4, 53, t4, tport), 2000);
    assert.equal(back.r, Result.EMIT6, JSON.stringify(nonZero(c)));
    assert.ok(l4SumOk6(back.pkt));
    assert.deepEqual(back.pkt.subarray(8, 24), a6(Y6));
    assert.deepEqual(back.pkt.subarray(24, 40), a6(X));
    assert.equal(u16At(back.pkt, 40), 53);
    assert.equal(u16At(back.pkt, 42), 5000);
    assert.equal(n(c, 'translated-6to4'), 1);
    assert.equal(n(c, 'translated-4to6'), 1);
  });

  it('endpoint-independent mapping: one BIB entry for all destinations of an IPv6 transport address', () => {
    const { core } = makeCore();
    const a = run(core, 6, udp6(X, 5000, Y6, 53), 0);
    const b = run(core, 6, udp6(X, 5000, '64:ff9b::c633:6408', 123), 0);
    assert.equal(u16At(a.pkt, 20), u16At(b.pkt, 20));
    assert.equal(u32At(a.pkt, 12), u32At(b.pkt, 12));
    assert.equal(core.tables.bib.count, 1);
    assert.equal(core.tables.sessions.count, 2);
  });

  it('an unsolicited IPv4 packet is dropped with bib4-not-found', () => {
    const { core, c } = makeCore();
    assert.equal(run(core, 4, udp4(Y4, 53, POOL4, 61001), 0).r, Result.DROP);
    assert.equal(n(c, 'bib4-not-found'), 1);
  });

  it('an IPv4 packet to an address that is not ours is dropped with pool4-mismatch', () => {
    const { core, c } = makeCore();
    assert.equal(run(core, 4, udp4(Y4, 53, '203.0.113.99', 61001), 0).r, Result.DROP);
    assert.equal(n(c, 'pool4-mismatch'), 1);
  });

  it('without ADF any IPv4 host may use an existing mapping (endpoint-independent filtering)', () => {
    const { core, c } = makeCore();
    const o = run(core, 6, udp6(X, 5000, Y6, 53), 0);
    const r = run(core, 4, udp4('198.51.100.99', 4444, u32At(o.pkt, 12), u16At(o.pkt, 20)), 0);
    assert.equal(r.r, Result.EMIT6, JSON.stringify(nonZero(c)));
    assert.equal(core.tables.sessions.count, 2);
  });

  it('address-dependent filtering drops hosts the IPv6 node never talked to, accepts other ports of known ones', () => {
    const { core, c } = makeCore(makeConfig({ addressDependentFiltering: true }));
    const o = run(core, 6, udp6(X, 5000, Y6, 53), 0);
    const t4 = u32At(o.pkt, 12), tp = u16At(o.pkt, 20);
    assert.equal(run(core, 4, udp4('198.51.100.99', 53, t4, tp), 0).r, Result.DROP);
    assert.equal(n(c, 'adf-filtered'), 1);
    assert.equal(run(core, 4, udp4(Y4, 9999, t4, tp), 0).r, Result.EMIT6);
  });

  it('every instance-less packet is dropped with no-instance (configure(null) empties the tables)', () => {
    const { core, c } = makeCore();
    run(core, 6, udp6(X, 5000, Y6, 53), 0);
    core.configure(null, []);
    assert.equal(core.tables.bib.count, 0);
    assert.equal(core.tables.sessions.count, 0);
    assert.equal(run(core, 6, udp6(X, 5000, Y6, 53), 0).r, Result.DROP);
    assert.equal(run(core, 4, udp4(Y4, 53, POOL4, 61001), 0).r, Result.DROP);
    assert.equal(n(c, 'no-instance'), 2);
  });

  it('manually-enabled false drops with no-instance', () => {
    const { core, c } = makeCore(makeConfig({ manuallyEnabled: false }));
    assert.equal(run(core, 6, udp6(X, 5000, Y6, 53), 0).r, Result.DROP);
    assert.equal(n(c, 'no-instance'), 1);
  });

  it('an IPv6 destination outside pool6 is dropped with pool6-mismatch', () => {
    const { core, c } = makeCore();
    assert.equal(run(core, 6, udp6(X, 5000, '2001:db8:1::7', 53), 0).r, Result.DROP);
    assert.equal(n(c, 'pool6-mismatch'), 1);
  });

  it('§3.5.1.1: a full session table drops with session-table-full (answered with Address Unreachable) and leaves no orphan BIB entry', () => {
    const { core, c } = makeCore(makeConfig(), { capacity: 2 });
    run(core, 6, udp6(X, 5000, Y6, 1), 0);
    run(core, 6, udp6(X, 5000, Y6, 2), 0);
    const o = run(core, 6, udp6('2001:db8::9', 5000, Y6, 3), 0);
    assert.equal(o.r, Result.EMIT6, 'not translated: ICMPv6 Address Unreachable (rfc6146-table-full)');
    assert.deepEqual([o.pkt[40], o.pkt[41]], [1, 3]);
    assert.equal(n(c, 'session-table-full'), 1);
    assert.equal(n(c, 'bib-table-full'), 0);
    assert.equal(n(c, 'translated-6to4'), 2);
    assert.equal(core.tables.bib.count, 1);
  });

  it('§3.5.1.1: pool4 exhaustion drops the packet (pool4-exhausted) and answers ICMPv6 Destination Unreachable, Address Unreachable', () => {
    const cfg = makeConfig({}, [], { UDP: [{ address: a4(POOL4), portMin: 7000, portMax: 7000, mark: 0 }] });
    const { core, c } = makeCore(cfg);
    assert.equal(run(core, 6, udp6(X, 5000, Y6, 53), 0).r, Result.EMIT4);
    const o = run(core, 6, udp6(X, 5001, Y6, 53), 0);
    assert.equal(o.r, Result.EMIT6);
    assert.equal(o.pkt[6], PROTO.ICMPV6);
    assert.deepEqual([o.pkt[40], o.pkt[41]], [1, 3], 'type 1 (Destination Unreachable), code 3 (Address Unreachable)');
    assert.deepEqual(Array.from(o.pkt.subarray(24, 40)), Array.from(a6(X)), 'back to the sender');
    assert.equal(n(c, 'pool4-exhausted'), 1);
    assert.equal(n(c, 'icmp-error-sent'), 1);
  });
});

describe('RFC 6146 §3.5.3 ICMP query through the core', () => {
  it('§3.5.3: no free ICMP identifier: the echo request is dropped (pool4-exhausted) and answered with ICMPv6 Address Unreachable', () => {
    const cfg = makeConfig({}, [], { ICMP: [{ address: a4(POOL4), portMin: 7000, portMax: 7000, mark: 0 }] });
    const { core, c } = makeCore(cfg);
    assert.equal(run(core, 6, ipv6({ src: X, dst: Y6, nh: PROTO.ICMPV6, l4: echo(128, 1, 1) }), 0).r, Result.EMIT4);
    const o = run(core, 6, ipv6({ src: X, dst: Y6, nh: PROTO.ICMPV6, l4: echo(128, 2, 1) }), 0);
    assert.equal(o.r, Result.EMIT6);
    assert.deepEqual([o.pkt[40], o.pkt[41]], [1, 3]);
    assert.equal(n(c, 'pool4-exhausted'), 1);
  });

  it('an ICMPv6 echo request maps its identifier; the echo reply comes back with the original one', () => {
    const { core, c } = makeCore();
    const o = run(core, 6, ipv6({ src: X, dst: Y6, nh: PROTO.ICMPV6, l4: echo(128, 0x1234, 1) }), 0);
    assert.equal(o.r, Result.EMIT4, JSON.stringify(nonZero(c)));
    assert.equal(o.pkt[9], PROTO.ICMP);
    assert.equal(o.pkt[20], 8);
    const id4 = u16At(o.pkt, 24);
    assert.ok(id4 >= 61001);
    const back = run(core, 4, ipv4({ src: Y4, dst: POOL4, proto: PROTO.ICMP, l4: echo(0, id4, 1) }), 0);
    assert.equal(back.r, Result.EMIT6, JSON.stringify(nonZero(c)));
    assert.equal(back.pkt[40], 129);
    assert.equal(u16At(back.pkt, 44), 0x1234);
    assert.deepEqual(back.pkt.subarray(24, 40), a6(X));
  });

  it('drop-icmpv6-info drops ICMPv6 echo before creating any state', () => {
    const { core, c } = makeCore(makeConfig({ dropIcmpv6Info: true }));
    assert.equal(run(core, 6, ipv6({ src: X, dst: Y6, nh: PROTO.ICMPV6, l4: echo(128, 1, 1) }), 0).r, Result.DROP);
    assert.equal(n(c, 'icmp-info-filtered'), 1);
    assert.equal(core.tables.bib.count, 0);
  });

  it('an ICMPv4 error about a translated UDP packet reaches the IPv6 node (quoted tuple, §3.4)', () => {
    const { core, c } = makeCore();
    const o = run(core, 6, udp6(X, 5000, Y6, 53), 0);
    // A router answers the translated packet with Port Unreachable, quoting it.
    const err = ipv4({ src: '198.51.100.254', dst: POOL4, proto: PROTO.ICMP,
      l4: Uint8Array.from([3, 3, 0, 0, 0, 0, 0, 0, ...o.pkt.subarray(0, 28)]) });
    const back = run(core, 4, err, 0);
    assert.equal(back.r, Result.EMIT6, JSON.stringify(nonZero(c)));
    assert.equal(back.pkt[40], 1); // ICMPv6 Destination Unreachable
    assert.deepEqual(back.pkt.subarray(24, 40), a6(X));
    assert.equal(core.tables.sessions.count, 1);
  });

  it('RFC 6146 §3.5 (ICMP errors): an ICMP error about a flow does not refresh its session: it still expires udp-timeout after the last UDP packet', () => {
    const { core, c } = makeCore(makeConfig({ udpTimeout: 300000 }));
    const o = run(core, 6, udp6(X, 5000, Y6, 53), 0);
    const err = ipv4({ src: '198.51.100.254', dst: POOL4, proto: PROTO.ICMP,
      l4: Uint8Array.from([3, 3, 0, 0, 0, 0, 0, 0, ...o.pkt.subarray(0, 28)]) });
    assert.equal(run(core, 4, err, 250000).r, Result.EMIT6, JSON.stringify(nonZero(c)));
    core.expire(299999);
    assert.equal(core.tables.sessions.count, 1);
    core.expire(300000);
    assert.equal(core.tables.sessions.count, 0, 'the error at 250 s did not extend the session');
    assert.equal(n(c, 'session-expired'), 1);
  });

  it('RFC 6146 §3.5 (ICMP errors): an ICMPv4 error quoting a flow of a static BIB entry that has no session is dropped with session-not-found, creating none', () => {
    const server = staticEntry('UDP', '2001:db8::80', 7777, POOL4, 7777);
    const { core, c } = makeCore(makeConfig({}, [server]));
    const quoted = udp4(POOL4, 7777, Y4, 53);
    const err = ipv4({ src: Y4, dst: POOL4, proto: PROTO.ICMP, l4: Uint8Array.from([3, 3, 0, 0, 0, 0, 0, 0, ...quoted.subarray(0, 28)]) });
    assert.equal(run(core, 4, err, 0).r, Result.DROP);
    assert.equal(n(c, 'session-not-found'), 1, JSON.stringify(nonZero(c)));
    assert.equal(core.tables.sessions.count, 0);
  });

  it('an ICMPv4 error with no BIB entry for its quoted packet is dropped with bib4-not-found', () => {
    const { core, c } = makeCore();
    const quoted = udp4(POOL4, 61001, Y4, 53);
    const err = ipv4({ src: Y4, dst: POOL4, proto: PROTO.ICMP, l4: Uint8Array.from([3, 3, 0, 0, 0, 0, 0, 0, ...quoted.subarray(0, 28)]) });
    assert.equal(run(core, 4, err, 0).r, Result.DROP);
    assert.equal(n(c, 'bib4-not-found'), 1);
  });
});

describe('RFC 6146 §3.8 hairpinning', () => {
  it('two IPv6 nodes talk through a static BIB entry: HAIRPIN, then translated back to IPv6 without a second TTL decrement', () => {
    const server = staticEntry('UDP', '2001:db8::80', 7777, POOL4, 7777);
    const { core, c } = makeCore(makeConfig({}, [server]));
    // Client X sends to the server's pool6 address 64:ff9b::203.0.113.1 port 7777.
    const first = run(core, 6, ipv6({ src: X, dst: '64:ff9b::cb00:7101', nh: PROTO.UDP, l4: udp(5000, 7777), hop: 64 }), 0);
    assert.equal(first.r, Result.HAIRPIN, JSON.stringify(nonZero(c)));
    assert.equal(first.pkt[8], 63);
    assert.equal(u32At(first.pkt, 16), a4(POOL4));
    const second = run(core, 4, first.pkt, 0);
    assert.equal(second.r, Result.EMIT6, JSON.stringify(nonZero(c)));
    assert.deepEqual(second.pkt.subarray(24, 40), a6('2001:db8::80'));
    assert.equal(second.pkt[7], 63, 'hop limit decremented once in total');
    // The server sees the client as pool6 + the client's pool4 transport address.
    assert.deepEqual(second.pkt.subarray(8, 24), a6('64:ff9b::cb00:7101'));
    assert.equal(u16At(second.pkt, 40), u16At(first.pkt, 20));
    assert.equal(l4SumOk6(second.pkt), true);
  });
});
