/**
 * Issue 15 end to end: one IPv6 host opens new flows as fast as it can (UDP and TCP from random
 * ports, ICMP echo with random identifiers) while an innocent host on the same pool4 address keeps
 * pinging, fetching over HTTP and exchanging UDP. With the default settings (subscriber-port-limit
 * 25 % of a pool4 address per /128) the innocent host loses nothing; the attacker's excess is
 * counted (subscriber-port-limit), logged, and shown by `subscriber display`. A control run with
 * the limit off shows the attack this defends against (pool4-exhausted for the innocent host).
 * Then per /64, switched at run time. 2 shards: each shard enforces its share.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RelNet, runInNs, sleep } from './reliability-net';
import { mapped } from '../../src/demo/checks';
import { nsExec } from '../../src/demo/topology';
import type { SubscriberReport } from '../../src/dataplane/manager-api';
import { DEFAULT_POOL4_PORTS } from '../../src/control/model';

const ATTACKER = '2001:db8::66';
/** The /64 attacker's prefix: routed by the translator to the second IPv6 node. */
const ATTACK64 = '2001:db8:0:66::';
const SECONDS = 3;
/**
 * The attacker's pace: 20 000 new flows/s, 4x the rate at which it empties the default pool4
 * (3 x 4535 ports and identifiers) in the control run within a second. Unpaced, the Python sender
 * takes a whole core of CI's two, and the innocent host's losses would measure CPU starvation of
 * the test's own processes, not the translator.
 */
const ATTACK_PPS = 20000;
/**
 * How long the attacker may take to hold what the run is about (the shared pool4's TCP ports, or
 * its own limit) before the innocent host is measured. On a loaded machine its Python starts late
 * and loses frames in the packet socket's ring: measuring at a fixed time after its start measured
 * the innocent host before the attack had taken anything, in the control run.
 */
const HOLD_TIMEOUT_MS = 30000;

/**
 * New flows at full rate from raw frames (AF_PACKET, straight to the translator's MAC): UDP and TCP
 * SYNs from random source ports, ICMPv6 echo requests with random identifiers; the source is `src`,
 * or with `rotate64` a random address of that /64 for every frame. Checksums are right. Runs until
 * the file `stop` exists, for at most `secs` s; prints how many frames it sent in how long.
 */
const ATTACK = `
import json, random, socket, struct, sys, time
import os
iface, mac, src, dst, secs, rotate, pps, stop = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5]), sys.argv[6] == '1', float(sys.argv[7]), sys.argv[8]
rnd = random.Random(15)
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW); s.bind((iface, 0))
eth = bytes.fromhex(mac.replace(':', '')) + s.getsockname()[4][:6] + b'\\x86\\xdd'
base = socket.inet_pton(socket.AF_INET6, src); d = socket.inet_pton(socket.AF_INET6, dst)
def csum(b):
    if len(b) % 2: b += b'\\0'
    t = sum(struct.unpack('!%dH' % (len(b) // 2), b)); t = (t >> 16) + (t & 0xffff); t += t >> 16
    return ~t & 0xffff
def frame(a, nh, body, off):
    b = bytearray(body); c = csum(a + d + struct.pack('!I3xB', len(b), nh) + bytes(b))
    b[off:off + 2] = struct.pack('!H', c or 0xffff)
    return eth + struct.pack('!IHBB', 0x60000000, len(b), nh, 64) + a + d + bytes(b)
t0 = time.time(); sent = 0
while time.time() - t0 < secs:
    if sent % 1000 == 0 and os.path.exists(stop): break
    if sent >= (time.time() - t0) * pps:
        time.sleep(0.0005); continue
    a = base[:8] + rnd.getrandbits(64).to_bytes(8, 'big') if rotate else base
    k = sent % 3
    if k == 0: f = frame(a, 17, struct.pack('!HHHH', rnd.randint(1024, 65535), 5353, 12, 0) + b'atck', 6)
    elif k == 1: f = frame(a, 6, struct.pack('!HHIIBBHHH', rnd.randint(1024, 65535), 8080, sent, 0, 0x50, 0x02, 65535, 0, 0), 16)
    else: f = frame(a, 58, struct.pack('!BBHHH', 128, 0, 0, rnd.randint(0, 65535), 1) + b'atck', 2)
    try: s.send(f); sent += 1
    except OSError: time.sleep(0.0005)
print(json.dumps({'sent': sent, 'seconds': time.time() - t0}))
`;

interface Innocent { pings: { sent: number; received: number; errors: number }; fetches: { ok: number; tried: number }; udp: { sent: number; received: number } }

