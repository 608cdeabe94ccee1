/**
 * Standby pool4 entries (an extension, docs/ha.md "A backup for each partition"): a peer's
 * partition this translator backs up. Ours for translation (IPv4 packets to it are translated when
 * a session exists) and for session sync (a peer's records apply into it), never allocated from for
 * new mappings. Control plane: `pool4 add --standby`, files' "standby": true, display, typed errors.
 */
import * as assert from 'node:assert/strict';
import { Pool4 } from '../../src/dataplane/tables/pool4';
import type { Pool4Range } from '../../src/dataplane/core-config';
import { Result } from '../../src/dataplane/core-api';
import { SR_STRIDE } from '../../src/dataplane/sync/record';
import { APPLY_RESULTS } from '../../src/dataplane/sync/apply';
import { ShardTables, allocateShardTables } from '../../src/dataplane/tables/shard-tables';
import { parseInstance, toCoreConfig, toInstanceFile } from '../../src/control/instance';
import { autoMaxIterations, pool4Add, pool4Rows } from '../../src/control/pool4';
import { parsePrefix4 } from '../../src/control/inet';
import { Nat64Error } from '../../src/control/errors';
import { a4, a6, ipv4, ipv6, PROTO, tcp, udp } from '../rfc/vectors/build';
import { makeConfig, n, range, u16At, u32At } from './helpers/core-harness';
import { SyncRig } from './helpers/sync-rig';

const UDP = 17;
const OWN = '203.0.113.9', PEER = '203.0.113.1';
const standby = (addr: string, min = 61001, max = 65535): Pool4Range => ({ ...range(addr, min, max), standby: true });
const Y6 = '64:ff9b::cb00:7110', Y4 = '203.0.113.16';

function records(j: SyncRig): Int32Array[] {
  const out: Int32Array[] = [];
  for (const r of j.readers) r.drain((w, o) => { out.push(w.slice(o, o + SR_STRIDE)); });
  return out;
}
const applied = (c: number[], name: (typeof APPLY_RESULTS)[number]) => c[APPLY_RESULTS.indexOf(name)];

describe('pool4 standby entries: the data plane', () => {
  it('never allocates from a standby range, though its ports are free and the own range fills', () => {
    const t = new ShardTables(allocateShardTables(4096));
    const p = new Pool4({ TCP: [], UDP: [range(OWN, 61000, 61063), standby(PEER, 61000, 61063)], ICMP: [] }, [], 0, 1, t.header);
    p.track(t.bib);
    let ok = 0;
    for (let h = 0; h < 80; h++) {
      // Source ports inside the standby range too: port preservation must not pick it either.
      if (!p.allocate(UDP, t.bib, a6(`2001:db8::${h + 1}`), 0, 61000 + (h % 64), a4('198.51.100.1'), 53, 0b1111)) continue;
      assert.equal(p.addr >>> 0, a4(OWN) >>> 0, 'every mapping on the own address');
      t.bib.insert(UDP, a6(`2001:db8::${h + 1}`), 0, 61000 + (h % 64), p.addr, p.port, false);
      ok++;
    }
    assert.equal(ok, 64, 'the own range is used up, then allocation fails (pool4 exhausted)');
    assert.equal(p.take(UDP, t.bib, a4(PEER), 61005), false, 'a held SYN cannot take a standby port');
    assert.ok(p.contains(UDP, a4(PEER), 61005) && !p.contains(UDP, a4(PEER), 61064), 'contains() covers the standby range');
    assert.ok(p.hasAddress(a4(PEER)), 'its address is ours for translation');
    assert.equal(p.freePorts(UDP, a4(PEER)), 0, 'no slice, no free ports');
  });

  it('a protocol with only standby ranges falls back to the port addresses for new mappings, as an empty pool4 does', () => {
    const t = new ShardTables(allocateShardTables(1024));
    const p = new Pool4({ TCP: [], UDP: [standby(PEER)], ICMP: [] }, [a4('192.0.2.1')], 0, 1, t.header);
    assert.ok(p.allocate(UDP, t.bib, a6('2001:db8::5'), 0, 40000, a4('198.51.100.1'), 53, 0b1111));
    assert.equal(p.addr >>> 0, a4('192.0.2.1') >>> 0);
    assert.ok(p.hasAddress(a4(PEER)));
  });

  it('session sync applies a peer\'s record into a standby range; both directions translate with the peer\'s transport address; new flows get the own range', async () => {
    const j = new SyncRig(1, makeConfig({ ssEnabled: true }, [], { UDP: [range(PEER, 61001, 65535)], TCP: [range(PEER, 61001, 65535)] }));
    const kCfg = (sb: boolean) => makeConfig({ ssEnabled: true }, [], {
      UDP: [range(OWN, 61001, 65535), ...(sb ? [standby(PEER)] : [])], TCP: [range(OWN, 61001, 65535), ...(sb ? [standby(PEER)] : [])] });
    const out = j.run(6, ipv6({ src: '2001:db8::2', dst: Y6, nh: PROTO.UDP, l4: udp(40000, 5353) }), 1000);
    const tcpOut = j.run(6, ipv6({ src: '2001:db8::2', dst: Y6, nh: PROTO.TCP, l4: tcp(40001, 80, [], 0x02) }), 1000);
    assert.equal(out.r, Result.EMIT4);
    const port4 = u16At(out.pkt, 20), tport4 = u16At(tcpOut.pkt, 20);
    const recs = records(j);
    // Without the standby entry the record is refused: not this translator's pool4.
    const plain = new SyncRig(1, kCfg(false));
    assert.equal(applied(await plain.syncApply(0, recs[0], 1), 'not-pool4'), 1);
    const k = new SyncRig(1, kCfg(true));
    for (const r of recs) assert.equal(applied(await k.syncApply(0, r, 1), 'applied'), 1);
    // IPv4 reply to the peer's transport address: translated by the backup.
    const back = k.run(4, ipv4({ src: Y4, dst: PEER, proto: PROTO.UDP, l4: udp(5353, port4) }), 1100);
    assert.equal(back.r, Result.EMIT6);
    const tback = k.run(4, ipv4({ src: Y4, dst: PEER, proto: PROTO.TCP, l4: tcp(80, tport4, [], 0x12) }), 1100);
    assert.equal(tback.r, Result.EMIT6, 'the TCP SYN-ACK too');
    // The IPv6 side keeps the peer's mapping.
    const again = k.run(6, ipv6({ src: '2001:db8::2', dst: Y6, nh: PROTO.UDP, l4: udp(40000, 5353) }), 1200);
    assert.equal(again.r, Result.EMIT4);
    assert.deepEqual([u32At(again.pkt, 12) >>> 0, u16At(again.pkt, 20)], [a4(PEER) >>> 0, port4]);
    // A new flow: the own range, never the standby one.
    for (let h = 0; h < 20; h++) {
      const fresh = k.run(6, ipv6({ src: `2001:db8::${h + 10}`, dst: Y6, nh: PROTO.UDP, l4: udp(port4, 5353) }), 1300);
      assert.equal(fresh.r, Result.EMIT4);
      assert.equal(u32At(fresh.pkt, 12) >>> 0, a4(OWN) >>> 0, `new flow ${h} on the own address`);
    }
    // An IPv4 packet to a standby transport address with no session: not translated, counted.
    const c = k.cores[0].c, before = n(c, 'translated-4to6');
    const stray = k.run(4, ipv4({ src: Y4, dst: PEER, proto: PROTO.UDP, l4: udp(5353, port4 === 61001 ? 61002 : 61001) }), 1400);
    assert.notEqual(stray.r, Result.EMIT6);
    assert.equal(n(c, 'translated-4to6'), before);
  });
});

