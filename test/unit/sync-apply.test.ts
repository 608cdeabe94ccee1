/**
 * Session sync: a peer's records applied to a shard's tables (sync/apply.ts), directly (what each
 * check refuses) and through two SyncServices on real loopback UDP sockets (J with one shard, K with
 * two): sessions made by packets on J are found on K by both directions, with J's IPv4 transport
 * address, in the shard that owns it; late joiners get a dump; forged datagrams are counted and dropped.
 */
import * as assert from 'node:assert/strict';
import * as dgram from 'node:dgram';
import { Result } from '../../src/dataplane/core-api';
import { APPLY_RESULTS } from '../../src/dataplane/sync/apply';
import { SR_AGE, SR_STRIDE } from '../../src/dataplane/sync/record';
import { SyncService } from '../../src/control/sync/service';
import { hashOwner6 } from '../../src/dataplane/classify';
import { validateSync } from '../../src/control/sync/config';
import { HEADER_BYTES, MsgType, writeHeader } from '../../src/control/sync/wire';
import type { Pool4 } from '../../src/dataplane/tables/pool4';
import { echo, ipv4, ipv6, PROTO, tcp, udp } from '../rfc/vectors/build';
import { makeConfig, range, u16At, u32At } from './helpers/core-harness';
import { SyncRig } from './helpers/sync-rig';

const Y6 = '64:ff9b::cb00:7110';
const Y4 = '203.0.113.16';
const SYN = 0x02, ACK = 0x10, FIN = 0x01;
const ON = makeConfig({ ssEnabled: true });

/** J's records (drained from its rings) as one batch, as K's service would hand them over. */
function records(j: SyncRig): Int32Array[] {
  const out: Int32Array[] = [];
  for (const r of j.readers) r.drain((w, o) => { out.push(w.slice(o, o + SR_STRIDE)); });
  return out;
}
function count(c: number[], name: (typeof APPLY_RESULTS)[number]): number { return c[APPLY_RESULTS.indexOf(name)]; }
function pool4Of(rig: SyncRig, s: number): Pool4 { return (rig.cores[s].core as any).filtering.pool4 as Pool4; }

