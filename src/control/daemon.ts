/**
 * `nat64 daemon`: configuration file -> data plane -> instances -> control socket, in that order,
 * and back down on SIGINT/SIGTERM. SIGHUP re-reads the file and applies its instances atomically;
 * on any error the running configuration stays and the reason is logged.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { Dataplane } from '../dataplane/manager';
import type { DataplaneApi } from '../dataplane/manager-api';
import { loadConfig } from './config';
import type { DaemonConfig } from './config-types';
import { checkInterfaces, DeviceLocks, startHint } from './device-locks';
import { Nat64Error, q, toErrorPayload } from './errors';
import { socketPath } from './protocol';
import { MetricsServer, parseListen } from './metrics';
import { ControlServer } from './server';
import { ControlState } from './state';
import { SyncService } from './sync/service';
import { SYNC_STATS } from './sync/stats';

export interface DaemonOptions {
  configPath: string;
  /** --socket; else NAT64_SOCKET; else the file's control.socket; else /run/nat64/nat64.sock. */
  socketPath?: string;
  /** --metrics: Prometheus listen address; else the file's control.metrics; else none. */
  metrics?: string;
  /** Where mapping-log lines go (default stdout: the journal under systemd). */
  out?: (line: string) => void;
  log?: (line: string) => void;
  /** Tests inject a recorder; production uses the DPDK data plane. */
  dataplane?: () => DataplaneApi;
  /** Bound on a clean stop before the process is forced out. */
  stopTimeoutMs?: number;
  exit?: (code: number) => void;
}

export interface RunningDaemon { reload(): Promise<boolean>; stop(): Promise<void>; state: ControlState }

