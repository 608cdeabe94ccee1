/**
 * Issue 11: under pool4 exhaustion, the first packet of a never-seen 5-tuple is refused without
 * the BIB lookup when its answer is known (filtering-and-updating.ts knownUnmapped): the
 * subscriber's exact count of dynamic entries says it holds none of the protocol and no static
 * entry has its IPv6 transport address. RFC 6146 §3.5.1.1: no BIB entry and no free pool4
 * transport address, "the packet is discarded" with ICMPv6 Address Unreachable. Each case below
 * fails if the lookup is skipped when it must not be (the packet is refused where the full lookup
 * finds a mapping) or not skipped when it can be (the lookup count).
 */
import * as assert from 'node:assert/strict';
import { Result } from '../../src/dataplane/core-api';
import type { CoreGlobals } from '../../src/dataplane/core-config';
import type { Nat64Core } from '../../src/dataplane/core';
import { C } from '../../src/dataplane/counters';
import { ipv6, PROTO, tcp, udp, echo } from '../rfc/vectors/build';
import { makeConfig, makeCore, n, nonZero, range, run, staticEntry, POOL4 } from './helpers/core-harness';

const DST = '64:ff9b::c633:6401';
const DST2 = '64:ff9b::c633:6402';
const udpTo = (src: string, srcPort: number, dst = DST) => ipv6({ src, dst, nh: PROTO.UDP, l4: udp(srcPort, 53) });
/** Accounting on (RFC 6888 REQ-4 counts), a limit no test reaches. */
const counted = (o: Partial<CoreGlobals> = {}): Partial<CoreGlobals> => ({
  subscriberPrefixLength: 128, subscriberPortLimit: 1000, subscriberPortShare: 0, subscriberMappingRate: 0, ...o,
});
/** pool4 of `ports` ports per protocol. */
const pool = (ports: number) => {
  const r = [range(POOL4, 61001, 61000 + ports)];
  return { TCP: r, UDP: r, ICMP: r };
};

/** Counts the core's BIB lookups by IPv6 transport address (the real lookup still answers). */
function countLookups6(core: Nat64Core): { calls: number } {
  const bib = core.tables.bib, real = bib.lookup6.bind(bib), seen = { calls: 0 };
  bib.lookup6 = (proto, a6, o6, port6) => { seen.calls++; return real(proto, a6, o6, port6); };
  return seen;
}

/** Fills pool4 (UDP) with one flow per host 2001:db8::1:N. */
function exhaust(core: Nat64Core, ports: number, now: number): void {
  for (let h = 1; h <= ports; h++) assert.equal(run(core, 6, udpTo(`2001:db8::1:${h.toString(16)}`, 40000), now).r, Result.EMIT4, `host ${h}`);
}

