/**
 * Session synchronisation between two real daemons (docs/session-sync.md): J on the user guide's
 * network (RelNet), K in its own namespace with its DPDK ports on the same two bridges, but its
 * bridge ports down; a management veth between J and K carries the sync datagrams (kernel UDP,
 * never a DPDK port), HMAC-SHA256 on. K starts after J already has a ping and a UDP session (it
 * must get them from a dump), a TCP connection opens after K is up (live records). Then the bridge
 * ports move from J to K (same MACs and addresses, as an address takeover would make them) and the
 * ping, the UDP flow and the TCP connection continue through K with J's IPv4 transport addresses:
 * the synced sessions serve both directions in K's shards. Also: a removal on J reaches K, and
 * forged datagrams (wrong source, no MAC) are counted and dropped. Runs J 1 shard / K 2 shards
 * and J 2 shards / K 1 shard.
 */
import * as assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BIN, RelNet, sleep } from './reliability-net';
import { nsExec } from '../../src/demo/topology';
import { waitListening } from '../../src/demo/listening';
import { mapped } from '../../src/demo/checks';

const KEY = 'e2e shared sync key, 32+ chars long';
const MAC6 = '02:00:00:64:00:06', MAC4 = '02:00:00:64:00:04';
const TCP_PORT = 7007;

function instance(icmpTimeout: string) {
  return {
    instance: 'default', framework: 'netfilter',
    global: { 'pool6': '64:ff9b::/96', 'ss-enabled': true, 'icmp-timeout': icmpTimeout },
    pool4: ['TCP', 'UDP', 'ICMP'].map((protocol) => ({ protocol, prefix: '203.0.113.1/32', 'port range': '61001-65535' })),
  };
}

/** The sync link: unicast over IPv4, or joold-style IPv6 multicast on the management veth. */
type Mode = 'unicast4' | 'multicast6';
const ADDR = { unicast4: ['192.0.2.1', '192.0.2.2'], multicast6: ['fd00:64::1', 'fd00:64::2'] };
function sync(mode: Mode, self: 0 | 1) {
  const [me, peer] = self === 0 ? ADDR[mode] : [...ADDR[mode]].reverse();
  if (mode === 'unicast4') return { address: me, port: 6400, peers: [peer], key: KEY };
  return { 'multicast address': 'ff05::6464', 'port': 6400, 'in interface': 'sync0', 'out interface': 'sync0', 'ttl': 1, 'peers': [peer], 'key': KEY };
}

interface Row { protocol: string; ipv6Local: string; ipv6LocalPort: number; ipv4LocalPort: number; state: string; origin: string; shard: number }

