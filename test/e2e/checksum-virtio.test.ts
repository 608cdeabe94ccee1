import { strict as assert } from 'node:assert';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { memoryArgs } from '../../src/native/eal-args';
import { waitListening } from '../../src/demo/listening';

/**
 * Issue 10, checksum offloads through a virtio path: partial TCP/UDP checksums (CHECKSUM_PARTIAL,
 * only the pseudo-header summed) reach the translator as virtio-net NEEDS_CSUM frames, which
 * net_virtio flags RTE_MBUF_F_RX_L4_CKSUM_NONE once the translator asks for RX checksum offload.
 *
 *   <p>-h6 2001:db8::2 eth0 ── sw-h6 [dpdk-testpmd --forward-mode=csum] vhost-user ──┐
 *           (kernel: partial checksums)  net_af_packet0      net_vhost0 (server)      │ unix socket
 *                                                                                   │
 *                                 <p>-t: nat64 daemon, port v6 = net_virtio_user0 ──┘ (client)
 *                                                      port v4 = net_af_packet on t4 ── br4 ── <p>-h4 203.0.113.16
 *
 * testpmd's csum engine with `csum set tcp|udp hw 1` on the vhost port hands every TCP/UDP frame to
 * lib/vhost with RTE_MBUF_F_TX_*_CKSUM, which writes NEEDS_CSUM into the virtio-net header (the
 * frames the IPv6 node's kernel sent stay partial). The other way, the translator offloads the
 * checksums of the frames it sends into virtio, and testpmd finishes them in software on af_packet.
 * Every node keeps the kernel's default offloads. Namespaces <p>-*, sockets and files in a temp dir;
 * nothing in the host's own namespace.
 */
const P = 'n64vio';
const NS = { sw: `${P}-sw`, t: `${P}-t`, h6: `${P}-h6`, h4: `${P}-h4` };
const V6 = { node: '2001:db8::2', translator: '2001:db8::1' };
const V4 = { node: '203.0.113.16', translator: '203.0.113.1' };
const MAPPED = `64:ff9b::${V4.node}`;
/** Fixed, so that the IPv6 node's neighbour entry stays right across daemon restarts. */
const VIRTIO_MAC = '02:64:00:00:00:01';
const BIN = path.resolve(__dirname, '../../../bin/nat64');
/** testpmd's lcores: the translator runs on CPU 0 (`-l 0`), testpmd's busy forwarding lcore on the last CPU. */
const PMD_CPU = Math.max(0, os.cpus().length - 1);

type Counters = Record<string, number>;
const CSUM_COUNTERS = ['checksum-partial-flagged', 'checksum-partial-detected', 'checksum-partial-completed',
  'checksum-partial-offloaded', 'checksum-bad-dropped'] as const;

