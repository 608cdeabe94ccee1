/**
 * The native DPDK addon against real DPDK vdevs. EAL initialises once per process, so every
 * scenario is a fixture script (test/e2e/fixtures/native-*.ts) run as a child process that reports
 * one JSON object on fd 3. Needs root (hugepages, network namespaces).
 */
import { strict as assert } from 'assert';
import { execFileSync, spawn } from 'child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { ADDON_PATH, isNativeError, loadNative, native } from '../../src/native';
import { entryTable } from '../../src/dataplane/flow-cache';

const FIXTURES = join(__dirname, 'fixtures');

interface Run { exit: number | null; signal: string | null; result: any; stderr: string }

function runFixture(name: string, args: string[] = [], opts: { netns?: string; killAfterResult?: boolean; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  const script = join(FIXTURES, `native-${name}.js`);
  const cmd = opts.netns ? 'ip' : process.execPath;
  const argv = opts.netns ? ['netns', 'exec', opts.netns, process.execPath, script, ...args] : [script, ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } });
    let out = '';
    let stderr = '';
    child.stderr!.on('data', (b) => { stderr += b; });
    child.stdio[3]!.on('data', (b) => {
      out += b;
      if (opts.killAfterResult && out.includes('\n')) child.kill('SIGKILL');
    });
    child.on('error', reject);
    child.on('close', (exit, signal) => {
      let result: any = null;
      try { result = JSON.parse(out.trim().split('\n')[0]); } catch { /* asserted below */ }
      resolve({ exit, signal, result, stderr });
    });
  });
}

function ok(run: Run): any {
  assert.ok(run.result, `no result; stderr:\n${run.stderr}`);
  assert.equal(run.result.fatal, undefined, `fixture failed: ${run.result.fatal}\n${run.stderr}`);
  return run.result;
}

