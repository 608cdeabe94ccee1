import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DemoNetwork } from '../../src/demo/run-demo';
import { httpCheck, pingCheck, udpCheck } from '../../src/demo/checks';
import { JOOL_NAT64_SAMPLE } from '../fixtures/jool-nat64-sample';

type Row = Record<string, unknown>;

/**
 * Every `nat64` command against the real daemon (1 shard, DPDK net_af_packet on the user guide's
 * network): happy paths, the documented --json/--csv shapes (docs/cli.md, docs/control-protocol.md),
 * and bad input refused with one line, a non-zero exit and an unchanged configuration.
 */
describe('nat64 CLI against the real daemon', function () {
  this.timeout(120000);
  const net = new DemoNetwork({ prefix: 'n64cl', shards: 1, log: () => undefined });
  const run = (args: string[]) => net.cli(args);
  const ok = (args: string[]) => {
    const r = run(args);
    assert.equal(r.status, 0, `nat64 ${args.join(' ')}: ${r.stderr}${r.stdout}`);
    return r.stdout;
  };
  const json = <T = Row[]>(args: string[]): T => JSON.parse(ok([...args, '--json'])) as T;
  /** The whole configuration of the instance, as an atomic-configuration file. */
  const config = (instance = 'default') => ok(['-i', instance, 'file', 'display']);
  /** Expected to fail: exit != 0, one line on stderr, no stack trace, nothing changed. */
  const refused = (args: string[], pattern?: RegExp, instance = 'default') => {
    const before = config(instance);
    const r = run(args);
    assert.notEqual(r.status, 0, `should fail: nat64 ${args.join(' ')}\n${r.stdout}`);
    const lines = r.stderr.trim().split('\n');
    assert.ok(r.stderr.trim().length > 0, `a message: nat64 ${args.join(' ')}`);
    // Usage mistakes: clipanion's one-line message, then the command's usage line.
    if (!/^(Usage Error|Unknown Syntax Error)/.test(r.stderr)) assert.equal(lines.length, 1, `one line: ${r.stderr}`);
    assert.ok(!/\n\s+at /.test(r.stderr), `no stack trace: ${r.stderr}`);
    if (pattern) assert.match(r.stderr, pattern);
    assert.equal(config(instance), before, `configuration unchanged after nat64 ${args.join(' ')}`);
    return r.stderr;
  };
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const curl = (node: number) => httpCheck(net.topology!, node);

  before(async () => { await net.up(); });
  after(async () => { await net.down(); });

  describe('instance', () => {
    it('display is empty and status says why before any instance exists', () => {
      assert.deepEqual(json(['instance', 'display']), []);
      assert.equal(ok(['instance', 'status']).trim(), 'Stopped (instance does not exist)');
      assert.deepEqual(json<Row>(['instance', 'status']), { instance: 'default', status: 'Stopped', reason: 'instance does not exist' });
    });

    it('add with a bad pool6 is refused and nothing is created', () => {
      for (const bad of ['64:ff9b::/95', '64:ff9b::1/96', 'nonsense', '203.0.113.0/24']) {
        const r = run(['instance', 'add', '--pool6', bad]);
        assert.notEqual(r.status, 0, bad);
        assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      }
      assert.deepEqual(json(['instance', 'display']), []);
    });

    it('add (default name), display --json/--csv/table, status', () => {
      ok(['instance', 'add', '--pool6', '64:ff9b::/96']);
      assert.deepEqual(json(['instance', 'display']), [{ name: 'default', framework: 'netfilter', pool6: '64:ff9b::/96', status: 'Running' }]);
      assert.equal(ok(['instance', 'display', '--csv']), 'name,framework,pool6,status\ndefault,netfilter,64:ff9b::/96,Running\n');
      assert.match(ok(['instance', 'display']), /^Name\s+Framework\s+pool6\s+Status\n-+/);
      assert.equal(ok(['instance', 'status']).trim(), 'Running');
      assert.equal(pingCheck(net.topology!, 0).ok, true, 'translates');
    });

    it('a second instance, or the same one twice, is refused', () => {
      refused(['instance', 'add', '--pool6', '64:ff9b::/96'], /already exists/);
      refused(['instance', 'add', 'other', '--pool6', '64:ff9b::/96'], /already translates/);
    });

    it('remove and flush stop translation; add brings it back', () => {
      ok(['instance', 'remove']);
      assert.deepEqual(json(['instance', 'display']), []);
      ok(['instance', 'add', 'alpha', '--pool6', '64:ff9b::/96', '--iptables']);
      assert.deepEqual(json(['-i', 'alpha', 'instance', 'display']), [{ name: 'alpha', framework: 'iptables', pool6: '64:ff9b::/96', status: 'Running' }]);
      ok(['instance', 'flush']);
      assert.deepEqual(json(['instance', 'display']), []);
      assert.equal(pingCheck(net.topology!, 0, 1).ok, false, 'no instance: no translation');
      ok(['instance', 'add', '--pool6', '64:ff9b::/96']);
    });

    it('a missing instance is named in a one-line error', () => {
      for (const args of [['pool4', 'display'], ['bib', 'display'], ['session', 'display'], ['global', 'display'],
        ['global', 'update', 'tos', '1'], ['pool4', 'add', '203.0.113.1'], ['file', 'display'], ['instance', 'remove']]) {
        refused(['-i', 'nosuch', ...args], /instance 'nosuch' does not exist/);
      }
    });
  });

  describe('pool4', () => {
    it('add per protocol, display --json/--csv/table', () => {
      ok(['pool4', 'add', '203.0.113.1', '61001-65535', '--udp']);
      ok(['pool4', 'add', '203.0.113.1', '61001-65535']); // --tcp by default, as Jool
      ok(['pool4', 'add', '--icmp', '203.0.113.1', '0-65535', '--max-iterations', '5000']);
      const rows = json(['pool4', 'display']);
      assert.deepEqual(rows.map((r) => Object.keys(r).sort()),
        rows.map(() => ['address', 'mark', 'maxIterations', 'maxIterationsMode', 'portMax', 'portMin', 'protocol', 'standby']));
      assert.deepEqual(rows.map((r) => [r.protocol, r.address, r.portMin, r.portMax, r.maxIterationsMode]).sort(),
        [['ICMP', '203.0.113.1', 0, 65535, 'fixed'], ['TCP', '203.0.113.1', 61001, 65535, 'auto'], ['UDP', '203.0.113.1', 61001, 65535, 'auto']]);
      assert.deepEqual(json(['pool4', 'display', '--udp']).map((r) => r.protocol), ['UDP']);
      const csv = ok(['pool4', 'display', '--tcp', '--csv']).split('\n');
      assert.equal(csv[0], 'mark,protocol,maxIterations,maxIterationsMode,address,portMin,portMax');
      assert.match(csv[1], /^0,TCP,\d+,auto,203\.0\.113\.1,61001,65535$/);
      assert.match(ok(['pool4', 'display', '--icmp']), /5000 \(fixed\)\s+203\.0\.113\.1\s+0-65535/);
      assert.equal(udpCheck(net.topology!, 0).ok, true);
      assert.equal(curl(0).ok, true);
    });

    it('remove a port range splits the entry', () => {
      ok(['pool4', 'add', '203.0.113.1', '1000-1999', '--udp']);
      ok(['pool4', 'remove', '203.0.113.1', '1500-1599', '--udp']);
      const udp = json(['pool4', 'display', '--udp']).map((r) => `${r.portMin}-${r.portMax}`).sort();
      assert.deepEqual(udp, ['1000-1499', '1600-1999', '61001-65535']);
      ok(['pool4', 'remove', '203.0.113.1', '1000-1999', '--udp']);
      assert.deepEqual(json(['pool4', 'display', '--udp']).map((r) => `${r.portMin}-${r.portMax}`), ['61001-65535']);
    });

    it('remove cascades to static BIB entries unless --quick', () => {
      const staticTcp = () => (JSON.parse(config()).bib as Row[]).filter((b) => b.protocol === 'TCP');
      ok(['pool4', 'add', '203.0.113.1', '80', '--tcp']);
      ok(['bib', 'add', '2001:db8::2#80', '203.0.113.1#80', '--tcp']);
      ok(['pool4', 'remove', '203.0.113.1', '80', '--tcp', '--quick']);
      assert.equal(staticTcp().length, 1, '--quick keeps the entry (inactive)');
      ok(['pool4', 'add', '203.0.113.1', '80', '--tcp']);
      ok(['pool4', 'remove', '203.0.113.1', '80', '--tcp']);
      assert.equal(staticTcp().length, 0, 'without --quick the entry goes with its address');
      assert.ok(!json(['bib', 'display', '--tcp']).some((b) => b.static === true));
    });

    it('flush --quick keeps static BIB entries, flush removes them', () => {
      const saved = config();
      ok(['pool4', 'add', '203.0.113.1', '80', '--tcp']);
      ok(['bib', 'add', '2001:db8::2#80', '203.0.113.1#80', '--tcp']);
      ok(['pool4', 'flush', '--quick']);
      const afterQuick = JSON.parse(config());
      assert.deepEqual([afterQuick.pool4.length, afterQuick.bib.length], [0, 1]);
      ok(['pool4', 'flush']);
      const afterFlush = JSON.parse(config());
      assert.deepEqual([afterFlush.pool4.length, afterFlush.bib.length], [0, 0]);
      assert.equal(pingCheck(net.topology!, 0).ok, true, 'empty pool4: the port address is used, as Jool');
      // Put the pool4 of the previous steps back through the atomic configuration.
      const file = path.join(net.dir, 'saved.json');
      fs.writeFileSync(file, saved);
      ok(['file', 'handle', file]);
      assert.equal(config(), saved);
    });

    it('bad prefixes and port ranges are refused', () => {
      refused(['pool4', 'add', '203.0.113.1/33'], /prefix/);
      refused(['pool4', 'add', '203.0.113.1/24'], /prefix|host/);
      refused(['pool4', 'add', '2001:db8::1'], /prefix|IPv4/);
      refused(['pool4', 'add', '10.0.0.0/8'], /force|large|addresses/);
      refused(['pool4', 'add', '203.0.113.1', '70000', '--udp'], /port/);
      refused(['pool4', 'add', '203.0.113.1', '200-100', '--udp'], /port/);
      refused(['pool4', 'add', '203.0.113.1', 'abc', '--udp'], /port/);
      refused(['pool4', 'add', '203.0.113.1', '--tcp', '--udp']);
      refused(['pool4', 'add', '203.0.113.1', '--max-iterations', 'lots']);
      refused(['pool4', 'remove', '198.51.100.1'], /pool4/);
    });
  });

  describe('bib', () => {
    it('add, display --json (static and dynamic), remove by either side', () => {
      ok(['pool4', 'add', '203.0.113.1', '80', '--tcp']);
      ok(['bib', 'add', '2001:db8::2#80', '203.0.113.1#80']);
      assert.equal(curl(1).ok, true); // a dynamic TCP entry for 2001:db8::3
      const rows = json(['bib', 'display', '--tcp']);
      assert.ok(rows.every((r) => Object.keys(r).sort().join() === 'ipv4,ipv4Port,ipv6,ipv6Port,protocol,shard,static'), JSON.stringify(rows));
      assert.ok(rows.some((r) => r.static === true && r.ipv6 === '2001:db8::2' && r.ipv6Port === 80 && r.ipv4 === '203.0.113.1' && r.ipv4Port === 80 && r.shard === 0));
      assert.ok(rows.some((r) => r.static === false && r.ipv6 === '2001:db8::3' && r.ipv4 === '203.0.113.1'), JSON.stringify(rows));
      assert.equal(ok(['bib', 'display', '--tcp', '--csv']).split('\n')[0], 'protocol,ipv6,ipv6Port,ipv4,ipv4Port,static,shard');
      assert.match(ok(['bib', 'display', '--tcp']), /TCP\s+2001:db8::2#80\s+203\.0\.113\.1#80\s+static\s+0/);
      ok(['bib', 'remove', '203.0.113.1#80', '--tcp']);
      assert.ok(!json(['bib', 'display', '--tcp']).some((r) => r.static === true));
      ok(['bib', 'add', '2001:db8::2#80', '203.0.113.1#80', '--tcp']);
      ok(['bib', 'remove', '2001:db8::2#80', '--tcp']);
      assert.equal((JSON.parse(config()).bib as Row[]).length, 0);
    });

    it('bad transport addresses, an IPv4 side outside pool4 and duplicates are refused', () => {
      ok(['bib', 'add', '2001:db8::2#80', '203.0.113.1#80', '--tcp']);
      refused(['bib', 'add', '2001:db8::2#99999', '203.0.113.1#81', '--tcp'], /port|transport/);
      refused(['bib', 'add', '2001:db8::2', '203.0.113.1#80', '--tcp']);
      refused(['bib', 'add', 'nonsense', '203.0.113.1#80', '--tcp']);
      refused(['bib', 'add', '2001:db8::3#80', '198.51.100.1#80', '--tcp'], /pool4/);
      refused(['bib', 'add', '2001:db8::3#8080', '203.0.113.1#80', '--tcp']);
      refused(['bib', 'remove', '2001:db8::9#80', '--tcp']);
      refused(['bib', 'remove', '--tcp']);
    });
  });

  describe('session', () => {
    it('display shows both sides, state and the time to expiry', () => {
      assert.equal(udpCheck(net.topology!, 0).ok, true);
      assert.equal(pingCheck(net.topology!, 0, 1).ok, true);
      const rows = json(['session', 'display']);
      const fields = 'protocol,ipv6Local,ipv6LocalPort,ipv6Remote,ipv6RemotePort,ipv4Local,ipv4LocalPort,ipv4Remote,ipv4RemotePort,state,expiresInMs,shard,origin';
      assert.ok(rows.length >= 2);
      assert.ok(rows.every((r) => Object.keys(r).join() === fields), JSON.stringify(rows[0]));
      const udp = json(['session', 'display', '--udp']);
      const u = udp.find((r) => r.ipv6Local === '2001:db8::2' && r.ipv4RemotePort === 5353)!;
      assert.ok(u, JSON.stringify(udp));
      assert.deepEqual([u.ipv6Remote, u.ipv6RemotePort, u.ipv4Local, u.ipv4Remote, u.state], ['64:ff9b::cb00:7110', 5353, '203.0.113.1', '203.0.113.16', '-']);
      // udp-timeout is 5 minutes by default
      assert.ok((u.expiresInMs as number) > 240_000 && (u.expiresInMs as number) <= 300_000, String(u.expiresInMs));
      const icmp = json(['session', 'display', '--icmp']);
      assert.ok(icmp.some((r) => (r.expiresInMs as number) > 0 && (r.expiresInMs as number) <= 60_000), JSON.stringify(icmp));
      const tcp = json(['session', 'display', '--tcp']);
      assert.ok(tcp.every((r) => typeof r.state === 'string' && r.state !== '-'), JSON.stringify(tcp));
      assert.equal(ok(['session', 'display', '--csv']).split('\n')[0], fields);
      const table = ok(['session', 'display', '--udp', '--numeric']);
      assert.match(table, /Expires in/);
      assert.match(table, /UDP\s+2001:db8::2#\d+\s+64:ff9b::cb00:7110#5353\s+203\.0\.113\.1#\d+\s+203\.0\.113\.16#5353\s+-\s+\d+ s/);
    });

    it('a changed timeout shows in the expiry of refreshed sessions', () => {
      ok(['global', 'update', 'udp-timeout', '10:00']);
      assert.equal(udpCheck(net.topology!, 0).ok, true);
      const u = json(['session', 'display', '--udp']).filter((r) => r.ipv6Local === '2001:db8::2');
      assert.ok(u.some((r) => (r.expiresInMs as number) > 300_000), JSON.stringify(u));
      ok(['global', 'update', 'udp-timeout', '5:00']);
    });
  });

  describe('stats', () => {
    it('display: non-zero counters; --all adds zeros; --explain; --json carries explain; --csv', () => {
      const nonzero = json<Array<{ name: string; value: number; explain: string }>>(['stats', 'display']);
      assert.ok(nonzero.every((r) => r.value !== 0));
      const get = (n: string) => nonzero.find((r) => r.name === n)?.value ?? 0;
      assert.ok(get('translated-6to4') > 0 && get('translated-4to6') > 0, JSON.stringify(nonzero));
      assert.ok(get('port-v6-rx-packets') > 0 && get('port-v4-tx-packets') > 0, 'DPDK port counters are part of stats');
      const all = json<Array<{ name: string; value: number; explain: string }>>(['stats', 'display', '--all']);
      assert.ok(all.length > nonzero.length);
      for (const n of ['bib4-not-found', 'pool4-exhausted', 'log-dropped', 'port-v4-rx-missed', 'port-v4-rx-errors', 'port-v6-tx-errors']) {
        assert.ok(all.some((r) => r.name === n), n);
      }
      assert.ok(all.every((r) => Object.keys(r).join() === 'name,value,explain' && r.explain.length > 0), 'every counter is explained');
      const table = ok(['stats', 'display']);
      assert.match(table, /^Counter\s+Value\n/);
      assert.ok(!/Explanation/.test(table));
      const explained = ok(['stats', 'display', '--all', '--explain']);
      assert.match(explained, /^Counter\s+Value\s+Explanation\n/);
      assert.match(explained, /bib4-not-found\s+\d+\s+Dropped: IPv4 packet to a pool4 transport address with no BIB entry/);
      assert.equal(ok(['stats', 'display', '--csv']).split('\n')[0], 'name,value');
      assert.equal(ok(['stats', 'display', '--csv', '--explain']).split('\n')[0], 'name,value,explain');
      refused(['stats', 'display', '--csv', '--json']);
    });
  });

  describe('global', () => {
    it('display --json is a "global" object in Jool notation; the table lists every key', () => {
      const g = json<Row>(['global', 'display']);
      for (const k of ['manually-enabled', 'pool6', 'lowest-ipv6-mtu', 'udp-timeout', 'tcp-est-timeout', 'tcp-trans-timeout',
        'icmp-timeout', 'mtu-plateaus', 'f-args', 'logging-bib', 'logging-session', 'logging-debug', 'address-dependent-filtering',
        'drop-icmpv6-info', 'drop-externally-initiated-tcp', 'zeroize-traffic-class', 'override-tos', 'tos',
        'maximum-simultaneous-opens', 'handle-rst-during-fin-rcv', 'source-icmpv6-errors-better']) {
        assert.ok(k in g, k);
      }
      assert.deepEqual([g['udp-timeout'], g['tcp-est-timeout'], g['tcp-trans-timeout'], g['icmp-timeout']], ['0:05:00', '2:00:00', '0:04:00', '0:01:00']);
      assert.match(ok(['global', 'display']), /udp-timeout\s+0:05:00/);
    });

    it('update a representative set of keys', () => {
      const cases: Array<[string, string, unknown]> = [
        ['udp-timeout', '2:00', '0:02:00'], ['tcp-est-timeout', '2:00:00', '2:00:00'], ['tcp-est-timeout', '3:00:00', '3:00:00'],
        ['tcp-trans-timeout', '4:00', '0:04:00'], ['icmp-timeout', '30', '0:00:30'], ['lowest-ipv6-mtu', '1400', 1400],
        ['mtu-plateaus', '9000, 1500, 1280, 1500', [9000, 1500, 1280]], ['address-dependent-filtering', 'on', true],
        ['address-dependent-filtering', 'false', false], ['drop-icmpv6-info', 'yes', true], ['drop-icmpv6-info', 'no', false],
        ['tos', '16', 16], ['override-tos', 'true', true], ['override-tos', 'false', false], ['f-args', '15', 15],
        ['maximum-simultaneous-opens', '20', 20], ['zeroize-traffic-class', '1', true], ['zeroize-traffic-class', '0', false],
        ['logging-debug', 'false', false], ['handle-rst-during-fin-rcv', 'true', true],
      ];
      for (const [key, value, shown] of cases) {
        ok(['global', 'update', key, value]);
        assert.deepEqual(json<Row>(['global', 'display'])[key], shown, `${key} ${value}`);
      }
      assert.equal(pingCheck(net.topology!, 0, 1).ok, true, 'still translating');
    });

    it('manually-enabled false stops translation (status says why), true resumes it', () => {
      ok(['global', 'update', 'manually-enabled', 'false']);
      assert.equal(ok(['instance', 'status']).trim(), 'Stopped (manually-enabled is false)');
      assert.equal(pingCheck(net.topology!, 0, 1).ok, false);
      ok(['global', 'update', 'manually-enabled', 'true']);
      assert.equal(ok(['instance', 'status']).trim(), 'Running');
      assert.equal(pingCheck(net.topology!, 0, 1).ok, true);
    });

    it('timeouts below Jool\'s minimums, bad values and unknown keys are refused', () => {
      refused(['global', 'update', 'udp-timeout', '1:59'], /udp-timeout.*2 minutes/);
      refused(['global', 'update', 'tcp-est-timeout', '1:59:59'], /tcp-est-timeout.*2 hours/);
      refused(['global', 'update', 'tcp-trans-timeout', '3:59'], /tcp-trans-timeout.*4 minutes/);
      refused(['global', 'update', 'icmp-timeout', '0'], /icmp-timeout/);
      refused(['global', 'update', 'udp-timeout', 'soon'], /udp-timeout/);
      refused(['global', 'update', 'lowest-ipv6-mtu', '1279'], /lowest-ipv6-mtu/);
      refused(['global', 'update', 'tos', '256'], /tos/);
      refused(['global', 'update', 'f-args', '16'], /f-args/);
      refused(['global', 'update', 'mtu-plateaus', '0, 1500'], /mtu-plateaus/);
      refused(['global', 'update', 'manually-enabled', 'maybe'], /manually-enabled/);
      refused(['global', 'update', 'no-such-key', '1'], /no-such-key/);
      refused(['global', 'update', 'amend-udp-checksum-zero', 'true'], /SIIT/);
      refused(['global', 'update', 'pool6', '2001:db8:64::/96'], /pool6/);
    });
  });

  describe('RFC 6888 mapping logs (logging-bib, logging-session)', () => {
    const mappingLines = () => net.daemonOutput.split('\n').filter((l) => l.startsWith('nat64-mapping '));

    it('off by default: a new BIB entry logs nothing', async () => {
      const before = mappingLines().length;
      assert.equal(curl(0).ok, true);
      await sleep(400);
      assert.equal(mappingLines().length, before, mappingLines().slice(before).join('\n'));
    });

    it('logging-bib: a curl creating a BIB entry prints the documented line', async () => {
      ok(['global', 'update', 'logging-bib', 'true']);
      const before = mappingLines().length;
      assert.equal(curl(1).ok, true);
      await sleep(400);
      const lines = mappingLines().slice(before);
      const created = lines.find((l) => /event=bib-create proto=TCP ipv6=2001:db8::3#\d+ /.test(l));
      assert.ok(created, `daemon output:\n${net.daemonOutput.slice(-2000)}`);
      assert.match(created!, /^nat64-mapping time=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z instance="default" event=bib-create proto=TCP ipv6=2001:db8::3#\d+ ipv4=203\.0\.113\.1#\d+ static=false shard=0$/);
      assert.ok(!lines.some((l) => /event=session-/.test(l)), 'logging-session is off');
    });

    it('logging-session: session lines carry all four transport addresses', async () => {
      ok(['global', 'update', 'logging-session', 'true']);
      const before = mappingLines().length;
      assert.equal(udpCheck(net.topology!, 1).ok, true);
      await sleep(400);
      const lines = mappingLines().slice(before);
      assert.ok(lines.some((l) => /event=session-create proto=UDP ipv6=2001:db8::3#\d+ ipv6-remote=64:ff9b::cb00:7110#5353 ipv4=203\.0\.113\.1#\d+ ipv4-remote=203\.0\.113\.16#5353 shard=0$/.test(l)),
        lines.join('\n'));
    });

    it('turned off again: nothing more is logged', async () => {
      ok(['global', 'update', 'logging-bib', 'false']);
      ok(['global', 'update', 'logging-session', 'false']);
      await sleep(400); // what was logged while it was on (expiring sessions, say) is drained first
      const before = mappingLines().length;
      assert.equal(curl(0).ok, true);
      assert.equal(udpCheck(net.topology!, 0).ok, true);
      await sleep(400);
      assert.deepEqual(mappingLines().slice(before), []);
    });
  });

  describe('logging-debug', () => {
    const debugLines = () => net.daemonOutput.split('\n').filter((l) => l.startsWith('nat64-debug '));
    it('traces each packet\'s verdict and steps while on, nothing when off', async () => {
      assert.equal(debugLines().length, 0, 'off by default');
      ok(['global', 'update', 'logging-debug', 'true']);
      assert.equal(pingCheck(net.topology!, 0, 1).ok, true);
      await sleep(400);
      ok(['global', 'update', 'logging-debug', 'false']);
      await sleep(400);
      const lines = debugLines();
      assert.ok(lines.some((l) => /^nat64-debug time=\S+ shard=0 port=\d+ len=\d+ verdict=tx steps=transmitted,translated-6to4$/.test(l)), lines.join('\n'));
      // The reply may also have re-solicited its next hop (a neighbour entry over 30 s old is
      // refreshed on use: docs/design.md "L2"), which the trace names as a step too.
      assert.ok(lines.some((l) => /verdict=tx steps=(neighbor-solicit-sent,)?transmitted,translated-4to6$/.test(l)), lines.join('\n'));
      const n = debugLines().length;
      assert.equal(pingCheck(net.topology!, 0, 1).ok, true);
      await sleep(400);
      assert.equal(debugLines().length, n, 'off again');
    });
  });

  describe('file', () => {
    it('handle accepts Jool\'s documented example unchanged; display round-trips it', () => {
      const mine = config();
      ok(['instance', 'flush']);
      const file = path.join(net.dir, 'jool-sample.json');
      fs.writeFileSync(file, JOOL_NAT64_SAMPLE);
      ok(['file', 'handle', file]);
      const i = ['-i', 'instance name'];
      assert.deepEqual(json([...i, 'instance', 'display']), [{ name: 'instance name', framework: 'netfilter', pool6: '64:ff9b::/96', status: 'Stopped' }]);
      const g = json<Row>([...i, 'global', 'display']);
      assert.deepEqual([g.tos, g['udp-timeout'], g['icmp-timeout'], g['mtu-plateaus'], g['logging-bib']], [254, '1:00:00', '0:05:30', [6, 5, 4, 3, 2, 1], true]);
      assert.equal(json([...i, 'pool4', 'display', '--tcp']).length, 2);
      const bib = json([...i, 'bib', 'display']);
      assert.ok(bib.some((b) => b.protocol === 'ICMP' && b.ipv6 === '2001:db8:aaaa::1' && b.ipv4Port === 1044), JSON.stringify(bib));
      // file display -> file handle is the identity
      const shown = config('instance name');
      const again = path.join(net.dir, 'again.json');
      fs.writeFileSync(again, shown);
      ok(['instance', 'flush']);
      ok(['file', 'handle', again]);
      assert.equal(config('instance name'), shown);
      // Back to our own instance.
      ok(['instance', 'flush']);
      const back = path.join(net.dir, 'mine.json');
      fs.writeFileSync(back, mine);
      ok(['file', 'handle', back]);
      assert.equal(config(), mine);
    });

    it('malformed or invalid files are refused and nothing changes', () => {
      const write = (name: string, text: string) => { const f = path.join(net.dir, name); fs.writeFileSync(f, text); return f; };
      refused(['file', 'handle', write('truncated.json', '{ "instance": "default", "global": { "pool6": ')], /not valid JSON/);
      refused(['file', 'handle', write('unknown.json', '{ "instance": "default", "global": { "pool6": "64:ff9b::/96" }, "pool5": [] }')], /pool5/);
      refused(['file', 'handle', write('badkey.json', '{ "instance": "default", "global": { "pool6": "64:ff9b::/96", "udp-timeout": "0:30" } }')], /udp-timeout/);
      refused(['file', 'handle', write('pool6.json', '{ "instance": "default", "global": { "pool6": "2001:db8:64::/96" } }')], /pool6/);
      refused(['file', 'handle', write('badbib.json', JSON.stringify({ instance: 'default', global: { pool6: '64:ff9b::/96' },
        pool4: [{ protocol: 'TCP', prefix: '203.0.113.1' }], bib: [{ protocol: 'TCP', 'ipv6 address': '2001:db8::2#80', 'ipv4 address': '198.51.100.1#80' }] }))], /pool4/);
      refused(['file', 'handle', write('other.json', '{ "instance": "other", "global": { "pool6": "64:ff9b::/96" } }')], /already translates/);
      refused(['file', 'handle', path.join(net.dir, 'does-not-exist.json')], /cannot read/);
      assert.equal(pingCheck(net.topology!, 0, 1).ok, true, 'the running configuration still translates');
    });
  });

  describe('port', () => {
    it('display --json has the documented fields; update --mtu', () => {
      const ports = json(['port', 'display']);
      assert.deepEqual(ports.map((p) => p.configName), ['v6', 'v4']);
      for (const p of ports) {
        for (const k of ['configName', 'portId', 'name', 'driver', 'mac', 'mtu', 'rxQueues', 'txQueues', 'addresses', 'stats']) assert.ok(k in p, k);
        assert.deepEqual(Object.keys(p.stats as Row).sort(), ['ibytes', 'ierrors', 'imissed', 'ipackets', 'obytes', 'oerrors', 'opackets', 'rxNombuf']);
      }
      assert.match(ok(['port', 'display']), /^Name\s+Port\s+Driver\s+MAC\s+MTU/);
      ok(['port', 'update', 'v4', '--mtu', '1400']);
      assert.equal(json(['port', 'display']).find((p) => p.configName === 'v4')!.mtu, 1400);
      ok(['port', 'update', 'v4', '--mtu', '1500']);
      assert.equal(curl(0).ok, true);
    });

    it('bad port names and MTUs are refused', () => {
      const before = JSON.stringify(json(['port', 'display']).map((p) => p.mtu));
      for (const args of [['port', 'update', 'v9', '--mtu', '1500'], ['port', 'update', 'v4', '--mtu', '60'],
        ['port', 'update', 'v6', '--mtu', '1000'], ['port', 'update', 'v4', '--mtu', '9703'], ['port', 'update', 'v4', '--mtu', 'big']]) {
        refused(args);
      }
      assert.equal(JSON.stringify(json(['port', 'display']).map((p) => p.mtu)), before);
    });
  });

  describe('errors', () => {
    it('usage mistakes and an unreachable daemon: non-zero exit, no stack trace', () => {
      refused(['pool4', 'add']);
      refused(['bib', 'display', '--tcp', '--udp']);
      refused(['global', 'update', 'tos']);
      const r = spawnSync(process.execPath, [path.resolve(__dirname, '../../../bin/nat64'), 'instance', 'display', '--socket', path.join(net.dir, 'nope.sock')], { encoding: 'utf8' });
      assert.notEqual(r.status, 0);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, /daemon|socket/i);
    });
  });
});
