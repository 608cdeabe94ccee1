/**
 * Refusals remembered (issue 11): the core flags the IPv6 packets it refused for want of state
 * (pool4-exhausted, bib-table-full, session-table-full) and only those; the flow cache then
 * remembers the flow (flow-cache.ts refused6) and the shard drops its next packets for a second
 * at hit cost, unless the ICMP error rate limiter has a token (then the full path answers it, or
 * maps the flow if it now can). FlowRig is the shard's glue (ingress.ts) without DPDK.
 */
import * as assert from 'node:assert/strict';
import { Result } from '../../src/dataplane/core-api';
import { REFUSAL_MS } from '../../src/dataplane/flow-cache';
import { icmpErrorBucket } from '../../src/dataplane/translate/icmp-rate-limit';
import { ipv6, PROTO, tcp, udp } from '../rfc/vectors/build';
import { makeConfig, makeCore, n, POOL4, range, run, staticEntry } from './helpers/core-harness';
import { FlowRig } from './helpers/flow-rig';

const Y6 = '64:ff9b::c633:6401';
const flow = (sport: number, src = '2001:db8::5', dport = 53) => ipv6({ src, dst: Y6, nh: PROTO.UDP, l4: udp(sport, dport) });

describe('refusals: the core flags refusals for want of state', () => {
  it('pool4-exhausted, session-table-full and bib-table-full set refusedNoState; translations and other refusals do not', () => {
    const { core, c } = makeCore(makeConfig({ addressDependentFiltering: true }, [], { UDP: [range(POOL4, 61001, 61001)] }), { capacity: 4 });
    assert.equal(run(core, 6, flow(5001), 0).r, Result.EMIT4);
    assert.equal(core.refusedNoState, false);
    assert.equal(run(core, 6, flow(5002), 0).r, Result.EMIT6, 'Address Unreachable');
    assert.deepEqual([core.refusedNoState, n(c, 'pool4-exhausted')], [true, 1]);
    // A TCP packet without a session is refused too, but not for want of state.
    assert.equal(run(core, 6, ipv6({ src: '2001:db8::5', dst: Y6, nh: PROTO.TCP, l4: tcp(5003, 80, [], 0x10) }), 0).r, Result.DROP);
    assert.equal(core.refusedNoState, false);
    // Session table full (4 slots): one BIB entry, more destinations.
    for (let d = 1; d <= 3; d++) assert.equal(run(core, 6, flow(5001, undefined, 53 + d), 0).r, Result.EMIT4);
    assert.equal(run(core, 6, flow(5001, undefined, 99), 0).r, Result.EMIT6);
    assert.deepEqual([core.refusedNoState, n(c, 'session-table-full')], [true, 1]);
    // The next packet, parsed wrong, must not inherit the flag.
    assert.equal(run(core, 6, new Uint8Array(20), 0).r, Result.DROP);
    assert.equal(core.refusedNoState, false);
  });

  it('a per-subscriber limit sets it, whether its error is answered or paced (issue 15)', () => {
    const lim = { subscriberPrefixLength: 128, subscriberPortLimit: 2, subscriberPortShare: 0, subscriberMappingRate: 0 };
    const { core, c } = makeCore(makeConfig(lim));
    for (const p of [5001, 5002]) assert.equal(run(core, 6, flow(p), 0).r, Result.EMIT4);
    run(core, 6, flow(5003), 0);
    assert.deepEqual([core.refusedNoState, n(c, 'subscriber-port-limit')], [true, 1]);
    assert.equal(run(core, 6, flow(5004), 1).r, Result.DROP, 'the next refusal within 100 ms is not answered');
    assert.deepEqual([core.refusedNoState, n(c, 'subscriber-port-limit')], [true, 2]);
    assert.equal(run(core, 6, flow(5001), 2).r, Result.EMIT4);
    assert.equal(core.refusedNoState, false);
  });

  it('bib-table-full sets it', () => {
    const bib = [staticEntry('UDP', '2001:db8::20', 20, POOL4, 61020), staticEntry('UDP', '2001:db8::21', 21, POOL4, 61021)];
    const { core, c } = makeCore(makeConfig({}, bib), { capacity: 2 });
    assert.equal(run(core, 6, flow(5001), 0).r, Result.EMIT6);
    assert.deepEqual([core.refusedNoState, n(c, 'bib-table-full')], [true, 1]);
  });
});

