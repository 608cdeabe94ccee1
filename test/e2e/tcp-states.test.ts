import { strict as assert } from 'node:assert';
import { DemoNetwork } from '../../src/demo/run-demo';
import { nsExec } from '../../src/demo/topology';
import { TcpActor } from './helpers/tcp-actor';

/**
 * The TCP state machine of RFC 6146 §3.5.2.2 driven by the real TCP stacks of the nodes, read back
 * with `session display --json` at each step. To stop a connection at a chosen state the test
 * briefly points one node's neighbour entry for the translator at a MAC nobody has (a permanent
 * entry, so ARP/ND from the translator cannot repair it): that node's segments are lost on the
 * wire (the translator counts them l2-not-for-us) and its kernel retransmits them once the entry
 * is removed. This also makes a simultaneous open deterministic: the IPv6 side's SYN is lost, the
 * IPv4 side's SYN reaches the IPv6 socket while it is still in SYN-SENT.
 */
const H6 = '2001:db8::2';
const R6 = '64:ff9b::cb00:7110';
const P4 = '203.0.113.1';
const H4 = '203.0.113.16';
const NOWHERE = '02:00:00:00:de:ad';
const TRANS_MS = 7 * 60000; // tcp-trans-timeout set below (default 4 min)
const EST_MS = 3 * 3600000; // tcp-est-timeout set below (default 2 h)
const SYN4_MS = 6000; // RFC 6146 §4 TCP_INCOMING_SYN

interface Row { ipv6LocalPort: number; ipv4LocalPort: number; ipv4RemotePort: number; ipv6RemotePort: number; state: string; expiresInMs: number; ipv4Local: string }

