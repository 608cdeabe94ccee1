/**
 * Exhaustion recovers when load drops (issue 6). The daemon refuses a udp-timeout under RFC 6146's
 * 2 minutes, so the e2e test (test/e2e/reliability-exhaustion.test.ts) shows the drops and that
 * existing flows keep working; the recovery by expiry is shown here, on the core, with a short
 * timeout: pool4 running out and the session table filling up, then emptying.
 */
import * as assert from 'node:assert/strict';
import { Result } from '../../src/dataplane/core-api';
import { EXPIRE_BUDGET } from '../../src/dataplane/core';
import { ipv6, PROTO, udp } from '../rfc/vectors/build';
import { makeConfig, makeCore, n, range, run, POOL4 } from './helpers/core-harness';

const TIMEOUT = 1000; // ms: a core-level udp-timeout (the daemon's minimum is 2 minutes)
const flow = (srcPort: number, dstPort = 53) =>
  ipv6({ src: '2001:db8::5', dst: '64:ff9b::c633:6401', nh: PROTO.UDP, l4: udp(srcPort, dstPort) });

describe('exhaustion recovers when sessions expire', () => {
  it('pool4 of 3 ports: the 4th flow is dropped (pool4-exhausted), the first 3 keep working, and after expiry new flows map again', () => {
    const r3 = [range(POOL4, 61001, 61003)];
    const { core, c } = makeCore(makeConfig({ udpTimeout: TIMEOUT }, [], { UDP: r3 }));
    let now = 1000;
    for (let p = 1; p <= 3; p++) assert.equal(run(core, 6, flow(5000 + p), now).r, Result.EMIT4);
    assert.equal(run(core, 6, flow(5004), now).r, Result.EMIT6, 'not translated: Address Unreachable back to the node');
    assert.equal(n(c, 'pool4-exhausted'), 1);
    for (let p = 1; p <= 3; p++) assert.equal(run(core, 6, flow(5000 + p), now + 10).r, Result.EMIT4, 'existing flows keep working');
    // Load drops: nothing for longer than the timeout, then expiry frees the BIB entries and ports.
    now += TIMEOUT + 100;
    core.expire(now);
    assert.ok(n(c, 'session-expired') >= 3);
    for (let p = 4; p <= 6; p++) assert.equal(run(core, 6, flow(5000 + p), now).r, Result.EMIT4, `flow ${p} after recovery`);
    assert.equal(n(c, 'pool4-exhausted'), 1);
  });

  it('session table of 1024: new sessions dropped (session-table-full, answered with Address Unreachable), existing kept, recovered after expiry', () => {
    const { core, c } = makeCore(makeConfig({ udpTimeout: TIMEOUT }), { capacity: 1024 });
    const now = 1000;
    assert.equal(run(core, 6, flow(6000, 7), now).r, Result.EMIT4);
    let dropped = 0;
    // Not translated: RFC 6146 §3.5.1.1 Address Unreachable goes back to the node instead.
    for (let d = 0; d < 1100; d++) if (run(core, 6, flow(6001, 10000 + d), now).r === Result.EMIT6) dropped++;
    assert.ok(dropped >= 1100 - 1023, `dropped ${dropped}`);
    assert.equal(n(c, 'session-table-full'), dropped);
    assert.equal(n(c, 'icmp-error-sent'), dropped);
    assert.equal(run(core, 6, flow(6000, 7), now + 10).r, Result.EMIT4, 'the existing session still translates');
    core.expire(now + TIMEOUT + 100);
    const later = now + TIMEOUT + 200;
    for (let d = 0; d < 100; d++) assert.equal(run(core, 6, flow(6002, 20000 + d), later).r, Result.EMIT4);
  });
});

describe('expiry under churn (issue 11)', () => {
  it('expire() handles EXPIRE_BUDGET sessions per call and says when more are due, so the shard comes back at once', () => {
    const { core, c } = makeCore(makeConfig({ udpTimeout: TIMEOUT }), { capacity: 4096 });
    const now = 1000;
    const flows = EXPIRE_BUDGET * 2 + 100;
    for (let i = 0; i < flows; i++) assert.equal(run(core, 6, flow(10000 + (i % 50000), 1 + Math.floor(i / 50000)), now).r, Result.EMIT4);
    const later = now + TIMEOUT * 2;
    assert.equal(core.expire(later), true, 'budget spent, sessions still due');
    assert.equal(n(c, 'session-expired'), EXPIRE_BUDGET);
    assert.equal(core.expire(later), true);
    assert.equal(core.expire(later), false, 'all done');
    assert.equal(n(c, 'session-expired'), flows);
    assert.equal(core.expire(later + 1), false, 'nothing due');
    // The shard's per-burst calls while behind: a smaller budget, honoured exactly.
    for (let i = 0; i < 100; i++) assert.equal(run(core, 6, flow(20000 + i, 9), later).r, Result.EMIT4);
    assert.equal(core.expire(later + TIMEOUT * 2, 64), true);
    assert.equal(n(c, 'session-expired'), flows + 64);
    assert.equal(core.expire(later + TIMEOUT * 2, 64), false);
    assert.equal(n(c, 'session-expired'), flows + 100);
  });
});
