import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { DemoNetwork } from '../../src/demo/run-demo';
import { httpCheck, pingCheck, udpCheck, type CheckResult } from '../../src/demo/checks';

/**
 * The user guide's "Stateful NAT64 Run", end to end: real namespaces, real DPDK ports
 * (net_af_packet), the real daemon and CLI, real ping / curl / UDP clients.
 */
function expectOk(c: CheckResult, net: DemoNetwork): void {
  assert.ok(c.ok, `${c.name} failed\n$ ${c.command}\n${c.output}\n--- daemon ---\n${net.daemonOutput.slice(-3000)}`);
}

for (const shards of [1, 2]) {
  describe(`sample network end to end (${shards} shard${shards > 1 ? 's' : ''})`, function () {
    this.timeout(120000);
    const net = new DemoNetwork({ prefix: `n64e${shards}`, shards, log: () => undefined });

    before(async () => { await net.up(); });
    after(async () => { await net.down(); });

    it('translates nothing before an instance exists', () => {
      const c = pingCheck(net.topology!, 0, 1);
      assert.equal(c.ok, false, c.output);
      const stats = JSON.parse(net.cli(['stats', 'display', '--json', '--all']).stdout);
      assert.ok(counter(stats, 'no-instance') >= 1, JSON.stringify(stats));
    });

    it('nat64 instance add example --pool6 64:ff9b::/96', () => {
      const r = net.cli(['instance', 'add', 'example', '--pool6', '64:ff9b::/96']);
      assert.equal(r.status, 0, r.stderr);
      const d = net.cli(['instance', 'display', '--json']);
      assert.equal(d.status, 0, d.stderr);
      assert.match(d.stdout, /example/);
    });

    it('ping -6 64:ff9b::203.0.113.16 gets replies (ICMP echo both ways)', () => {
      expectOk(pingCheck(net.topology!, 0), net);
    });

    it('curl fetches a page from the IPv4 node (TCP both ways)', () => {
      expectOk(httpCheck(net.topology!, 0), net);
    });

    it('a UDP request gets its response', () => {
      expectOk(udpCheck(net.topology!, 0), net);
    });

    it('a second IPv6 node gets its own BIB entry and sessions', () => {
      expectOk(pingCheck(net.topology!, 1), net);
      expectOk(httpCheck(net.topology!, 1), net);
      const bib = JSON.parse(net.cli(['-i', 'example', 'bib', 'display', '--json', '--tcp']).stdout) as Array<Record<string, unknown>>;
      const nodes = new Set(bib.map((b) => JSON.stringify(b).match(/2001:db8::[23]/)?.[0]).filter(Boolean));
      assert.deepEqual([...nodes].sort(), ['2001:db8::2', '2001:db8::3'], JSON.stringify(bib));
      const sessions = JSON.parse(net.cli(['-i', 'example', 'session', 'display', '--json', '--icmp']).stdout) as unknown[];
      assert.ok(sessions.length >= 2, JSON.stringify(sessions));
    });

    it('answers ARP, ND and pings to its own addresses', () => {
      const t = net.topology!;
      const v6 = spawnSync('ip', ['netns', 'exec', t.v6Nodes[0].ns, 'ping', '-6', '-c', '1', '-W', '2', t.translator.v6], { encoding: 'utf8' });
      assert.equal(v6.status, 0, v6.stdout + v6.stderr);
      // 203.0.113.1 is also the default pool4 address: an echo that matches no BIB entry is the host's (as with Jool).
      // Forget the translator's MAC first, so that the IPv4 node has to ask for it.
      spawnSync('ip', ['netns', 'exec', t.v4Node.ns, 'ip', 'neigh', 'flush', 'all']);
      const v4 = spawnSync('ip', ['netns', 'exec', t.v4Node.ns, 'ping', '-c', '1', '-W', '2', t.translator.v4], { encoding: 'utf8' });
      assert.equal(v4.status, 0, v4.stdout + v4.stderr);
      const stats = JSON.parse(net.cli(['stats', 'display', '--json', '--all']).stdout);
      assert.ok(counter(stats, 'nd-solicit-answered') >= 1, 'nd-solicit-answered');
      assert.ok(counter(stats, 'arp-request-answered') >= 1, 'arp-request-answered');
      assert.ok(counter(stats, 'local-icmp-echo-answered') >= 2, 'local-icmp-echo-answered');
    });

    it('an IPv4 SYN to an unmapped port is stored 6 s, then refused with ICMP Port Unreachable (RFC 6146 §3.5.2.2)', () => {
      const t = net.topology!;
      const started = Date.now();
      const r = spawnSync('ip', ['netns', 'exec', t.v4Node.ns, 'curl', '-sS', '-m', '20', `http://${t.translator.v4}:61234/`], { encoding: 'utf8' });
      const waited = Date.now() - started;
      // Without the ICMP error curl would wait for its own 20 s timeout (exit 28).
      assert.equal(r.status, 7, `curl should fail to connect: ${r.stderr}`);
      assert.ok(waited >= 5000 && waited < 15000, `refused after ${waited} ms`);
      const stats = JSON.parse(net.cli(['stats', 'display', '--json', '--all']).stdout);
      assert.ok(counter(stats, 'tcp-v4-syn-stored') >= 1);
      assert.ok(counter(stats, 'tcp-v4-syn-expired') >= 1);
      assert.ok(counter(stats, 'icmp-error-sent') >= 1);
    });

    it('nat64 instance remove example stops translation', () => {
      const r = net.cli(['instance', 'remove', 'example']);
      assert.equal(r.status, 0, r.stderr);
      const c = pingCheck(net.topology!, 0, 1);
      assert.equal(c.ok, false, c.output);
    });

    it('stops cleanly on SIGTERM (exit code 0)', async () => {
      assert.equal(await net.stopDaemon('SIGTERM'), 0, net.daemonOutput);
    });
  });
}

function counter(stats: unknown, name: string): number {
  // `stats display --json` lists {name, value, ...} rows (docs/cli.md).
  const rows = (Array.isArray(stats) ? stats : (stats as { counters?: unknown[] }).counters ?? []) as Array<{ name: string; value: number }>;
  return rows.find((r) => r.name === name)?.value ?? 0;
}
