import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { memoryArgs } from '../../src/native/eal-args';
import {
  addNamespaces, background, BIN, ns, REPO, removeNamespaces, sleep, Translator, UDP_ECHO_PEER, until, veth,
} from './helpers/ha-tools';

/**
 * Active/active scale-out (issue #13, docs/ha.md): three translators behind a router namespace.
 * BIRD 2 in each translator's namespace (the shipped config/bird/bird-nat64.conf) announces pool6
 * and the translator's own pool4 partition by eBGP over a management network to BIRD in the router
 * namespace (config/bird/router.conf), which installs a Linux multipath route for pool6 and one
 * route per partition. config/bird/nat64-health-watch.sh withdraws a translator's routes while
 * `nat64 health` fails. UDP flows from many IPv6 sources spread over the three (the IPv4 server
 * names the pool4 address it sees, so each reply says which translator carried it); one daemon is
 * killed, its routes are withdrawn and new flows go to the other two; it comes back and rejoins.
 */
const P = 'n64ec';
const N = { r: `${P}-r`, c6: `${P}-c6`, s4: `${P}-s4`, t: [1, 2, 3].map((i) => `${P}-t${i}`) };
const ALL = [N.r, N.c6, N.s4, ...N.t];
const S4 = '203.0.113.16';
const MAPPED = `64:ff9b::${S4}`;
const CLIENTS = Array.from({ length: 16 }, (_, i) => `2001:db8:1::${(0x100 + i).toString(16)}`);
const RING = 'framesz=5120,blocksz=20480';

function translatorConfig(i: number): object {
  return {
    dataplane: {
      eal: ['--no-pci', '--iova-mode=va', '--no-telemetry', '-l', '0', '--log-level=warning', ...memoryArgs()],
      shards: 1,
      ports: [
        { name: 'v6', device: `net_af_packet0,iface=t6,${RING}`, addresses: [`2001:db8:6::${i}/64`],
          routes: [{ prefix: '2001:db8:1::/64', via: '2001:db8:6::254' }] },
        { name: 'v4', device: `net_af_packet1,iface=t4,${RING}`, addresses: [`192.0.2.${i}/24`],
          routes: [{ prefix: '0.0.0.0/0', via: '192.0.2.254' }] },
      ],
    },
    instances: [{
      instance: 'default', framework: 'netfilter', global: { pool6: '64:ff9b::/96' },
      // This translator's partition: replies to it can only come back here.
      pool4: ['TCP', 'UDP', 'ICMP'].map((protocol) => ({ protocol, prefix: `198.51.100.${i}/32` })),
    }],
  };
}

/** A shipped BIRD file with this node's values; every substitution must find its text. */
function birdConfig(file: string, subs: Array<[RegExp, string]>): string {
  let text = fs.readFileSync(path.join(REPO, 'config/bird', file), 'utf8');
  for (const [re, to] of [...subs, [/log syslog all;/, 'log stderr all;'] as [RegExp, string]]) {
    assert.match(text, re, `config/bird/${file} no longer contains ${re}`);
    text = text.replace(re, to);
  }
  return text;
}

/** One UDP request per flow (16 sources x 2 ports), three tries; prints {flows, answers: {i: "ipv4:port"}}. */
const FLOWS = [
  'import json, select, socket, sys, time',
  'dst, port, srcs = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(",")',
  'socks = []',
  'for a in srcs:',
  '    for k in range(2):',
  '        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s.bind((a, 0)); s.setblocking(False); socks.append(s)',
  'answers = {}',
  'for attempt in range(3):',
  '    for i, s in enumerate(socks):',
  '        if i not in answers: s.sendto(b"%d x" % i, (dst, port))',
  '    end = time.time() + 1.5',
  '    while time.time() < end and len(answers) < len(socks):',
  '        r, _, _ = select.select(socks, [], [], 0.1)',
  '        for s in r:',
  '            d = s.recv(2048).decode().split(" ")',
  '            answers[int(d[0])] = d[1]',
  'print(json.dumps({"flows": len(socks), "answers": answers}))',
].join('\n');

