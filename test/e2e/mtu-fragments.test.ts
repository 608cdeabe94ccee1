import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { DemoNetwork } from '../../src/demo/run-demo';
import { mapped, pingCheck, type CheckResult } from '../../src/demo/checks';
import { nsExec } from '../../src/demo/topology';

/**
 * MTU and fragments on the sample network (RFC 6146 §3.4/§3.7, RFC 7915 §4.1/§5.1.1): the kernels
 * of the nodes fragment, reassemble and learn path MTUs; the translator reassembles before it
 * translates (native/frag.cc), fragments what it must, and answers DF packets that do not fit.
 */
function expectOk(c: CheckResult, net: DemoNetwork): void {
  assert.ok(c.ok, `${c.name} failed\n$ ${c.command}\n${c.output}\n--- daemon ---\n${net.daemonOutput.slice(-3000)}`);
}

function counter(net: DemoNetwork, name: string): number {
  const stats = JSON.parse(net.cli(['stats', 'display', '--json', '--all']).stdout);
  const rows = (Array.isArray(stats) ? stats : (stats as { counters?: unknown[] }).counters ?? []) as Array<{ name: string; value: number }>;
  return rows.find((r) => r.name === name)?.value ?? 0;
}

/** UDP datagram of `size` payload bytes from the IPv6 node to the IPv4 echo server; true when the echo came back intact. */
function udpRoundTrip(net: DemoNetwork, size: number, tries = 3): CheckResult {
  const t = net.topology!;
  const n = t.v6Nodes[0];
  const client = [
    'import socket, sys',
    'size = int(sys.argv[3]); data = bytes((i * 7) & 255 for i in range(size))',
    's = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)',
    's.settimeout(2)',
    `for attempt in range(${tries}):`,
    '    s.sendto(data, (sys.argv[1], int(sys.argv[2])))',
    '    try:',
    '        got = s.recvfrom(65535)[0]',
    '        print("ok" if got == b"echo:" + data else "bad %d" % len(got)); break',
    '    except socket.timeout:',
    '        print("timeout")',
  ].join('\n');
  const r = spawnSync('ip', ['netns', 'exec', n.ns, 'python3', '-c', client, mapped(t), '5353', String(size)],
    { encoding: 'utf8', timeout: 20000 });
  const output = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
  return { name: `UDP ${size} bytes from ${n.addr}`, ok: r.status === 0 && /(^|\n)ok$/.test(output),
    command: `python3 (send ${size} bytes to [${mapped(t)}]:5353, expect the echo)`, output };
}

for (const shards of [1, 2]) {
  describe(`MTU and fragments end to end (${shards} shard${shards > 1 ? 's' : ''})`, function () {
    this.timeout(120000);
    const net = new DemoNetwork({ prefix: `n64f${shards}`, shards, log: () => undefined });

    before(async () => {
      await net.up();
      const r = net.cli(['instance', 'add', 'example', '--pool6', '64:ff9b::/96']);
      assert.equal(r.status, 0, r.stderr);
    });
    after(async () => { await net.down(); });

    it('RFC 6146 §3.4 / RFC 7915 §4.1, §5.1.1: ping -6 -s 1600 works (fragments reassembled, re-fragmented both ways)', () => {
      const t = net.topology!;
      const n = t.v6Nodes[0];
      const r = spawnSync('ip', ['netns', 'exec', n.ns, 'ping', '-6', '-c', '3', '-i', '0.2', '-W', '2', '-s', '1600', mapped(t)],
        { encoding: 'utf8', timeout: 20000 });
      expectOk({ name: 'ping -6 -s 1600', ok: r.status === 0 && / 0% packet loss/.test(r.stdout), command: 'ping -6 -s 1600',
        output: r.stdout + r.stderr }, net);
      // The IPv6 requests are reassembled by native/frag.cc. net_af_packet joins its sockets in a
      // fanout group with PACKET_FANOUT_FLAG_DEFRAG, so the kernel hands it IPv4 replies already
      // reassembled: native IPv4 reassembly is tested end to end by reassembly-tap.test.ts, whose
      // IPv4 port is a net_tap device (fragments reach DPDK as the IPv4 node sent them).
      assert.ok(counter(net, 'frag-reassembled') >= 3, `IPv6 requests reassembled: ${net.cli(['stats', 'display', '--json']).stdout}`);
      assert.ok(counter(net, 'mtu-fragmented') >= 6, 'both directions fragmented');
    });

    it('RFC 6146 §3.4: an 1800-byte UDP datagram (fragmented by the IPv6 kernel) reaches the IPv4 echo server and the echo comes back', () => {
      expectOk(udpRoundTrip(net, 1800), net);
    });

    it('RFC 7915 §4 (DF set): the IPv4 node learns Next-Hop MTU 1480 from ICMP Fragmentation Needed and its echo still arrives', () => {
      // The echo server's 1500-byte reply has DF set (Linux PMTU discovery); as IPv6 it would be
      // 1520 bytes > the 1500 of the IPv6 port. The node's kernel then fragments the retry.
      const before = counter(net, 'packet-too-big');
      expectOk(udpRoundTrip(net, 1467), net);
      assert.ok(counter(net, 'packet-too-big') > before, 'Fragmentation Needed sent');
      const t = net.topology!;
      const route = nsExec(t.v4Node.ns, ['ip', 'route', 'get', t.translator.v4]);
      assert.match(route, /mtu 1480/, route);
    });

    it('a 4000-byte datagram (an EDNS DNS answer size) is reassembled, translated, fragmented again and echoed', () => {
      expectOk(udpRoundTrip(net, 4000), net);
    });

    it('limit: a 6000-byte datagram does not fit one 5120-byte packet buffer once reassembled: dropped and counted frag-too-big', () => {
      const before = counter(net, 'frag-too-big');
      const c = udpRoundTrip(net, 6000, 1);
      assert.equal(c.ok, false, c.output);
      assert.ok(counter(net, 'frag-too-big') > before, 'frag-too-big');
    });

    it('small packets still go through untouched (no atomic fragments, RFC 8021)', () => {
      expectOk(pingCheck(net.topology!, 0), net);
    });
  });
}
