import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { memoryArgs } from '../../src/native/eal-args';
import {
  addNamespaces, background, BIN, ns, REPO, removeNamespaces, sleep, Translator, UDP_ECHO_PEER, until, veth,
} from './helpers/ha-tools';
import { waitListening } from '../../src/demo/listening';

/**
 * Active/active scale-out (issue #13, docs/ha.md): three translators behind a router namespace.
 * BIRD 2 in each translator's namespace (the shipped config/bird/bird-nat64.conf) announces pool6
 * and the translator's own pool4 partition by eBGP over a management network to BIRD in the router
 * namespace (config/bird/router.conf), which installs a Linux multipath route for pool6 and one
 * route per partition. config/bird/nat64-health-watch.sh withdraws a translator's routes while
 * `nat64 health` fails. UDP flows from many IPv6 sources spread over the three (the IPv4 server
 * names the pool4 address it sees, so each reply says which translator carried it); one daemon is
 * killed, its routes are withdrawn and new flows go to the other two; it comes back and rejoins.
 *
 * A backup per partition: the translators synchronise sessions in a full mesh, each has the other
 * partitions as standby pool4 (translated and synced into, never allocated from), and BIRD's
 * nat64_pool4_backup announces the partition it backs up with a longer AS path. When t2 dies, the
 * router sends the replies for t2's partition to t3 (its backup) and the IPv6 side of t2's flows,
 * rehashed over t1 and t3, finds the synced sessions there: established UDP flows and TCP
 * connections continue with the same IPv4 transport address as the IPv4 server sees it.
 */
const P = 'n64ec';
const N = { r: `${P}-r`, c6: `${P}-c6`, s4: `${P}-s4`, t: [1, 2, 3].map((i) => `${P}-t${i}`) };
const ALL = [N.r, N.c6, N.s4, ...N.t];
const S4 = '203.0.113.16';
const MAPPED = `64:ff9b::${S4}`;
const CLIENTS = Array.from({ length: 16 }, (_, i) => `2001:db8:1::${(0x100 + i).toString(16)}`);
const RING = 'framesz=5120,blocksz=20480';
const SYNC_KEY = 'nat64-ecmp-backup-test-key-0123456789';
/** Partition j is backed up by translator j % 3 + 1 (announced with a longer AS path). */
const backupOf = (j: number) => j % 3 + 1;
const PROTOCOLS = ['TCP', 'UDP', 'ICMP'];

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
      instance: 'default', framework: 'netfilter', global: { pool6: '64:ff9b::/96', 'ss-enabled': true, 'ss-flush-asap': true },
      pool4: [
        // This translator's partition: while it lives, replies to it come back here only.
        ...PROTOCOLS.map((protocol) => ({ protocol, prefix: `198.51.100.${i}/32` })),
        // The others' partitions: their synced sessions translate here, no mapping is made from them.
        ...[1, 2, 3].filter((j) => j !== i).flatMap((j) => PROTOCOLS.map((protocol) => ({ protocol, prefix: `198.51.100.${j}/32`, standby: true }))),
      ],
    }],
    // Full-mesh session sync on the management network.
    sync: { address: `10.99.0.${i}`, port: 6400, peers: [1, 2, 3].filter((j) => j !== i).map((j) => `10.99.0.${j}`), key: SYNC_KEY },
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

/**
 * Long-lived flows (16 sources x 2 UDP sockets and 2 TCP connections): a request on each every
 * 0.2 s until killed; one JSON line per reply {k: "u"|"t", i, t: ms, p: "ipv4:port" the server saw}.
 */
const LIVE = [
  'import json, select, socket, sys, time',
  'dst, uport, tport, srcs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4].split(",")',
  'us, ts = [], []',
  'for a in srcs:',
  '    for k in range(2):',
  '        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s.bind((a, 0)); s.setblocking(False); us.append(s)',
  '        t = socket.socket(socket.AF_INET6, socket.SOCK_STREAM); t.bind((a, 0)); t.settimeout(5); t.connect((dst, tport)); t.setblocking(False); ts.append(t)',
  'kind = {s: ("u", i) for i, s in enumerate(us)}; kind.update({t: ("t", i) for i, t in enumerate(ts)})',
  'bufs = {t: b"" for t in ts}',
  'def out(k, i, p): sys.stdout.write(json.dumps({"k": k, "i": i, "t": int(time.time() * 1000), "p": p}) + "\\n"); sys.stdout.flush()',
  'nxt = 0',
  'while True:',
  '    if time.time() >= nxt:',
  '        nxt = time.time() + 0.2',
  '        for i, s in enumerate(us): s.sendto(b"%d" % i, (dst, uport))',
  '        for i, t in enumerate(ts):',
  '            try: t.send(b"%d\\n" % i)',
  '            except BlockingIOError: pass',
  '    r, _, _ = select.select(us + ts, [], [], 0.05)',
  '    for s in r:',
  '        k, i = kind[s]',
  '        if k == "u": out(k, i, s.recv(2048).decode().split(" ")[1]); continue',
  '        d = s.recv(4096)',
  '        if not d: out("t", i, "closed"); ts.remove(s); continue',
  '        bufs[s] += d',
  '        while b"\\n" in bufs[s]:',
  '            line, bufs[s] = bufs[s].split(b"\\n", 1)',
  '            out("t", i, line.decode().split(" ")[1])',
].join('\n');

