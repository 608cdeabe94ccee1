/**
 * RFC 4443 §2.4(f) / RFC 1812 §4.3.2.8: the ICMP errors the translator originates go through a
 * per-shard token bucket (translate/icmp-rate-limit.ts); over the rate, the packet is dropped with
 * icmp-error-rate-limited and no error is built. Checked through the core with Time Exceeded
 * (both families) and Packet Too Big.
 */
import * as assert from 'node:assert/strict';
import { COUNTERS } from '../../src/dataplane/counters';
import { Result } from '../../src/dataplane/core-api';
import { IcmpErrorBucket, icmpErrorBucket } from '../../src/dataplane/translate/icmp-rate-limit';
import { ipv4, ipv6, PROTO, udp } from '../rfc/vectors/build';
import { X, Y4, Y6, establish, type Flows } from '../fuzz/corpus';
import { OWN4, Rig } from '../fuzz/rig';

function run(rig: Rig, family: 4 | 6, pkt: Uint8Array): { r: Result; delta: Record<string, number> } {
  const core = rig.shards[0].core, c = rig.shards[0].counters;
  const before = Float64Array.from(c);
  rig.buf.set(pkt, rig.off);
  const r = family === 6
    ? core.process6(rig.buf, rig.off, pkt.length, pkt.length + 64, rig.now)
    : core.process4(rig.buf, rig.off, pkt.length, pkt.length + 64, rig.now);
  const delta: Record<string, number> = {};
  c.forEach((v, k) => { if (v !== before[k]) delta[COUNTERS[k].name] = v - before[k]; });
  return { r, delta };
}

describe('ICMP error rate limit (RFC 4443 §2.4(f))', () => {
  let rig: Rig;
  let f: Flows;
  const hop1 = () => ipv6({ src: X, dst: Y6, nh: PROTO.UDP, hop: 1, l4: udp(5000, 53) });
  beforeEach(() => {
    rig = new Rig(1, 1024);
    f = establish(rig);
  });
  afterEach(() => icmpErrorBucket.configure(0, 1, 0)); // other tests see the unlimited default

  it('unconfigured (unit tests, the fuzzer): no limit', () => {
    for (let i = 0; i < 200; i++) assert.equal(run(rig, 6, hop1()).r, Result.EMIT6);
  });

  it('a burst of 5 at 100/s: 5 Time Exceeded, then dropped with icmp-error-rate-limited, then 1 per 10 ms', () => {
    icmpErrorBucket.configure(100, 5, 0);
    for (let i = 0; i < 5; i++) {
      const { r, delta } = run(rig, 6, hop1());
      assert.equal(r, Result.EMIT6);
      assert.deepEqual(delta, { 'icmp-error-sent': 1, 'ttl-expired': 1 });
    }
    const limited = run(rig, 6, hop1());
    assert.equal(limited.r, Result.DROP);
    assert.deepEqual(limited.delta, { 'icmp-error-rate-limited': 1, 'ttl-expired': 1 }, 'the reason is counted, and the fate of its error');
    icmpErrorBucket.refill(10); // 10 ms at 100/s: one token
    assert.equal(run(rig, 6, hop1()).r, Result.EMIT6);
    assert.equal(run(rig, 6, hop1()).r, Result.DROP);
    icmpErrorBucket.refill(10_000); // a long quiet period refills up to the burst, no more
    for (let i = 0; i < 5; i++) assert.equal(run(rig, 6, hop1()).r, Result.EMIT6);
    assert.equal(run(rig, 6, hop1()).r, Result.DROP);
  });

  it('one bucket for both families and every error type (Time Exceeded v4, Packet Too Big)', () => {
    icmpErrorBucket.configure(1, 2, 0);
    const ttl4 = ipv4({ src: Y4, dst: OWN4, proto: PROTO.UDP, ttl: 1, l4: udp(53, f.tUdp) });
    assert.equal(run(rig, 4, ttl4).r, Result.EMIT4);
    const big = ipv6({ src: X, dst: Y6, nh: PROTO.UDP, l4: udp(5000, 53, new Array(1600).fill(7)) });
    const ptb = run(rig, 6, big);
    assert.equal(ptb.r, Result.EMIT6);
    assert.deepEqual(ptb.delta, { 'icmp-error-sent': 1, 'packet-too-big': 1 });
    assert.deepEqual(run(rig, 4, ttl4).delta, { 'icmp-error-rate-limited': 1, 'ttl-expired': 1 });
    assert.deepEqual(run(rig, 6, big).delta, { 'icmp-error-rate-limited': 1, 'packet-too-big': 1 });
    // Translation itself is never rate-limited.
    assert.equal(run(rig, 6, ipv6({ src: X, dst: Y6, nh: PROTO.UDP, l4: udp(5000, 53) })).r, Result.EMIT4);
  });

  it('a suppressed error (RFC 4443 §2.4(e)) does not spend a token', () => {
    icmpErrorBucket.configure(1, 1, 0);
    const toMulticast = ipv6({ src: 'ff02::1', dst: Y6, nh: PROTO.UDP, hop: 1, l4: udp(5000, 53) });
    assert.deepEqual(run(rig, 6, toMulticast).delta, { 'icmp-error-suppressed': 1, 'ttl-expired': 1 });
    assert.equal(run(rig, 6, hop1()).r, Result.EMIT6);
  });

  it('the bucket alone: fractional refills add up, a clock going backwards adds nothing', () => {
    const b = new IcmpErrorBucket();
    b.configure(1000, 1, 0);
    assert.equal(b.take(), true);
    assert.equal(b.take(), false);
    b.refill(0.5); assert.equal(b.take(), false);
    b.refill(1); assert.equal(b.take(), true);
    b.refill(0); assert.equal(b.take(), false);
  });
});