describe('session sync: applying a peer\'s records (one shard)', () => {
  it('a UDP session from J appears on K, marked as from a peer, and K\'s pool4 knows its port is taken', async () => {
    const j = new SyncRig(1), k = new SyncRig(1);
    const out = j.run(6, ipv6({ src: '2001:db8::2', dst: Y6, nh: PROTO.UDP, l4: udp(40000, 5353) }), 1000);
    assert.equal(out.r, Result.EMIT4);
    const port4 = u16At(out.pkt, 20);
    const recs = records(j);
    assert.equal(recs.length, 1, 'one record: session and BIB entry together');
    const free = pool4Of(k, 0).freePorts(17, 0xcb007101);
    const c = await k.syncApply(0, recs[0], 1);
    assert.equal(count(c, 'applied'), 1);
    const [row] = k.sessions();
    assert.deepEqual([row.ipv6Local, row.ipv6LocalPort, row.ipv4Local, row.ipv4LocalPort, row.ipv4Remote, row.ipv4RemotePort, row.origin],
      ['2001:db8::2', 40000, '203.0.113.1', port4, Y4, 5353, 'peer']);
    assert.equal(pool4Of(k, 0).freePorts(17, 0xcb007101), free - 1, 'the port bitmap follows');
    assert.equal(k.drainAll(), 0, 'an applied record is not sent on (no echo between peers)');
    // The IPv4 reply to that transport address is translated by K.
    const back = k.run(4, ipv4({ src: Y4, dst: '203.0.113.1', proto: PROTO.UDP, l4: udp(5353, port4) }), 1100);
    assert.equal(back.r, Result.EMIT6);
  });

  it('refuses: ss-enabled off, an IPv4 transport address outside pool4, a conflicting mapping, unknown contents', async () => {
    const j = new SyncRig(1);
    j.run(6, ipv6({ src: '2001:db8::2', dst: Y6, nh: PROTO.UDP, l4: udp(40000, 5353) }), 1000);
    const [rec] = records(j);
    const off = new SyncRig(1, makeConfig({ ssEnabled: false }));
    assert.equal(count(await off.syncApply(0, rec, 1), 'disabled'), 1);
    const other = new SyncRig(1, makeConfig({ ssEnabled: true }, [], { UDP: [range('203.0.113.9', 61001, 65535)] }));
    assert.equal(count(await other.syncApply(0, rec, 1), 'not-pool4'), 1, 'not ours to give');
    const k = new SyncRig(1);
    // K mapped the same IPv6 transport address itself, to another port: J's record must not replace it.
    k.run(6, ipv6({ src: '2001:db8::2', dst: Y6, nh: PROTO.UDP, l4: udp(40000, 9999) }), 1000);
    const mine = k.sessions()[0].ipv4LocalPort;
    const forged = rec.slice();
    forged[5] = (forged[5] & ~0xffff) | (mine === 65000 ? 65001 : 65000);
    assert.equal(count(await k.syncApply(0, forged, 1), 'conflict'), 1);
    const bad = rec.slice(); bad[0] = (bad[0] & ~0xff00) | (47 << 8);
    assert.equal(count(await k.syncApply(0, bad, 1), 'bad-record'), 1);
    assert.equal(k.sessions().length, 1);
  });

  it('TCP state changes follow; a removal on J removes K\'s copy and its BIB entry; the age sets the last use', async () => {
    const j = new SyncRig(1), k = new SyncRig(1);
    const t = Date.now();
    const syn = j.run(6, ipv6({ src: '2001:db8::2', dst: Y6, nh: PROTO.TCP, l4: tcp(40001, 80, [], SYN) }), t);
    const port4 = u16At(syn.pkt, 20);
    j.run(4, ipv4({ src: Y4, dst: '203.0.113.1', proto: PROTO.TCP, l4: tcp(80, port4, [], SYN | ACK) }), t + 1);
    for (const r of records(j)) await k.syncApply(0, r, 1);
    assert.equal(k.sessions()[0].state, 'ESTABLISHED');
    j.run(6, ipv6({ src: '2001:db8::2', dst: Y6, nh: PROTO.TCP, l4: tcp(40001, 80, [], FIN | ACK) }), t + 2);
    for (const r of records(j)) await k.syncApply(0, r, 1);
    assert.equal(k.sessions()[0].state, 'V6_FIN_RCV');
    j.cores[0].core.expire(t + 3 * 3600_000);
    const rm = records(j);
    assert.equal(rm.length, 1, 'one REMOVE record');
    assert.equal(count(await k.syncApply(0, rm[0], 1), 'applied'), 1);
    assert.equal(k.sessions().length, 0);
    assert.equal(k.cores[0].core.tables.bib.count, 0, 'the dynamic BIB entry went with its last session');
  });

  it('a removal leaves a copy this translator used after the peer\'s last use (it serves that flow now)', async () => {
    const j = new SyncRig(1), k = new SyncRig(1);
    const t0 = Date.now();
    const out = j.run(6, ipv6({ src: '2001:db8::2', dst: Y6, nh: PROTO.UDP, l4: udp(40000, 5353) }), t0 - 5000);
    await k.syncApply(0, records(j)[0], 1);
    // K translates the flow now (the addresses moved to K); J expires its own copy and says so.
    k.run(4, ipv4({ src: Y4, dst: '203.0.113.1', proto: PROTO.UDP, l4: udp(5353, u16At(out.pkt, 20)) }), t0);
    j.cores[0].core.expire(t0 + 10 * 60_000);
    const [rm] = records(j);
    assert.ok(rm[SR_AGE] >= 5000, 'the removal carries how old J\'s view is');
    assert.equal(count(await k.syncApply(0, rm, 1), 'stale'), 1);
    assert.equal(k.sessions().length, 1);
  });

  it('a record\'s age becomes the session\'s last use (bounded by the timeout)', async () => {
    const j = new SyncRig(1), k = new SyncRig(1);
    j.run(6, ipv6({ src: '2001:db8::2', dst: Y6, nh: PROTO.UDP, l4: udp(40000, 5353) }), 1000);
    const [rec] = records(j);
    rec[SR_AGE] = 100_000;
    await k.syncApply(0, rec, 1);
    const left = k.sessions()[0].expiresInMs;
    assert.ok(left > 195_000 && left <= 200_000, `UDP 5 min - 100 s, got ${left}`);
  });
});

