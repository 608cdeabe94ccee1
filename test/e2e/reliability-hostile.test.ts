/**
 * Hostile input through the real daemon (issue 6): mutated frames sent from the namespaces
 * (raw AF_PACKET sockets, straight at the translator's MAC) while an established flow runs. The
 * translation core is fuzzed far harder in-process (docs/fuzzing.md); this checks that the whole
 * data path — L2, classification, hand-off, reassembly, the shards — keeps translating for
 * everyone else, with no shard death, and that the fragment table's limit holds.
 * Bounded: NAT64_RELIABILITY_LONG=1 sends 20x more.
 */
import { strict as assert } from 'node:assert';
import { RelNet, sleep } from './reliability-net';
import { mapped } from '../../src/demo/checks';

const LONG = process.env.NAT64_RELIABILITY_LONG === '1';
const FUZZ_FRAMES = LONG ? 400_000 : 20_000;

/**
 * Mutating frame sender. Templates are valid frames (checksums right) towards the translator;
 * each frame is a template with 1-4 random bytes changed, sometimes truncated or padded, and
 * sometimes a length field set to a random value. Paced; prints {sent}.
 */
const FUZZ = `
import json, random, socket, struct, sys, time
iface, family, mac, src, dst, count, pps, seed = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6]), float(sys.argv[7]), int(sys.argv[8])
rnd = random.Random(seed)
dmac = bytes.fromhex(mac.replace(':', ''))
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((iface, 0))
smac = s.getsockname()[4][:6]
def csum(b):
    if len(b) % 2: b += b'\\0'
    t = sum(struct.unpack('!%dH' % (len(b) // 2), b)); t = (t >> 16) + (t & 0xffff); t += t >> 16
    return ~t & 0xffff
def l4(proto, body, pseudo, off):
    b = bytearray(body); b[off:off + 2] = b'\\0\\0'
    c = csum(pseudo + bytes(b)); b[off:off + 2] = struct.pack('!H', c); return bytes(b)
def six(nh, body, off):
    a, b = socket.inet_pton(socket.AF_INET6, src), socket.inet_pton(socket.AF_INET6, dst)
    body = l4(nh, body, a + b + struct.pack('!IxxxB', len(body), nh), off) if off >= 0 else body
    return dmac + smac + b'\\x86\\xdd' + struct.pack('!IHBB', 0x60000000, len(body), nh, 64) + a + b + body
def four(proto, body, off):
    a, b = socket.inet_aton(src), socket.inet_aton(dst)
    if off >= 0: body = l4(proto, body, a + b + struct.pack('!xBH', proto, len(body)), off)
    h = bytearray(struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(body), 1, 0x4000, 64, proto, 0, a, b))
    h[10:12] = struct.pack('!H', csum(bytes(h)))
    return dmac + smac + b'\\x08\\x00' + bytes(h) + body
udp = struct.pack('!HHHH', 40001, 5353, 12, 0) + b'fuzz'
syn = struct.pack('!HHIIBBHHH', 40002, 8080, 1, 0, 0x50, 0x02, 65535, 0, 0)
if family == '6':
    echo = struct.pack('!BBHHH', 128, 0, 0, 7, 1) + b'fuzz'
    err = struct.pack('!BBHI', 1, 4, 0, 0) + bytes(40) + udp
    frag = struct.pack('!BBHI', 17, 0, 1, 99) + udp
    T = [six(17, udp, 6), six(6, syn, 16), six(58, echo, 2), six(58, err, 2), six(44, frag, -1)]
else:
    echo = struct.pack('!BBHHH', 0, 0, 0, 7, 1) + b'fuzz'
    err = struct.pack('!BBHI', 3, 3, 0, 0) + bytes(20) + udp
    T = [four(17, udp, 6), four(6, syn, 16), four(1, echo, 2), four(1, err, 2)]
t0 = time.time(); sent = 0
while sent < count and time.time() - t0 < 60:
    if sent >= (time.time() - t0) * pps:
        time.sleep(0.0005); continue
    f = bytearray(rnd.choice(T))
    for _ in range(rnd.randint(1, 4)):
        f[rnd.randrange(14, len(f))] = rnd.randrange(256)
    r = rnd.random()
    if r < 0.15: f = f[:rnd.randrange(14, len(f))]
    elif r < 0.25: f += bytes(rnd.randrange(1, 200))
    elif r < 0.35:
        o = rnd.choice([18, 20]) if family == '6' else 16
        f[o:o + 2] = struct.pack('!H', rnd.randrange(65536))
    try: s.send(bytes(f)); sent += 1
    except OSError: time.sleep(0.001)
print(json.dumps({'sent': sent}))
`;

/** First fragments of datagrams that never complete, each with its own identification. */
const FRAGMENTS = `
import json, socket, struct, sys
iface, mac, src, dst, count = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW); s.bind((iface, 0))
smac = s.getsockname()[4][:6]
a, b = socket.inet_pton(socket.AF_INET6, src), socket.inet_pton(socket.AF_INET6, dst)
body = struct.pack('!HHHH', 40003, 5353, 1208, 0) + bytes(1200)
for i in range(count):
    fh = struct.pack('!BBHI', 17, 0, 1, 0x10000 + i)  # offset 0, M=1: more to come, never sent
    p = fh + body
    s.send(bytes.fromhex(mac.replace(':', '')) + smac + b'\\x86\\xdd' + struct.pack('!IHBB', 0x60000000, len(p), 44, 64) + a + b + p)
print(json.dumps({'sent': count}))
`;