describe('refusals: remembered by the flow cache', () => {
  const HR = 128;
  // pool4 of one port: the first flow maps, every other flow is refused (pool4-exhausted).
  const rig = () => {
    const core = makeCore(makeConfig({ udpTimeout: 2000 }, [], { UDP: [range(POOL4, 61001, 61001)] }), { capacity: 64 });
    return { ...core, fr: new FlowRig(core.core, core.c, true) };
  };
  const send = (fr: FlowRig, pkt: Uint8Array, now: number) => {
    const buf = new Uint8Array(HR + pkt.length + 64);
    buf.set(pkt, HR);
    return fr.run6(buf, HR, pkt.length, buf.length - HR, now);
  };
  afterEach(() => icmpErrorBucket.configure(0, 1, 0)); // other tests see the unlimited default

  it('a refused flow is dropped at hit cost (refused-recently) while the ICMP error limiter has no token, for REFUSAL_MS', () => {
    const { c, fr } = rig();
    icmpErrorBucket.configure(100, 1, 0);
    assert.equal(send(fr, flow(5001), 1000).r, Result.EMIT4);
    assert.equal(send(fr, flow(5002), 1000).r, Result.EMIT6, 'refused: Address Unreachable (the token)');
    assert.deepEqual([n(c, 'pool4-exhausted'), n(c, 'icmp-error-sent'), fr.refusedRecently], [1, 1, 0]);
    for (let i = 0; i < 10; i++) assert.equal(send(fr, flow(5002), 1001 + i).r, Result.DROP);
    assert.deepEqual([n(c, 'pool4-exhausted'), fr.refusedRecently], [1, 10], 'not tried again');
    assert.equal(send(fr, flow(5003), 1020).r, Result.DROP, 'another flow is tried: refused, rate-limited');
    assert.deepEqual([n(c, 'pool4-exhausted'), n(c, 'icmp-error-rate-limited')], [2, 1]);
    // A token: the full path runs and answers it.
    icmpErrorBucket.refill(20);
    assert.equal(send(fr, flow(5002), 1030).r, Result.EMIT6);
    assert.deepEqual([n(c, 'pool4-exhausted'), n(c, 'icmp-error-sent'), fr.refusedRecently], [3, 2, 10]);
    assert.equal(send(fr, flow(5002), 1031).r, Result.DROP);
    assert.equal(fr.refusedRecently, 11);
    // REFUSAL_MS after the last refusal the flow takes the full path again.
    assert.equal(send(fr, flow(5002), 1030 + REFUSAL_MS).r, Result.DROP);
    assert.deepEqual([n(c, 'pool4-exhausted'), n(c, 'icmp-error-rate-limited'), fr.refusedRecently], [4, 2, 11]);
  });

  it('a flow refused by its subscriber\'s limit is dropped at hit cost for REFUSAL_MS even while the shard\'s error bucket has tokens (its answers are paced per subscriber: issue 15)', () => {
    const lim = { subscriberPrefixLength: 128, subscriberPortLimit: 1, subscriberPortShare: 0, subscriberMappingRate: 0, udpTimeout: 2000 };
    const core = makeCore(makeConfig(lim), { capacity: 64 });
    const fr = new FlowRig(core.core, core.c, true);
    assert.equal(send(fr, flow(5001), 1000).r, Result.EMIT4);
    assert.equal(send(fr, flow(5002), 1000).r, Result.EMIT6, 'refused by the limit, answered');
    for (let i = 1; i <= 10; i++) assert.equal(send(fr, flow(5002), 1000 + i * 50).r, Result.DROP);
    assert.deepEqual([n(core.c, 'subscriber-port-limit'), fr.refusedRecently], [1, 10], 'not retried: the unlimited bucket does not matter');
    assert.equal(send(fr, flow(5002), 1000 + REFUSAL_MS).r, Result.EMIT6, 'after REFUSAL_MS: the full path (and the next paced answer)');
    assert.equal(n(core.c, 'subscriber-port-limit'), 2);
  });

  it('without a rate limit every packet takes the full path (each gets its error); a freed port maps the flow', () => {
    const { core, c, fr } = rig();
    assert.equal(send(fr, flow(5001), 1000).r, Result.EMIT4);
    for (let i = 0; i < 5; i++) assert.equal(send(fr, flow(5002), 1000 + i).r, Result.EMIT6);
    assert.deepEqual([n(c, 'pool4-exhausted'), fr.refusedRecently], [5, 0]);
    icmpErrorBucket.configure(100, 1, 0);
    icmpErrorBucket.take();
    assert.equal(send(fr, flow(5002), 1010).r, Result.DROP);
    assert.equal(fr.refusedRecently, 1);
    // Flow 5001 expires (udp-timeout 2 s): its port is free; after REFUSAL_MS, 5002 gets it and
    // the cache entry becomes a translation.
    core.expire(1000 + 2000 + 1000);
    assert.equal(send(fr, flow(5002), 4100).r, Result.EMIT4);
    assert.equal(send(fr, flow(5002), 4101).hit, true, 'translated from the cache');
  });
});