// ---- two services on loopback -------------------------------------------------------------------

async function until(what: string, ok: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

let nextPort = 26400 + Math.floor(Math.random() * 2000) * 2;
function service(rig: SyncRig, port: number, peerPort: number, extra: Record<string, unknown> = {}): SyncService {
  return new SyncService(validateSync({ address: '127.0.0.1', port, peers: [`127.0.0.1#${peerPort}`], refreshMs: 0, ...extra }), rig);
}

/** Watch (and maybe drop: pass false) every datagram a service sends. */
function tap(svc: SyncService, pass: (b: Buffer) => boolean): void {
  const sock = (svc as unknown as { socket: dgram.Socket }).socket;
  const real = sock.send.bind(sock) as (...a: unknown[]) => void;
  (sock as unknown as { send: (...a: unknown[]) => void }).send = (...a: unknown[]) => {
    if (pass(a[0] as Buffer)) real(...a);
    else (a[a.length - 1] as () => void)();
  };
}

describe('session sync: two translators over loopback UDP (J 1 shard, K 2 shards)', () => {
  const services: SyncService[] = [];
  afterEach(async () => { for (const s of services.splice(0)) await s.stop(); });
  function pair(jRig: SyncRig, kRig: SyncRig, extra: Record<string, unknown> = {}) {
    const pj = nextPort++, pk = nextPort++;
    const J = service(jRig, pj, pk, extra), K = service(kRig, pk, pj, extra);
    services.push(J, K);
    return { J, K, pj, pk };
  }

  it('UDP, TCP and ping sessions made on J are used by both directions on K, with J\'s IPv4 transport addresses', async () => {
    const j = new SyncRig(1), k = new SyncRig(2);
    const { J, K } = pair(j, k);
    await J.start(); await K.start();
    J.setGlobals(ON.globals); K.setGlobals(ON.globals);
    // Several flows so that some hash to the other shard of K than their port's owner (the redirect).
    const flows: Array<{ proto: number; sport: number; port4: number }> = [];
    for (let i = 0; i < 8; i++) {
      const u = j.run(6, ipv6({ src: '2001:db8::2', dst: Y6, nh: PROTO.UDP, l4: udp(41000 + i, 5353) }), Date.now());
      flows.push({ proto: PROTO.UDP, sport: 41000 + i, port4: u16At(u.pkt, 20) });
    }
    const t = j.run(6, ipv6({ src: '2001:db8::3', dst: Y6, nh: PROTO.TCP, l4: tcp(42000, 80, [], SYN) }), Date.now());
    const tport = u16At(t.pkt, 20);
    j.run(4, ipv4({ src: Y4, dst: '203.0.113.1', proto: PROTO.TCP, l4: tcp(80, tport, [], SYN | ACK) }), Date.now());
    const p = j.run(6, ipv6({ src: '2001:db8::2', dst: Y6, nh: PROTO.ICMPV6, l4: echo(128, 777, 1) }), Date.now());
    const icmpId4 = u16At(p.pkt, 24);
    await until('10 sessions on K', () => k.sessions().length === 10);
    assert.ok(k.sessions().every((r) => r.origin === 'peer'));
    assert.equal(k.sessions().find((r) => r.protocol === 'TCP')!.state, 'ESTABLISHED');
    for (const f of flows) {
      const owner = f.port4 % 2;
      const v4 = k.run(4, ipv4({ src: Y4, dst: '203.0.113.1', proto: PROTO.UDP, l4: udp(5353, f.port4) }), Date.now());
      assert.deepEqual([v4.shard, v4.r], [owner, Result.EMIT6], 'IPv4 reply: the port owner translates it');
      const v6 = k.run(6, ipv6({ src: '2001:db8::2', dst: Y6, nh: PROTO.UDP, l4: udp(f.sport, 5353) }), Date.now());
      assert.deepEqual([v6.shard, v6.r, u16At(v6.pkt, 20), u32At(v6.pkt, 12)], [owner, Result.EMIT4, f.port4, 0xcb007101],
        'IPv6 packet: same shard, same IPv4 transport address');
    }
    assert.ok(k.redirect.count > 0, 'some flows needed the redirect (hash owner != port owner)');
    const tcp4 = k.run(4, ipv4({ src: Y4, dst: '203.0.113.1', proto: PROTO.TCP, l4: tcp(80, tport, [1], ACK) }), Date.now());
    assert.equal(tcp4.r, Result.EMIT6);
    const tcp6 = k.run(6, ipv6({ src: '2001:db8::3', dst: Y6, nh: PROTO.TCP, l4: tcp(42000, 80, [1], ACK) }), Date.now());
    assert.deepEqual([tcp6.r, u16At(tcp6.pkt, 20)], [Result.EMIT4, tport], 'no SYN needed: the session is ESTABLISHED on K');
    const ping = k.run(6, ipv6({ src: '2001:db8::2', dst: Y6, nh: PROTO.ICMPV6, l4: echo(128, 777, 2) }), Date.now());
    assert.deepEqual([ping.r, u16At(ping.pkt, 24)], [Result.EMIT4, icmpId4]);
    assert.equal(k.cores.reduce((n, c) => n + c.core.tables.bib.count, 0), 10, 'no new mapping was made on K');
    assert.ok(K.stats['sync-applied'] >= 10);
  });

  it('a later mapping of the same IPv6 transport address leads its IPv6 side to its own port\'s shard', async () => {
    // J with a one-port pool4, so the test picks the ports: first one whose owner on K differs
    // from the IPv6 hash (a redirect), then, after a removal, one whose owner is the hash's.
    const a6 = new Uint8Array([0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 2]);
    const h = hashOwner6(PROTO.UDP, a6, 0, 40000, 2);
    const p1 = h === 0 ? 61001 : 61002, p2 = h === 0 ? 61002 : 61001;
    const only = (p: number) => makeConfig({ ssEnabled: true }, [], { UDP: [range('203.0.113.1', p, p)] });
    const j = new SyncRig(1, only(p1)), k = new SyncRig(2);
    const { J, K } = pair(j, k);
    await J.start(); await K.start();
    J.setGlobals(ON.globals); K.setGlobals(ON.globals);
    const send6 = (rig: SyncRig) => rig.run(6, ipv6({ src: '2001:db8::2', dst: Y6, nh: PROTO.UDP, l4: udp(40000, 5353) }), Date.now());
    assert.equal(u16At(send6(j).pkt, 20), p1);
    await until('first mapping on K', () => k.sessions().length === 1);
    j.configure(only(p2)); // p1 leaves pool4: J removes the mapping and says so
    await until('removed on K', () => k.sessions().length === 0);
    assert.equal(u16At(send6(j).pkt, 20), p2);
    await until('second mapping on K', () => k.sessions().length === 1);
    const v6 = send6(k);
    assert.deepEqual([v6.shard, v6.r, u16At(v6.pkt, 20)], [p2 % 2, Result.EMIT4, p2]);
    assert.deepEqual(k.sessions().map((r) => r.origin), ['peer'], 'no mapping of K\'s own');
  });

  it('a late joiner gets a full dump; a removal on J propagates', async () => {
    const j = new SyncRig(1), k = new SyncRig(2);
    for (let i = 0; i < 300; i++) j.run(6, ipv6({ src: '2001:db8::2', dst: Y6, nh: PROTO.UDP, l4: udp(30000 + i, 5353) }), Date.now());
    j.drainAll(); // made before anyone listened: only a dump can tell K
    const { J, K } = pair(j, k);
    await J.start(); J.setGlobals(ON.globals);
    await K.start(); K.setGlobals(ON.globals);
    await until('the dump', () => k.sessions().length === 300);
    assert.equal(J.stats['sync-dump-requests-received'], 1);
    assert.equal(J.stats['sync-dump-records-sent'], 300);
    j.cores[0].core.expire(Date.now() + 10 * 60_000);
    await until('the removals', () => k.sessions().length === 0);
  });

  it('forged datagrams are counted and dropped: wrong source, no or bad MAC, garbage, replays', async () => {
    const key = 'this is the shared key, 35 chars..';
    const j = new SyncRig(1), k = new SyncRig(1);
    const { J, K, pk } = pair(j, k, { key });
    await J.start(); await K.start();
    J.setGlobals(ON.globals); K.setGlobals(ON.globals);
    await until('J known to K', () => K.stats['sync-received'] > 0);
    const send = async (b: Buffer, from = '127.0.0.1') => {
      const s = dgram.createSocket('udp4');
      await new Promise<void>((r) => s.bind(0, from, () => r()));
      await new Promise<void>((r) => s.send(b, pk, '127.0.0.1', () => r()));
      s.close();
    };
    const unsigned = Buffer.alloc(HEADER_BYTES);
    writeHeader(unsigned, MsgType.RECORDS, 0, { hi: 0xffffffff, lo: 1 }, 1, Date.now(), 0);
    const before = { ...K.stats };
    await send(unsigned, '127.0.0.2');
    await until('source refusal', () => K.stats['sync-rejected-source'] === before['sync-rejected-source'] + 1);
    await send(unsigned);
    await until('auth refusal', () => K.stats['sync-rejected-auth'] === before['sync-rejected-auth'] + 1);
    const signedWrong = Buffer.concat([unsigned, Buffer.alloc(32, 7)]); signedWrong[6] = 1;
    await send(signedWrong);
    await until('bad MAC', () => K.stats['sync-rejected-auth'] === before['sync-rejected-auth'] + 2);
    await send(Buffer.from('GET / HTTP/1.0\r\n\r\n'));
    await until('garbage', () => K.stats['sync-rejected-malformed'] === before['sync-rejected-malformed'] + 1);
    assert.equal(k.sessions().length, 0);
    // A datagram of J's, captured and replayed: right source, right MAC, an old sequence number.
    let captured: Buffer | null = null;
    tap(J, (b) => { if (b.readUInt16BE(28) > 0) captured = Buffer.from(b); return true; });
    j.run(6, ipv6({ src: '2001:db8::2', dst: Y6, nh: PROTO.UDP, l4: udp(40000, 5353) }), Date.now());
    await until('J\'s session on K', () => k.sessions().length === 1 && captured !== null);
    await send(captured!);
    await until('replay refusal', () => K.stats['sync-rejected-replay'] === before['sync-rejected-replay'] + 1);
    assert.equal(K.stats['sync-applied'], 1);
  });

  it('a gap in J\'s stream makes K ask J for a dump, which repairs what was lost', async () => {
    const j = new SyncRig(1), k = new SyncRig(1);
    const { J, K } = pair(j, k);
    await J.start(); await K.start();
    J.setGlobals(ON.globals); K.setGlobals(ON.globals);
    await until('J known to K', () => K.stats['sync-received'] > 1);
    // The link loses J's next datagram with records.
    let lost = 0;
    tap(J, (b) => { if (lost === 0 && b.readUInt16BE(28) > 0) { lost++; return false; } return true; });
    j.run(6, ipv6({ src: '2001:db8::2', dst: Y6, nh: PROTO.UDP, l4: udp(40000, 5353) }), Date.now());
    await until('the loss', () => lost === 1);
    j.run(6, ipv6({ src: '2001:db8::2', dst: Y6, nh: PROTO.UDP, l4: udp(40001, 5353) }), Date.now());
    await until('both sessions on K (the lost one from the dump)', () => k.sessions().length === 2, 5000);
    assert.ok(K.stats['sync-gaps'] >= 1);
    assert.ok(J.stats['sync-dump-requests-received'] >= 2, 'the start-up dump and the repair');
  });
});