for (const shards of [1, 2]) {
  describe(`TCP state machine with real TCP stacks (RFC 6146 §3.5.2, ${shards} shard${shards > 1 ? 's' : ''})`, function () {
    this.timeout(120000);
    const net = new DemoNetwork({ prefix: `n64ts${shards}`, shards, log: () => undefined });
    const actors: TcpActor[] = [];
    let h6: string, h4: string;
    const actor = (ns: string) => { const a = new TcpActor(ns); actors.push(a); return a; };
    const ok = (args: string[]) => {
      const r = net.cli(['-i', 'example', ...args]);
      assert.equal(r.status, 0, `nat64 ${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    };
    const sessions = (): Row[] => JSON.parse(ok(['session', 'display', '--json', '--tcp'])) as Row[];
    const lose4 = () => nsExec(h4, ['ip', 'neigh', 'replace', P4, 'lladdr', NOWHERE, 'dev', 'eth0', 'nud', 'permanent']);
    const heal4 = () => nsExec(h4, ['ip', 'neigh', 'del', P4, 'dev', 'eth0']);
    const lose6 = () => nsExec(h6, ['ip', '-6', 'neigh', 'replace', '2001:db8::1', 'lladdr', NOWHERE, 'dev', 'eth0', 'nud', 'permanent']);
    const heal6 = () => nsExec(h6, ['ip', '-6', 'neigh', 'del', '2001:db8::1', 'dev', 'eth0']);

    /** Wait (bounded) until the session matching `pick` is in `state`; check its expiry against `lifetimeMs`. */
    async function expectState(pick: (r: Row) => boolean, state: string, lifetimeMs: number): Promise<Row> {
      let last: Row[] = [];
      for (let i = 0; i < 40; i++) {
        last = sessions().filter(pick);
        if (last.length === 1 && last[0].state === state) {
          const e = last[0].expiresInMs;
          assert.ok(e <= lifetimeMs && e > lifetimeMs - 30000, `${state}: expires in ${e} ms, expected about ${lifetimeMs}`);
          return last[0];
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.fail(`expected one session in ${state}, have ${JSON.stringify(last)}`);
    }

    before(async () => {
      await net.up();
      const r = net.cli(['instance', 'add', 'example', '--pool6', '64:ff9b::/96']);
      assert.equal(r.status, 0, r.stderr);
      [h6, h4] = [net.topology!.v6Nodes[0].ns, net.topology!.v4Node.ns];
      ok(['global', 'update', 'tcp-trans-timeout', '0:07:00']);
      ok(['global', 'update', 'tcp-est-timeout', '3:00:00']);
      // Dynamic ports as in the guide, plus two ports published with static BIB entries.
      ok(['pool4', 'add', P4, '61001-65535', '--tcp']);
      ok(['pool4', 'add', P4, '8000-8001', '--tcp']);
      ok(['bib', 'add', `${H6}#8000`, `${P4}#8000`, '--tcp']);
      ok(['bib', 'add', `${H6}#8001`, `${P4}#8001`, '--tcp']);
    });
    afterEach(() => {
      for (const a of actors.splice(0)) a.kill();
      try { heal4(); } catch { /* no entry */ }
      try { heal6(); } catch { /* no entry */ }
    });
    after(async () => { await net.down(); });

    it('an IPv6-initiated connection: V6_INIT -> ESTABLISHED -> V6_FIN_RCV -> V4_FIN_V6_FIN_RCV (expiry tcp-trans once both FINs passed)', async () => {
      const server = actor(h4), client = actor(h6);
      await server.ok(`listen ${H4} 9101`);
      lose4(); // the server's SYN-ACK is lost: the session waits in V6 INIT
      await client.ok(`connect ${R6} 9101 ${H6} 41001`);
      const mine = (r: Row) => r.ipv6LocalPort === 41001 && r.ipv4RemotePort === 9101;
      await expectState(mine, 'V6_INIT', TRANS_MS);
      heal4();
      assert.equal(await client.cmd('wait 10'), 'ok');
      assert.match(await server.ok('accept 10'), new RegExp(`^${P4.replace(/\./g, '\\.')} \\d+$`));
      await expectState(mine, 'ESTABLISHED', EST_MS);
      await client.ok('send hello');
      assert.equal(await server.ok('recv 5'), 'hello');
      await server.ok('send world');
      assert.equal(await client.ok('recv 5'), 'world');
      await client.ok('shutdown');
      assert.equal(await server.ok('recv 5'), '<eof>');
      await expectState(mine, 'V6_FIN_RCV', EST_MS);
      await server.ok('send late-data'); // half-closed: the other direction still flows
      assert.equal(await client.ok('recv 5'), 'late-data');
      await server.ok('shutdown');
      assert.equal(await client.ok('recv 5'), '<eof>');
      await expectState(mine, 'V4_FIN_V6_FIN_RCV', TRANS_MS);
      await client.ok('close');
      await server.ok('close');
    });

    for (const side of ['IPv6', 'IPv4'] as const) {
      it(`a RST from the ${side} side moves an established session to TRANS (expiry tcp-trans)`, async () => {
        const server = actor(h4), client = actor(h6);
        const cport = side === 'IPv6' ? 41002 : 41003;
        await server.ok(`listen ${H4} 9102`);
        await client.ok(`connect ${R6} 9102 ${H6} ${cport}`);
        assert.equal(await client.cmd('wait 10'), 'ok');
        await server.ok('accept 10');
        const mine = (r: Row) => r.ipv6LocalPort === cport && r.ipv4RemotePort === 9102;
        await expectState(mine, 'ESTABLISHED', EST_MS);
        await (side === 'IPv6' ? client : server).ok('rst');
        await expectState(mine, 'TRANS', TRANS_MS);
        // The other end saw the RST through the translator.
        assert.match(await (side === 'IPv6' ? server : client).cmd('recv 5'), /^err .*(reset|Connection)/i);
      });
    }

    it('an IPv4-initiated connection to a static BIB entry: V4_INIT -> ESTABLISHED -> V4_FIN_RCV -> V4_FIN_V6_FIN_RCV', async () => {
      const server = actor(h6), client = actor(h4);
      await server.ok(`listen ${H6} 8000`);
      lose6(); // the IPv6 server's SYN-ACK is lost: the session waits in V4 INIT
      await client.ok(`connect ${P4} 8000 ${H4} 9103`);
      const mine = (r: Row) => r.ipv6LocalPort === 8000 && r.ipv4RemotePort === 9103;
      await expectState(mine, 'V4_INIT', SYN4_MS);
      heal6();
      assert.equal(await client.cmd('wait 10'), 'ok');
      assert.equal(await server.ok('accept 10'), `${R6} 9103`, 'the IPv6 server sees the IPv4 client embedded in pool6');
      await expectState(mine, 'ESTABLISHED', EST_MS);
      await client.ok('send ping');
      assert.equal(await server.ok('recv 5'), 'ping');
      await client.ok('shutdown');
      assert.equal(await server.ok('recv 5'), '<eof>');
      await expectState(mine, 'V4_FIN_RCV', EST_MS);
      await server.ok('shutdown');
      assert.equal(await client.ok('recv 5'), '<eof>');
      await expectState(mine, 'V4_FIN_V6_FIN_RCV', TRANS_MS);
    });

    it('simultaneous open through the static mapping: both sockets connect(), the SYNs cross, V4_INIT -> ESTABLISHED', async () => {
      const a6 = actor(h6), a4 = actor(h4);
      const before = Number((JSON.parse(net.cli(['stats', 'display', '--json', '--all']).stdout) as Array<{ name: string; value: number }>)
        .find((c) => c.name === 'l2-not-for-us')?.value ?? 0);
      lose6();
      assert.equal(await a6.ok(`connect ${R6} 9104 ${H6} 8001`), '115', 'EINPROGRESS: the IPv6 SYN is on its way (to nowhere)');
      await new Promise((r) => setTimeout(r, 200));
      const mine = (r: Row) => r.ipv6LocalPort === 8001 && r.ipv4RemotePort === 9104;
      assert.equal(sessions().filter(mine).length, 0, 'the lost IPv6 SYN opened nothing');
      // The IPv4 socket connects to the IPv6 one; its SYN finds the IPv6 socket in SYN-SENT.
      await a4.ok(`connect ${P4} 8001 ${H4} 9104`);
      await expectState(mine, 'V4_INIT', SYN4_MS);
      heal6(); // the IPv6 side's SYN-ACK (its retransmission) now passes
      assert.equal(await a6.cmd('wait 10'), 'ok');
      assert.equal(await a4.cmd('wait 10'), 'ok');
      await expectState(mine, 'ESTABLISHED', EST_MS);
      await a6.ok('send from-v6');
      assert.equal(await a4.ok('recv 5'), 'from-v6');
      await a4.ok('send from-v4');
      assert.equal(await a6.ok('recv 5'), 'from-v4');
      const after = Number((JSON.parse(net.cli(['stats', 'display', '--json', '--all']).stdout) as Array<{ name: string; value: number }>)
        .find((c) => c.name === 'l2-not-for-us')?.value ?? 0);
      assert.ok(after > before, 'the IPv6 SYN was sent, and lost on purpose');
    });

    it('tcp-trans-timeout is what a closed session shows: a new value applies to the next close', async () => {
      ok(['global', 'update', 'tcp-trans-timeout', '0:05:30']);
      const server = actor(h4), client = actor(h6);
      await server.ok(`listen ${H4} 9105`);
      await client.ok(`connect ${R6} 9105 ${H6} 41005`);
      assert.equal(await client.cmd('wait 10'), 'ok');
      await server.ok('accept 10');
      await client.ok('rst');
      await expectState((r) => r.ipv6LocalPort === 41005 && r.ipv4RemotePort === 9105, 'TRANS', 330000);
    });
  });
}
