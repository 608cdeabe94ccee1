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
import { ipv4, ipv6, PROTO, tcp, udp, echo } from '../rfc/vectors/build';
import { icmpErrorBucket } from '../../src/dataplane/translate/icmp-rate-limit';
import { makeConfig, makeCore, n, nonZero, range, run, staticEntry, POOL4 } from './helpers/core-harness';
import { FlowRig } from './helpers/flow-rig';

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

describe('pool4 exhausted: a never-seen 5-tuple refused before the full path (issue 11, core.refuseUnmapped6)', () => {
  const HR = 128;
  const send = (fr: FlowRig, pkt: Uint8Array, now: number) => {
    const buf = new Uint8Array(HR + pkt.length + 64);
    buf.set(pkt, HR);
    return fr.run6(buf, HR, pkt.length, buf.length - HR, now);
  };
  /** A rig of pool(ports) with accounting on, and the shard's ICMP error bucket limited and empty. */
  const rig = (ports: number, g: Partial<CoreGlobals> = {}, cache = true) => {
    const core = makeCore(makeConfig(counted(g), [], pool(ports)), { capacity: 256 });
    return { ...core, fr: new FlowRig(core.core, core.c, cache, 1500, 256) };
  };
  const emptyBucket = () => { icmpErrorBucket.configure(1, 1, 0); icmpErrorBucket.take(); };
  afterEach(() => icmpErrorBucket.configure(0, 1, 0)); // other tests see the unlimited default

  it('RFC 6146 §3.5.1.1: refused as the full path refuses it (pool4-exhausted, its error rate-limited), and remembered', () => {
    const { c, fr } = rig(2);
    for (const h of [1, 2]) assert.equal(send(fr, udpTo(`2001:db8::1:${h}`, 40000), 1000).r, Result.EMIT4);
    emptyBucket();
    assert.equal(send(fr, udpTo('2001:db8::66', 50000), 1001).r, Result.DROP);
    assert.equal(fr.earlyRefusals, 1);
    assert.deepEqual([n(c, 'pool4-exhausted'), n(c, 'icmp-error-rate-limited')], [1, 1]);
    assert.equal(send(fr, udpTo('2001:db8::66', 50000), 1002).r, Result.DROP);
    assert.deepEqual([fr.refusedRecently, n(c, 'pool4-exhausted')], [1, 1], 'the flow was remembered');
  });

  it('with a token for its ICMPv6 error the full path runs and answers (Address Unreachable)', () => {
    const { c, fr } = rig(1);
    assert.equal(send(fr, udpTo('2001:db8::1:1', 40000), 1000).r, Result.EMIT4);
    icmpErrorBucket.configure(1, 1, 0);
    assert.equal(send(fr, udpTo('2001:db8::66', 50000), 1001).r, Result.EMIT6);
    assert.deepEqual([fr.earlyRefusals, n(c, 'pool4-exhausted'), n(c, 'icmp-error-sent')], [0, 1, 1]);
  });

  // Each packet below is something the full path decides otherwise (or counts otherwise): never refused early.
  const others: Array<[string, Uint8Array, string]> = [
    ['RFC 8200 §8.1 UDP checksum zero', (() => { const p = udpTo('2001:db8::66', 50001); p[46] = 0; p[47] = 0; return p; })(), 'udp6-zero-checksum'],
    // (Payload Length 4: the rest of the datagram, checksum included, is padding after the packet.)
    ['UDP header truncated', (() => { const p = udpTo('2001:db8::66', 50001); p[4] = 0; p[5] = 4; return p; })(), 'l4-hdr-truncated'],
    ['RFC 6146 §3.5.2.2 TCP without SYN', ipv6({ src: '2001:db8::66', dst: DST, nh: PROTO.TCP, l4: tcp(50002, 80, [], 0x10) }), 'tcp-syn-needed'],
    ['RFC 4443 §2.4(e) unspecified source (its error is suppressed)', udpTo('::', 50003), 'icmp-error-suppressed'],
  ];
  for (const [what, pkt, counter] of others) {
    it(`not refused early: ${what} (${counter}, as the full path counts it)`, () => {
      const { c, fr } = rig(1);
      assert.equal(send(fr, udpTo('2001:db8::1:1', 40000), 1000).r, Result.EMIT4);
      emptyBucket();
      assert.equal(send(fr, pkt, 1001).r, Result.DROP);
      assert.equal(fr.earlyRefusals, 0);
      assert.equal(n(c, counter as Parameters<typeof n>[1]), 1, JSON.stringify(nonZero(c)));
    });
  }

  it('not refused early: RFC 6052 §3.1 pool6-strict, a destination the Well-Known Prefix must not embed (pool6-mismatch)', () => {
    const { c, fr } = rig(1, { pool6Strict: true });
    assert.equal(send(fr, udpTo('2001:db8::1:1', 40000, '64:ff9b::808:808'), 1000).r, Result.EMIT4);
    emptyBucket();
    assert.equal(send(fr, udpTo('2001:db8::66', 50000, '64:ff9b::a00:1'), 1001).r, Result.DROP);
    assert.deepEqual([fr.earlyRefusals, n(c, 'pool6-mismatch'), n(c, 'pool4-exhausted')], [0, 1, 0]);
  });

  it('RFC 6888 REQ-4: a subscriber holding TCP mappings whose mapping rate is spent is refused UDP early as subscriber-rate-limit, as the full path does', () => {
    const outcomes = [true, false].map((cache) => {
      const { c, fr } = rig(1, { subscriberMappingRate: 1 }, cache);
      // TCP has room (1 port): the subscriber takes it and its one token; UDP's port goes to another host.
      assert.equal(send(fr, ipv6({ src: '2001:db8::66', dst: DST, nh: PROTO.TCP, l4: tcp(50000, 80) }), 1000).r, Result.EMIT4);
      assert.equal(send(fr, udpTo('2001:db8::1:1', 40000), 1000).r, Result.EMIT4);
      emptyBucket();
      assert.equal(send(fr, udpTo('2001:db8::66', 50001), 1001).r, Result.DROP);
      icmpErrorBucket.configure(0, 1, 0);
      return { counters: nonZero(c), early: fr.earlyRefusals };
    });
    assert.deepEqual(outcomes[0].counters, outcomes[1].counters);
    assert.equal(outcomes[0].counters['subscriber-rate-limit'], 1);
    assert.deepEqual([outcomes[0].early, outcomes[1].early], [1, 0]);
  });

  it('equivalence: 5 000 random packets (new UDP/TCP flows of hosts with and without mappings, established flows, odd packets, expiry freeing ports) give the same verdicts, bytes, counters and tables with and without the cache', () => {
    for (const seed of [1, 2, 3]) {
      const statics = [staticEntry('UDP', '2001:db8::1:3', 45000, POOL4, 62001)];
      const cfg = makeConfig(counted({ subscriberPortLimit: 4, subscriberMappingRate: 20, udpTimeout: 3000, tcpTransTimeout: 3000 }), statics, pool(10));
      const mk = (cache: boolean) => { const r = makeCore(cfg, { capacity: 256 }); return { ...r, fr: new FlowRig(r.core, r.c, cache, 1500, 256) }; };
      const fast = mk(true), slow = mk(false);
      let x = seed * 0x9e3779b1;
      const rnd = (k: number): number => { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; return (x >>> 0) % k; };
      const mapped: Uint8Array[] = [];
      let nextPort = 1024, now = 1_000_000;
      emptyBucket();
      for (let i = 0; i < 5000; i++) {
        now += rnd(40);
        if (rnd(100) === 0) { fast.core.expire(now); slow.core.expire(now); mapped.length = 0; }
        const src = `2001:db8::1:${(1 + rnd(16)).toString(16)}`, dst = rnd(2) ? DST : DST2, kind = rnd(10);
        let pkt: Uint8Array;
        if (kind < 3 && mapped.length > 0) pkt = mapped[rnd(mapped.length)];
        else if (kind === 3) pkt = ipv6({ src, dst, nh: PROTO.TCP, l4: tcp(nextPort++, 80, [], rnd(3) === 0 ? 0x10 : 0x02) });
        else if (kind === 4) { pkt = udpTo(src, nextPort++, dst); if (rnd(4) === 0) { pkt[46] = 0; pkt[47] = 0; } }
        else if (kind === 5) pkt = udpTo('2001:db8::1:3', rnd(2) ? 45000 : nextPort++, dst); // the static entry's host: its port, or another
        else if (kind === 6) pkt = udpTo(rnd(8) === 0 ? '::' : src, nextPort++, rnd(8) === 0 ? '64:ff9b::a00:1' : dst);
        else pkt = udpTo(src, nextPort++, dst);
        const outs = [slow, fast].map((s) => send(s.fr, pkt, now));
        assert.equal(outs[1].r, outs[0].r, `seed ${seed} packet ${i}`);
        assert.deepEqual(nonZero(fast.c), nonZero(slow.c), `seed ${seed} packet ${i}`);
        if (outs[0].r === Result.EMIT4 && mapped.length < 64) mapped.push(pkt);
      }
      // (A refused flow is never sent again, and mapped ones only while their sessions live: a
      // remembered refusal is dropped as refused-recently for up to a second by design, where the
      // full path could map it as soon as a port frees.)
      assert.equal(fast.fr.refusedRecently, 0);
      assert.ok(fast.fr.earlyRefusals > 500, `seed ${seed}: ${fast.fr.earlyRefusals} refused early`);
      assert.ok(n(fast.c, 'pool4-exhausted') > fast.fr.earlyRefusals, `seed ${seed}: some refusals took the full path too`);
      for (const k of ['header', 'bib', 'bibHash6', 'bibHash4', 'session', 'sessionTime', 'sessionHash', 'sessionAddrHash', 'subscriber'] as const) {
        assert.ok(Buffer.from(new Uint8Array(fast.buffers[k])).equals(Buffer.from(new Uint8Array(slow.buffers[k]))), `seed ${seed}: ${k} differs`);
      }
    }
  });
});

