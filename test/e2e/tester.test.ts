import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { formatIPv6 } from '../../src/control/inet';
import { finish, sum16 } from '../../src/tester/frames';
import { readPcap, writePcap } from '../../src/tester/pcap';
import { startDaemon, type DaemonProcess } from './helpers/daemon-process';

/**
 * `nat64 tester` (issue 14) against the real daemon: the files are made from the running daemon's
 * facts, then replayed through it. The daemon's ports are net_pcap: the IPv6 port reads the
 * generated 6to4 pcap (infinite_rx), the IPv4 port the 4to6 one, and each writes what the translator
 * sent (tx_pcap). A first daemon makes the files (and, with --add-bib, static BIB entries, saved with
 * `file display`); a second, with the same ports (net_pcap's MACs are the same in every process)
 * and that instance, replays them. Every translated frame must belong to a flow, carry valid
 * checksums, the tester's MACs and the static BIB entry of its flow; every flow must come out.
 */
describe('nat64 tester: generated pcaps replayed through the daemon (net_pcap)', function () {
  this.timeout(120000);
  const FLOWS = 64;
  const SIZES = [84, 1518];
  const MAC6 = '02:00:00:00:01:06', MAC4 = '02:00:00:00:01:04';
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nat64-tester-'));
  const f = (name: string) => path.join(dir, name);
  const config = (in6: string, in4: string, instance: unknown) => ({
    dataplane: {
      mbufs: 8191,
      ports: [
        { name: 'v6', device: `net_pcap0,rx_pcap=${in6},tx_pcap=${f('out6.pcap')},infinite_rx=1`,
          addresses: ['2001:db8::1/64'], routes: [{ prefix: '2001:db8:1::/64', via: '2001:db8::2' }], neighbors: [{ address: '2001:db8::2', mac: MAC6 }] },
        { name: 'v4', device: `net_pcap1,rx_pcap=${in4},tx_pcap=${f('out4.pcap')},infinite_rx=1`,
          addresses: ['198.19.0.1/24'], neighbors: [{ address: '198.19.0.2', mac: MAC4 }] },
      ],
    },
    instances: [instance],
  });
  let d: DaemonProcess | null = null;
  const ok = (args: string[]) => {
    const r = d!.cli(args);
    assert.equal(r.status, 0, `nat64 ${args.join(' ')}: ${r.stderr}`);
    return r;
  };
  let saved: Record<string, unknown>;
  const ports: Record<string, string> = {};

  before(async () => {
    writePcap(f('empty.pcap'), []);
    d = await startDaemon(config(f('empty.pcap'), f('empty.pcap'), {
      instance: 'default', framework: 'netfilter', global: { pool6: '64:ff9b::/96' },
      pool4: [{ protocol: 'UDP', prefix: '198.19.0.1', 'port range': '20000-29999' }],
    }), 'tester-a');
  });
  after(async () => {
    if (d) await d.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('writes the 6to4 pcap, and the 4to6 one after adding static BIB entries, from the daemon\'s facts', () => {
    for (const p of JSON.parse(ok(['port', 'display', '--json']).stdout) as Array<{ configName: string; mac: string }>) ports[p.configName] = p.mac;
    for (const size of SIZES) {
      ok(['tester', 'pcap', '--flows', String(FLOWS), '--size', String(size), '--direction', '6to4', '--out', f(`flows6-${size}.pcap`)]);
      const r = ok(['tester', 'pcap', '--flows', String(FLOWS), '--size', String(size), '--direction', '4to6', '--add-bib', '--out', f(`flows4-${size}.pcap`)]);
      if (size === SIZES[0]) assert.match(r.stderr, new RegExp(`added ${FLOWS} static UDP BIB entries`));
      else assert.doesNotMatch(r.stderr, /added/, 'flows already in the BIB are not added twice');
      const six = readPcap(f(`flows6-${size}.pcap`)), four = readPcap(f(`flows4-${size}.pcap`));
      assert.equal(six.length, FLOWS);
      assert.equal(four.length, FLOWS);
      assert.equal(six[0].length, size - 4, `${size}-byte IPv6 frames (FCS not stored)`);
      assert.equal(four[0].length, size - 24, `${size - 20}-byte IPv4 frames`);
      assert.equal(mac(six[0], 0), ports.v6, 'to the daemon\'s IPv6 port');
      assert.equal(mac(four[0], 0), ports.v4, 'to the daemon\'s IPv4 port');
    }
    saved = JSON.parse(ok(['file', 'display']).stdout);
    assert.equal((saved.bib as unknown[]).length, FLOWS);
  });

  it('writes Pktgen and siitperf files with the daemon\'s MACs and addresses', () => {
    const pkt = ok(['tester', 'pktgen', '--flows', String(FLOWS), '--direction', 'both']).stdout;
    for (const line of [`range 0 dst mac start ${ports.v6}`, `range 1 dst mac start ${ports.v4}`, 'range 0 dst ip start 64:ff9b::c613:2',
      'range 0 src port max 10063', 'range 1 dst ip start 198.19.0.1', 'range 1 dst port start 20000', 'range 1 dst port max 20063',
      'range 0 size start 84', 'range 1 size start 64', 'enable 1 process', `"neighbors": [{ "address": "2001:db8::2", "mac": "${MAC6}" }]`]) {
      assert.ok(pkt.includes(line), `pktgen file has: ${line}\n${pkt}`);
    }
    const conf = ok(['tester', 'siitperf', '--flows', '4096', '--ports-per-client', '1024']).stdout;
    for (const line of [`MAC-L-DUT ${ports.v6}`, `MAC-R-DUT ${ports.v4}`, 'IPv6-R-Virt 64:ff9b::c613:2', 'IPv4-R-Real 198.19.0.2',
      'Fwd-sport-max 11023', 'Fwd-dport-max 5356', 'Stateful 1']) {
      assert.ok(conf.includes(line), `siitperf.conf has: ${line}\n${conf}`);
    }
    const bad = d!.cli(['tester', 'pktgen', '--flows', '8192']);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /^nat64: Pktgen range mode steps the source address and port together/);
    assert.equal(bad.stderr.trim().split('\n').length, 1);
  });

  for (const size of SIZES) it(`the daemon translates every generated ${size}-byte frame, both ways, with valid checksums`, async () => {
    if (d) await d.stop();
    d = null;
    // The replay starts before the instance is applied (those frames are dropped) and never ends:
    // freeze the daemon as soon as both directions went through twice, read, then stop it.
    const twice = 24 + 2 * FLOWS * (16 + size - 24);
    for (const out of ['out4.pcap', 'out6.pcap']) fs.rmSync(f(out), { force: true });
    const bytes = (name: string) => (fs.existsSync(f(name)) ? fs.statSync(f(name)).size : 0);
    d = await startDaemon(config(f(`flows6-${size}.pcap`), f(`flows4-${size}.pcap`), saved), 'tester-b', 30000, () => bytes('out4.pcap') >= twice && bytes('out6.pcap') >= twice);
    d.signal('SIGSTOP');

    const bib = new Map((saved.bib as Array<Record<string, string>>).map((b) => [b['ipv6 address'], b['ipv4 address']]));
    const out4 = readPcap(f('out4.pcap'), 100000), out6 = readPcap(f('out6.pcap'), 100000);
    assert.ok(out4.length >= FLOWS && out6.length >= FLOWS, `out: ${out4.length} IPv4, ${out6.length} IPv6 frames`);
    const seen4 = new Set<string>(), seen6 = new Set<string>();
    for (const fr of out4) {
      assert.equal(mac(fr, 0), MAC4); assert.equal(mac(fr, 6), ports.v4);
      assert.equal(fr.length, size - 24); assert.equal(fr[12] << 8 | fr[13], 0x0800);
      assert.equal(finish(sum16(fr, 14, 20)), 0, 'IPv4 header checksum');
      assert.equal(ip4(fr, 30), '198.19.0.2'); assert.equal(port(fr, 36), 5353);
      assert.equal(finish(sum16(fr, 34, size - 58, sum16(fr, 26, 8) + 17 + size - 58)), 0, 'UDP checksum');
      seen4.add(`${ip4(fr, 26)}#${port(fr, 34)}`);
    }
    for (const fr of out6) {
      assert.equal(mac(fr, 0), MAC6); assert.equal(mac(fr, 6), ports.v6);
      assert.equal(fr.length, size - 4); assert.equal(fr[12] << 8 | fr[13], 0x86dd);
      assert.equal(ip6(fr, 22), '64:ff9b::c613:2'); assert.equal(port(fr, 54), 5353);
      assert.equal(finish(sum16(fr, 54, size - 58, sum16(fr, 22, 32) + 17 + size - 58)), 0, 'UDP checksum');
      const client = `${ip6(fr, 38)}#${port(fr, 56)}`;
      assert.ok(bib.has(client), `${client} is a flow`);
      seen6.add(client);
    }
    // 6->4 left from each flow's static BIB entry; 4->6 reached every flow.
    assert.deepEqual([...seen4].sort(), [...bib.values()].sort());
    assert.deepEqual([...seen6].sort(), [...bib.keys()].sort());
    await d.stop();
    d = null;
  });
});

const hex = (b: number) => b.toString(16).padStart(2, '0');
function mac(f: Uint8Array, off: number): string { return Array.from(f.subarray(off, off + 6), hex).join(':'); }
function ip4(f: Uint8Array, off: number): string { return Array.from(f.subarray(off, off + 4)).join('.'); }
function port(f: Uint8Array, off: number): number { return f[off] << 8 | f[off + 1]; }
function ip6(f: Uint8Array, off: number): string { return formatIPv6(f.subarray(off, off + 16)); }