describe('HA active/active: three translators behind ECMP, routes from BIRD 2 over BGP', function () {
  this.timeout(90000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nat64-ecmp-'));
  const tr: Translator[] = [];
  const procs: Array<ReturnType<typeof background>> = [];
  const birdSock = (i: number) => path.join(dir, `t${i}`, 'bird.ctl');

  const route = (prefix: string, v6: boolean) => ns(N.r, ['ip', ...(v6 ? ['-6'] : []), 'route', 'show', prefix]);
  const paths6 = () => [1, 2, 3].filter((i) => route('64:ff9b::/96', true).includes(`via 2001:db8:6::${i} `));
  const has4 = (i: number) => route(`198.51.100.${i}`, false).includes(`via 192.0.2.${i} `);
  const flows = (): Array<string | undefined> => {
    const out = ns(N.c6, ['python3', '-c', FLOWS, MAPPED, '5353', CLIENTS.join(',')]);
    const r = JSON.parse(out) as { flows: number; answers: Record<string, string> };
    return Array.from({ length: r.flows }, (_, i) => r.answers[String(i)]);
  };
  const carrier = (peer: string) => Number(/^198\.51\.100\.(\d)/.exec(peer)?.[1] ?? 0);

  before(async () => {
    addNamespaces(ALL);
    for (const br of ['br6', 'br4', 'brm']) { ns(N.r, ['ip', 'link', 'add', br, 'type', 'bridge']); ns(N.r, ['ip', 'link', 'set', br, 'up']); }
    ns(N.r, ['ip', '-6', 'addr', 'add', '2001:db8:6::254/64', 'dev', 'br6', 'nodad']);
    ns(N.r, ['ip', 'addr', 'add', '192.0.2.254/24', 'dev', 'br4']);
    ns(N.r, ['ip', 'addr', 'add', '10.99.0.254/24', 'dev', 'brm']);
    // Our own router: it forwards, and hashes flows on their ports too (fib_multipath_hash_policy 1).
    for (const k of ['net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1', 'net.ipv4.fib_multipath_hash_policy=1', 'net.ipv6.fib_multipath_hash_policy=1']) {
      ns(N.r, ['sysctl', '-qw', k]);
    }
    N.t.forEach((t, k) => {
      const i = k + 1;
      for (const [inner, br] of [['t6', 'br6'], ['t4', 'br4'], ['m0', 'brm']]) {
        veth(inner, t, `t${i}${inner.slice(1)}`, N.r);
        ns(N.r, ['ip', 'link', 'set', `t${i}${inner.slice(1)}`, 'master', br]);
      }
      ns(t, ['ip', 'addr', 'add', `10.99.0.${i}/24`, 'dev', 'm0']);
    });
    veth('eth0', N.c6, 'c6', N.r);
    ns(N.r, ['ip', '-6', 'addr', 'add', '2001:db8:1::254/64', 'dev', 'c6', 'nodad']);
    for (const a of CLIENTS) ns(N.c6, ['ip', '-6', 'addr', 'add', `${a}/64`, 'dev', 'eth0', 'nodad']);
    ns(N.c6, ['ip', '-6', 'route', 'add', 'default', 'via', '2001:db8:1::254']);
    veth('eth0', N.s4, 's4', N.r);
    ns(N.r, ['ip', 'addr', 'add', '203.0.113.254/24', 'dev', 's4']);
    ns(N.s4, ['ip', 'addr', 'add', `${S4}/24`, 'dev', 'eth0']);
    ns(N.s4, ['ip', 'route', 'add', 'default', 'via', '203.0.113.254']);
    procs.push(background(N.s4, ['python3', '-c', UDP_ECHO_PEER, S4, '5353']));

    N.t.forEach((t, k) => tr.push(new Translator(`t${k + 1}`, t, path.join(dir, `t${k + 1}`), translatorConfig(k + 1))));
    for (const t of tr) t.start();
    await Promise.all(tr.map((t) => t.ready()));

    const routerConf = path.join(dir, 'router.conf');
    fs.writeFileSync(routerConf, birdConfig('router.conf', []));
    procs.push(background(N.r, ['bird', '-f', '-c', routerConf, '-s', path.join(dir, 'router.ctl'), '-P', path.join(dir, 'router.pid')]));
    for (const i of [1, 2, 3]) {
      const conf = path.join(dir, `t${i}`, 'bird.conf');
      fs.writeFileSync(conf, birdConfig('bird-nat64.conf', [
        [/router id 10\.99\.0\.1;/, `router id 10.99.0.${i};`],
        [/local 10\.99\.0\.1 as/, `local 10.99.0.${i} as`],
        [/route 198\.51\.100\.1\/32 blackhole;/, `route 198.51.100.${i}/32 blackhole;`],
        [/next hop address 192\.0\.2\.1;/, `next hop address 192.0.2.${i};`],
        [/next hop address 2001:db8:6::1;/, `next hop address 2001:db8:6::${i};`],
      ]));
      procs.push(background(N.t[i - 1], ['bird', '-f', '-c', conf, '-s', birdSock(i), '-P', path.join(dir, `t${i}`, 'bird.pid')]));
      procs.push(background(N.t[i - 1], ['sh', path.join(REPO, 'config/bird/nat64-health-watch.sh'), '--bin', BIN, '--socket', tr[i - 1].socket,
        '--birdc-socket', birdSock(i), '--interval', '1', 'nat64_pool6', 'nat64_pool4']));
    }
  });

  after(async () => {
    for (const p of procs) p.proc.kill('SIGKILL');
    await Promise.all(tr.map((t) => t.stop()));
    removeNamespaces(ALL);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const debug = () => `--- router routes ---\n${ns(N.r, ['ip', '-6', 'route'])}${ns(N.r, ['ip', 'route'])}\n--- bird/watchers ---\n${procs.map((p) => p.out().slice(-800)).join('\n---\n')}`;

  it('once healthy, each translator announces pool6 and its pool4 partition; the router installs one multipath route over all three', async () => {
    const ms = await until('a 3-path route for pool6', () => paths6().length === 3 && [1, 2, 3].every(has4), 40000, 250)
      .catch((e: Error) => { throw new Error(`${e.message}\n${debug()}`); });
    console.log(`      routes announced ${ms} ms after the daemons answered; ${route('64:ff9b::/96', true).replace(/\s+/g, ' ').trim()}`);
  });

  it('flows from many IPv6 sources spread over the three translators, each reply back through its own', () => {
    const got = flows();
    assert.ok(got.every(Boolean), `every flow answered: ${JSON.stringify(got)}`);
    const per = [1, 2, 3].map((i) => got.filter((p) => carrier(p!) === i).length);
    console.log(`      ${got.length} flows per translator: ${per.join(' / ')}`);
    assert.ok(per.every((n) => n > 0), `all three carry flows: ${per}`);
    tr.forEach((t, k) => assert.ok(t.counters()['translated-6to4'] >= per[k], `t${k + 1} translated its flows`));
  });

  it('a translator dies: its routes are withdrawn and new flows go to the other two', async () => {
    const t0 = Date.now();
    tr[1].proc!.kill('SIGKILL');
    const ms = await until('t2 withdrawn', () => paths6().join() === '1,3' && !has4(2), 20000, 100)
      .catch((e: Error) => { throw new Error(`${e.message}\n${debug()}`); });
    console.log(`      t2's routes withdrawn ${Date.now() - t0} ms after its daemon was killed (health watcher every 1 s, fall 2; ${ms} ms polling)`);
    assert.ok(has4(1) && has4(3), 'the others keep their partitions');
    const got = flows();
    assert.ok(got.every(Boolean), `every new flow answered: ${JSON.stringify(got)}`);
    const per = [1, 2, 3].map((i) => got.filter((p) => carrier(p!) === i).length);
    console.log(`      after the withdrawal: ${per.join(' / ')}`);
    assert.equal(per[1], 0);
    assert.ok(per[0] > 0 && per[2] > 0, `both remaining translators carry flows: ${per}`);
  });

  it('the translator comes back: once healthy again its routes return', async () => {
    tr[1].start();
    await tr[1].ready();
    await until('t2 back', () => paths6().length === 3 && has4(2), 20000, 200)
      .catch((e: Error) => { throw new Error(`${e.message}\n${debug()}`); });
    const per = [1, 2, 3].map((i) => flows().filter((p) => carrier(p!) === i).length);
    assert.ok(per.every((n) => n > 0), `all three carry flows again: ${per}`);
    await sleep(0);
  });
});