describe('IPv4 side: a pool4 transport address no BIB entry holds is refused without the BIB lookup (issue 11, pool4.unmapped)', () => {
  const SERVER = '198.51.100.1';
  const to4 = (dst: string, port: number) => ipv4({ src: SERVER, dst, proto: PROTO.UDP, l4: udp(53, port) });
  const countLookups4 = (core: Nat64Core) => {
    const bib = core.tables.bib, real = bib.lookup4.bind(bib), seen = { calls: 0 };
    bib.lookup4 = (proto, addr, port) => { seen.calls++; return real(proto, addr, port); };
    return seen;
  };

  it('RFC 6146 §3.5.1: a port nobody mapped is bib4-not-found without a lookup; a mapped one, static ones (in or out of the range) and an expired one are what the BIB says', () => {
    const statics = [staticEntry('UDP', '2001:db8::5', 5005, POOL4, 62001), staticEntry('UDP', '2001:db8::6', 6006, '203.0.113.9', 7007)];
    const { core, c } = makeCore(makeConfig(counted({ udpTimeout: 120_000 }), statics, pool(4)));
    const out = run(core, 6, udpTo('2001:db8::1:1', 40000), 1000);
    assert.equal(out.r, Result.EMIT4);
    const mappedPort = (out.pkt[20] << 8) | out.pkt[21];
    const lookups = countLookups4(core);
    const unmapped = [61001, 61002, 61003, 61004].find((p) => p !== mappedPort)!;
    assert.equal(run(core, 4, to4(POOL4, unmapped), 1001).r, Result.DROP);
    assert.deepEqual([n(c, 'bib4-not-found'), lookups.calls], [1, 0], 'no BIB entry, no lookup');
    assert.equal(run(core, 4, to4(POOL4, mappedPort), 1001).r, Result.EMIT6, 'the mapping');
    assert.equal(run(core, 4, to4(POOL4, 62001), 1001).r, Result.EMIT6, 'a static entry outside the port range, on a pool4 address');
    assert.equal(run(core, 4, to4('203.0.113.9', 7007), 1001).r, Result.EMIT6, 'a static entry on an address of its own');
    assert.equal(lookups.calls, 3);
    core.expire(1000 + 10 * 60_000);
    assert.equal(run(core, 4, to4(POOL4, mappedPort), 700_000).r, Result.DROP, 'expired: its bit cleared');
    assert.deepEqual([n(c, 'bib4-not-found'), lookups.calls], [2, 3]);
  });
});