describe('pool4 exhausted: a never-seen 5-tuple refused without the BIB lookup when its answer is known (issue 11)', () => {
  it('RFC 6146 §3.5.1.1: a host holding nothing is refused (pool4-exhausted, Address Unreachable) and the BIB is not looked up', () => {
    const { core, c } = makeCore(makeConfig(counted(), [], pool(4)));
    exhaust(core, 4, 1000);
    const lookups = countLookups6(core);
    const r = run(core, 6, udpTo('2001:db8::66', 50000), 1001);
    assert.equal(r.r, Result.EMIT6);
    assert.equal(r.pkt[40], 1, 'ICMPv6 Destination Unreachable');
    assert.equal(r.pkt[41], 3, 'code 3, Address Unreachable');
    assert.equal(n(c, 'pool4-exhausted'), 1);
    assert.equal(lookups.calls, 0, 'no BIB lookup');
  });

  it('the counts are per protocol: a host holding only a TCP mapping is refused a UDP one without the lookup', () => {
    const { core, c } = makeCore(makeConfig(counted(), [], pool(4)));
    assert.equal(run(core, 6, ipv6({ src: '2001:db8::77', dst: DST, nh: PROTO.TCP, l4: tcp(40000, 80) }), 1000).r, Result.EMIT4);
    exhaust(core, 4, 1000);
    const lookups = countLookups6(core);
    assert.equal(run(core, 6, udpTo('2001:db8::77', 40000), 1001).r, Result.EMIT6);
    assert.equal(lookups.calls, 0);
    assert.equal(n(c, 'pool4-exhausted'), 1);
  });

  it('while pool4 has a free port the lookup always happens (nothing known without it)', () => {
    const { core } = makeCore(makeConfig(counted(), [], pool(4)));
    exhaust(core, 3, 1000);
    const lookups = countLookups6(core);
    assert.equal(run(core, 6, udpTo('2001:db8::66', 50000), 1001).r, Result.EMIT4);
    assert.equal(lookups.calls, 1);
  });

  it('RFC 6146 §3.5.1.1 endpoint-independent mapping: a host with a mapping reaches a new destination from it though pool4 is full', () => {
    const { core, c } = makeCore(makeConfig(counted(), [], pool(4)));
    exhaust(core, 4, 1000);
    const lookups = countLookups6(core);
    assert.equal(run(core, 6, udpTo('2001:db8::1:1', 40000, DST2), 1001).r, Result.EMIT4, 'the existing mapping, a new session');
    assert.equal(lookups.calls, 1, 'looked up: its subscriber holds an entry');
    // The same host from another port: it holds UDP entries, so the lookup decides (no mapping: refused).
    assert.equal(run(core, 6, udpTo('2001:db8::1:1', 40001), 1001).r, Result.EMIT6);
    assert.equal(lookups.calls, 2);
    assert.equal(n(c, 'pool4-exhausted'), 1);
  });

  it('a static BIB entry (not counted per subscriber) still translates to a new destination when pool4 is full', () => {
    const statics = [staticEntry('UDP', '2001:db8::5', 30001, POOL4, 62001)];
    const { core, c } = makeCore(makeConfig(counted(), statics, pool(4)));
    exhaust(core, 4, 1000);
    assert.equal(run(core, 6, udpTo('2001:db8::5', 30001, DST2), 1001).r, Result.EMIT4, 'its static mapping');
    const lookups = countLookups6(core);
    assert.equal(run(core, 6, udpTo('2001:db8::5', 30002), 1001).r, Result.EMIT6, 'another port of the host: no mapping');
    assert.equal(lookups.calls, 0, 'no static entry for that transport address, no dynamic one for the host');
    assert.equal(n(c, 'pool4-exhausted'), 1);
  });

  it('a full subscriber table (subscriber-untracked) stops the shortcut: an uncounted mapping still reaches a new destination', () => {
    // 64 BIB slots: 32 subscriber records; hosts 33..40 map uncounted (issue 15 fails open).
    const { core, c } = makeCore(makeConfig(counted(), [], pool(40)), { capacity: 64 });
    exhaust(core, 40, 1000);
    assert.equal(n(c, 'subscriber-untracked'), 8);
    const lookups = countLookups6(core);
    assert.equal(run(core, 6, udpTo('2001:db8::1:28', 40000, DST2), 1001).r, Result.EMIT4, 'host 40, uncounted, keeps its mapping');
    assert.equal(run(core, 6, udpTo('2001:db8::66', 50000), 1001).r, Result.EMIT6);
    assert.equal(lookups.calls, 2, 'counts no longer exact: every lookup happens');
    // A new configuration rebuilds the counts (and the table has room again after expiry): exact again.
    core.expire(1000 + 10 * 60_000);
    core.configure(makeConfig(counted(), [], pool(4)), [0xc0000201]);
    exhaust(core, 4, 700_000);
    lookups.calls = 0;
    assert.equal(run(core, 6, udpTo('2001:db8::66', 50000), 700_001).r, Result.EMIT6);
    assert.equal(lookups.calls, 0);
  });

  it('accounting off (subscriber-port-limit 0): the lookup decides, the refusal is the same', () => {
    const { core, c } = makeCore(makeConfig(counted({ subscriberPortLimit: 0 }), [], pool(4)));
    exhaust(core, 4, 1000);
    const lookups = countLookups6(core);
    assert.equal(run(core, 6, udpTo('2001:db8::66', 50000), 1001).r, Result.EMIT6);
    assert.equal(lookups.calls, 1);
    assert.equal(n(c, 'pool4-exhausted'), 1);
  });

  it('RFC 6146 §3.5.2.2: a TCP SYN of a host holding nothing is refused (pool4-exhausted) without the lookup; a non-SYN is tcp-syn-needed', () => {
    const { core, c } = makeCore(makeConfig(counted(), [], pool(1)));
    assert.equal(run(core, 6, ipv6({ src: '2001:db8::1:1', dst: DST, nh: PROTO.TCP, l4: tcp(40000, 80) }), 1000).r, Result.EMIT4);
    const lookups = countLookups6(core);
    assert.equal(run(core, 6, ipv6({ src: '2001:db8::66', dst: DST, nh: PROTO.TCP, l4: tcp(50000, 80) }), 1001).r, Result.EMIT6);
    assert.equal(run(core, 6, ipv6({ src: '2001:db8::66', dst: DST, nh: PROTO.TCP, l4: tcp(50001, 80, [], 0x10) }), 1001).r, Result.DROP);
    assert.equal(lookups.calls, 0);
    assert.deepEqual([n(c, 'pool4-exhausted'), n(c, 'tcp-syn-needed')], [1, 1]);
  });

  it('equivalence: 4 000 random packets (UDP, TCP SYN/ACK, ICMP echo; 24 hosts, statics, limits, expiry) give the same verdicts and counters with and without the shortcut', () => {
    for (const seed of [1, 2, 3]) {
      const statics = [staticEntry('UDP', '2001:db8::1:3', 40001, POOL4, 62001), staticEntry('TCP', '2001:db8::1:7', 40002, POOL4, 62002)];
      const cfg = makeConfig(counted({ subscriberPortLimit: 3, udpTimeout: 120_000 }), statics, pool(12));
      const on = makeCore(cfg), off = makeCore(cfg);
      // The core without the shortcut: no static index, so knownUnmapped never answers (filtering-and-updating.ts).
      (off.core as unknown as { filtering: { statics: unknown } }).filtering.statics = null;
      const lookupsOn = countLookups6(on.core), lookupsOff = countLookups6(off.core);
      let x = seed * 0x9e3779b1;
      const rnd = (k: number): number => { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; return (x >>> 0) % k; };
      let now = 1000;
      for (let i = 0; i < 4000; i++) {
        now += rnd(200);
        const src = `2001:db8::1:${(1 + rnd(24)).toString(16)}`, port = 40000 + rnd(6), dst = rnd(2) ? DST : DST2;
        const kind = rnd(4);
        const pkt = kind === 0 ? ipv6({ src, dst, nh: PROTO.TCP, l4: tcp(port, 80) })
          : kind === 1 ? ipv6({ src, dst, nh: PROTO.TCP, l4: tcp(port, 80, [], 0x10) })
            : kind === 2 ? ipv6({ src, dst, nh: PROTO.ICMPV6, l4: echo(128, port, 1) }) : udpTo(src, port, dst);
        if (rnd(50) === 0) { on.core.expire(now); off.core.expire(now); }
        const a = run(on.core, 6, pkt, now), b = run(off.core, 6, pkt, now);
        assert.equal(a.r, b.r, `seed ${seed} packet ${i}`);
        assert.deepEqual(a.pkt, b.pkt, `seed ${seed} packet ${i}`);
      }
      assert.deepEqual(nonZero(on.c), nonZero(off.c), `seed ${seed}`);
      assert.ok(on.c[C['pool4-exhausted']] > 100, `seed ${seed}: pool4 was exhausted often (${on.c[C['pool4-exhausted']]})`);
      assert.ok(lookupsOn.calls < lookupsOff.calls - 100, `seed ${seed}: lookups skipped (${lookupsOn.calls} vs ${lookupsOff.calls})`);
    }
  });
});