describe('pool4 standby entries: the control plane', () => {
  const add = (entries: Parameters<typeof pool4Add>[0], prefix: string, min: number, max: number, sb = false) =>
    pool4Add(entries, { mark: 0, protocol: 'UDP', prefix: parsePrefix4(prefix, 'test'), portMin: min, portMax: max, standby: sb });

  it('standby ranges merge with standby ranges only; an overlap with the other kind is refused (E_POOL4_STANDBY_CONFLICT); touching ones stay apart', () => {
    let e = add([], PEER, 1000, 1999, true);
    e = add(e, PEER, 2000, 2999, true);
    assert.deepEqual(e.map((x) => [x.portMin, x.portMax, x.standby]), [[1000, 2999, true]]);
    e = add(e, PEER, 3000, 3999);
    assert.deepEqual(e.map((x) => [x.portMin, x.portMax, x.standby === true]), [[1000, 2999, true], [3000, 3999, false]]);
    assert.throws(() => add(e, PEER, 2500, 3500), (err: Nat64Error) => err.code === 'E_POOL4_STANDBY_CONFLICT'
      && /^pool4 add: UDP 203\.0\.113\.1 2500-3500 overlaps a standby entry \(1000-2999\); remove it first$/.test(err.message));
    assert.throws(() => add(e, PEER, 3500, 3600, true), (err: Nat64Error) => err.code === 'E_POOL4_STANDBY_CONFLICT');
    assert.deepEqual(pool4Rows(e).map((r) => r.standby), [true, false]);
    // auto max-iterations counts only the ranges that are allocated from.
    assert.equal(autoMaxIterations(add([], '203.0.113.0/24', 1, 65535, true), 0, 'UDP'), 1024);
  });

  it('files: "standby": true round-trips, reaches the core; a non-boolean is refused; a static BIB entry may not use a standby range', () => {
    const file = {
      instance: 'default', framework: 'netfilter', global: { pool6: '64:ff9b::/96' },
      pool4: [{ protocol: 'UDP', prefix: OWN }, { protocol: 'UDP', prefix: PEER, standby: true }],
    };
    const inst = parseInstance(file, 'instances[0]');
    // Sorted by address: the peer's (.1) first.
    assert.deepEqual(inst.pool4.map((e) => e.standby === true), [true, false]);
    const core = toCoreConfig(inst);
    assert.deepEqual(core.pool4.UDP.map((r) => r.standby === true), [true, false]);
    const back = toInstanceFile(inst);
    assert.deepEqual(back.pool4.map((e) => e.standby), [true, undefined]);
    assert.deepEqual(parseInstance(back, 'again').pool4, inst.pool4);
    assert.throws(() => parseInstance({ ...file, pool4: [{ protocol: 'UDP', prefix: PEER, standby: 'yes' }] }, 'instances[0]'),
      (err: Nat64Error) => err.code === 'E_BAD_VALUE' && /instances\[0\]\.pool4\[0\]\.standby: 'yes' is not true or false/.test(err.message));
    assert.throws(() => parseInstance({ ...file, bib: [{ protocol: 'UDP', 'ipv6 address': '2001:db8::5#53', 'ipv4 address': `${PEER}#61005` }] }, 'instances[0]'),
      (err: Nat64Error) => err.code === 'E_BIB_NOT_IN_POOL4');
  });
});
