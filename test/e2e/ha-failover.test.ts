import { strict as assert } from 'node:assert';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { HaPair, MAPPED, NODES, V4_VIP, V6_VIP } from '../../src/demo/ha-pair';
import { background, killNamespace, ns, parseReplies, sh, sleep, UDP_PROBER, until } from './helpers/ha-tools';

/**
 * Active/passive failover (issue #13, docs/ha.md): two translators J and K on the same two L2
 * segments (Linux bridges in a switch namespace), each with its own daemon on DPDK af_packet ports,
 * and Keepalived (VRRPv3, the shipped config/keepalived/ files) in each translator's namespace on
 * a management veth between them. The notify hook claims/releases the daemon's virtual addresses
 * (the IPv6 next hop 2001:db8::1 and the pool4 address 203.0.113.1); the daemon answers ARP/ND for
 * them only while it holds them and announces them on claim.
 *
 * A UDP exchange and a long TCP download start through J; then every process of J's namespace is
 * killed at once (SIGSTOP then SIGKILL: no VRRP goodbye), and the time until UDP replies come back
 * through K is printed. Session synchronisation (ss-enabled, on the same management veth) gave K
 * J's mappings: the download completes intact through K and UDP keeps its IPv4 transport address.
 */
interface Scenario { shards: number; advertInt: string; label: string }

