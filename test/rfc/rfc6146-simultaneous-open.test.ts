/**
 * RFC 6146 §3.5.2.2 simultaneous open (V4 INIT meets V6 INIT) and RFC 4787 REQ-1 port
 * preservation, through Nat64Core: which pool4 transport address a new IPv6 flow gets.
 */
import * as assert from 'node:assert/strict';
import { Result } from '../../src/dataplane/core-api';
import { TcpState } from '../../src/dataplane/tables/tcp-state';
import { a4, echo, ipv4, ipv6, PROTO, tcp, udp } from './vectors/build';
import { l4SumOk4 } from './vectors/check';
import { POOL4, makeCore, n, nonZero, run, u16At, u32At } from '../unit/helpers/core-harness';

const X = '2001:db8::8';
const X2 = '2001:db8::9';
const Y4 = '198.51.100.7';
const Y6 = '64:ff9b::c633:6407';
const SYN = 0x02, ACK = 0x10;
const tcp6 = (flags: number, sport: number, dport: number, src = X) =>
  ipv6({ src, dst: Y6, nh: PROTO.TCP, l4: tcp(sport, dport, [], flags) });
const tcp4 = (flags: number, dport: number, sport: number) =>
  ipv4({ src: Y4, dst: POOL4, proto: PROTO.TCP, l4: tcp(sport, dport, [], flags) });
const udp6 = (sport: number, src = X) => ipv6({ src, dst: Y6, nh: PROTO.UDP, l4: udp(sport, 53) });
/** The pool4 source port of a translated IPv4 packet. */
const port4 = (pkt: Uint8Array) => u16At(pkt, 20);

describe('RFC 4787 REQ-1 port preservation (pool4 port = the IPv6 source port when free and this shard\'s)', () => {
  it('one shard: an IPv6 source port inside pool4 (61234) is kept; a second host with the same port gets another one', () => {
    const { core, c } = makeCore();
    const a = run(core, 6, udp6(61234), 0);
    assert.equal(a.r, Result.EMIT4, JSON.stringify(nonZero(c)));
    assert.equal(u32At(a.pkt, 12), a4(POOL4));
    assert.equal(port4(a.pkt), 61234);
    assert.ok(l4SumOk4(a.pkt));
    const b = run(core, 6, udp6(61234, X2), 0);
    assert.equal(b.r, Result.EMIT4);
    assert.notEqual(port4(b.pkt), 61234, 'taken: RFC 6056 randomisation as before');
    assert.ok(port4(b.pkt) >= 61001 && port4(b.pkt) <= 65535);
  });

  it('TCP and ICMP too (the identifier is the ICMP "port")', () => {
    const { core } = makeCore();
    assert.equal(port4(run(core, 6, tcp6(SYN, 62000, 80), 0).pkt), 62000);
    const ping = run(core, 6, ipv6({ src: X, dst: Y6, nh: PROTO.ICMPV6, l4: echo(128, 61500, 1) }), 0);
    assert.equal(ping.r, Result.EMIT4);
    assert.equal(u16At(ping.pkt, 24), 61500, 'ICMP identifier kept');
  });

  it('a source port outside pool4 (40000) cannot be kept: randomised inside pool4', () => {
    const { core } = makeCore();
    const p = port4(run(core, 6, udp6(40000), 0).pkt);
    assert.ok(p >= 61001 && p <= 65535, `${p}`);
  });

  it('two shards: shard 0 keeps an even port (its slice: p % 2 === 0), not an odd one (shard 1\'s)', () => {
    const { core } = makeCore(undefined, { shard: 0, shards: 2 });
    assert.equal(port4(run(core, 6, udp6(61234), 0).pkt), 61234);
    const odd = port4(run(core, 6, udp6(61235, X2), 0).pkt);
    assert.notEqual(odd, 61235);
    assert.equal(odd % 2, 0, 'still a port of its own slice');
  });
});

describe('RFC 6146 §3.5.2.2 simultaneous open: the IPv6 SYN takes the pool4 address#port a stored IPv4 SYN names', () => {
  it('IPv4 SYN Y4#5555 -> pool4#62000 is stored; the IPv6 SYN to Y6#5555 is mapped to pool4#62000; the retransmitted IPv4 SYN establishes', () => {
    const { core, c } = makeCore();
    assert.equal(run(core, 4, tcp4(SYN, 62000, 5555), 0).r, Result.STORE);
    assert.equal(core.tables.held.count, 1);
    const out = run(core, 6, tcp6(SYN, 40000, 5555), 100);
    assert.equal(out.r, Result.EMIT4, JSON.stringify(nonZero(c)));
    assert.equal(u32At(out.pkt, 12), a4(POOL4));
    assert.equal(port4(out.pkt), 62000, 'the mapping the IPv4 SYN called');
    assert.equal(core.tables.held.count, 0, 'the stored SYN is dropped (RFC 5382 REQ-4), never answered');
    // The IPv4 side retransmits its SYN: V6 INIT + V4 SYN -> ESTABLISHED, translated to the IPv6 node.
    const back = run(core, 4, tcp4(SYN, 62000, 5555), 1000);
    assert.equal(back.r, Result.EMIT6, JSON.stringify(nonZero(c)));
    assert.equal(u16At(back.pkt, 42), 40000);
    let s = -1;
    for (let i = 0; i < core.tables.buffers.capacity; i++) if (core.tables.sessions.bibOf(i) !== -1) s = i;
    assert.equal(core.tables.sessions.state(s), TcpState.ESTABLISHED);
    core.expire(7000);
    assert.equal(n(c, 'tcp-v4-syn-expired'), 0, 'no Port Unreachable 6 s later');
  });

  it('a stored SYN from another endpoint (Y4#5556) is not taken: randomised port', () => {
    const { core } = makeCore();
    run(core, 4, tcp4(SYN, 62000, 5556), 0);
    const p = port4(run(core, 6, tcp6(SYN, 40000, 5555), 0).pkt);
    assert.notEqual(p, 62000);
    assert.equal(core.tables.held.count, 1);
  });

  it('a stored SYN whose pool4#port another BIB entry took meanwhile is not taken', () => {
    const { core } = makeCore();
    run(core, 4, tcp4(SYN, 62000, 5555), 0);
    assert.equal(port4(run(core, 6, tcp6(SYN, 62000, 80, X2), 0).pkt), 62000, 'X2 keeps its port 62000');
    const p = port4(run(core, 6, tcp6(SYN, 40000, 5555), 0).pkt);
    assert.notEqual(p, 62000);
  });

  it('two shards: a stored SYN to a port of this shard\'s slice is met; the IPv6 SYN wins over its own port preservation', () => {
    const { core } = makeCore(undefined, { shard: 0, shards: 2 });
    run(core, 4, tcp4(SYN, 62000, 5555), 0);
    assert.equal(port4(run(core, 6, tcp6(SYN, 61234, 5555), 0).pkt), 62000);
  });

  it('not for a non-SYN or UDP: only a TCP SYN opens (and meets) a connection', () => {
    const { core } = makeCore();
    run(core, 4, tcp4(SYN, 62000, 5555), 0);
    const u = run(core, 6, ipv6({ src: X, dst: Y6, nh: PROTO.UDP, l4: udp(40000, 5555) }), 0);
    assert.notEqual(port4(u.pkt), 62000);
    assert.equal(run(core, 6, tcp6(ACK, 40001, 5555), 0).r, Result.DROP);
    assert.equal(core.tables.held.count, 1);
  });
});