for (const [jShards, kShards, mode] of [[1, 2, 'unicast4'], [2, 1, 'multicast6']] as const) {
  describe(`session sync e2e: J ${jShards} shard(s), K ${kShards} shard(s), ${mode}`, function () {
    this.timeout(120000);
    const prefix = `nss${jShards}${kShards}`;
    const kNs = `${prefix}-k`;
    let net: RelNet;
    let k: ChildProcess | null = null;
    let kOut = '';
    const kSock = () => path.join(net.dir, 'k.sock');
    const kCli = (args: string[]) => net.cli(args, kSock());
    const kJson = <T>(args: string[]): T => {
      const r = kCli([...args, '--json']);
      if (r.status !== 0) throw new Error(`K: nat64 ${args.join(' ')}: ${r.stderr}`);
      return JSON.parse(r.stdout) as T;
    };
    const kStats = () => Object.fromEntries(kJson<Array<{ name: string; value: number }>>(['stats', 'display', '--all']).map((r) => [r.name, r.value]));
    const jSessions = () => net.json<Row[]>(['session', 'display']);
    const kSessions = () => kJson<Row[]>(['session', 'display']);
    const services: ChildProcess[] = [];

    async function until<T>(what: string, f: () => T | undefined | false, ms = 10000): Promise<T> {
      const end = Date.now() + ms;
      for (;;) {
        const v = f();
        if (v) return v;
        if (Date.now() > end) throw new Error(`timed out: ${what}\nJ:\n${net.output.slice(-1500)}\nK:\n${kOut.slice(-1500)}`);
        await sleep(100);
      }
    }

    /** One UDP request from IPv6 node 0's fixed source port to the echo server; the reply or ''. */
    function udpAsk(sport: number, text: string): string {
      const py = `import socket,sys
s=socket.socket(socket.AF_INET6,socket.SOCK_DGRAM);s.bind(('::',${sport}));s.settimeout(2)
for i in range(3):
  s.sendto(b'${text}',('${mapped(net.t)}',5353))
  try: print(s.recvfrom(100)[0].decode()); break
  except socket.timeout: pass`;
      return spawnSync('ip', ['netns', 'exec', net.t.v6Nodes[0].ns, 'python3', '-c', py], { encoding: 'utf8', timeout: 15000 }).stdout.trim();
    }
    function ping(id: number): boolean {
      // Success when any of three echoes is answered (the first may wait for a neighbour resolution).
      return spawnSync('ip', ['netns', 'exec', net.t.v6Nodes[0].ns, 'ping', '-6', '-e', String(id), '-c', '3', '-i', '0.2', '-W', '2', mapped(net.t)],
        { timeout: 10000 }).status === 0;
    }

    before(async function () {
      net = new RelNet({
        prefix, shards: jShards,
        config: (cfg) => {
          cfg.dataplane.ports[0].mac = MAC6;
          cfg.dataplane.ports[1].mac = MAC4;
          cfg.instances = [instance('0:01:00')];
          cfg.sync = sync(mode, 0);
        },
        // The management link between J's and K's namespaces exists before J binds its socket.
        beforeDaemon: (t) => {
          cleanupK();
          sh(['ip', 'netns', 'add', kNs]);
          sh(['ip', 'link', 'add', 'sync0', 'netns', t.ns.t, 'type', 'veth', 'peer', 'name', 'sync0', 'netns', kNs]);
          const [a, b] = ADDR[mode], len = mode === 'unicast4' ? 24 : 64;
          nsExec(t.ns.t, ['ip', 'addr', 'add', `${a}/${len}`, 'dev', 'sync0', ...(len === 64 ? ['nodad'] : [])]);
          nsExec(kNs, ['ip', 'addr', 'add', `${b}/${len}`, 'dev', 'sync0', ...(len === 64 ? ['nodad'] : [])]);
          nsExec(t.ns.t, ['ip', 'link', 'set', 'sync0', 'up']);
          nsExec(kNs, ['ip', 'link', 'set', 'sync0', 'up']);
          nsExec(kNs, ['ip', 'link', 'set', 'lo', 'up']);
        },
      });
      await net.up();
      // K's DPDK ports on the bridges, bridge side down until the links move.
      for (const [kIf, swIf, br] of [['k6', 'sw-k6', 'br6'], ['k4', 'sw-k4', 'br4']]) {
        sh(['ip', 'link', 'add', kIf, 'netns', kNs, 'type', 'veth', 'peer', 'name', swIf, 'netns', net.t.ns.sw]);
        nsExec(net.t.ns.sw, ['ip', 'link', 'set', swIf, 'master', br]);
        nsExec(kNs, ['ip', 'link', 'set', kIf, 'up']);
      }
      // TCP echo server on the IPv4 node.
      services.push(spawn('ip', ['netns', 'exec', net.t.v4Node.ns, 'python3', '-c', `import socket,threading
s=socket.socket();s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1);s.bind(('${net.t.v4Node.addr}',${TCP_PORT}));s.listen(8)
def serve(c):
  while True:
    d=c.recv(100)
    if not d: return
    c.sendall(b'echo:'+d)
while True:
  c,_=s.accept();threading.Thread(target=serve,args=(c,),daemon=True).start()`], { stdio: 'ignore' }));
      await waitListening(net.t.v4Node.ns, TCP_PORT, 'tcp', { server: services[services.length - 1] });
    });

    function sh(a: string[]): void {
      const r = spawnSync(a[0], a.slice(1), { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`${a.join(' ')}: ${r.stderr}`);
    }

    function cleanupK(): void {
      if (spawnSync('ip', ['netns', 'pids', kNs]).status === 0) {
        for (const pid of spawnSync('ip', ['netns', 'pids', kNs], { encoding: 'utf8' }).stdout.split(/\s+/).filter(Boolean)) {
          try { process.kill(Number(pid), 'SIGKILL'); } catch { /* gone */ }
        }
        spawnSync('ip', ['netns', 'del', kNs]);
      }
    }

    after(async function () {
      if (k && k.exitCode === null) { k.kill('SIGTERM'); await new Promise((r) => { k!.once('exit', r); setTimeout(r, 10000); }); }
      for (const s of services) s.kill('SIGKILL');
      cleanupK();
      await net?.down();
    });

    async function startK(): Promise<void> {
      const cfg = JSON.parse(fs.readFileSync(net.configPath, 'utf8'));
      cfg.dataplane.shards = kShards;
      cfg.dataplane.ports[0].device = `net_af_packet0,iface=k6,qpairs=${kShards},framesz=5120,blocksz=20480`;
      cfg.dataplane.ports[1].device = `net_af_packet1,iface=k4,qpairs=${kShards},framesz=5120,blocksz=20480`;
      cfg.instances = [instance('0:01:00')];
      cfg.sync = sync(mode, 1);
      const file = path.join(net.dir, 'k.json');
      fs.writeFileSync(file, JSON.stringify(cfg, null, 2));
      k = spawn('ip', ['netns', 'exec', kNs, process.execPath, BIN, 'daemon', '--config', file, '--socket', kSock()], { stdio: ['ignore', 'pipe', 'pipe'] });
      k.stdout!.on('data', (b: Buffer) => { kOut += b.toString(); });
      k.stderr!.on('data', (b: Buffer) => { kOut += b.toString(); });
      await until('K answers', () => fs.existsSync(kSock()) && kCli(['instance', 'display']).status === 0, 30000);
    }

    it('sessions made on J reach K (a dump for the late joiner, live records after), with J\'s IPv4 transport addresses', async () => {
      assert.ok(ping(4242), 'ping through J');
      assert.equal(udpAsk(44000, 'before'), 'echo:before');
      await startK();
      const dumped = await until('the dump on K', () => {
        const s = kSessions();
        return s.some((r) => r.protocol === 'ICMP') && s.some((r) => r.protocol === 'UDP') && s;
      });
      const j0 = jSessions();
      for (const proto of ['ICMP', 'UDP']) {
        const a = j0.find((r) => r.protocol === proto)!, b = dumped.find((r) => r.protocol === proto)!;
        assert.deepEqual([b.ipv6Local, b.ipv6LocalPort, b.ipv4LocalPort, b.origin], [a.ipv6Local, a.ipv6LocalPort, a.ipv4LocalPort, 'peer'], proto);
        assert.equal(b.shard, b.ipv4LocalPort % kShards, 'in the shard that owns the IPv4 port on K');
      }
      assert.ok(kStats()['sync-applied'] >= 2);
    });

    let tcpClient: ChildProcess | null = null;
    let tcpOut = '';
    const flag = () => path.join(net.dir, 'tcp-go');

    it('a TCP connection opened through J is ESTABLISHED on K', async () => {
      const py = `import socket,os,time
s=socket.create_connection(('${mapped(net.t)}',${TCP_PORT}),timeout=30,source_address=('::',45000))
s.sendall(b'one');print(s.recv(100).decode(),flush=True)
while not os.path.exists('${flag()}'): time.sleep(0.05)
s.sendall(b'two');print(s.recv(100).decode(),flush=True)`;
      tcpClient = spawn('ip', ['netns', 'exec', net.t.v6Nodes[0].ns, 'python3', '-c', py], { stdio: ['ignore', 'pipe', 'pipe'] });
      tcpClient.stdout!.on('data', (b: Buffer) => { tcpOut += b.toString(); });
      tcpClient.stderr!.on('data', (b: Buffer) => { tcpOut += b.toString(); });
      await until('first TCP echo', () => tcpOut.includes('echo:one'));
      const jt = jSessions().find((r) => r.protocol === 'TCP' && r.ipv6LocalPort === 45000)!;
      const kt = await until('TCP session on K', () => kSessions().find((r) => r.protocol === 'TCP' && r.ipv6LocalPort === 45000 && r.state === 'ESTABLISHED'));
      assert.deepEqual([kt.ipv4LocalPort, kt.origin], [jt.ipv4LocalPort, 'peer']);
    });

    it('a removal on J (its ICMP sessions now expire after 2 s) removes K\'s copy, whose own timeout is 1 min', async () => {
      assert.equal(net.cli(['global', 'update', 'icmp-timeout', '0:00:02']).status, 0);
      assert.ok(ping(4343));
      await until('ping 4343 on K', () => kSessions().some((r) => r.protocol === 'ICMP' && r.ipv6LocalPort === 4343));
      await until('ping 4343 gone from J', () => !jSessions().some((r) => r.protocol === 'ICMP' && r.ipv6LocalPort === 4343), 8000);
      await until('ping 4343 gone from K', () => !kSessions().some((r) => r.protocol === 'ICMP' && r.ipv6LocalPort === 4343), 3000);
    });

    it('forged datagrams are counted and dropped: a source that is no peer, a peer address without the MAC', async () => {
      const before = kStats();
      const v6 = mode === 'multicast6';
      const stranger = v6 ? 'fd00:64::99' : '192.0.2.99';
      // Deprecated (v6) / secondary (v4): never the source J's own datagrams pick.
      nsExec(net.t.ns.t, ['ip', 'addr', 'add', `${stranger}/${v6 ? 64 : 24}`, 'dev', 'sync0', ...(v6 ? ['nodad', 'preferred_lft', '0'] : [])]);
      // A well-formed unsigned datagram of an unknown sender: header only, no records.
      const forge = (src: string) => spawnSync('ip', ['netns', 'exec', net.t.ns.t, 'python3', '-c', [
        'import socket,struct,time',
        "b=b'N6SY'+bytes([1,1,0,0])+struct.pack('>IIIIIHH',0xffffffff,1,1,0,int(time.time()*1000)&0xffffffff,0,0)",
        `s=socket.socket(socket.AF_INET${v6 ? '6' : ''},socket.SOCK_DGRAM);s.bind(('${src}',0));s.sendto(b,('${ADDR[mode][1]}',6400))`,
      ].join('\n')]);
      forge(stranger);
      forge(ADDR[mode][0]);
      const after = await until('both refusals', () => {
        const s = kStats();
        return s['sync-rejected-source'] > before['sync-rejected-source'] && s['sync-rejected-auth'] > before['sync-rejected-auth'] && s;
      });
      assert.equal(after['sync-rejected-source'] - before['sync-rejected-source'], 1);
      assert.equal(after['sync-rejected-auth'] - before['sync-rejected-auth'], 1);
    });

    it('after the links move from J to K, ping, UDP and the TCP connection continue through K on J\'s mappings', async () => {
      assert.equal(net.cli(['global', 'update', 'icmp-timeout', '0:01:00']).status, 0);
      assert.ok(ping(4242), 'a fresh ping session on J');
      const icmpK = await until('ping 4242 on K', () => kSessions().find((r) => r.protocol === 'ICMP' && r.ipv6LocalPort === 4242));
      const kBefore = kSessions();
      const udpK = kBefore.find((r) => r.protocol === 'UDP' && r.ipv6LocalPort === 44000)!;
      nsExec(net.t.ns.sw, ['ip', 'link', 'set', 'sw-t6', 'down']);
      nsExec(net.t.ns.sw, ['ip', 'link', 'set', 'sw-t4', 'down']);
      nsExec(net.t.ns.sw, ['ip', 'link', 'set', 'sw-k6', 'up']);
      nsExec(net.t.ns.sw, ['ip', 'link', 'set', 'sw-k4', 'up']);
      const t0 = kStats()['translated-6to4'];
      assert.ok(ping(4242), 'ping through K');
      assert.equal(udpAsk(44000, 'after'), 'echo:after', 'UDP through K');
      fs.writeFileSync(flag(), '');
      await until('second TCP echo through K', () => tcpOut.includes('echo:two'));
      const s = kStats();
      assert.ok(s['translated-6to4'] >= t0 + 3 && s['translated-4to6'] >= 3, 'K translated both directions');
      const udpAfter = kSessions().filter((r) => r.protocol === 'UDP' && r.ipv6LocalPort === 44000);
      assert.deepEqual(udpAfter.map((r) => [r.ipv4LocalPort, r.origin]), [[udpK.ipv4LocalPort, 'peer']], 'the same mapping, no new one');
      const syncStats = () => JSON.stringify(Object.fromEntries(Object.entries(kStats()).filter(([n, v]) => n.startsWith('sync') && v !== 0)));
      assert.deepEqual(kSessions().filter((r) => r.origin === 'local'), [], `K made no mapping of its own; K had ${JSON.stringify(kBefore)}; ${syncStats()}`);
      // J, still alive but off the links, expires its ping session and says so: K, which used it
      // since, keeps it.
      assert.equal(net.cli(['global', 'update', 'icmp-timeout', '0:00:02']).status, 0);
      await until('J expired ping 4242', () => !jSessions().some((r) => r.protocol === 'ICMP' && r.ipv6LocalPort === 4242), 8000);
      await sleep(500);
      const kept = kSessions().find((r) => r.protocol === 'ICMP' && r.ipv6LocalPort === 4242);
      assert.deepEqual([kept?.ipv4LocalPort, kept?.origin], [icmpK.ipv4LocalPort, 'peer']);
      assert.ok(kStats()['sync-rejected-stale'] >= 1);
      tcpClient?.kill('SIGKILL');
    });
  });
}