describe('reliability: hostile frames through the daemon (2 shards)', function () {
  this.timeout(240000);
  // A small reassembly table (dataplane.reassemblyDatagrams) so the limit is the configured one.
  const net = new RelNet({ prefix: 'n64rlh', shards: 2, config: (cfg) => { cfg.dataplane.reassemblyDatagrams = 32; } });
  let mac6 = '', mac4 = '';

  before(async () => {
    await net.up();
    assert.equal(net.cli(['instance', 'add', 'example', '--pool6', '64:ff9b::/96']).status, 0);
    const ports = net.json<Array<{ configName: string; mac: string }>>(['port', 'display']);
    mac6 = ports.find((p) => p.configName === 'v6')!.mac;
    mac4 = ports.find((p) => p.configName === 'v4')!.mac;
    await net.probe(0, 49100, 1); // the established session
  });
  after(async () => { await net.down(); });

  it(`${FUZZ_FRAMES} mutated IPv6 and IPv4 frames: no shard dies, the established flow keeps going, every frame is counted`, async () => {
    const t = net.t;
    const c0 = net.counters();
    const probe = net.probe(0, 49100, 6, 10);
    await sleep(300);
    const half = FUZZ_FRAMES / 2;
    const [r6, r4] = await Promise.all([
      net.python(t.v6Nodes[1].ns, FUZZ, ['eth0', '6', mac6, t.v6Nodes[1].addr, mapped(t), String(half), '10000', '1'], 120000),
      net.python(t.v4Node.ns, FUZZ, ['eth0', '4', mac4, t.v4Node.addr, t.translator.v4, String(half), '10000', '2'], 120000),
    ]);
    const p = await probe;
    await sleep(300);
    const c1 = net.counters();
    const sent = (JSON.parse(r6) as { sent: number }).sent + (JSON.parse(r4) as { sent: number }).sent;
    const d = (k: string) => (c1[k] ?? 0) - (c0[k] ?? 0);
    // eslint-disable-next-line no-console
    const arrived = d('port-v6-rx-packets') + d('port-v4-rx-packets');
    console.log(`      fuzz: ${sent} mutated frames (v6 ${JSON.parse(r6).sent}, v4 ${JSON.parse(r4).sent}); ports received ${d('port-v6-rx-packets')} + ${d('port-v4-rx-packets')}, ` +
      `shards counted ${d('received')}; established ${p.received}/${p.sent}, p99 ${p.rttP99.toFixed(1)} ms`);
    // The kernel's packet socket drops some malformed frames before DPDK (IPv4 defragmentation of the
    // fanout group): most must get through, and every frame that arrived was counted by a shard.
    assert.ok(arrived >= sent * 0.5, `only ${arrived} of ${sent} frames reached the translator`);
    assert.ok(d('received') >= arrived, `shards counted ${d('received')} of ${arrived} frames received`);
    assert.ok(p.received >= p.sent * 0.95 && p.maxGapMs < 1000, `established flow ${p.received}/${p.sent}, gap ${p.maxGapMs} ms`);
    assert.doesNotMatch(net.output, /shard \d+ died/, net.output.slice(-2000));
    // Still translating for everyone after the storm, and still answering its control socket.
    const after = await net.probe(1, 49101, 1);
    assert.ok(after.received >= after.sent * 0.95, `new flow after the fuzz ${after.received}/${after.sent}`);
  });

  it('the fragment table holds its configured limit: 1500 unfinished datagrams fill it (frag-table-full), flows keep going, it empties again', async () => {
    const t = net.t;
    const c0 = net.counters();
    const probe = net.probe(0, 49100, 3, 10);
    await sleep(200);
    await net.python(t.v6Nodes[1].ns, FRAGMENTS, ['eth0', mac6, t.v6Nodes[1].addr, mapped(t), '1500'], 60000);
    const p = await probe;
    const c1 = net.counters();
    const d = (k: string) => (c1[k] ?? 0) - (c0[k] ?? 0);
    // 32 datagrams per shard, 2 shards: the rest of the 1500 are refused.
    assert.ok(d('frag-held') <= 64, `held ${d('frag-held')} > 2 x 32`);
    assert.ok(d('frag-table-full') >= 1500 * 0.9 - 64, `frag-table-full ${d('frag-table-full')}, held ${d('frag-held')}`);
    assert.ok(p.received >= p.sent * 0.95, `established flow ${p.received}/${p.sent}`);
    // The 2 s reassembly timeout frees them: a fragmented exchange works again.
    await sleep(3000);
    assert.ok(net.counters()['frag-timeout'] - (c0['frag-timeout'] ?? 0) >= 1, 'frag-timeout');
    const n = t.v6Nodes[0];
    const r = await net.python(n.ns, `
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s.settimeout(2)
for _ in range(3):
    s.sendto(b'y' * 1800, (sys.argv[1], 5353))
    try:
        print(len(s.recvfrom(65535)[0])); break
    except socket.timeout: pass
`, [mapped(t)], 20000);
    assert.match(r, /1805/, `fragmented round trip after the table emptied: ${r}`);
  });
});
