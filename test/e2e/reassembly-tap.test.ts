/**
 * Native IPv4 reassembly end to end (issue #3; RFC 6146 §3.4, RFC 7915 §4.1): the translator's
 * IPv4 port is a DPDK net_tap device instead of net_af_packet. net_af_packet joins its sockets in a
 * PACKET_FANOUT group with PACKET_FANOUT_FLAG_DEFRAG, so the kernel reassembles IPv4 before DPDK
 * sees it (test/e2e/mtu-fragments.test.ts); a TAP device hands DPDK every frame as the IPv4 node's
 * kernel sent it, fragments included, and native/frag.cc has to put them together.
 *
 * The TAP interface takes t4's place on br4 (test/e2e/helpers/tap-port.ts).
 *
 *   <p>-h6a 2001:db8::2 ─ br6 ─ t6 (net_af_packet) [nat64] net_tap ··· <tap> ─ br4 ─ <p>-h4 203.0.113.16
 */
import { strict as assert } from 'node:assert';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { RelNet, sleep } from './reliability-net';
import { mapped } from '../../src/demo/checks';
import { waitListening } from '../../src/demo/listening';
import { tapIpv4Config, wireTapIpv4 } from './helpers/tap-port';

/** The TAP interface's name (created inside the translator's namespace, never in the host's). */
const TAP = 'n64tap-v4';
/** The IPv6 UDP server published on 203.0.113.1#SERVICE_PORT by a static BIB entry. */
const SERVICE_PORT = 7000;
const TIMEOUT_MS = 500;

/**
 * On the IPv6 node: answers every datagram with "<length>:<sha256 hex>:<source address>", so a
 * datagram's integrity is checked without echoing it back (the reply stays small: no IPv6
 * fragments, the only reassembly on the path is the translator's IPv4 one).
 */
const HASH_SERVER = `
import hashlib, socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
while True:
    data, peer = s.recvfrom(65535)
    s.sendto(("%d:%s:%s" % (len(data), hashlib.sha256(data).hexdigest(), peer[0])).encode(), peer)
`;

/**
 * On the IPv4 node. Modes (prints JSON):
 *  kernel SIZES: one UDP datagram per size, DF clear; the kernel fragments what exceeds the MTU.
 *  reverse SIZE: the fragments of one datagram built by hand (raw socket) and sent last first.
 *  partial SIZE: only the first fragment of a two-fragment datagram; expects no answer.
 * WAIT: seconds to wait for each answer.
 * Each result: {size, reply, want, attempts}; `reply` is null when nothing came back.
 */
const CLIENT = `
import hashlib, json, socket, struct, sys
dst, dport, mode, arg, src, wait = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], float(sys.argv[6])
def payload(size): return bytes((i * 7 + size) & 255 for i in range(size))
def want(data): return "%d:%s:" % (len(data), hashlib.sha256(data).hexdigest())
def csum(b):
    if len(b) % 2: b += b'\\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b)); s = (s >> 16) + (s & 0xffff); s += s >> 16
    return ~s & 0xffff
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, 10, 0)  # IP_MTU_DISCOVER = IP_PMTUDISC_DONT: DF clear, the kernel fragments
s.bind(('0.0.0.0', 0))
s.settimeout(wait)
def recv():
    try: return s.recvfrom(65535)[0].decode()
    except socket.timeout: return None
def fragments(data, ident):
    # UDP header and payload cut into IPv4 fragments of 1480 bytes (a multiple of 8).
    sport = s.getsockname()[1]; ulen = 8 + len(data)
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack('!BBH', 0, 17, ulen)
    c = csum(pseudo + struct.pack('!HHHH', sport, dport, ulen, 0) + data) or 0xffff
    udp = struct.pack('!HHHH', sport, dport, ulen, c) + data
    out = []
    for off in range(0, len(udp), 1480):
        part = udp[off:off + 1480]
        flags = (0x2000 if off + 1480 < len(udp) else 0) | (off // 8)
        h = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(part), ident, flags, 64, 17, 0, socket.inet_aton(src), socket.inet_aton(dst))
        out.append(h[:10] + struct.pack('!H', csum(h)) + h[12:] + part)
    return out
res = []
if mode == 'kernel':
    for size in [int(x) for x in arg.split(',')]:
        data = payload(size); reply = None; attempts = 0
        while reply is None and attempts < 3:
            attempts += 1; s.sendto(data, (dst, dport)); reply = recv()
        res.append({'size': size, 'reply': reply, 'want': want(data), 'attempts': attempts})
else:
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    size = int(arg); data = payload(size); frags = fragments(data, 0x6464)
    if mode == 'reverse': frags.reverse()
    else: frags = frags[:1]
    for f in frags: raw.sendto(f, (dst, 0))
    res.append({'size': size, 'fragments': len(frags), 'reply': recv(), 'want': want(data), 'attempts': 1})
print(json.dumps(res))
`;

interface ClientResult { size: number; reply: string | null; want: string; attempts: number; fragments?: number }