for (const sc of [{ shards: 1, advertInt: '0.1', label: 'tuned timers, advert_int 0.1' },
  { shards: 2, advertInt: '1', label: 'default timers, advert_int 1' }] as Scenario[]) {
  describe(`HA active/passive: Keepalived moves the virtual addresses from J to K (${sc.shards} shard${sc.shards > 1 ? 's' : ''}, ${sc.label})`, function () {
    this.timeout(90000);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nat64-ha-'));
    const pair = new HaPair(`n64ha${sc.shards}`, sc.shards, sc.advertInt, dir);
    const { N, tr } = pair;
    const payload = randomBytes(5 << 20);
    const sha = createHash('sha256').update(payload).digest('hex');
    const keepalivedLog = () => pair.keepalivedLog();

    before(async () => {
      fs.mkdirSync(path.join(dir, 'www'));
      fs.writeFileSync(path.join(dir, 'www', 'big.bin'), payload);
      fs.writeFileSync(path.join(dir, 'www', 'small.bin'), payload.subarray(0, 1 << 20));
      await pair.up();
    });

    after(async () => {
      await pair.down();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('a daemon starts holding no virtual address; Keepalived elects J, whose notify hook claims them; K joins as BACKUP', async () => {
      assert.deepEqual([tr.j.claimed(), tr.k.claimed()], [[], []]);
      await pair.elect();
      assert.deepEqual(tr.k.claimed(), [], 'K (BACKUP) must not hold them');
      const ports = tr.j.json<Array<{ configName: string; virtualAddresses: unknown }>>(['port', 'display']);
      assert.deepEqual(ports.map((x) => x.virtualAddresses), [[{ address: `${V6_VIP}/96`, claimed: true }], [{ address: `${V4_VIP}/24`, claimed: true }]]);
      assert.ok(tr.j.counters()['vip-announced'] >= 2, 'J announced both addresses');
    });

    it('traffic flows through J; K, the backup, stays silent about the virtual addresses', () => {
      const r = sh(['ip', 'netns', 'exec', N.h6, 'curl', '-sS', '-m', '10', '-o', '/dev/null', '-w', '%{http_code}', `http://[${MAPPED}]:8080/`]);
      assert.equal(r, '200');
      assert.ok(tr.j.counters()['translated-6to4'] > 0, 'J translated');
      const k = tr.k.counters();
      assert.equal(k['translated-6to4'] ?? 0, 0, 'K translated nothing');
      assert.equal(k['arp-request-answered'] ?? 0, 0, 'K answered no ARP request');
      assert.equal(k['nd-solicit-answered'] ?? 0, 0, 'K answered no solicitation');
      assert.ok(k['vip-not-held'] >= 1, `K saw the neighbours ask for the virtual addresses and kept quiet: ${JSON.stringify(k)}`);
    });

    it('J dies (SIGKILL of its daemon and Keepalived): K claims the addresses and traffic flows again through K', async () => {
      const prober = background(N.h6, ['python3', '-c', UDP_PROBER, MAPPED, '5353', '0.02', sc.advertInt === '1' ? '9' : '6']);
      // The paced server needs about 4 s; a connection that stalls longer than VRRP's takeover plus
      // TCP's retransmission backoff has broken.
      const stall = sc.advertInt === '1' ? '12' : '6';
      const download = background(N.h6, ['curl', '-sS', '--speed-limit', '1000', '--speed-time', stall, '-o', path.join(dir, 'long.bin'),
        '-w', '%{http_code} %{size_download}', `http://[${MAPPED}]:8080/big.bin`]);
      // Both flows under way through J (Python starts slowly on a busy machine: wait for them).
      const partial = path.join(dir, 'long.bin');
      await until('UDP replies and the download through J', () => parseReplies(prober.out()).length > 10 &&
        fs.existsSync(partial) && fs.statSync(partial).size > 256 << 10, 15000, 50)
        .catch((e: Error) => { throw new Error(`${e.message}\n${prober.out()}\n${download.out()}\n${keepalivedLog()}`); });
      const before = parseReplies(prober.out());
      const { pids, at: killedAt } = killNamespace(N.j);
      assert.ok(pids.length >= 2, 'the daemon and Keepalived ran in J');
      await until('K to claim the virtual addresses', () => tr.k.claimed().length === 2, 15000, 100)
        .catch((e: Error) => { throw new Error(`${e.message}\n--- keepalived ---\n${keepalivedLog()}`); });
      const claimedMs = Date.now() - killedAt * 1000;
      await prober.done;
      const replies = parseReplies(prober.out());
      const after = replies.filter((r) => r.sent > killedAt);
      assert.ok(after.length > 0, `no UDP reply after the kill:\n${prober.out().slice(-2000)}\n--- K ---\n${tr.k.output.slice(-2000)}\n${keepalivedLog()}`);
      const recoveredMs = Math.round((after[0].recv - killedAt) * 1000);
      const lastBefore = before[before.length - 1].peer, firstAfter = after[0].peer;
      console.log(`      failover (${sc.label}, ${sc.shards} shard(s)): UDP flows again through K ${recoveredMs} ms after the kill ` +
        `(K held the addresses after <= ${claimedMs} ms); UDP mapping ${lastBefore} -> ${firstAfter}`);
      // Without the announcements the neighbours would keep J's MAC until their caches age out
      // (tens of seconds): recovery within seconds shows they moved at once.
      assert.ok(recoveredMs < (sc.advertInt === '1' ? 8000 : 4000), `recovered after ${recoveredMs} ms`);
      assert.equal(firstAfter.split(':')[0], V4_VIP, 'the new mapping uses the shared pool4 address');
      assert.ok(tr.k.counters()['vip-announced'] >= 2, 'K announced both addresses');
      // The neighbours' caches name K's MACs for the virtual addresses.
      assert.match(ns(N.h4, ['ip', 'neigh', 'show', V4_VIP]), new RegExp(`${NODES.k.mac}4`), 'h4 ARP cache');
      assert.match(ns(N.h6, ['ip', '-6', 'neigh', 'show', V6_VIP]), new RegExp(`${NODES.k.mac}6`), 'h6 neighbour cache');
      // Session synchronisation: K knew J's mappings. The UDP flow keeps its IPv4 transport address,
      // the TCP download continues through K and completes intact.
      assert.equal(firstAfter, lastBefore, 'UDP keeps its pool4 transport address across the failover');
      await download.done;
      const got = fs.existsSync(partial) ? fs.readFileSync(partial) : Buffer.alloc(0);
      console.log(`      long TCP download across the failover: ${got.length} of ${payload.length} bytes`);
      assert.equal(download.out().trim(), `200 ${payload.length}`, `curl: ${download.out()}`);
      assert.equal(createHash('sha256').update(got).digest('hex'), sha, 'the download completed intact through K');
      const peerSessions = tr.k.json<Array<{ origin?: string; protocol: string }>>(['session', 'display']).filter((r) => r.origin === 'peer');
      assert.ok(peerSessions.some((r) => r.protocol === 'TCP') && peerSessions.some((r) => r.protocol === 'UDP'),
        `K holds J's TCP and UDP sessions, marked as from a peer: ${JSON.stringify(peerSessions)}`);
    });

    it('new TCP connections and UDP exchanges work through K, the payload intact', () => {
      const out = path.join(dir, 'after.bin');
      const code = sh(['ip', 'netns', 'exec', N.h6, 'curl', '-sS', '-m', '20', '-o', out, '-w', '%{http_code}', `http://[${MAPPED}]:8080/small.bin`]);
      assert.equal(code, '200');
      assert.equal(createHash('sha256').update(fs.readFileSync(out)).digest('hex'), createHash('sha256').update(payload.subarray(0, 1 << 20)).digest('hex'));
      assert.ok(tr.k.counters()['translated-4to6'] > 0);
      const sessions = tr.k.json<unknown[]>(['session', 'display', '--tcp']);
      assert.ok(sessions.length >= 1, 'K holds the new TCP session');
    });

    if (sc.shards === 1) it('K\'s daemon restarts under a MASTER Keepalived: K holds the addresses again (re-claimed by the check, or through FAULT if the restart outlasts fall x interval)', async () => {
      const faultsBefore = (pair.keepalivedLog('k').match(/Entering FAULT/g) ?? []).length;
      await tr.k.stop();
      const t0 = Date.now();
      tr.k.start();
      await tr.k.ready();
      await until('K to hold the addresses again', () => tr.k.claimed().length === 2, 20000, 200)
        .catch((e: Error) => { throw new Error(`${e.message}\n${keepalivedLog()}`); });
      const faults = (pair.keepalivedLog('k').match(/Entering FAULT/g) ?? []).length - faultsBefore;
      console.log(`      K's daemon restarted: addresses held again ${Date.now() - t0} ms after the restart began ` +
        `(${faults === 0 ? 'Keepalived stayed MASTER; nat64-vrrp-check.sh re-claimed' : 'Keepalived went FAULT and back'})`);
      const probe = background(N.h6, ['python3', '-c', UDP_PROBER, MAPPED, '5353', '0.05', '1.5']);
      await probe.done;
      assert.ok(parseReplies(probe.out()).length > 0, 'UDP flows through the restarted K');
    });

    // The command's own behaviour does not depend on shards or timers: once is enough.
    if (sc.shards === 1) it('by hand (Keepalived stopped: while MASTER its check re-claims): release stops K answering; claim is idempotent; unknown addresses are refused', async () => {
      await pair.stopKeepalived('k');
      assert.deepEqual(tr.k.claimed(), [], 'a stopping Keepalived runs the hook with STOP: released');
      assert.equal(tr.k.cli(['port', 'claim']).status, 0);
      const again = tr.k.cli(['port', 'claim', '--json']);
      assert.equal(again.status, 0, again.stderr);
      assert.deepEqual(JSON.parse(again.stdout).map((r: { claimed: boolean }) => r.claimed), [true, true]);
      const bad = tr.k.cli(['port', 'claim', '203.0.113.99']);
      assert.equal(bad.status, 1);
      assert.match(bad.stderr, /'203\.0\.113\.99' is not a virtual address/);
      const badPort = tr.k.cli(['port', 'release', '--port', 'v9']);
      assert.match(badPort.stderr, /no port named 'v9'/);
      assert.deepEqual(tr.k.claimed().length, 2, 'a refused command changed nothing');
      const rel = tr.k.cli(['port', 'release', V4_VIP]);
      assert.equal(rel.status, 0, rel.stderr);
      assert.deepEqual(tr.k.claimed(), [`${V6_VIP}/96`]);
      ns(N.h4, ['ip', 'neigh', 'flush', 'all']);
      const ping = sh(['ip', 'netns', 'exec', N.h4, 'sh', '-c', `ping -c 1 -W 1 ${V4_VIP} >/dev/null 2>&1; echo $?`]).trim();
      assert.notEqual(ping, '0', 'nobody answers ARP for a released address');
      assert.equal(tr.k.cli(['port', 'claim', '--port', 'v4']).status, 0);
      const ping2 = sh(['ip', 'netns', 'exec', N.h4, 'sh', '-c', `ping -c 1 -W 2 ${V4_VIP} >/dev/null 2>&1; echo $?`]).trim();
      assert.equal(ping2, '0', 'claimed again: K answers ARP and the ping');
    });

    if (sc.shards === 1) it('nat64 health: 0 while healthy, 1 when the instance stops or the daemon is gone', async () => {
      assert.equal(tr.k.cli(['health', '--quiet']).status, 0);
      assert.equal(tr.k.cli(['global', 'update', 'manually-enabled', 'false']).status, 0);
      const sick = tr.k.cli(['health']);
      assert.equal(sick.status, 1);
      assert.match(sick.stdout, /FAIL {2}instance/);
      assert.equal(tr.k.cli(['global', 'update', 'manually-enabled', 'true']).status, 0);
      await tr.k.stop();
      const gone = tr.k.cli(['health', '--quiet']);
      assert.equal(gone.status, 1);
      assert.equal(gone.stdout + gone.stderr, '');
    });
  });
}
