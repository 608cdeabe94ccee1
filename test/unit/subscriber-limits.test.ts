/**
 * Per-subscriber limits (issue 15; RFC 6888 REQ-4: "A CGN MUST support limiting the number of
 * external ports (or, equivalently, "identifiers" for ICMP) that are assigned per subscriber").
 * On the core: the limit per protocol, by /128 and by shorter prefixes, as an absolute number and as
 * a share of a pool4 address, per shard, at run time, the rate of new mappings, the answer (ICMPv6
 * Address Unreachable, RFC 6146 §3.5.1.1's answer to no mapping) and the log record.
 */
import * as assert from 'node:assert/strict';
import { Result } from '../../src/dataplane/core-api';
import type { CoreGlobals } from '../../src/dataplane/core-config';
import { EventReader, createEventBuffer, EventRing, formatMappingLine, type MappingRecord } from '../../src/dataplane/events';
import { parseGlobal, toCoreGlobals, defaultGlobals } from '../../src/control/globals';
import { Nat64Error } from '../../src/control/errors';
import { a6, echo, ipv6, PROTO, tcp, udp } from '../rfc/vectors/build';
import { makeConfig, makeCore, n, range, run, staticEntry, POOL4, u16At } from './helpers/core-harness';

const DST = '64:ff9b::c633:6401';
const udpFrom = (src: string, srcPort: number, dstPort = 53) => ipv6({ src, dst: DST, nh: PROTO.UDP, l4: udp(srcPort, dstPort) });
const synFrom = (src: string, srcPort: number) => ipv6({ src, dst: DST, nh: PROTO.TCP, l4: tcp(srcPort, 80) });
const limits = (o: Partial<CoreGlobals>): Partial<CoreGlobals> => ({
  subscriberPrefixLength: 128, subscriberPortLimit: 0, subscriberPortShare: 0, subscriberMappingRate: 0, ...o,
});
const ATTACKER = '2001:db8::66';
const INNOCENT = '2001:db8::8';

/** ICMPv6 Destination Unreachable, code 3 (Address Unreachable), to `dst`? */
function isAddressUnreachableTo(pkt: Uint8Array, dst: string): boolean {
  const want = a6(dst);
  return pkt[6] === 58 && pkt[40] === 1 && pkt[41] === 3 && want.every((b, i) => pkt[24 + i] === b);
}

