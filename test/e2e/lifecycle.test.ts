/**
 * Daemon lifecycle against the real data plane (issue 6): a clean, bounded stop on SIGTERM/SIGINT
 * under traffic with file-backed hugepages; one daemon per device and per control socket; start-up
 * failures (hugepages, device, EAL argument) that say why in one line and leave nothing behind.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RelNet, sleep } from './reliability-net';

/** Stop bound asserted here; the daemon itself forces an exit after 10 s. */
const STOP_BOUND_MS = 5000;
const HUGE_FREE = '/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages';

function freeHugepages(): number {
  try { return Number(fs.readFileSync(HUGE_FREE, 'utf8')); } catch { return 0; }
}

function hugeFiles(prefix: string): string[] {
  try { return fs.readdirSync('/dev/hugepages').filter((f) => f.startsWith(prefix)); } catch { return []; }
}

/** Device lock files of the daemons in this test's translator namespace (device-locks.ts). */
function lockFiles(net: RelNet): string[] {
  const dir = process.env.NAT64_RUN_DIR || '/run/nat64';
  const ns = String(fs.statSync(`/run/netns/${net.t.ns.t}`).ino);
  try { return fs.readdirSync(dir).filter((f) => f.endsWith('.lock') && f.includes(`-${ns}-`)); } catch { return []; }
}

/** EAL without --in-memory / --no-huge: hugepage files on hugetlbfs, under our own prefix. */
function fileBacked(prefix: string): string[] {
  return ['--no-pci', '--iova-mode=va', '--no-telemetry', '-l', '0', '--log-level=warning', `--file-prefix=${prefix}`];
}

/** The one line the daemon prints when it cannot start. */
function startFailure(output: string): string[] {
  return output.split('\n').filter((l) => l.startsWith('nat64: start failed:'));
}

async function waitExit(net: RelNet, d: ReturnType<RelNet['spawnDaemon']>, ms: number): Promise<{ code: number | null; out: string }> {
  let out = '';
  d.stdout!.on('data', (b) => { out += b; });
  d.stderr!.on('data', (b) => { out += b; });
  const code = await Promise.race([
    new Promise<number | null>((r) => d.on('exit', (c) => r(c))),
    sleep(ms).then(() => { d.kill('SIGKILL'); return -999; }),
  ]);
  return { code, out };
}

describe('lifecycle: stop under traffic (file-backed hugepages)', function () {
  this.timeout(180000);
  for (const [signal, shards] of [['SIGTERM', 1], ['SIGINT', 2]] as const) {
    const prefix = `n64rlh${shards}`;
    it(`${signal} with ${shards} shard(s): exit 0 within ${STOP_BOUND_MS} ms, hugepage files, socket and locks gone`, async function () {
      if (freeHugepages() < 24) this.skip(); // 4095 mbufs + driver rings fit in about 16 pages
      const net = new RelNet({
        prefix, shards, config: (c) => { c.dataplane.eal = fileBacked(prefix); c.dataplane.mbufs = 4095; },
      });
      try {
        await net.up();
        assert.equal(net.cli(['instance', 'add', 'example', '--pool6', '64:ff9b::/96']).status, 0);
        // The daemon really maps hugetlbfs files (unlinked at once: eal.cc adds --huge-unlink).
        const maps = fs.readFileSync(`/proc/${net.daemon!.pid}/maps`, 'utf8');
        assert.match(maps, new RegExp(`/dev/hugepages/${prefix}map_\\d+ \\(deleted\\)`), 'no hugepage mapping');
        assert.equal(lockFiles(net).length, 2, `locks: ${lockFiles(net)}`);
        const flow = net.probe(0, net.portOnShard(0, 0, shards), 4, 5);
        await sleep(2000); // stop in the middle of the flow
        const { code, ms } = await net.stop(signal);
        assert.equal(code, 0, net.output);
        assert.ok(ms < STOP_BOUND_MS, `stop took ${ms} ms`);
        assert.match(net.output, new RegExp(`${signal} received[\\s\\S]*stopping[\\s\\S]*stopped`));
        const p = await flow;
        assert.ok(p.received > 50, `flow before the stop: ${p.received}/${p.sent}`);
        assert.deepEqual(hugeFiles(prefix), []);
        assert.equal(fs.existsSync(net.socket), false, 'control socket left behind');
        assert.deepEqual(lockFiles(net), []);
        // eslint-disable-next-line no-console
        console.log(`      ${signal}: stopped in ${ms} ms with a ${p.sent}-request flow in progress`);
      } finally {
        await net.down();
        fs.rmSync(`/var/run/dpdk/${prefix}`, { recursive: true, force: true });
      }
    });
  }
});