describe('native addon (DPDK)', function () {
  this.timeout(60000);

  before(function () {
    assert.ok(existsSync(ADDON_PATH), `${ADDON_PATH} missing: run npm run build:native`);
  });

  describe('table memory (flow cache layout; no EAL needed)', () => {
    it('pageOffset gives where a typed array starts within its page', () => {
      const a = new Int32Array(1 << 16);
      const base = native.pageOffset(a);
      assert.ok(base >= 0 && base < 4096);
      assert.equal(native.pageOffset(a.subarray(3)), (base + 12) % 4096);
      assert.throws(() => native.pageOffset({} as ArrayBufferView), (e: unknown) => isNativeError(e) && e.code === 'NAT64_E_ARG');
    });

    it('entryTable starts on a cache line whatever V8 returned, and advises huge pages over big tables', () => {
      let advised = 0;
      const memory = {
        pageOffset: (v: ArrayBufferView) => native.pageOffset(v),
        adviseHugePages: (v: ArrayBufferView) => { advised = native.adviseHugePages(v); return advised; },
      };
      for (const words of [16, 1 << 10, 1 << 22]) {
        const t = entryTable(words, memory);
        assert.equal(t.length, words);
        assert.equal(native.pageOffset(t) % 64, 0, `${words} words: entry 0 at page offset ${native.pageOffset(t)}`);
        assert.ok(t.every((w) => w === 0));
      }
      assert.ok(advised >= 12 << 20, `16 MB table: ${advised} bytes advised`); // all but the unaligned ends
      assert.equal(native.adviseHugePages(new Uint8Array(4096)), 0); // no whole 2 MB page inside
    });
  });

  describe('flow-cache prefetch plan (no EAL needed)', () => {
    it('flowPrefetch walks the registered list: in-range sets, the other table, skips and bad offsets, never throws', () => {
      const t6 = new Int32Array(16 * 64), t4 = new Int32Array(16 * 64), list = new Int32Array(32).fill(-0x80000000);
      native.flowPrefetch(63, 32); // nothing registered for shard 63: nothing done
      native.flowPrefetchRegister(63, t6, t4, list, 4);
      list.set([0, 16 * 60, -1 - 16 * 8, 16 * 61 /* past the end with 4 ways: skipped */, 0x7fffffff, -0x7fffffff]);
      native.flowPrefetch(63, 32);
      native.flowPrefetch(63, 1000); // clamped to the list
      assert.throws(() => native.flowPrefetchRegister(64, t6, t4, list, 4), (e: unknown) => isNativeError(e) && e.code === 'NAT64_E_ARG');
      assert.throws(() => native.flowPrefetchRegister(0, t6, t4, new Uint32Array(4) as unknown as Int32Array, 4),
        (e: unknown) => isNativeError(e) && e.code === 'NAT64_E_ARG');
      assert.throws(() => native.flowPrefetchRegister(0, t6, t4, list, 0), (e: unknown) => isNativeError(e) && e.code === 'NAT64_E_ARG');
      native.flowPrefetchRegister(63, t6, t4, new Int32Array(0), 4); // an empty list: flowPrefetch does nothing
      native.flowPrefetch(63, 32);
    });

    it('missPrefetch walks (table, index) pairs of any element size, skips unknown tables and indexes past the end', () => {
      const heads = new Int32Array(1024), times = new Float64Array(512), list = new Int32Array(16);
      native.missPrefetch(62, 8); // nothing registered: nothing done
      native.missPrefetchRegister(62, 0, heads);
      native.missPrefetchRegister(62, 3, times);
      native.missPrefetchList(62, list);
      list.set([0, 1023, 3, 511, 3, 512 /* past the end */, 7 /* unregistered */, 0, 11, 5, -1, 0, 0, -1, 0, 0]);
      native.missPrefetch(62, 8);
      native.missPrefetch(62, 1000); // clamped to the list
      assert.throws(() => native.missPrefetchRegister(62, 12, heads), (e: unknown) => isNativeError(e) && e.code === 'NAT64_E_ARG');
      assert.throws(() => native.missPrefetchRegister(64, 0, heads), (e: unknown) => isNativeError(e) && e.code === 'NAT64_E_ARG');
      assert.throws(() => native.missPrefetchList(62, new Float64Array(4) as unknown as Int32Array),
        (e: unknown) => isNativeError(e) && e.code === 'NAT64_E_ARG');
    });
  });

  describe('loopback through net_ring0, rx in a worker thread', () => {
    let r: any;
    before(async () => { r = ok(await runFixture('loopback')); });

    it('receives the bytes it sent, at the offsets rx descriptors give', () => {
      const w = r.worker;
      assert.equal(w.sent, true);
      assert.equal(w.rx1, 1);
      assert.deepEqual(w.first, { dataOk: true, len: 60, port: 0, mbufOk: true, bytesOk: true });
    });

    it('a TX verdict can move the frame start 20 bytes into the headroom', () => {
      assert.deepEqual(r.worker.second, { data: -20, len: 80, mbufOk: true, bytesOk: true });
    });

    it('a TX verdict can move the frame start further into the buffer', () => {
      assert.deepEqual(r.worker.third, { data: 20, len: 40, firstByte: 20 });
    });

    it('refuses a frame outside the mbuf buffer: freed and counted as txInvalid', () => {
      assert.equal(r.worker.afterInvalid, 0);
      assert.equal(r.worker.stats.txInvalid, 1);
    });

    it('HOLD keeps the mbuf for a later free(); DROP frees it', () => {
      assert.equal(r.worker.rxHold, 1);
      assert.equal(r.worker.freeHeld, null);
      assert.equal(r.worker.rxDrop, 1);
      assert.equal(r.worker.afterDrop, 0);
    });

    it('refuses handles that are not mbufs of the arena with NAT64_E_ARG', () => {
      assert.equal(r.worker.badHandle.code, 'NAT64_E_ARG');
      assert.equal(r.worker.badSend.code, 'NAT64_E_ARG');
    });

    it('counts packets per shard and per port', () => {
      const s = r.worker.stats;
      assert.equal(s.rxPackets, 5);
      assert.equal(s.txPackets, 5);
      assert.equal(s.txDropped, 0);
      assert.equal(r.portStats.opackets, 5);
      assert.equal(r.portStats.ipackets, 5);
    });

    it('registers the worker as an EAL lcore and hands out one arena view per worker', () => {
      assert.ok(r.worker.lcore > 0, `lcore ${r.worker.lcore}`);
      assert.equal(r.worker.sameViews, true);
    });

    it('restores the CPU affinity EAL pinned, for the main thread and later workers', () => {
      assert.equal(r.cpusAfter, r.cpusBefore);
      assert.equal(r.worker.workerCpus, r.cpusBefore);
    });

    it('leaves Node\'s signal handlers in place', () => {
      assert.equal(r.sigint, true);
    });

    it('reports port info, and refuses an MTU change the vdev cannot make', () => {
      assert.equal(r.info.name, 'net_ring0');
      assert.equal(r.info.driver, 'net_ring');
      assert.equal(r.info.mtu, 1500);
      assert.equal(r.info.rxQueues, 1);
      assert.equal(r.mtuChange.code, 'NAT64_E_PORT_CONFIG');
      assert.equal(r.mtuChange.errno, 95); // ENOTSUP
      assert.match(r.mtuChange.message, /rte_eth_dev_set_mtu/);
      assert.equal(r.mtuSame, null);
    });
  });

  describe('without hugepages (memoryArgs fallback: --no-huge --no-shconf)', () => {
    it('the arena, loopback and verdicts work on 4 kB pages', async () => {
      const r = ok(await runFixture('loopback', [], { env: { NAT64_NO_HUGE: '1' } }));
      assert.equal(r.noHuge, true);
      assert.deepEqual(r.worker.first, { dataOk: true, len: 60, port: 0, mbufOk: true, bytesOk: true });
      assert.deepEqual(r.worker.second, { data: -20, len: 80, mbufOk: true, bytesOk: true });
      assert.equal(r.worker.stats.txPackets, 5);
    });
  });

  describe('hand-off between shards', () => {
    let r: any;
    before(async () => { r = ok(await runFixture('handoff')); });

    it('shard 1 receives the mbuf shard 0 handed off, unchanged', () => {
      assert.equal(r.send.got, 1);
      assert.equal(r.send.stats.handoffOut, 1);
      assert.deepEqual({ ...r.receive, stats: undefined },
        { got: 1, len: 100, port: 0, mbuf: r.send.mbuf, bytesOk: true, stats: undefined });
      assert.equal(r.receive.stats.rxPackets, 1);
    });

    it('a hand-off to a shard that does not exist is freed and counted', () => {
      assert.equal(r.send.stats.txInvalid, 1);
    });

    it('a full hand-off ring frees and counts instead of blocking', () => {
      // 4096-slot ring holds 4095; the flood sent 4200 into it with nobody draining.
      assert.equal(r.flood.stats.handoffOut - r.send.stats.handoffOut, 4095);
      assert.equal(r.flood.stats.handoffDropped, 105);
    });
  });

  describe('af_packet over a veth pair in a network namespace', () => {
    const ns = `nat64-native-${process.pid}`;
    before(() => {
      execFileSync('ip', ['netns', 'add', ns]);
      execFileSync('ip', ['-n', ns, 'link', 'add', 'dp0', 'type', 'veth', 'peer', 'name', 'k0']);
      execFileSync('ip', ['-n', ns, 'link', 'set', 'dp0', 'up']);
      execFileSync('ip', ['-n', ns, 'link', 'set', 'k0', 'up']);
    });
    after(() => {
      execFileSync('ip', ['netns', 'del', ns]);
    });

    it('receives a frame the kernel sent and transmits the answer back', async () => {
      const r = ok(await runFixture('afpacket', ['dp0', 'k0'], { netns: ns }));
      assert.equal(r.info.driver, 'net_af_packet');
      assert.ok(r.asked >= 1, `asked ${r.asked}`);
      assert.equal(r.peerExit, 0, 'the kernel side never saw the answer');
      assert.ok(r.stats.txPackets >= 1);
      assert.ok(r.portStats.ipackets >= 1);
    });
  });

  describe('errors', () => {
    it('a bad EAL argument throws NAT64_E_EAL_INIT and the process survives; no retry', async () => {
      const r = ok(await runFixture('errors', ['bad-eal']));
      assert.equal(r.first.code, 'NAT64_E_EAL_INIT');
      assert.equal(r.first.errno, 22);
      assert.match(r.first.message, /rte_eal_init/);
      assert.equal(r.retry.code, 'NAT64_E_STATE');
      assert.equal(r.initialized, false);
      assert.equal(r.alive, true);
    });

    describe('after a good init', () => {
      let r: any;
      before(async () => { r = ok(await runFixture('errors')); });
      const expect: Array<[string, string]> = [
        ['beforeInit', 'NAT64_E_STATE'], ['notArray', 'NAT64_E_ARG'], ['doubleInit', 'NAT64_E_STATE'],
        ['startBeforePool', 'NAT64_E_STATE'], ['poolTooSmall', 'NAT64_E_ARG'], ['secondPool', 'NAT64_E_STATE'],
        ['badDevice', 'NAT64_E_PORT_PROBE'], ['unknownPort', 'NAT64_E_ARG'], ['zeroQueues', 'NAT64_E_ARG'],
        ['tooManyQueues', 'NAT64_E_ARG'], ['mtuTooBig', 'NAT64_E_ARG'], ['notNumber', 'NAT64_E_ARG'],
        ['startTwice', 'NAT64_E_STATE'], ['shardNotCreated', 'NAT64_E_ARG'], ['shardOutOfRange', 'NAT64_E_ARG'],
        ['shardQueueMissing', 'NAT64_E_ARG'], ['shardCountMismatch', 'NAT64_E_ARG'], ['shardTwice', 'NAT64_E_STATE'],
        ['txTooMany', 'NAT64_E_ARG'], ['infoClosed', 'NAT64_E_ARG'], ['afterShutdown', 'NAT64_E_STATE'],
        ['initAfterShutdown', 'NAT64_E_STATE'],
      ];
      for (const [what, code] of expect) {
        it(`${what} -> ${code}`, () => {
          assert.ok(r[what], `${what} did not throw`);
          assert.equal(r[what].code, code, r[what].message);
        });
      }

      it('a DPDK failure carries its errno and names the call', () => {
        assert.ok(r.badDevice.errno > 0);
        assert.match(r.badDevice.message, /rte_dev_probe/);
      });

      it('probing a device twice returns the same port; closed devices can be probed again', () => {
        assert.equal(r.probeAgain, true);
        assert.equal(r.reprobe, true);
      });

      it('an empty pool makes alloc return -1 and count, and freed mbufs come back', () => {
        assert.equal(r.heldSome, true);
        assert.equal(r.allocFailed, 1);
        assert.equal(r.allocAfterFree, true);
      });

      it('a stopped port is not polled', () => {
        assert.equal(r.rxStoppedPort, 0);
      });
    });
  });

  describe('no hugepage files left behind (EAL file-backed, not --in-memory)', () => {
    const prefixes: string[] = [];
    after(() => {
      for (const p of prefixes) rmSync(`/var/run/dpdk/${p}`, { recursive: true, force: true });
    });
    for (const mode of ['explicit', 'exit', 'drain', 'kill']) {
      it(`after ${mode}`, async () => {
        const prefix = `nat64t${process.pid}${mode}`;
        prefixes.push(prefix);
        const run = await runFixture('shutdown', [mode, prefix], { killAfterResult: mode === 'kill' });
        const r = ok(run);
        assert.equal(r.initializedAfter, mode !== 'explicit');
        if (mode === 'kill') assert.equal(run.signal, 'SIGKILL');
        else assert.equal(run.exit, 0, run.stderr);
        const left = readdirSync('/dev/hugepages').filter((f) => f.startsWith(prefix));
        assert.deepEqual(left, []);
      });
    }
  });

  describe('loader', () => {
    it('native loads lazily, then exposes the addon\'s own functions', () => {
      // ealInitialized() does not initialise EAL: safe inside the mocha process.
      assert.equal(native.ealInitialized(), false);
      assert.equal(native.rx, loadNative().rx);
      assert.equal(native.ealInitialized, loadNative().ealInitialized);
    });

    it('a missing build is a NAT64_E_ADDON error that says how to build', () => {
      // The compiled loader alone, in a tree without build/Release.
      const root = mkdtempSync(join(tmpdir(), 'nat64-loader-'));
      try {
        const dir = join(root, 'dist', 'src', 'native');
        mkdirSync(dir, { recursive: true });
        for (const f of ['index.js', 'eal-args.js', 'types.js']) copyFileSync(join(__dirname, '../../src/native', f), join(dir, f));
        const out = execFileSync(process.execPath, ['-e', `
          const m = require(${JSON.stringify(join(dir, 'index.js'))});
          try { m.native.ealInitialized(); console.log('loaded'); }
          catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message, guard: m.isNativeError(e) })); }`]).toString();
        const r = JSON.parse(out);
        assert.equal(r.code, 'NAT64_E_ADDON');
        assert.match(r.message, /npm run build:native/);
        assert.equal(r.guard, true);
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    });

    it('isNativeError recognises coded errors only', () => {
      const e = Object.assign(new Error('x'), { code: 'NAT64_E_ARG' });
      assert.equal(isNativeError(e), true);
      assert.equal(isNativeError(Object.assign(new Error('x'), { code: 'ENOENT' })), false);
      assert.equal(isNativeError({ code: 'NAT64_E_ARG' }), false);
    });
  });
});