/** TCP server: answers each line with "<line> <ipv4:port it sees>". */
const TCP_ECHO_PEER = [
  'import socket, sys, threading',
  'l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); l.bind((sys.argv[1], int(sys.argv[2]))); l.listen(64)',
  'def serve(c, peer):',
  '    f = c.makefile("rb")',
  '    for line in f: c.sendall(line.strip() + (" %s:%d\\n" % peer).encode())',
  'while True:',
  '    c, peer = l.accept(); threading.Thread(target=serve, args=(c, peer), daemon=True).start()',
].join('\n');

interface LiveReply { k: 'u' | 't'; i: number; t: number; p: string }

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
  /** Which translators' announcements of partition j the router's BIRD holds. */
  const birdRoutes = (j: number) => [...ns(N.r, ['birdc', '-s', path.join(dir, 'router.ctl'), 'show', 'route', `198.51.100.${j}/32`])
    .matchAll(/\[nat64_(\d)/g)].map((m) => Number(m[1])).sort();

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
    procs.push(background(N.s4, ['python3', '-c', TCP_ECHO_PEER, S4, '8080']));

    N.t.forEach((t, k) => tr.push(new Translator(`t${k + 1}`, t, path.join(dir, `t${k + 1}`), translatorConfig(k + 1))));
    for (const t of tr) t.start();
    await Promise.all(tr.map((t) => t.ready()));
    await Promise.all([waitListening(N.s4, 5353, 'udp', { server: procs[0].proc }), waitListening(N.s4, 8080, 'tcp', { server: procs[1].proc })]);

    const routerConf = path.join(dir, 'router.conf');
    fs.writeFileSync(routerConf, birdConfig('router.conf', []));
    procs.push(background(N.r, ['bird', '-f', '-c', routerConf, '-s', path.join(dir, 'router.ctl'), '-P', path.join(dir, 'router.pid')]));
    for (const i of [1, 2, 3]) {
      const conf = path.join(dir, `t${i}`, 'bird.conf');
      fs.writeFileSync(conf, birdConfig('bird-nat64.conf', [
        [/route 198\.51\.100\.3\/32 blackhole; {3}# a peer/, `route 198.51.100.${[1, 2, 3].find((j) => backupOf(j) === i)}/32 blackhole; # a peer`],
        [/router id 10\.99\.0\.1;/, `router id 10.99.0.${i};`],
        [/local 10\.99\.0\.1 as/, `local 10.99.0.${i} as`],
        [/route 198\.51\.100\.1\/32 blackhole;/, `route 198.51.100.${i}/32 blackhole;`],
        [/next hop address 192\.0\.2\.1;/, `next hop address 192.0.2.${i};`],
        [/next hop address 2001:db8:6::1;/, `next hop address 2001:db8:6::${i};`],
      ]));
      procs.push(background(N.t[i - 1], ['bird', '-f', '-c', conf, '-s', birdSock(i), '-P', path.join(dir, `t${i}`, 'bird.pid')]));
      procs.push(background(N.t[i - 1], ['sh', path.join(REPO, 'config/bird/nat64-health-watch.sh'), '--bin', BIN, '--socket', tr[i - 1].socket,
        '--birdc-socket', birdSock(i), '--interval', '1', 'nat64_pool6', 'nat64_pool4', 'nat64_pool4_backup']));
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
    // Each partition also has its backup's announcement, held by the router as the worse path.
    await until('a backup path per partition', () => [1, 2, 3].every((j) => birdRoutes(j).length === 2), 20000, 250)
      .catch((e: Error) => { throw new Error(`${e.message}\n${[1, 2, 3].map((j) => ns(N.r, ['birdc', '-s', path.join(dir, 'router.ctl'), 'show', 'route', `198.51.100.${j}/32`, 'all'])).join('\n')}`); });
    [1, 2, 3].forEach((j) => assert.deepEqual(birdRoutes(j), [j, backupOf(j)].sort(), `partition ${j}: owner and backup`));
    [1, 2, 3].forEach((j) => assert.ok(has4(j), `partition ${j} routed to its owner`));
  });

  it('flows from many IPv6 sources spread over the three translators, each reply back through its own', () => {
    const got = flows();
    assert.ok(got.every(Boolean), `every flow answered: ${JSON.stringify(got)}`);
    const per = [1, 2, 3].map((i) => got.filter((p) => carrier(p!) === i).length);
    console.log(`      ${got.length} flows per translator: ${per.join(' / ')}`);
    assert.ok(per.every((n) => n > 0), `all three carry flows: ${per}`);
    tr.forEach((t, k) => assert.ok(t.counters()['translated-6to4'] >= per[k], `t${k + 1} translated its flows`));
  });

  it('a translator dies: its routes are withdrawn, its synced flows continue through the survivors with the same IPv4 transport address, new flows go to the other two', async () => {
    const live = background(N.c6, ['python3', '-c', LIVE, MAPPED, '5353', '8080', CLIENTS.join(',')]);
    procs.push(live);
    const replies = (): LiveReply[] => live.out().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as LiveReply);
    const key = (r: { k: string; i: number }) => `${r.k}${r.i}`;
    const firstPeer = new Map<string, string>();
    await until('every live flow answered', () => {
      for (const r of replies()) if (!firstPeer.has(key(r))) firstPeer.set(key(r), r.p);
      return firstPeer.size === 64;
    }, 20000, 100).catch((e: Error) => { throw new Error(`${e.message}: ${firstPeer.size}/64\n${live.out().slice(-1500)}`); });
    const onT2 = [...firstPeer].filter(([, p]) => carrier(p) === 2).map(([k]) => k);
    const tcpOnT2 = onT2.filter((k) => k.startsWith('t'));
    assert.ok(onT2.some((k) => k.startsWith('u')) && tcpOnT2.length > 0, `t2 carries UDP flows and TCP connections: ${onT2}`);
    // The survivors hold t2's sessions (session sync, applied into their standby pool4).
    await until('t2\'s sessions on t1 and t3', () => [0, 2].every((k) => tr[k].counters()['sync-applied'] >= onT2.length), 10000, 200);

    const t0 = Date.now();
    tr[1].proc!.kill('SIGKILL');
    const ms = await until('t2 withdrawn', () => paths6().join() === '1,3' && !has4(2), 20000, 100)
      .catch((e: Error) => { throw new Error(`${e.message}\n${debug()}`); });
    console.log(`      t2's routes withdrawn ${Date.now() - t0} ms after its daemon was killed (health watcher every 1 s, fall 2; ${ms} ms polling)`);
    assert.ok(has4(1) && has4(3), 'the others keep their partitions');
    assert.ok(route('198.51.100.2', false).includes('via 192.0.2.3 '), `t2's partition now goes to its backup t3: ${route('198.51.100.2', false)}`);
    // Every flow of t2 answers again once its routes are gone (UDP every 0.2 s, TCP by retransmission).
    const tW = Date.now(), resumed = new Map<string, number>();
    await until('t2\'s flows resumed', () => {
      for (const r of replies()) if (r.t > tW && !resumed.has(key(r))) resumed.set(key(r), r.t);
      return onT2.every((k) => resumed.has(k));
    }, 20000, 100).catch((e: Error) => { throw new Error(`${e.message}: ${onT2.filter((k) => !resumed.has(k))}\n${debug()}`); });
    await sleep(600);
    live.proc.kill('SIGKILL');
    const all = replies();
    // Outage of a flow: its last reply before the kill's effect to its first one after the withdrawal.
    const outage = (k: string) => {
      const ts = all.filter((r) => key(r) === k && r.t <= resumed.get(k)!).map((r) => r.t);
      let gap = 0, end = 0;
      for (let j = 1; j < ts.length; j++) if (ts[j] - ts[j - 1] > gap) { gap = ts[j] - ts[j - 1]; end = ts[j]; }
      return { gap, after: end - t0 };
    };
    const fmt = (ks: string[]) => { const o = ks.map(outage); return `${Math.min(...o.map((x) => x.after))}-${Math.max(...o.map((x) => x.after))} ms after the kill (outage ${Math.min(...o.map((x) => x.gap))}-${Math.max(...o.map((x) => x.gap))} ms)`; };
    console.log(`      t2's ${onT2.length - tcpOnT2.length} UDP flows answered again ${fmt(onT2.filter((k) => k.startsWith('u')))}, its ${tcpOnT2.length} TCP connections ${fmt(tcpOnT2)}`);
    // The IPv4 server saw every flow, t2's included, from one IPv4 transport address throughout.
    for (const [k, p] of firstPeer) {
      const seen = new Set(all.filter((r) => key(r) === k).map((r) => r.p));
      assert.deepEqual([...seen], [p], `flow ${k}: one IPv4 transport address (${[...seen]})`);
    }
    assert.ok(all.every((r) => r.p !== 'closed'), 'no TCP connection closed');
    const c3 = tr[2].counters();
    assert.ok(c3['translated-4to6'] > 0 && tr[2].json<Array<{ origin: string }>>(['session', 'display', '--tcp']).some((x) => x.origin === 'peer'),
      't3 translates the synced sessions of t2\'s partition');
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