describe('lifecycle: one daemon per control socket and per device', function () {
  this.timeout(180000);
  const net = new RelNet({ prefix: 'n64rld', shards: 1 });
  before(async () => {
    await net.up();
    assert.equal(net.cli(['instance', 'add', 'example', '--pool6', '64:ff9b::/96']).status, 0);
  });
  after(async () => { await net.down(); });

  it('a second daemon on the same socket, or on the same devices, fails clearly; the first translates on', async () => {
    const flow = net.probe(0, 45000, 6);
    await sleep(500);
    const sameSocket = await waitExit(net, net.spawnDaemon(), 20000);
    const other = path.join(net.dir, 'second.sock');
    const sameDevices = await waitExit(net, net.spawnDaemon({}, net.configPath, other), 20000);
    const p = await flow;
    assert.equal(sameSocket.code, 1, sameSocket.out);
    assert.deepEqual(startFailure(sameSocket.out), [
      `nat64: start failed: control socket '${net.socket}': another nat64 daemon is answering on it`]);
    assert.equal(sameDevices.code, 1, sameDevices.out);
    const line = startFailure(sameDevices.out);
    assert.equal(line.length, 1, sameDevices.out);
    assert.match(line[0], new RegExp(`device 'net_af_packet0,iface=t6[^']*' is already used by nat64 daemon pid ${net.daemon!.pid}`));
    assert.equal(fs.existsSync(other), false);
    // Neither attempt touched the first daemon: its flow never stopped, its socket answers, it still runs.
    assert.ok(p.maxGapMs < 500 && p.received >= p.sent * 0.97, `flow ${p.received}/${p.sent}, gap ${p.maxGapMs} ms`);
    assert.equal(net.cli(['instance', 'display']).status, 0);
    assert.equal(net.daemon!.exitCode, null);
  });

  it('a daemon that was killed (SIGKILL) leaves a stale lock that the next start takes over', async () => {
    net.daemon!.kill('SIGKILL');
    await net.exit;
    await net.startDaemon(); // returns once the new daemon answers on its socket
    assert.equal(net.cli(['instance', 'add', 'example', '--pool6', '64:ff9b::/96']).status, 0);
    const p = await net.probe(0, 45001, 1);
    assert.ok(p.received >= p.sent * 0.9, `${p.received}/${p.sent}`);
  });
});

describe('lifecycle: start-up failures say why in one line and leave nothing behind', function () {
  this.timeout(180000);
  const net = new RelNet({ prefix: 'n64rlf', shards: 1 });
  before(async () => { await net.up(); await net.stop(); });
  after(async () => {
    await net.down();
    // EAL's runtime directory of a failed file-backed init (config and memseg maps, no memory): EAL
    // leaves it, and the daemon must not remove it (it could be another process's with the same prefix).
    for (const p of ['n64rlfm', 'n64rlfd']) fs.rmSync(`/var/run/dpdk/${p}`, { recursive: true, force: true });
  });

  const cases: Array<[string, (c: any) => void, RegExp]> = [
    ['no free hugepages (more memory than the host has)', (c) => { c.dataplane.eal = [...fileBacked('n64rlfm'), '-m', '1000000']; }, /rte_eal_init failed: .*no usable hugepages\? reserve 2 MB pages/],
    ['hugepages requested where hugetlbfs is not mounted', (c) => { c.dataplane.eal = [...fileBacked('n64rlfd'), '--huge-dir=/nonexistent']; }, /rte_eal_init failed: .*no usable hugepages\?/],
    ['a device that does not exist', (c) => { c.dataplane.ports[0].device = 'net_af_packet0,iface=nosuch0'; }, /dataplane.ports\[0\].device: interface 'nosuch0' does not exist in this network namespace$/],
    ['a bad EAL argument', (c) => { c.dataplane.eal = [...c.dataplane.eal, '--no-such-eal-option']; }, /rte_eal_init failed: Invalid argument .*: check dataplane.eal/],
  ];
  for (const [what, change, cause] of cases) {
    it(what, async () => {
      const cfg = JSON.parse(fs.readFileSync(net.configPath, 'utf8'));
      change(cfg);
      const file = path.join(net.dir, 'bad.json');
      fs.writeFileSync(file, JSON.stringify(cfg));
      
      const t0 = Date.now();
      const r = await waitExit(net, net.spawnDaemon({}, file), 30000);
      const ms = Date.now() - t0;
      assert.notEqual(r.code, 0, r.out);
      assert.notEqual(r.code, -999, `did not exit: ${r.out}`);
      const lines = startFailure(r.out);
      assert.equal(lines.length, 1, r.out);
      assert.match(lines[0], cause);
      assert.equal(fs.existsSync(net.socket), false);
      assert.deepEqual(lockFiles(net), []);
      assert.deepEqual(hugeFiles('n64rlf'), []);
      // eslint-disable-next-line no-console
      console.log(`      exit ${r.code} after ${ms} ms: ${lines[0]}`);
    });
  }
});