function sh(args: string[], timeout = 15000): string {
  const r = spawnSync(args[0], args.slice(1), { encoding: 'utf8', timeout });
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}
const inNs = (ns: string, args: string[]) => ['ip', 'netns', 'exec', ns, ...args];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function requireTool(name: string, why: string): void {
  const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${name} is missing (${why}); scripts/setup.sh must install it`);
}

function destroyNamespaces(): void {
  const existing = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '';
  for (const n of Object.values(NS)) {
    if (!new RegExp(`^${n}( |$)`, 'm').test(existing)) continue;
    const pids = spawnSync('ip', ['netns', 'pids', n], { encoding: 'utf8' }).stdout ?? '';
    for (const pid of pids.split(/\s+/).filter(Boolean)) { try { process.kill(Number(pid), 'SIGKILL'); } catch { /* gone */ } }
    spawnSync('ip', ['netns', 'del', n]);
  }
}

function createNamespaces(): void {
  destroyNamespaces(); // leftovers of an interrupted run
  for (const n of Object.values(NS)) sh(['ip', 'netns', 'add', n]);
  for (const n of Object.values(NS)) sh(inNs(n, ['ip', 'link', 'set', 'lo', 'up']));
  // veth pairs created inside the namespaces, never in the host's own.
  const veth = (a: string, aNs: string, b: string, bNs: string) => {
    sh(['ip', 'link', 'add', a, 'netns', aNs, 'type', 'veth', 'peer', 'name', b, 'netns', bNs]);
    sh(inNs(aNs, ['ip', 'link', 'set', a, 'up']));
    sh(inNs(bNs, ['ip', 'link', 'set', b, 'up']));
  };
  // IPv6 side: the node's eth0 straight to testpmd's af_packet port.
  veth('eth0', NS.h6, 'sw-h6', NS.sw);
  // IPv4 side as in the sample network: a bridge between the node and the translator's t4.
  sh(inNs(NS.sw, ['ip', 'link', 'add', 'br4', 'type', 'bridge']));
  sh(inNs(NS.sw, ['ip', 'link', 'set', 'br4', 'up']));
  veth('t4', NS.t, 'sw-t4', NS.sw);
  veth('eth0', NS.h4, 'sw-h4', NS.sw);
  sh(inNs(NS.sw, ['ip', 'link', 'set', 'sw-t4', 'master', 'br4']));
  sh(inNs(NS.sw, ['ip', 'link', 'set', 'sw-h4', 'master', 'br4']));
  // The switch's kernel stays off testpmd's wire (no DAD, RS or MLD of its own); the daemon does the
  // same for its own af_packet interface t4.
  sh(inNs(NS.sw, ['sysctl', '-qw', 'net.ipv6.conf.sw-h6.disable_ipv6=1']));
  sh(inNs(NS.h6, ['ip', '-6', 'addr', 'add', `${V6.node}/96`, 'dev', 'eth0', 'nodad']));
  sh(inNs(NS.h6, ['ip', '-6', 'route', 'add', '64:ff9b::/96', 'via', V6.translator]));
  sh(inNs(NS.h4, ['ip', 'addr', 'add', `${V4.node}/24`, 'dev', 'eth0']));
}

/** A UDP echo server: answers every datagram with "echo:" + its payload. */
const UDP_ECHO = `
import socket, sys
s = socket.socket(socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
while True:
    data, peer = s.recvfrom(65535)
    s.sendto(b"echo:" + data, peer)
`;
/** Sends a payload (a few tries), prints the answer. */
const UDP_CLIENT = `
import socket, sys
s = socket.socket(socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
for attempt in range(3):
    s.sendto(sys.argv[3].encode(), (sys.argv[1], int(sys.argv[2])))
    try:
        print(s.recvfrom(65535)[0].decode()); break
    except socket.timeout:
        pass
`;

interface Flow { name: string; ok: boolean; detail: string }

/** Checksum errors a node's kernel counted on receive (TCP over both families, UDP, UDP over IPv6). */
function csumErrors(ns: string): Record<string, number> {
  const snmp = sh(inNs(ns, ['cat', '/proc/net/snmp'])).split('\n');
  const field = (proto: string) => {
    const [names, values] = snmp.filter((l) => l.startsWith(`${proto}: `)).map((l) => l.split(/\s+/));
    return Number(values[names.indexOf('InCsumErrors')]);
  };
  const udp6 = /Udp6InCsumErrors\s+(\d+)/.exec(sh(inNs(ns, ['cat', '/proc/net/snmp6'])))?.[1];
  return { tcp: field('Tcp'), udp: field('Udp'), udp6: Number(udp6) };
}
const nodesCsumErrors = () => ({ h4: csumErrors(NS.h4), h6: csumErrors(NS.h6) });

/** virtio-net feature bits (virtio spec 5.1.3): the driver may send / accepts partial checksums. */
const CSUM = 1n << 0n;
const GUEST_CSUM = 1n << 1n;
/** The last feature set lib/vhost logged as negotiated ("VHOST_CONFIG: (...) negotiated Virtio features: 0x..."). */
function negotiated(log: string): bigint | null {
  const all = [...log.matchAll(/negotiated Virtio features: 0x([0-9a-f]+)/g)];
  return all.length ? BigInt(`0x${all[all.length - 1][1]}`) : null;
}
const has = (f: bigint | null, bit: bigint) => f !== null && (f & bit) !== 0n;

describe('checksum offloads through virtio (net_virtio_user in the translator, testpmd net_vhost csum engine)', function () {
  this.timeout(120000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nat64-vio-'));
  const vhostSocket = path.join(dir, 'v6.sock');
  const socket = path.join(dir, 'nat64.sock');
  const www4 = path.join(dir, 'www4');
  const www6 = path.join(dir, 'www6');
  const big = randomBytes(3 * 1024 * 1024);
  const bigSha = createHash('sha256').update(big).digest('hex');
  const small = `published from ${V6.node} through a static BIB entry\n`;
  const children: ChildProcess[] = [];
  let testpmd: ChildProcess | null = null;
  let pmdOut = '';
  let daemon: ChildProcess | null = null;
  let daemonOut = '';
  let daemonExit: Promise<number | null> = Promise.resolve(null);

  const cli = (args: string[]) => {
    const r = spawnSync(process.execPath, [BIN, ...args],
      { encoding: 'utf8', timeout: 20000, env: { ...process.env, NAT64_SOCKET: socket } });
    return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  };
  const ok = (args: string[]) => {
    const r = cli(args);
    assert.equal(r.status, 0, `nat64 ${args.join(' ')}: ${r.stderr}${r.stdout}`);
    return r.stdout;
  };
  const counters = (): Counters => {
    const rows = JSON.parse(ok(['stats', 'display', '--json', '--all'])) as Array<{ name: string; value: number }>;
    return Object.fromEntries(rows.map((r) => [r.name, r.value]));
  };
  const ports = () => JSON.parse(ok(['port', 'display', '--json'])) as Array<Record<string, any>>;
  const logs = () => `--- daemon ---\n${daemonOut.slice(-3000)}\n--- testpmd ---\n${pmdOut.slice(-3000)}`;

  function background(args: string[]): ChildProcess {
    const c = spawn(args[0], args.slice(1), { stdio: 'ignore' });
    children.push(c);
    return c;
  }

  async function startTestpmd(): Promise<void> {
    const cmds = path.join(dir, 'testpmd.cmds');
    // `csum set` wants the port stopped; `port start` reconfigures it with the TX offloads. The csum
    // engine rewrites both MAC addresses by default (to --eth-peer and its own): `mac-swap off` makes it a wire.
    fs.writeFileSync(cmds, ['port stop 1', 'csum set tcp hw 1', 'csum set udp hw 1', 'csum show 1', 'port start 1',
      'csum mac-swap off 0', 'csum mac-swap off 1', ''].join('\n'));
    // The vhost-user back end maps the translator's memory from the fds virtio_user sends, its own
    // memory is private: 4 kB pages, no shared config (--no-shconf), no hugepage taken from the translator.
    const eal = ['--no-pci', '--no-huge', '--no-shconf', '-m', '128', '--iova-mode=va', '--no-telemetry',
      '--file-prefix', `${P}-pmd`, '--lcores', `0@${PMD_CPU},1@${PMD_CPU}`,
      '--vdev', `net_af_packet0,iface=sw-h6`, '--vdev', `net_vhost0,iface=${vhostSocket},client=0`];
    // --disable-link-check: the vhost port is down until the translator connects (no 9 s wait per start).
    const app = ['--forward-mode=csum', '--total-num-mbufs=4096', '--no-mlockall', '--disable-link-check', `--cmdline-file=${cmds}`];
    // stdbuf: testpmd printf()s its progress; line-buffered, "Press enter to exit" reaches us when printed.
    const p = spawn('ip', inNs(NS.sw, ['stdbuf', '-oL', 'dpdk-testpmd', ...eal, '--', ...app]).slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    testpmd = p;
    children.push(p);
    p.stdout!.on('data', (b: Buffer) => { pmdOut += b.toString(); });
    p.stderr!.on('data', (b: Buffer) => { pmdOut += b.toString(); });
    const deadline = Date.now() + 20000;
    // Non-interactive testpmd forwards until a line arrives on stdin.
    while (!pmdOut.includes('Press enter to exit')) {
      if (p.exitCode !== null || Date.now() > deadline) throw new Error(`dpdk-testpmd did not start (exit ${p.exitCode}):\n${pmdOut}`);
      await sleep(100);
    }
    // port 1 (net_vhost0) with RTE_ETH_TX_OFFLOAD_UDP_CKSUM | TCP_CKSUM (0x4 | 0x8).
    assert.ok(!/not supported|Please stop/.test(pmdOut) && /Tx offloads=0xc/.test(pmdOut),
      `testpmd did not enable TCP/UDP TX checksum offload on net_vhost0:\n${pmdOut}`);
    assert.ok(fs.existsSync(vhostSocket), `no vhost-user socket ${vhostSocket}:\n${pmdOut}`);
  }

  function daemonConfig(rxChecksum: 'auto' | 'off'): object {
    const mem = memoryArgs();
    // virtio_user shares its memory with the back end as fds, at most 8 regions (VHOST_MEMORY_MAX_NREGIONS):
    // one file per memseg list, not one per hugepage. --no-huge memory is one memfd already.
    const eal = ['--no-pci', '--iova-mode=va', '--no-telemetry', '-l', '0', '--log-level=warning',
      ...(mem.includes('--in-memory') ? [...mem, '--single-file-segments'] : [...mem, '-m', '256'])];
    return {
      dataplane: {
        eal, shards: 1, mbufs: 4095,
        ports: [
          { name: 'v6', device: `net_virtio_user0,path=${vhostSocket},queues=1,mac=${VIRTIO_MAC}`,
            addresses: [`${V6.translator}/96`], ...(rxChecksum === 'auto' ? {} : { rxChecksum }) },
          { name: 'v4', device: 'net_af_packet0,iface=t4,qpairs=1,framesz=5120,blocksz=20480', addresses: [`${V4.translator}/24`] },
        ],
      },
      instances: [],
    };
  }

  async function startDaemon(rxChecksum: 'auto' | 'off'): Promise<void> {
    const config = path.join(dir, `nat64-${rxChecksum}.json`);
    fs.writeFileSync(config, JSON.stringify(daemonConfig(rxChecksum), null, 2));
    daemonOut = '';
    const d = spawn('ip', inNs(NS.t, [process.execPath, BIN, 'daemon', '--config', config, '--socket', socket]).slice(1),
      { stdio: ['ignore', 'pipe', 'pipe'] });
    daemon = d;
    d.stdout!.on('data', (b: Buffer) => { daemonOut += b.toString(); });
    d.stderr!.on('data', (b: Buffer) => { daemonOut += b.toString(); });
    daemonExit = new Promise((resolve) => d.on('exit', (code) => resolve(code)));
    const deadline = Date.now() + 30000;
    for (;;) {
      if (d.exitCode !== null) throw new Error(`daemon exited (${d.exitCode}):\n${logs()}`);
      if (fs.existsSync(socket) && cli(['instance', 'display']).status === 0) break;
      if (Date.now() > deadline) throw new Error(`daemon did not open ${socket}:\n${logs()}`);
      await sleep(200);
    }
    ok(['instance', 'add', 'example', '--pool6', '64:ff9b::/96']);
    // Static BIB entries (4-to-6 port forwarding) must lie inside pool4: keep the default range, add the ports.
    for (const proto of ['--tcp', '--udp']) {
      ok(['-i', 'example', 'pool4', 'add', V4.translator, '61001-65535', proto]);
      ok(['-i', 'example', 'pool4', 'add', V4.translator, '8081', proto]);
    }
    ok(['-i', 'example', 'bib', 'add', `${V6.node}#8081`, `${V4.translator}#8081`, '--tcp']);
    ok(['-i', 'example', 'bib', 'add', `${V6.node}#8081`, `${V4.translator}#8081`, '--udp']);
  }

  async function stopDaemon(): Promise<number | null | 'timeout'> {
    const d = daemon;
    if (!d || d.exitCode !== null) return d?.exitCode ?? null;
    d.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([daemonExit, new Promise<'timeout'>((r) => { timer = setTimeout(() => r('timeout'), 15000); })]);
    clearTimeout(timer);
    if (code === 'timeout') d.kill('SIGKILL');
    return code;
  }

  /** The same flows in both modes; each reports rather than throws. */
  function flows(): Flow[] {
    const out: Flow[] = [];
    const run = (name: string, ns: string, args: string[], check: (stdout: string, status: number | null) => boolean, timeout = 30000) => {
      const t0 = Date.now();
      const r = spawnSync('ip', inNs(ns, args).slice(1), { encoding: 'utf8', timeout });
      const text = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
      out.push({ name, ok: check(r.stdout ?? '', r.status), detail: `${Date.now() - t0} ms, exit ${r.status}: ${text.slice(-400)}` });
    };
    run('ping -6', NS.h6, ['ping', '-6', '-c', '3', '-i', '0.2', '-W', '2', MAPPED], (_o, s) => s === 0);

    const got = path.join(dir, 'big.got');
    fs.rmSync(got, { force: true });
    run('TCP download 3 MiB (4 -> 6 data)', NS.h6, ['curl', '-sS', '-m', '30', '-o', got, '-w', '%{http_code} %{size_download} B %{speed_download} B/s',
      `http://[${MAPPED}]:8080/big.bin`], (o, s) => s === 0 && o.startsWith('200')
      && fs.existsSync(got) && createHash('sha256').update(fs.readFileSync(got)).digest('hex') === bigSha);

    const p6 = `6to4-${randomBytes(500).toString('hex')}`;
    run('UDP 6 -> 4 echo (1 KB)', NS.h6, ['python3', '-c', UDP_CLIENT, MAPPED, '5353', p6], (o, s) => s === 0 && o.trim() === `echo:${p6}`);

    const p4 = `4to6-${randomBytes(500).toString('hex')}`;
    run('UDP 4 -> 6 echo, static BIB', NS.h4, ['python3', '-c', UDP_CLIENT, V4.translator, '8081', p4], (o, s) => s === 0 && o.trim() === `echo:${p4}`);

    run('TCP 4 -> 6 HTTP, static BIB', NS.h4, ['curl', '-sS', '-m', '10', `http://${V4.translator}:8081/small.txt`], (o, s) => s === 0 && o === small);
    return out;
  }
  const failed = (fs_: Flow[]) => fs_.filter((f) => !f.ok).map((f) => `${f.name}: ${f.detail}`).join('\n');

  before(async () => {
    requireTool('dpdk-testpmd', 'Debian package dpdk: the vhost-user peer');
    requireTool('curl', 'HTTP client on the nodes');
    requireTool('python3', 'HTTP and UDP servers on the nodes');
    createNamespaces();
    fs.mkdirSync(www4);
    fs.mkdirSync(www6);
    fs.writeFileSync(path.join(www4, 'big.bin'), big);
    fs.writeFileSync(path.join(www6, 'small.txt'), small);
    const servers = Promise.all([
      waitListening(NS.h4, 8080, 'tcp', { server: background(inNs(NS.h4, ['python3', '-m', 'http.server', '8080', '--bind', V4.node, '--directory', www4])) }),
      waitListening(NS.h4, 5353, 'udp', { server: background(inNs(NS.h4, ['python3', '-c', UDP_ECHO, V4.node, '5353'])) }),
      waitListening(NS.h6, 8081, 'tcp', { server: background(inNs(NS.h6, ['python3', '-m', 'http.server', '8081', '--bind', V6.node, '--directory', www6])) }),
      waitListening(NS.h6, 8081, 'udp', { server: background(inNs(NS.h6, ['python3', '-c', UDP_ECHO, V6.node, '8081'])) }),
    ]);
    servers.catch(() => { /* reported by the await below, unless testpmd failed first */ });
    await startTestpmd();
    await servers; // listening, not merely spawned (they start while testpmd does)
  });

  after(async () => {
    await stopDaemon();
    if (testpmd && testpmd.exitCode === null) {
      testpmd.stdin!.end('\n'); // "Press enter to exit": stops the ports and closes the vhost socket
      const deadline = Date.now() + 5000;
      while (testpmd.exitCode === null && Date.now() < deadline) await sleep(100);
    }
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    destroyNamespaces();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  describe('rxChecksum "auto" on net_virtio_user: RX L4 checksum offload, partial frames flagged', () => {
    let before0: Counters;
    let results: Flow[] = [];
    let pmdMark = 0;

    before(async () => {
      pmdMark = pmdOut.length;
      await startDaemon('auto');
      before0 = counters();
    });

    it('virtio_user negotiated VIRTIO_NET_F_GUEST_CSUM with the vhost-user back end (testpmd\'s log)', () => {
      const f = negotiated(pmdOut.slice(pmdMark));
      assert.ok(f !== null, `no feature negotiation in testpmd's log:\n${pmdOut.slice(pmdMark)}`);
      assert.ok(has(f, GUEST_CSUM), `GUEST_CSUM not negotiated: 0x${f!.toString(16)}`);
      assert.ok(has(f, CSUM), `CSUM not negotiated: 0x${f!.toString(16)}`);
      console.log(`      device mode virtio features 0x${f!.toString(16)}: CSUM and GUEST_CSUM on`);
    });

    it('port display: the virtio port runs rxChecksum "device" with TCP/UDP RX and TX checksum offloads', () => {
      const [v6, v4] = ['v6', 'v4'].map((n) => ports().find((p) => p.configName === n));
      assert.ok(v6 && v4, JSON.stringify(ports()));
      assert.equal(v6.driver, 'net_virtio_user', JSON.stringify(v6));
      assert.equal(v6.link, 'up', JSON.stringify(v6)); // a virtio_user the back end refused starts "fine" but stays down
      assert.equal(v6.rxChecksum, 'device', JSON.stringify(v6));
      for (const o of ['TCP_CKSUM', 'UDP_CKSUM']) {
        assert.ok(v6.rxOffloads.includes(o), `rx ${o}: ${JSON.stringify(v6)}`);
        assert.ok(v6.txOffloads.includes(o), `tx ${o}: ${JSON.stringify(v6)}`);
      }
      assert.equal(v4.rxChecksum, 'detect', JSON.stringify(v4));
    });

    it('ping, a 3 MiB TCP download (sha256), UDP both ways and static BIB (TCP, UDP) all work', () => {
      results = flows();
      assert.equal(failed(results), '', `${failed(results)}\n${logs()}`);
    });

    it('no node\'s kernel saw a bad TCP/UDP checksum (what the translator finished was right)', () => {
      const e = nodesCsumErrors();
      assert.deepEqual(e, { h4: { tcp: 0, udp: 0, udp6: 0 }, h6: { tcp: 0, udp: 0, udp6: 0 } }, JSON.stringify(e));
    });

    it('partial frames arrived flagged through virtio and were finished (counters)', () => {
      const now = counters();
      const d = Object.fromEntries(CSUM_COUNTERS.map((k) => [k, (now[k] ?? 0) - (before0[k] ?? 0)]));
      console.log(`      device mode: ${results.map((f) => `${f.name}: ${f.detail.split(':')[0]}`).join('; ')}`);
      console.log(`      device mode counters: ${JSON.stringify(d)}`);
      // Every TCP/UDP frame of the IPv6 node (ACKs of the download, requests, BIB answers) came partial,
      // flagged RX_L4_CKSUM_NONE by net_virtio (the IPv4 node's kernel verified what we made of them).
      assert.ok(d['checksum-partial-flagged'] >= 100, `flagged ${JSON.stringify(d)}`);
      // The IPv4 node's partial frames (the download) were recognised on af_packet.
      assert.ok(d['checksum-partial-detected'] >= 1000, `detected ${JSON.stringify(d)}`);
      // Each was finished once: in software (on transmit through af_packet, which has no TX checksum
      // offload, or on receive when its translation could be fragmented: the full-size download
      // segments), or by virtio's TX offload (the small ones going 4 -> 6).
      const partial = d['checksum-partial-flagged'] + d['checksum-partial-detected'];
      const finished = d['checksum-partial-completed'] + d['checksum-partial-offloaded'];
      assert.ok(finished <= partial && finished >= partial * 0.99, `finished ${JSON.stringify(d)}`);
      assert.ok(d['checksum-partial-completed'] >= d['checksum-partial-flagged'], `completed ${JSON.stringify(d)}`);
      assert.ok(d['checksum-partial-offloaded'] >= 1, `offloaded ${JSON.stringify(d)}`);
      assert.equal(d['checksum-bad-dropped'], 0, JSON.stringify(d));
    });

    it('the daemon stops cleanly on SIGTERM (virtio_user leaves the vhost-user socket)', async () => {
      const code = await stopDaemon();
      assert.equal(code, 0, `daemon exit ${code}\n${logs()}`);
    });
  });

  describe('rxChecksum "off" on the same path (the behaviour before issue 10)', () => {
    let pmdMark = 0;

    before(async () => {
      pmdMark = pmdOut.length;
      await startDaemon('off');
    });

    it('the virtio header is not parsed: nothing is flagged (flows and counters reported)', () => {
      const v6 = ports().find((p) => p.configName === 'v6')!;
      assert.equal(v6.rxChecksum, 'off', JSON.stringify(v6));
      assert.deepEqual(v6.rxOffloads, [], JSON.stringify(v6));
      const c0 = counters();
      const results = flows();
      const c1 = counters();
      const d = Object.fromEntries(CSUM_COUNTERS.map((k) => [k, (c1[k] ?? 0) - (c0[k] ?? 0)]));
      const pmd = pmdOut.slice(pmdMark);
      console.log(`      off mode: ${results.map((f) => `${f.name}: ${f.ok ? 'ok' : 'FAILED'} (${f.detail.split(':')[0]})`).join('; ')}`);
      console.log(`      off mode counters: ${JSON.stringify(d)}; nodes' checksum errors: ${JSON.stringify(nodesCsumErrors())}`);
      const f = negotiated(pmd);
      console.log(`      off mode virtio features 0x${f?.toString(16)}: GUEST_CSUM ${has(f, GUEST_CSUM) ? 'on' : 'off'}; ` +
        `net_vhost ${/Tx csum will be done in SW/.test(pmd) ? 'finishes checksums in software ("Tx csum will be done in SW")' : 'no software TX checksum notice'}`);
      assert.ok(f !== null && !has(f, GUEST_CSUM), `GUEST_CSUM negotiated without RX offload: 0x${f?.toString(16)}`);
      assert.equal(d['checksum-partial-flagged'], 0, JSON.stringify(d));
    });
  });
});