describe('per-subscriber limits (RFC 6888 REQ-4, issue 15)', () => {
  it('REQ-4: a /128 subscriber gets subscriber-port-limit UDP ports; the next new flow is refused with ICMPv6 Address Unreachable to it, and another host on the same pool4 address still maps', () => {
    const { core, c } = makeCore(makeConfig(limits({ subscriberPortLimit: 8 })));
    for (let p = 0; p < 8; p++) assert.equal(run(core, 6, udpFrom(ATTACKER, 40000 + p), 1000).r, Result.EMIT4, `flow ${p}`);
    const refused = run(core, 6, udpFrom(ATTACKER, 40008), 1000);
    assert.equal(refused.r, Result.EMIT6);
    assert.ok(isAddressUnreachableTo(refused.pkt, ATTACKER), 'Address Unreachable to the subscriber');
    assert.equal(n(c, 'subscriber-port-limit'), 1);
    assert.equal(n(c, 'pool4-exhausted'), 0);
    // Its existing flows keep translating; the others' new flows map.
    assert.equal(run(core, 6, udpFrom(ATTACKER, 40003), 1001).r, Result.EMIT4);
    for (let p = 0; p < 8; p++) assert.equal(run(core, 6, udpFrom(INNOCENT, 50000 + p), 1002).r, Result.EMIT4);
    assert.equal(core.tables.subscribers.held(17, a6(ATTACKER), 0), 8);
    assert.equal(core.tables.subscribers.held(17, a6(INNOCENT), 0), 8);
  });

  it('REQ-4 per protocol: at its TCP limit a subscriber still gets UDP ports and ICMP identifiers, and the reverse', () => {
    const { core, c } = makeCore(makeConfig(limits({ subscriberPortLimit: 3 })));
    for (let p = 0; p < 3; p++) assert.equal(run(core, 6, synFrom(ATTACKER, 41000 + p), 1000).r, Result.EMIT4);
    assert.equal(run(core, 6, synFrom(ATTACKER, 41003), 1000).r, Result.EMIT6);
    assert.equal(run(core, 6, udpFrom(ATTACKER, 41003), 1000).r, Result.EMIT4);
    for (let id = 0; id < 3; id++) {
      assert.equal(run(core, 6, ipv6({ src: ATTACKER, dst: DST, nh: PROTO.ICMPV6, l4: echo(128, 100 + id, 1) }), 1000).r, Result.EMIT4);
    }
    assert.equal(run(core, 6, ipv6({ src: ATTACKER, dst: DST, nh: PROTO.ICMPV6, l4: echo(128, 103, 1) }), 1200).r, Result.EMIT6);
    assert.equal(n(c, 'subscriber-port-limit'), 2);
  });

  it('subscriber-prefix-length 64: every address of the /64 counts against one limit; another /64 is another subscriber', () => {
    const { core, c } = makeCore(makeConfig(limits({ subscriberPortLimit: 10, subscriberPrefixLength: 64 })));
    for (let i = 0; i < 10; i++) assert.equal(run(core, 6, udpFrom(`2001:db8:0:66::${i + 1}`, 40000), 1000).r, Result.EMIT4, `address ${i}`);
    assert.equal(run(core, 6, udpFrom('2001:db8:0:66::ffff', 40000), 1000).r, Result.EMIT6, 'an 11th address of the /64');
    assert.equal(n(c, 'subscriber-port-limit'), 1);
    assert.equal(run(core, 6, udpFrom('2001:db8:0:67::1', 40000), 1000).r, Result.EMIT4, 'the next /64');
  });

  it('a share ("25%") is of one pool4 address\'s ports: 25 % of 61001-61100 is 25 ports', () => {
    const r100 = [range(POOL4, 61001, 61100)];
    const { core, c } = makeCore(makeConfig(limits({ subscriberPortShare: 25 }), [], { UDP: r100 }));
    let ok = 0;
    for (let p = 0; p < 40; p++) if (run(core, 6, udpFrom(ATTACKER, 40000 + p), 1000).r === Result.EMIT4) ok++;
    assert.equal(ok, 25);
    assert.equal(n(c, 'subscriber-port-limit'), 15);
    // Three more hosts take the other 75 ports; then the pool itself is exhausted.
    for (const host of [INNOCENT, '2001:db8::9', '2001:db8::a']) {
      for (let p = 0; p < 25; p++) assert.equal(run(core, 6, udpFrom(host, 50000 + p), 1000).r, Result.EMIT4, `${host} ${p}`);
    }
    assert.equal(run(core, 6, udpFrom('2001:db8::b', 50000), 1000).r, Result.EMIT6);
    assert.equal(n(c, 'pool4-exhausted'), 1, 'the pool itself is full now');
    assert.equal(n(c, 'subscriber-port-limit'), 15);
  });

  it('with 2 shards each shard enforces its half of the limit over its half of the ports', () => {
    const { core, c } = makeCore(makeConfig(limits({ subscriberPortLimit: 10 })), { shard: 1, shards: 2 });
    let ok = 0;
    for (let p = 0; p < 12; p++) {
      const r = run(core, 6, udpFrom(ATTACKER, 40000 + p), 1000);
      if (r.r === Result.EMIT4) { ok++; assert.equal(u16At(r.pkt, 20) % 2, 1, 'an odd port: shard 1 of 2'); }
    }
    assert.equal(ok, 5);
    assert.equal(n(c, 'subscriber-port-limit'), 7);
  });

  it('expired mappings give the subscriber its ports back', () => {
    const { core, c } = makeCore(makeConfig(limits({ subscriberPortLimit: 4, udpTimeout: 1000 })));
    for (let p = 0; p < 4; p++) run(core, 6, udpFrom(ATTACKER, 40000 + p), 1000);
    assert.equal(run(core, 6, udpFrom(ATTACKER, 40004), 1000).r, Result.EMIT6);
    core.expire(2500);
    assert.equal(core.tables.subscribers.held(17, a6(ATTACKER), 0), 0);
    assert.equal(core.tables.subscribers.count, 0, 'no record left for a subscriber with nothing');
    for (let p = 5; p < 9; p++) assert.equal(run(core, 6, udpFrom(ATTACKER, 40000 + p), 2500).r, Result.EMIT4);
    assert.equal(n(c, 'subscriber-port-limit'), 1);
  });

  it('at run time: turning the limit on counts the mappings that exist; lowering it refuses new ones without removing old ones; 0 lifts it', () => {
    const cfg = makeConfig(limits({}));
    const { core, c } = makeCore(cfg);
    for (let p = 0; p < 6; p++) assert.equal(run(core, 6, udpFrom(ATTACKER, 40000 + p), 1000).r, Result.EMIT4);
    core.configure(makeConfig(limits({ subscriberPortLimit: 6 })), [0xc0000201]);
    assert.equal(core.tables.subscribers.held(17, a6(ATTACKER), 0), 6);
    assert.equal(run(core, 6, udpFrom(ATTACKER, 40006), 1000).r, Result.EMIT6);
    core.configure(makeConfig(limits({ subscriberPortLimit: 2 })), [0xc0000201]);
    for (let p = 0; p < 6; p++) assert.equal(run(core, 6, udpFrom(ATTACKER, 40000 + p), 1001).r, Result.EMIT4, 'existing kept');
    assert.equal(run(core, 6, udpFrom(ATTACKER, 40007), 1001).r, Result.EMIT6);
    core.configure(makeConfig(limits({ subscriberPortLimit: 0 })), [0xc0000201]);
    assert.equal(run(core, 6, udpFrom(ATTACKER, 40008), 1002).r, Result.EMIT4);
    assert.equal(n(c, 'subscriber-port-limit'), 2);
  });

  it('static BIB entries are the operator\'s: they do not count against the subscriber', () => {
    const statics = [1, 2, 3].map((i) => staticEntry('UDP', ATTACKER, 30000 + i, POOL4, 62000 + i));
    const { core } = makeCore(makeConfig(limits({ subscriberPortLimit: 2 }), statics));
    assert.equal(run(core, 6, udpFrom(ATTACKER, 40000), 1000).r, Result.EMIT4);
    assert.equal(run(core, 6, udpFrom(ATTACKER, 40001), 1000).r, Result.EMIT4);
    assert.equal(run(core, 6, udpFrom(ATTACKER, 30001), 1000).r, Result.EMIT4, 'a static entry still translates');
    assert.equal(core.tables.subscribers.held(17, a6(ATTACKER), 0), 2);
  });

  it('subscriber-mapping-rate: new mappings per second per subscriber (token bucket, 1 s burst); existing flows unaffected', () => {
    const { core, c } = makeCore(makeConfig(limits({ subscriberMappingRate: 5 })));
    let ok = 0;
    for (let p = 0; p < 9; p++) if (run(core, 6, udpFrom(ATTACKER, 40000 + p), 10_000).r === Result.EMIT4) ok++;
    assert.equal(ok, 5, 'the burst: one second\'s worth');
    assert.equal(n(c, 'subscriber-rate-limit'), 4);
    assert.equal(run(core, 6, udpFrom(ATTACKER, 40000), 10_001).r, Result.EMIT4, 'an existing flow');
    assert.equal(run(core, 6, udpFrom(INNOCENT, 40000), 10_001).r, Result.EMIT4, 'another subscriber');
    assert.equal(run(core, 6, udpFrom(ATTACKER, 40010), 10_150).r, Result.EMIT6, '150 ms later: 0.75 of a token');
    assert.equal(run(core, 6, udpFrom(ATTACKER, 40011), 10_200).r, Result.EMIT4, '200 ms later: one token');
    assert.equal(run(core, 6, udpFrom(ATTACKER, 40012), 10_210).r, Result.DROP, 'refused, not answered: 60 ms after the last answer');
    let later = 0;
    for (let p = 0; p < 9; p++) if (run(core, 6, udpFrom(ATTACKER, 40020 + p), 12_000).r === Result.EMIT4) later++;
    assert.equal(later, 5, 'after a quiet while: one second\'s burst again, no more');
  });

  it('answers a subscriber at its limit at most once per 100 ms (the rest icmp-error-rate-limited), so it cannot spend the shared error budget', () => {
    const { core, c } = makeCore(makeConfig(limits({ subscriberPortLimit: 1 })));
    assert.equal(run(core, 6, udpFrom(ATTACKER, 40000), 5000).r, Result.EMIT4);
    const verdicts = [5000, 5001, 5050, 5099, 5100, 5150, 5200].map((t, k) => run(core, 6, udpFrom(ATTACKER, 40001 + k), t).r);
    assert.deepEqual(verdicts, [Result.EMIT6, Result.DROP, Result.DROP, Result.DROP, Result.EMIT6, Result.DROP, Result.EMIT6]);
    assert.equal(n(c, 'subscriber-port-limit'), 7);
    assert.equal(n(c, 'icmp-error-sent'), 3);
    assert.equal(n(c, 'icmp-error-rate-limited'), 4);
    // Another subscriber's refusal is answered at once: its own pace.
    assert.equal(run(core, 6, udpFrom(INNOCENT, 1), 5201).r, Result.EMIT4);
    assert.equal(run(core, 6, udpFrom(INNOCENT, 2), 5201).r, Result.EMIT6);
  });

  it('logs one nat64-subscriber line when a subscriber meets its limit, then at most one a minute', () => {
    const events = createEventBuffer(64);
    const { core } = makeCore(makeConfig(limits({ subscriberPortLimit: 1 })));
    core.tables.subscribers.log = new EventRing(events);
    run(core, 6, synFrom(ATTACKER, 40000), 1_000_000);
    for (let p = 1; p < 50; p++) run(core, 6, synFrom(ATTACKER, 40000 + p), 1_000_000 + p);
    const out: MappingRecord[] = [];
    const reader = new EventReader(events, 0);
    reader.drain((r) => out.push(r));
    assert.equal(out.length, 1);
    assert.equal(formatMappingLine(out[0], 'default'),
      'nat64-subscriber time=1970-01-01T00:16:40.001Z instance="default" event=port-limit proto=TCP subscriber=2001:db8::66/128 held=1 limit=1 shard=0');
    run(core, 6, synFrom(ATTACKER, 40100), 1_000_000 + 61_000);
    reader.drain((r) => out.push(r));
    assert.equal(out.length, 2);
  });

  it('the globals: subscriber-port-limit takes ports or a share, 0 lifts it; defaults are 25 % per /128, no rate limit', () => {
    assert.equal(parseGlobal('subscriber-port-limit', '25%', 'x'), '25%');
    assert.equal(parseGlobal('subscriber-port-limit', ' 7 % ', 'x'), '7%');
    assert.equal(parseGlobal('subscriber-port-limit', 2000, 'x'), 2000);
    assert.equal(parseGlobal('subscriber-port-limit', '0', 'x'), 0);
    assert.throws(() => parseGlobal('subscriber-port-limit', '150%', 'x'), (e: Nat64Error) => e.code === 'E_BAD_VALUE' && /1%-100%/.test(e.message));
    assert.throws(() => parseGlobal('subscriber-port-limit', 'lots', 'x'), (e: Nat64Error) => e.code === 'E_BAD_VALUE' && /share such as/.test(e.message));
    assert.throws(() => parseGlobal('subscriber-prefix-length', 129, 'x'), (e: Nat64Error) => e.code === 'E_BAD_VALUE');
    const g = toCoreGlobals(defaultGlobals('64:ff9b::/96'));
    assert.deepEqual([g.subscriberPrefixLength, g.subscriberPortShare, g.subscriberPortLimit, g.subscriberMappingRate], [128, 25, 0, 0]);
  });
});

describe('per-subscriber accounting: a full subscriber table fails open (issue 15)', () => {
  it('one record per two BIB slots: distinct subscribers beyond that are translated, not refused, and counted subscriber-untracked', () => {
    const { core, c } = makeCore(makeConfig(limits({ subscriberPortLimit: 2 })), { capacity: 64 });
    let ok = 0;
    for (let h = 1; h <= 40; h++) if (run(core, 6, udpFrom(`2001:db8::1:${h.toString(16)}`, 40000), 1000).r === Result.EMIT4) ok++;
    assert.equal(ok, 40, 'no host is refused for the table being full');
    assert.equal(core.tables.subscribers.count, 32);
    assert.equal(n(c, 'subscriber-untracked'), 8);
    assert.equal(n(c, 'subscriber-port-limit'), 0);
  });
});