for (const shards of [1, 2]) {
  describe(`native IPv4 reassembly end to end (net_tap IPv4 port, ${shards} shard${shards > 1 ? 's' : ''})`, function () {
    this.timeout(60000);
    const net = new RelNet({
      prefix: `n64tap${shards}`, shards,
      config: (c) => {
        tapIpv4Config(c, TAP);
        c.dataplane.reassemblyTimeoutMs = TIMEOUT_MS;
      },
    });
    let server: ChildProcess | null = null;
    /** Counter changes since `before` (one `stats display` read). */
    const since = (before: Record<string, number>) => {
      const now = net.counters();
      return (name: string) => (now[name] ?? 0) - (before[name] ?? 0);
    };
    const ok = (args: string[]) => {
      const r = net.cli(['-i', 'example', ...args]);
      assert.equal(r.status, 0, `nat64 -i example ${args.join(' ')}: ${r.stderr}${r.stdout}`);
    };
    const client = async (mode: string, arg: string, wait = 2): Promise<ClientResult[]> => JSON.parse(await net.python(net.t.v4Node.ns, CLIENT,
      [net.t.translator.v4, String(SERVICE_PORT), mode, arg, net.t.v4Node.addr, String(wait)], 20000)) as ClientResult[];
    const context = () => `--- stats ---\n${net.cli(['stats', 'display']).stdout}\n--- daemon ---\n${net.output.slice(-2000)}`;

    before(async () => {
      await net.up();
      const t = net.t;
      wireTapIpv4(net, TAP); // the IPv4 side of the network is the TAP interface from now on

      assert.equal(net.cli(['instance', 'add', 'example', '--pool6', '64:ff9b::/96']).status, 0);
      ok(['pool4', 'add', t.translator.v4, '61001-65535', '--udp']);
      ok(['pool4', 'add', t.translator.v4, String(SERVICE_PORT), '--udp']);
      ok(['bib', 'add', `${t.v6Nodes[0].addr}#${SERVICE_PORT}`, `${t.translator.v4}#${SERVICE_PORT}`, '--udp']);
      server = spawn('ip', ['netns', 'exec', t.v6Nodes[0].ns, 'python3', '-c', HASH_SERVER, t.v6Nodes[0].addr, String(SERVICE_PORT)],
        { stdio: 'ignore' });
      await waitListening(t.v6Nodes[0].ns, SERVICE_PORT, 'udp', { server });
    });
    after(async () => {
      server?.kill('SIGKILL');
      await net.down();
    });

    it('RFC 6146 §3.4: UDP datagrams of 1473-4000 bytes, fragmented by the IPv4 node, are reassembled by us and reach the IPv6 server whole', async () => {
      const c0 = net.counters();
      const sizes = [1473, 3000, 4000];
      const res = await client('kernel', sizes.join(','));
      for (const r of res) {
        assert.ok(r.reply?.startsWith(r.want), `${r.size} bytes: got ${r.reply}, want ${r.want}...\n${context()}`);
        // The server saw the IPv4 node through the pool6 prefix (RFC 6052).
        assert.equal(r.reply!.slice(r.want.length), '64:ff9b::cb00:7110');
      }
      const datagrams = res.reduce((n, r) => n + r.attempts, 0);
      const d = since(c0);
      // 2 + 3 + 3 fragments: every one reached DPDK separately and all but the last of each datagram waited.
      assert.ok(d('frag-reassembled') >= datagrams, `frag-reassembled >= ${datagrams}\n${context()}`);
      assert.ok(d('frag-held') >= 5, `frag-held >= 5\n${context()}`);
      assert.equal(d('frag-invalid') + d('frag-table-full') + d('frag-unsupported') + d('fragmented'), 0, context());
    });

    it('fragments that arrive out of order (last first) are reassembled all the same', async () => {
      const c0 = net.counters();
      const [r] = await client('reverse', '2500');
      assert.equal(r.fragments, 2);
      assert.ok(r.reply?.startsWith(r.want), `got ${r.reply}, want ${r.want}...\n${context()}`);
      assert.equal(since(c0)('frag-reassembled'), 1, context());
    });

    it('RFC 6146 §3.4 / RFC 7915 §4.1: ping -6 -s 1600, whose IPv4 echo replies come back as fragments: every reply reassembled and translated', () => {
      const t = net.t;
      const c0 = net.counters();
      const r = spawnSync('ip', ['netns', 'exec', t.v6Nodes[0].ns, 'ping', '-6', '-c', '3', '-i', '0.2', '-W', '2', '-s', '1600', mapped(t)],
        { encoding: 'utf8', timeout: 20000 });
      assert.ok(r.status === 0 && / 0% packet loss/.test(r.stdout), `ping -6 -s 1600\n${r.stdout}${r.stderr}\n${context()}`);
      // 3 IPv6 requests (reassembled as with net_af_packet) + 3 IPv4 replies (the kernel no longer does it for us).
      assert.ok(since(c0)('frag-reassembled') >= 6, `3 requests and 3 replies reassembled\n${context()}`);
    });

    it(`limit: an incomplete IPv4 fragment set is held, then freed after reassemblyTimeoutMs (${TIMEOUT_MS} ms) and counted frag-timeout`, async () => {
      const c0 = net.counters();
      const [r] = await client('partial', '2500', 1); // waits 1 s (twice the timeout) for an answer that must not come
      assert.equal(r.reply, null, `a half datagram was answered: ${r.reply}`);
      await sleep(200);
      const d = since(c0);
      assert.equal(d('frag-held'), 1, context());
      assert.equal(d('frag-timeout'), 1, context());
      assert.equal(d('frag-reassembled'), 0, context());
    });
  });
}