export async function runDaemon(opts: DaemonOptions): Promise<RunningDaemon> {
  const log = opts.log ?? ((l: string) => process.stderr.write(`nat64: ${l}\n`));
  const exit = opts.exit ?? ((c: number) => process.exit(c));
  let cfg: DaemonConfig;
  try {
    cfg = loadConfig(opts.configPath);
  } catch (e) {
    log(`configuration rejected: ${toErrorPayload(e).message}`);
    exit(2);
    throw e;
  }
  const path = opts.socketPath || process.env.NAT64_SOCKET || cfg.control?.socket || socketPath();
  const dp = opts.dataplane ? opts.dataplane() : new Dataplane();
  const state = new ControlState(dp);
  const out = opts.out ?? ((l: string) => process.stdout.write(`${l}\n`));
  dp.onMappingLog = out;
  if (dp instanceof Dataplane) {
    dp.onShardRestart = (shard, err) => log(`shard ${shard} died (${toErrorPayload(err).message}); restarting it over its tables`);
    dp.onShardResumed = (shard, ms) => log(`shard ${shard} restarted in ${ms} ms`);
  }
  let server: ControlServer | null = null;
  let metrics: MetricsServer | null = null;
  let sync: SyncService | null = null;
  const locks = new DeviceLocks();
  try {
    const listen = opts.metrics ?? cfg.control?.metrics;
    // Refuse before EAL touches a device: a second daemon must not disturb the first one.
    await refuseIfAnswering(path);
    if (!opts.dataplane) {
      checkInterfaces(cfg.dataplane.ports.map((p) => p.device));
      locks.acquire(cfg.dataplane.ports.map((p) => p.device));
    }
    await dp.start(cfg.dataplane);
    log(`data plane started: ${cfg.dataplane.ports.length} port(s), ${cfg.dataplane.shards} shard(s)`);
    if (dp instanceof Dataplane) {
      // Session sync follows the instance's ss-* globals (docs/session-sync.md).
      let warned = false;
      if (cfg.sync) {
        sync = new SyncService(cfg.sync, dp, log);
        await sync.start();
        const s = sync, c = cfg.sync;
        state.extraStats = () => s.rows();
        log(`session sync on ${c.multicastAddress ?? c.peers.map((p) => p.address).join(', ')} port ${c.port}${c.key ? ' (HMAC-SHA256)' : ''}`);
      }
      dp.onInstance = (inst) => {
        sync?.setGlobals(inst ? inst.globals : null);
        if (!sync && inst?.globals.ssEnabled && !warned) {
          warned = true;
          log('ss-enabled is true but the configuration file has no "sync" section: sessions are not synchronised');
        }
      };
    }
    // Not an error (a cable, a back end that comes later), but the first thing to look at.
    for (const p of dp.ports()) if (p.link === 'down') log(`port ${p.configName} (${p.driver}): link down`);
    await state.applyInstances(cfg.instances);
    log(cfg.instances.length ? `instance '${cfg.instances[0].instance}' configured` : 'no instance configured (add one with nat64 instance add)');
    server = new ControlServer(state, { path, group: cfg.control?.group });
    await server.listen();
    log(`control socket listening on ${path}`);
    if (listen) {
      const s = sync;
      metrics = new MetricsServer(dp, parseListen(listen, opts.metrics ? '--metrics' : 'control.metrics'),
        s ? { defs: SYNC_STATS, values: () => s.rows() } : undefined);
      await metrics.start();
      log(`metrics on http://${metrics.address}/metrics`);
    }
  } catch (e) {
    log(`start failed: ${toErrorPayload(e).message}${startHint(e, cfg.dataplane.eal)}`);
    await server?.close().catch(() => undefined);
    await metrics?.stop().catch(() => undefined);
    await sync?.stop().catch(() => undefined);
    await dp.stop().catch(() => undefined);
    locks.release();
    exit(1);
    throw e;
  }

  let stopping: Promise<void> | null = null;
  const stop = () => stopping ??= (async () => {
    log('stopping');
    await server!.close();
    await metrics?.stop();
    await sync?.stop();
    await dp.stop();
    locks.release();
    log('stopped');
  })();

  const reload = async (): Promise<boolean> => {
    log(`reloading ${opts.configPath}`);
    try {
      const next = loadConfig(opts.configPath);
      if (JSON.stringify(next.dataplane) !== JSON.stringify(cfg.dataplane)) {
        log('the dataplane section changed; it takes effect at the next restart (instances are reloaded now)');
      }
      await state.applyInstances(next.instances);
      cfg = { ...next, dataplane: cfg.dataplane };
      log('reload applied');
      return true;
    } catch (e) {
      log(`reload rejected, keeping the running configuration: ${toErrorPayload(e).message}`);
      return false;
    }
  };

  const onSignal = (sig: string) => {
    log(`${sig} received`);
    const force = setTimeout(() => { log('clean stop took too long; exiting now'); exit(1); }, opts.stopTimeoutMs ?? 10_000);
    force.unref();
    stop().then(() => { clearTimeout(force); exit(0); }, (e) => { log(`stop failed: ${toErrorPayload(e).message}`); exit(1); });
  };
  const onHup = () => { void reload(); };
  const onTestHook = () => { void testHook(dp, log); };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onHup);
  if (process.env.NAT64_TEST_HOOKS) process.on('SIGUSR2', onTestHook);
  const detach = () => {
    process.off('SIGINT', onSignal); process.off('SIGTERM', onSignal); process.off('SIGHUP', onHup);
    process.off('SIGUSR2', onTestHook);
  };
  return { reload, state, stop: () => stop().finally(detach) };
}

/**
 * Reliability tests only (docs/reliability.md): with NAT64_TEST_HOOKS=FILE in the environment,
 * SIGUSR2 reads FILE, `{"crashShard": N, "how": "throw" | "exit"}`, and makes shard N's task die.
 * Without the variable SIGUSR2 keeps Node's default action and the shards refuse the message.
 */
async function testHook(dp: DataplaneApi, log: (l: string) => void): Promise<void> {
  try {
    const req = JSON.parse(readFileSync(process.env.NAT64_TEST_HOOKS!, 'utf8')) as { crashShard?: number; how?: string };
    if (!(dp instanceof Dataplane) || typeof req.crashShard !== 'number') throw new Error('nothing to do');
    const how = req.how === 'exit' ? 'exit' : 'throw';
    log(`test hook: crashing shard ${req.crashShard} (${how})`);
    await dp.crashShard(req.crashShard, how);
  } catch (e) {
    log(`test hook failed: ${toErrorPayload(e).message}`);
  }
}

/** Another daemon answering on our control socket: refuse now, before the data plane starts. */
async function refuseIfAnswering(path: string): Promise<void> {
  if (!existsSync(path)) return;
  const alive = await new Promise<boolean>((resolve) => {
    const c = createConnection(path);
    c.once('connect', () => { c.destroy(); resolve(true); });
    c.once('error', () => resolve(false));
  });
  if (alive) throw new Nat64Error('E_DAEMON_RUNNING', `control socket ${q(path)}: another nat64 daemon is answering on it`);
}
