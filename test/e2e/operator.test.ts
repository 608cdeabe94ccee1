import { strict as assert } from 'node:assert';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DemoNetwork } from '../../src/demo/run-demo';
import { waitListening } from '../../src/demo/listening';
import { httpCheck } from '../../src/demo/checks';

/**
 * What an operator does in Jool's "Stateful NAT64 Run" after the first ping, with the real CLI
 * against the real daemon (2 shards): pool4, static BIB (4-to-6 port forwarding, hairpinning),
 * lowest-ipv6-mtu, persisting the configuration and loading it back, bad input refused with
 * nothing half-applied, removing the instance.
 */
describe('operator workflow (Jool stateful NAT64 run, CLI against the daemon)', function () {
  this.timeout(120000);
  const net = new DemoNetwork({ prefix: 'n64op', shards: 2, log: () => undefined });
  let webServer: ChildProcess | null = null;
  const ok = (args: string[]) => {
    const r = net.cli(['-i', 'example', ...args]);
    assert.equal(r.status, 0, `nat64 -i example ${args.join(' ')}: ${r.stderr}${r.stdout}`);
    return r.stdout;
  };
  const json = (args: string[]) => JSON.parse(ok([...args, '--json'])) as Array<Record<string, unknown>>;
  /** Expected to fail: a short timeout, since a refusal looks like silence. */
  const curl = (ns: string, url: string, seconds = 10) =>
    spawnSync('ip', ['netns', 'exec', ns, 'curl', '-sS', '-m', String(seconds), '-o', '/dev/null', '-w', '%{http_code}', url], { encoding: 'utf8' });

  before(async () => {
    await net.up();
    const t = net.topology!;
    // An IPv6-only web server on 2001:db8::2 port 80, to be published on 203.0.113.1#80.
    webServer = spawn('ip', ['netns', 'exec', t.v6Nodes[0].ns, 'python3', '-m', 'http.server', '80', '--bind', t.v6Nodes[0].addr], { stdio: 'ignore' });
    const r = net.cli(['instance', 'add', 'example', '--pool6', '64:ff9b::/96']);
    assert.equal(r.status, 0, r.stderr);
    await waitListening(t.v6Nodes[0].ns, 80, 'tcp', { server: webServer });
  });
  after(async () => { webServer?.kill('SIGKILL'); await net.down(); });

  it('pool4 add: the translator masks IPv6 nodes behind the given ports', () => {
    ok(['pool4', 'add', '203.0.113.1', '61001-65535', '--tcp']);
    ok(['pool4', 'add', '203.0.113.1', '80', '--tcp']);
    const pool4 = json(['pool4', 'display', '--tcp']);
    assert.ok(pool4.length >= 1, JSON.stringify(pool4));
    assert.match(JSON.stringify(pool4), /203\.0\.113\.1/);
    assert.equal(httpCheck(net.topology!, 1).ok, true, 'outbound HTTP still works with the explicit pool4');
  });

  it('bib add publishes an IPv6 server to IPv4 clients (4-to-6 port forwarding)', () => {
    ok(['bib', 'add', '2001:db8::2#80', '203.0.113.1#80', '--tcp']);
    const bib = json(['bib', 'display', '--tcp']);
    assert.ok(bib.some((b) => b.static === true && b.ipv6 === '2001:db8::2' && b.ipv4Port === 80), JSON.stringify(bib));
    const r = curl(net.topology!.v4Node.ns, 'http://203.0.113.1:80/');
    assert.equal(r.stdout, '200', r.stderr + net.daemonOutput.slice(-2000));
  });

  it('hairpinning: an IPv6 node reaches another through the pool4 address (RFC 6146 §3.8)', () => {
    // Several connections: their source ports spread them over both shards, so some hairpins cross shards.
    for (let i = 0; i < 6; i++) {
      const r = curl(net.topology!.v6Nodes[1].ns, 'http://[64:ff9b::203.0.113.1]:80/');
      assert.equal(r.stdout, '200', `connection ${i}: ${r.stderr}`);
    }
    const stats = JSON.parse(net.cli(['stats', 'display', '--json']).stdout) as Array<{ name: string; value: number }>;
    assert.ok((stats.find((s) => s.name === 'hairpin')?.value ?? 0) > 0, JSON.stringify(stats));
  });

  it('global update lowest-ipv6-mtu, and a bad value changes nothing', () => {
    ok(['global', 'update', 'lowest-ipv6-mtu', '1400']);
    const show = () => JSON.stringify(json(['global', 'display']));
    assert.match(show(), /"lowest-ipv6-mtu"[^}]*1400/);
    const before = show();
    const bad = net.cli(['-i', 'example', 'global', 'update', 'lowest-ipv6-mtu', '1000']);
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /lowest-ipv6-mtu/);
    assert.equal(bad.stderr.trim().split('\n').length, 1, 'one-line message');
    const badKey = net.cli(['-i', 'example', 'global', 'update', 'no-such-key', '1']);
    assert.notEqual(badKey.status, 0);
    assert.equal(show(), before);
  });

  it('bad pool4/bib input is refused with a one-line message and nothing changes', () => {
    const before = JSON.stringify([json(['pool4', 'display']), json(['bib', 'display'])]);
    for (const args of [['pool4', 'add', '203.0.113.1/33', '--tcp'], ['pool4', 'add', '203.0.113.1', '70000', '--udp'],
      ['bib', 'add', '2001:db8::3#80', '198.51.100.1#80', '--tcp'], ['bib', 'add', 'nonsense', '203.0.113.1#80', '--tcp']]) {
      const r = net.cli(['-i', 'example', ...args]);
      assert.notEqual(r.status, 0, args.join(' '));
      assert.ok(r.stderr.trim().length > 0 && !/\n\s+at /.test(r.stderr), `no stack trace: ${r.stderr}`);
    }
    assert.equal(JSON.stringify([json(['pool4', 'display']), json(['bib', 'display'])]), before);
  });

  it('the configuration persists: file display, instance remove, file handle brings it back', () => {
    const file = path.join(net.dir, 'example.json');
    fs.writeFileSync(file, ok(['file', 'display']));
    const saved = JSON.parse(fs.readFileSync(file, 'utf8'));
    assert.equal(saved.instance, 'example');
    ok(['instance', 'remove', 'example']);
    assert.notEqual(curl(net.topology!.v4Node.ns, 'http://203.0.113.1:80/', 2).stdout, '200');
    ok(['file', 'handle', file]);
    assert.match(JSON.stringify(json(['global', 'display'])), /"lowest-ipv6-mtu"[^}]*1400/);
    assert.equal(curl(net.topology!.v4Node.ns, 'http://203.0.113.1:80/').stdout, '200');
  });

  it('a malformed configuration file is refused and the running one stays', () => {
    const file = path.join(net.dir, 'broken.json');
    fs.writeFileSync(file, '{ "instance": "example", "global": { "pool6": ');
    const r = net.cli(['-i', 'example', 'file', 'handle', file]);
    assert.notEqual(r.status, 0);
    assert.equal(curl(net.topology!.v4Node.ns, 'http://203.0.113.1:80/').stdout, '200');
  });

  it('port display shows DPDK counters; port update --mtu changes the MTU', () => {
    const ports = JSON.parse(net.cli(['port', 'display', '--json']).stdout) as Array<Record<string, unknown>>;
    assert.equal(ports.length, 2, JSON.stringify(ports));
    assert.match(JSON.stringify(ports), /net_af_packet/);
    const r = net.cli(['port', 'update', 'v4', '--mtu', '1400']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(net.cli(['port', 'display', '--json']).stdout, /1400/);
  });

  it('instance remove stops translation; the daemon exits 0 on SIGTERM', async () => {
    ok(['instance', 'remove', 'example']);
    assert.notEqual(curl(net.topology!.v4Node.ns, 'http://203.0.113.1:80/', 2).stdout, '200');
    assert.equal(await net.stopDaemon('SIGTERM'), 0, net.daemonOutput);
  });
});