describe('per-subscriber limits end to end (issue 15, RFC 6888 REQ-4; 2 shards, default settings)', function () {
  this.timeout(180000);
  const net = new RelNet({
    prefix: 'n64sub', shards: 2,
    config: (cfg) => {
      cfg.dataplane.ports[0].routes = [{ prefix: `${ATTACK64}/64`, via: '2001:db8::3' }];
      cfg.control = { metrics: '127.0.0.1:9515' }; // inside the translator's namespace
    },
  });
  let mac6 = '';
  const innocentNs = () => net.t.v6Nodes[0].ns;
  const attackerNs = () => net.t.v6Nodes[1].ns;
  const url = () => `http://[${mapped(net.t)}]:8080/`;

  before(async () => {
    await net.up();
    nsExec(attackerNs(), ['ip', '-6', 'addr', 'add', `${ATTACKER}/96`, 'dev', 'eth0', 'nodad']);
    // The /64 attacker's addresses: local to its node, so the replies the translator routes there land.
    nsExec(attackerNs(), ['ip', '-6', 'route', 'add', 'local', `${ATTACK64}/64`, 'dev', 'lo']);
    mac6 = net.json<Array<{ configName: string; mac: string }>>(['port', 'display']).find((p) => p.configName === 'v6')!.mac;
  });
  after(async () => { await net.down(); });
  const fresh = () => {
    net.cli(['instance', 'remove']);
    const r = net.cli(['instance', 'add', '--pool6', '64:ff9b::/96']);
    assert.equal(r.status, 0, r.stderr);
  };

  const stopFile = () => path.join(net.dir, 'attack.stop');
  /** The attacker, until stopFile() exists (at most SECONDS after HOLD_TIMEOUT_MS). */
  const attack = (src: string, rotate: boolean) => {
    const cap = HOLD_TIMEOUT_MS / 1000 + SECONDS + 5;
    return net.python(attackerNs(), ATTACK, ['eth0', mac6, src, mapped(net.t), String(cap), rotate ? '1' : '0', String(ATTACK_PPS), stopFile()], cap * 1000 + 20000)
      .then((o) => JSON.parse(o) as { sent: number; seconds: number });
  };

  /** What the innocent host does meanwhile: pings (new identifiers), HTTP fetches (new ports), UDP. */
  async function innocent(seconds: number): Promise<Innocent> {
    const ns = innocentNs();
    const udp = net.probe(0, 47123, seconds, 50);
    const pingRuns: Array<ReturnType<typeof runInNs>> = [];
    let tried = 0, ok = 0;
    const t0 = Date.now();
    while (Date.now() - t0 < seconds * 1000) {
      // A new ping process every second: a new ICMP identifier, i.e. a new mapping each time.
      pingRuns.push(runInNs(ns, ['ping', '-6', '-n', '-c', '4', '-i', '0.2', '-W', '1', mapped(net.t)], 30000));
      tried++;
      const r = await runInNs(ns, ['curl', '-sS', '-g', '-o', '/dev/null', '-w', '%{http_code}', '-m', '3', url()], 30000);
      if (r.status === 0 && r.out.trim() === '200') ok++;
      await sleep(700);
    }
    let sent = 0, received = 0, errors = 0;
    for (const r of await Promise.all(pingRuns)) {
      const m = /(\d+) packets transmitted, (\d+) received(?:, \+(\d+) errors)?/.exec(r.out);
      sent += Number(m?.[1] ?? 4); received += Number(m?.[2] ?? 0); errors += Number(m?.[3] ?? 0);
    }
    const u = await udp;
    return { pings: { sent, received, errors }, fetches: { ok, tried }, udp: { sent: u.sent, received: u.received } };
  }

  /**
   * Never refused (no ICMPv6 error, every fetch), and what the translator carried arrived: at most
   * a stray ping or UDP probe late on a loaded 2-core machine (the refusals this test is about come
   * back as errors, which must be none).
   */
  const innocentUnhurt = (i: Innocent) => {
    assert.equal(i.pings.errors, 0, `ping got ${i.pings.errors} ICMPv6 errors`);
    assert.equal(i.fetches.ok, i.fetches.tried, `HTTP ${i.fetches.ok}/${i.fetches.tried}`);
    assert.ok(i.pings.received >= i.pings.sent - 1, `ping ${i.pings.received}/${i.pings.sent}`);
    assert.ok(i.udp.received >= i.udp.sent * 0.98, `UDP ${i.udp.received}/${i.udp.sent}`);
  };

  const describeRun = (name: string, r: AttackedRun) => {
    const { i, d } = r;
    // eslint-disable-next-line no-console
    console.log(`      ${name}: attacker ${r.sent} new-flow frames in ${r.seconds.toFixed(1)} s, holding after ${(r.heldMs / 1000).toFixed(1)} s; innocent ping ${i.pings.received}/${i.pings.sent} (${i.pings.errors} errors), ` +
      `HTTP ${i.fetches.ok}/${i.fetches.tried}, UDP ${i.udp.received}/${i.udp.sent}; subscriber-port-limit ${d('subscriber-port-limit')}, ` +
      `pool4-exhausted ${d('pool4-exhausted')}, icmp-error-sent ${d('icmp-error-sent')}; port v6 rx ${d('port-v6-rx-packets')} missed ${d('port-v6-rx-missed')}, ` +
      `io-tx-full ${d('io-tx-full')}, neighbor-unresolved ${d('neighbor-unresolved')}`);
  };

  /**
   * The translator's metrics (endpoint in its namespace): name{labels} -> value. Polled rather than
   * the CLI, which takes most of a second to start on a loaded machine.
   */
  const metrics = (): Map<string, number> => {
    const text = nsExec(net.t.ns.t, ['curl', '-sS', '-m', '5', 'http://127.0.0.1:9515/metrics']);
    return new Map(text.split('\n').filter((l) => l.startsWith('nat64_')).map((l) => {
      const k = l.lastIndexOf(' ');
      return [l.slice(0, k), Number(l.slice(k + 1))] as [string, number];
    }));
  };
  /**
   * Control run: every shard's TCP share of the shared pool4 address is taken (the default pool4,
   * ports 61001-65535; shard s allocates the ports p with p mod shards = s, docs/design.md).
   * From then on each new TCP connection of the innocent host is refused.
   */
  const tcpPoolHeld = (g: Map<string, number>) => {
    const shards = net.opts.shards;
    const held: string[] = [];
    let full = true;
    for (let s = 0; s < shards; s++) {
      let share = 0;
      for (let p = DEFAULT_POOL4_PORTS.min; p <= DEFAULT_POOL4_PORTS.max; p++) if (p % shards === s) share++;
      const n = g.get(`nat64_bib_entries{shard="${s}",protocol="TCP"}`) ?? 0;
      held.push(`shard ${s}: ${n}/${share}`);
      if (n < share) full = false;
    }
    return { ok: full, what: `TCP BIB entries ${held.join(', ')}` };
  };
  /** With a limit: the attacker is held at it (refusals counted, on any shard). */
  const atLimit = (g: Map<string, number>, g0: Map<string, number>) => {
    let n = 0;
    for (const [k, v] of g) if (k.startsWith('nat64_subscriber_port_limit_total{')) n += v - (g0.get(k) ?? 0);
    return { ok: n > 0, what: `subscriber-port-limit ${n}` };
  };

  interface AttackedRun { sent: number; seconds: number; heldMs: number; i: Innocent; d: (k: string) => number }
  /**
   * The attack starts; once it holds what `held` says (bounded by HOLD_TIMEOUT_MS, checked every
   * 100 ms) the innocent host is measured for SECONDS while the attack goes on; then it stops.
   */
  async function attackedRun(src: string, rotate: boolean,
    held: (g: Map<string, number>, g0: Map<string, number>) => { ok: boolean; what: string }): Promise<AttackedRun> {
    fs.rmSync(stopFile(), { force: true });
    const c0 = net.counters(), g0 = metrics();
    const since = (c: Record<string, number>) => (k: string) => (c[k] ?? 0) - (c0[k] ?? 0);
    const t0 = Date.now();
    const attacker = attack(src, rotate);
    let i: Innocent, heldMs: number;
    try {
      for (;;) {
        const h = held(metrics(), g0);
        if (h.ok) break;
        if (Date.now() - t0 > HOLD_TIMEOUT_MS) assert.fail(`the attacker did not get there in ${HOLD_TIMEOUT_MS} ms: ${h.what}`);
        await sleep(100);
      }
      heldMs = Date.now() - t0;
      i = await innocent(SECONDS);
    } finally {
      fs.writeFileSync(stopFile(), '');
    }
    const { sent, seconds } = await attacker;
    await sleep(300);
    return { sent, seconds, heldMs, i, d: since(net.counters()) };
  }

  it('control run, limits off (subscriber-port-limit 0): the attacker exhausts the shared pool4 address and the innocent host is refused', async () => {
    fresh();
    assert.equal(net.cli(['global', 'update', 'subscriber-port-limit', '0']).status, 0);
    const run = await attackedRun(ATTACKER, false, tcpPoolHeld);
    describeRun('limits off', run);
    const { i, d } = run;
    assert.ok(d('pool4-exhausted') > 0, 'the attack did not exhaust pool4: it shows nothing');
    assert.ok(i.pings.errors > 0 || i.fetches.ok < i.fetches.tried,
      `the innocent host was not refused (ping ${i.pings.received}/${i.pings.sent}, ${i.pings.errors} errors; HTTP ${i.fetches.ok}/${i.fetches.tried})`);
  });

  it('defaults (25 % of a pool4 address per /128): the innocent host pings, fetches and exchanges UDP without loss; the attacker is held at its limit, counted and logged', async () => {
    fresh();
    const g = net.json<Record<string, unknown>>(['global', 'display']);
    assert.equal(g['subscriber-port-limit'], '25%');
    assert.equal(g['subscriber-prefix-length'], 128);
    const run = await attackedRun(ATTACKER, false, atLimit);
    describeRun('defaults', run);
    const { i, d } = run;
    assert.ok(d('subscriber-port-limit') > 1000, `subscriber-port-limit ${d('subscriber-port-limit')}`);
    assert.equal(d('pool4-exhausted'), 0);
    // Its refusals are answered at most 10 times a second per shard, for as long as it attacked:
    // the shared error budget is left alone.
    assert.ok(d('icmp-error-sent') <= 2 * 10 * (run.seconds + 2), `icmp-error-sent ${d('icmp-error-sent')} in ${run.seconds.toFixed(1)} s`);
    innocentUnhurt(i);
    // The operator's view: the attacker at 100 % of each limit (4535 ports x 25 %, per shard's half).
    const r = net.json<SubscriberReport>(['subscriber', 'display', '--top', '3']);
    assert.equal(r.prefixLength, 128);
    const a = r.subscribers[0];
    assert.equal(a.subscriber, `${ATTACKER}/128`);
    assert.ok(a.usage >= 0.99 && a.usage <= 1, JSON.stringify(r));
    assert.ok(a.tcp >= r.limits.tcp * 0.99 && a.tcp <= r.limits.tcp, JSON.stringify(r));
    assert.ok(r.limits.udp >= 1133 && r.limits.udp <= 1136, JSON.stringify(r.limits));
    const bib = net.json<unknown[]>(['bib', 'display', '--udp', '--subscriber', ATTACKER]);
    assert.equal(bib.length, a.udp);
    const innocentSessions = net.json<Array<{ ipv6Local: string }>>(['session', 'display', '--subscriber', `${net.t.v6Nodes[0].addr}/128`]);
    assert.ok(innocentSessions.length > 0 && innocentSessions.every((s) => s.ipv6Local === net.t.v6Nodes[0].addr));
    // The metrics: the attacker among the top subscribers, with the limits.
    const metrics = nsExec(net.t.ns.t, ['curl', '-sS', 'http://127.0.0.1:9515/metrics']);
    assert.match(metrics, new RegExp(`^nat64_subscriber_ports\\{subscriber="2001:db8::66/128",protocol="UDP"\\} ${a.udp}$`, 'm'));
    assert.match(metrics, new RegExp(`^nat64_subscriber_port_limit\\{protocol="TCP"\\} ${r.limits.tcp}$`, 'm'));
    assert.match(net.output, /^nat64-subscriber time=\S+ instance="default" event=port-limit proto=(TCP|UDP|ICMP) subscriber=2001:db8::66\/128 held=\d+ limit=\d+ shard=[01]$/m);
    // After the attack: still everything.
    innocentUnhurt(await innocent(2));
  });

  it('subscriber-prefix-length 64 at run time: an attacker rotating addresses inside its /64 is one subscriber', async () => {
    fresh();
    const r = net.cli(['global', 'update', 'subscriber-prefix-length', '64']);
    assert.equal(r.status, 0, r.stderr);
    const run = await attackedRun(`${ATTACK64}1`, true, atLimit);
    describeRun('/64', run);
    const { i, d } = run;
    assert.ok(d('subscriber-port-limit') > 1000, `subscriber-port-limit ${d('subscriber-port-limit')}`);
    assert.equal(d('pool4-exhausted'), 0);
    innocentUnhurt(i);
    const rep = net.json<SubscriberReport>(['subscriber', 'display']);
    assert.equal(rep.prefixLength, 64);
    assert.equal(rep.subscribers[0].subscriber, '2001:db8:0:66::/64');
    assert.ok(rep.subscribers[0].usage >= 0.99, JSON.stringify(rep.subscribers[0]));
    // Many addresses, one subscriber: the BIB has entries of hundreds of sources in that /64.
    const sources = new Set(net.json<Array<{ ipv6: string }>>(['bib', 'display', '--subscriber', `${ATTACK64}/64`]).map((b) => b.ipv6));
    assert.ok(sources.size > 100, `${sources.size} sources`);
  });
});