describe('IPv4 side: a packet to a pool4 transport address nobody holds, refused before the full path (issue 11, core.refuseUnmapped4)', () => {
  const HR = 128, SERVER = '198.51.100.1';
  const send4 = (fr: FlowRig, pkt: Uint8Array, now: number) => {
    const buf = new Uint8Array(HR + pkt.length + 64);
    buf.set(pkt, HR);
    return fr.run4(buf, HR, pkt.length, buf.length - HR, now);
  };
  const scan = (port: number, proto: number = PROTO.UDP, flags = 0x10) =>
    ipv4({ src: SERVER, dst: POOL4, proto, l4: proto === PROTO.UDP ? udp(53, port) : tcp(80, port, [], flags) });
  const rig = (g: Partial<CoreGlobals> = {}, cache = true) => {
    const core = makeCore(makeConfig(counted(g), [], pool(64)), { capacity: 256 });
    return { ...core, fr: new FlowRig(core.core, core.c, cache, 1500, 256) };
  };

  it('RFC 6146 §3.5.1: bib4-not-found as the full path counts it, dropped, and remembered (refusal-remembered)', () => {
    const { c, fr } = rig();
    assert.equal(send4(fr, scan(61010), 1000).r, Result.DROP);
    assert.deepEqual([fr.earlyRefusals, n(c, 'bib4-not-found')], [1, 1]);
    assert.equal(send4(fr, scan(61010), 1001).r, Result.DROP);
    assert.deepEqual([fr.refusalRemembered, n(c, 'bib4-not-found')], [1, 2]);
  });

  it('RFC 6146 §3.5.2.2: a TCP ACK is bib4-not-found early; a SYN is stored by the full path, or tcp-v4-syn-dropped early under drop-externally-initiated-tcp', () => {
    const a = rig();
    assert.equal(send4(a.fr, scan(61011, PROTO.TCP, 0x10), 1000).r, Result.DROP);
    assert.equal(send4(a.fr, scan(61012, PROTO.TCP, 0x02), 1000).r, Result.STORE);
    assert.deepEqual([a.fr.earlyRefusals, n(a.c, 'bib4-not-found'), n(a.c, 'tcp-v4-syn-stored')], [1, 1, 1]);
    const b = rig({ dropExternallyInitiatedTcp: true });
    assert.equal(send4(b.fr, scan(61012, PROTO.TCP, 0x02), 1000).r, Result.DROP);
    assert.deepEqual([b.fr.earlyRefusals, n(b.c, 'tcp-v4-syn-dropped')], [1, 1]);
  });

  const others: Array<[string, Uint8Array, string]> = [
    ['a wrong header checksum', (() => { const p = scan(61013); p[10] ^= 0x40; return p; })(), 'ipv4-bad-checksum'],
    ['a truncated UDP header', (() => { const p = scan(61014); p[3] = 24; p[10] = 0; p[11] = 0; const s4 = sum4(p); p[10] = s4 >> 8; p[11] = s4 & 0xff; return p; })(), 'l4-hdr-truncated'],
    ['a first fragment (the shard reassembles it)', (() => { const p = scan(61015); p[6] |= 0x20; p[10] = 0; p[11] = 0; const s4 = sum4(p); p[10] = s4 >> 8; p[11] = s4 & 0xff; return p; })(), 'fragmented'],
  ];
  for (const [what, pkt, counter] of others) {
    it(`not refused early: ${what} (${counter}, as the full path counts it)`, () => {
      const { c, fr } = rig();
      assert.equal(send4(fr, pkt, 1000).r, Result.DROP);
      assert.equal(fr.earlyRefusals, 0);
      assert.equal(n(c, counter as Parameters<typeof n>[1]), 1, JSON.stringify(nonZero(c)));
    });
  }

  it('not refused early: RFC 7915 §4.4 icmp-admin-prohibited (the full path answers it)', () => {
    const { c, fr } = rig({ icmpAdminProhibited: true });
    assert.equal(send4(fr, scan(61016), 1000).r, Result.EMIT4);
    assert.deepEqual([fr.earlyRefusals, n(c, 'bib4-not-found'), n(c, 'icmp-error-sent')], [0, 1, 1]);
  });

  it('equivalence: 4 000 random IPv4 packets (replies to mappings, scans of unmapped ports, TCP flags, bad checksums, expiry) give the same verdicts, counters and tables with and without the cache', () => {
    for (const seed of [1, 2]) {
      const cfg = makeConfig(counted({ udpTimeout: 3000, tcpTransTimeout: 3000 }), [staticEntry('UDP', '2001:db8::5', 5005, POOL4, 61050)], pool(64));
      const mk = (cache: boolean) => { const r = makeCore(cfg, { capacity: 256 }); return { ...r, fr: new FlowRig(r.core, r.c, cache, 1500, 256) }; };
      const fast = mk(true), slow = mk(false);
      let x = seed * 0x9e3779b1;
      const rnd = (k: number): number => { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; return (x >>> 0) % k; };
      let now = 1_000_000, scanned = 0;
      for (let i = 0; i < 4000; i++) {
        now += rnd(40);
        if (rnd(200) === 0) { fast.core.expire(now); slow.core.expire(now); }
        const kind = rnd(8);
        if (kind === 0) {
          // A new IPv6 flow maps a port (6->4, both sides).
          const pkt = udpTo(`2001:db8::1:${(1 + rnd(16)).toString(16)}`, 40000 + i);
          const outs = [slow, fast].map((s) => { const b = new Uint8Array(HR + pkt.length + 64); b.set(pkt, HR); return s.fr.run6(b, HR, pkt.length, b.length - HR, now); });
          assert.equal(outs[1].r, outs[0].r);
          continue;
        }
        // Any of pool4's 64 ports, mapped or not; a new 5-tuple every time (a remembered refusal
        // would stand in for the full path's count).
        const port = 61001 + rnd(64);
        const sport = 1024 + (scanned++ % 60000);
        let pkt = rnd(3) === 0 ? ipv4({ src: SERVER, dst: POOL4, proto: PROTO.TCP, l4: tcp(sport, port, [], [0x10, 0x02, 0x12, 0x04][rnd(4)]) })
          : ipv4({ src: SERVER, dst: POOL4, proto: PROTO.UDP, l4: udp(sport, port) });
        if (rnd(20) === 0) { pkt = pkt.slice(); pkt[10] ^= 0x01; }
        const outs = [slow, fast].map((s) => send4(s.fr, pkt, now));
        assert.equal(outs[1].r, outs[0].r, `seed ${seed} packet ${i}`);
        assert.deepEqual(nonZero(fast.c), nonZero(slow.c), `seed ${seed} packet ${i}`);
      }
      assert.ok(fast.fr.earlyRefusals > 500, `seed ${seed}: ${fast.fr.earlyRefusals} refused early`);
      assert.ok(n(fast.c, 'translated-4to6') > 50, `seed ${seed}: ${n(fast.c, 'translated-4to6')} translated`);
      for (const k of ['header', 'bib', 'bibHash6', 'bibHash4', 'session', 'sessionTime', 'sessionHash', 'sessionAddrHash'] as const) {
        assert.ok(Buffer.from(new Uint8Array(fast.buffers[k])).equals(Buffer.from(new Uint8Array(slow.buffers[k]))), `seed ${seed}: ${k} differs`);
      }
    }
  });
});

/** The IPv4 header checksum of pkt (its checksum field zeroed). */
function sum4(p: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < 20; i += 2) s += (p[i] << 8) | p[i + 1];
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}
