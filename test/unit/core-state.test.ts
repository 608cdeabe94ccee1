/** Shared-memory state: restart over the same buffers, configure() reconciliation, control-plane readers. */
import * as assert from 'node:assert/strict';
import { Result } from '../../src/dataplane/core-api';
import { CoreConfigError } from '../../src/dataplane/core';
import { readBib, readSessions } from '../../src/dataplane/tables/read';
import { a4, ipv4, ipv6, PROTO, udp, tcp } from '../rfc/vectors/build';
import { POOL4, makeConfig, makeCore, range, run, staticEntry, u16At, u32At } from './helpers/core-harness';

const X = '2001:db8::8';
const Y6 = '64:ff9b::c633:6407';
const udp6 = (sport: number, dport = 53) => ipv6({ src: X, dst: Y6, nh: PROTO.UDP, l4: udp(sport, dport) });

describe('core: state in shared memory', () => {
  it('a new Nat64Core over the same buffers keeps every BIB entry, session, timer and the allocation cursor', () => {
    const a = makeCore(makeConfig({ udpTimeout: 1000 }));
    const out = run(a.core, 6, udp6(5000), 0);
    const t4 = u32At(out.pkt, 12), tp = u16At(out.pkt, 20);
    const b = makeCore(makeConfig({ udpTimeout: 1000 }), { buffers: a.buffers });
    assert.equal(b.core.tables.bib.count, 1);
    assert.equal(run(b.core, 4, ipv4({ src: '198.51.100.7', dst: t4, proto: PROTO.UDP, l4: udp(53, tp) }), 10).r, Result.EMIT6);
    const again = run(b.core, 6, udp6(5000), 20);
    assert.equal(u16At(again.pkt, 20), tp, 'same mapping after the restart');
    b.core.expire(1020);
    assert.equal(b.core.tables.sessions.count, 0, 'the expiry list survived too');
  });

  it('configure() removes dynamic entries whose pool4 address disappeared, keeps the others', () => {
    const two = makeConfig({}, [], { UDP: [range('203.0.113.1', 61001, 61100), range('203.0.113.2', 61001, 61100)] });
    const { core } = makeCore(two);
    for (let h = 0; h < 30; h++) {
      run(core, 6, ipv6({ src: `2001:db8::${h + 1}`, dst: Y6, nh: PROTO.UDP, l4: udp(5000, 53) }), 0);
    }
    const before = readBib(core.tables.buffers, 0);
    const on2 = before.filter((r) => r.ipv4 === '203.0.113.2').length;
    assert.ok(on2 > 0 && on2 < 30);
    core.configure(makeConfig({}, [], { UDP: [range('203.0.113.1', 61001, 61100)] }), []);
    const after = readBib(core.tables.buffers, 0);
    assert.equal(after.length, 30 - on2);
    assert.ok(after.every((r) => r.ipv4 === '203.0.113.1'));
    assert.equal(core.tables.sessions.count, 30 - on2);
  });

  it('configure() adds and removes static entries; a dynamic entry in the way of a static one gives way', () => {
    const { core } = makeCore();
    const out = run(core, 6, ipv6({ src: '2001:db8::80', dst: Y6, nh: PROTO.TCP, l4: tcp(80, 1234, [], 0x02) }), 0);
    assert.equal(out.r, Result.EMIT4);
    const cfg = makeConfig({}, [staticEntry('TCP', '2001:db8::80', 80, POOL4, 80)],
      { TCP: [range(POOL4, 80, 80), range(POOL4, 61001, 65535)] });
    core.configure(cfg, []);
    const rows = readBib(core.tables.buffers, 0, 'TCP');
    assert.deepEqual(rows.map((r) => [r.ipv6, r.ipv6Port, r.ipv4, r.ipv4Port, r.static]), [['2001:db8::80', 80, POOL4, 80, true]]);
    assert.equal(core.tables.sessions.count, 0);
    core.configure(makeConfig(), []);
    assert.equal(readBib(core.tables.buffers, 0).length, 0);
  });

  it('two static entries for one IPv4 transport address are refused with a coded error', () => {
    const cfg = makeConfig({}, [staticEntry('UDP', '2001:db8::1', 1, POOL4, 7000), staticEntry('UDP', '2001:db8::2', 1, POOL4, 7000)]);
    assert.throws(() => makeCore(cfg), (e: unknown) => e instanceof CoreConfigError && e.code === 'ERR_STATIC_BIB_CONFLICT');
  });
});

describe('tables: control-plane readers', () => {
  it('readSessions shows both sides, the TCP state and the remaining lifetime', () => {
    const { core } = makeCore(makeConfig({ tcpTransTimeout: 240000 }));
    run(core, 6, ipv6({ src: X, dst: Y6, nh: PROTO.TCP, l4: tcp(40000, 443, [], 0x02) }), 1000);
    run(core, 6, udp6(5000), 1000);
    const rows = readSessions(core.tables.buffers, 3, 61000);
    assert.equal(rows.length, 2);
    const t = rows.find((r) => r.protocol === 'TCP')!;
    assert.equal(t.ipv6Local, X);
    assert.equal(t.ipv6LocalPort, 40000);
    assert.equal(t.ipv6Remote, '64:ff9b::c633:6407');
    assert.equal(t.ipv6RemotePort, 443);
    assert.equal(t.ipv4Local, POOL4);
    assert.equal(t.ipv4Remote, '198.51.100.7');
    assert.equal(t.ipv4RemotePort, 443);
    assert.equal(t.state, 'V6_INIT');
    assert.equal(t.expiresInMs, 240000 - 60000);
    assert.equal(t.shard, 3);
    assert.equal(readSessions(core.tables.buffers, 3, 61000, 'UDP').length, 1);
  });

  it('skips a record being rewritten (odd sequence) and never throws on garbage', () => {
    const { core } = makeCore();
    run(core, 6, udp6(5000), 0);
    const bib = new Int32Array(core.tables.buffers.bib);
    bib[0] |= 1; // the shard is "in the middle of" writing entry 0
    assert.equal(readBib(core.tables.buffers, 0).length, 0);
    assert.equal(readSessions(core.tables.buffers, 0, 0).length, 0);
    bib[0] += 1;
    assert.equal(readBib(core.tables.buffers, 0).length, 1);
    // Random words everywhere: rows may be nonsense, but nothing throws.
    const ses = new Int32Array(core.tables.buffers.session);
    for (let i = 0; i < ses.length; i++) ses[i] = (Math.random() * 2 ** 32) | 0;
    for (let i = 0; i < bib.length; i++) bib[i] = (Math.random() * 2 ** 32) & ~1;
    assert.doesNotThrow(() => { readBib(core.tables.buffers, 0); readSessions(core.tables.buffers, 0, 0); });
  });

  it('readBib filters by protocol and marks static entries', () => {
    const { core } = makeCore(makeConfig({}, [staticEntry('ICMP', '2001:db8::80', 9, POOL4, 9)]));
    run(core, 6, udp6(5000), 0);
    assert.deepEqual(readBib(core.tables.buffers, 0, 'ICMP').map((r) => [r.static, r.ipv4Port]), [[true, 9]]);
    assert.deepEqual(readBib(core.tables.buffers, 0, 'UDP').map((r) => r.static), [false]);
    assert.equal(a4(readBib(core.tables.buffers, 0, 'UDP')[0].ipv4), a4(POOL4));
  });
});
