/**
 * Refusals remembered (issue 11, src/dataplane/refusals.ts): the core flags the IPv6 packets it
 * refused for want of state (pool4-exhausted, bib-table-full, session-table-full) and only those;
 * the shard's cache then drops the flow's next packets for a second, unless the ICMP error rate
 * limiter has a token (then the full path answers, or maps the flow if it now can).
 */
import * as assert from 'node:assert/strict';
import { Result } from '../../src/dataplane/core-api';
import { REFUSAL_ENTRIES, REFUSAL_MS, RefusalCache } from '../../src/dataplane/refusals';
import { icmpErrorBucket } from '../../src/dataplane/translate/icmp-rate-limit';
import { ipv6, PROTO, tcp, udp } from '../rfc/vectors/build';
import { makeConfig, makeCore, n, POOL4, range, run, staticEntry } from './helpers/core-harness';

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

  it('bib-table-full sets it', () => {
    const bib = [staticEntry('UDP', '2001:db8::20', 20, POOL4, 61020), staticEntry('UDP', '2001:db8::21', 21, POOL4, 61021)];
    const { core, c } = makeCore(makeConfig({}, bib), { capacity: 2 });
    assert.equal(run(core, 6, flow(5001), 0).r, Result.EMIT6);
    assert.deepEqual([core.refusedNoState, n(c, 'bib-table-full')], [true, 1]);
  });
});

describe('refusals: the cache', () => {
  const IP = 16;
  const at = (pkt: Uint8Array) => { const b = new Uint8Array(IP + pkt.length + 8); b.set(pkt, IP); return b; };
  afterEach(() => icmpErrorBucket.configure(0, 1, 0)); // other tests see the unlimited default

  it('remembers a refused flow by its exact fields for REFUSAL_MS', () => {
    const rc = new RefusalCache(1000);
    const a = at(flow(5001));
    assert.equal(rc.has6(a, IP, PROTO.UDP, 1000), false);
    rc.add6(a, IP, PROTO.UDP, 1000);
    assert.equal(rc.has6(a, IP, PROTO.UDP, 1000 + REFUSAL_MS - 1), true);
    assert.equal(rc.has6(a, IP, PROTO.UDP, 1000 + REFUSAL_MS), false, 'a second later the flow is tried again');
    for (const other of [flow(5002), flow(5001, '2001:db8::6'), flow(5001, undefined, 54)]) {
      assert.equal(rc.has6(at(other), IP, PROTO.UDP, 1001), false);
    }
    assert.equal(rc.has6(a, IP, PROTO.TCP, 1001), false, 'the protocol is part of the key');
    rc.add6(a, IP, PROTO.UDP, 1500); // refused again: the same entry, a new deadline
    assert.equal(rc.has6(a, IP, PROTO.UDP, 1000 + REFUSAL_MS + 100), true);
    rc.clear(1600);
    assert.equal(rc.has6(a, IP, PROTO.UDP, 1600), false, 'a new configuration forgets every refusal');
  });

  it('is bounded: more refused flows than entries evict the ones that expire first, never grow', () => {
    const rc = new RefusalCache(0);
    // As many refused flows as entries: half refused at 0, half at 500 (the older ones go first).
    const flows = REFUSAL_ENTRIES;
    const pkt = (k: number) => at(flow(k & 0xffff, `2001:db8::${(k >>> 16) + 1}`));
    for (let k = 0; k < flows; k++) rc.add6(pkt(k), IP, PROTO.UDP, k < REFUSAL_ENTRIES / 2 ? 0 : 500);
    let old = 0, recent = 0;
    for (let k = 0; k < flows; k++) {
      if (!rc.has6(pkt(k), IP, PROTO.UDP, 600)) continue;
      if (k < REFUSAL_ENTRIES / 2) old++; else recent++;
    }
    assert.ok(old + recent <= REFUSAL_ENTRIES);
    assert.ok(recent > 0.95 * (flows / 2), `${recent} of ${flows / 2} recent refusals kept`);
    assert.ok(old < 0.8 * recent, `${old} older refusals kept`);
    assert.equal(rc.has6(pkt(0), IP, PROTO.UDP, REFUSAL_MS + 500), false);
  });

  it('drops a remembered flow only while the ICMP error rate limiter has no token', () => {
    const rc = new RefusalCache(0);
    const a = at(flow(5001));
    rc.add6(a, IP, PROTO.UDP, 0);
    assert.equal(rc.drop6(a, IP, PROTO.UDP, 10), false, 'no limit: every packet gets its error, through the full path');
    icmpErrorBucket.configure(100, 1, 0);
    assert.equal(rc.drop6(a, IP, PROTO.UDP, 10), false, 'a token: the full path answers it');
    assert.equal(icmpErrorBucket.take(), true);
    assert.equal(rc.drop6(a, IP, PROTO.UDP, 10), true, 'no token: dropped at once');
    assert.equal(rc.drop6(at(flow(5002)), IP, PROTO.UDP, 10), false, 'a flow never refused is not');
    icmpErrorBucket.refill(20);
    assert.equal(rc.drop6(a, IP, PROTO.UDP, 20), false);
  });
});
