/**
 * Session sync under load (issue 13: "the rate of sessions it can carry per second and the bytes per
 * session on the wire, next to the translator's establishment rate"). No DPDK: the translation
 * cores, their tables and sync rings, and two SyncServices on real UDP loopback sockets, J and K in
 * two processes (one core each on a 2-core box, as two hosts would have):
 *
 *  1. establishment: new UDP sessions per second through J's core (process6 of a first packet),
 *     with ss-enabled off and on (the fast path's cost of writing the sync record);
 *  2. live: J establishes N sessions as fast as its core can while its service drains, batches and
 *     sends; K applies them to its shards: sessions/s carried end to end (first record made on J to
 *     the last applied on K), how many arrived, the lag, the bytes per session on the wire;
 *  3. dump: K asks J for its N sessions (a late joiner): records/s and bytes per session.
 *
 *   node dist/bench/sync.js [--sessions N] [--json]     (prints a table; --json: one JSON line)
 */
import { fork } from 'node:child_process';
import { Nat64Core } from '../src/dataplane/core';
import { Result } from '../src/dataplane/core-api';
import { COUNTER_COUNT } from '../src/dataplane/counters';
import type { CoreConfig, CoreGlobals } from '../src/dataplane/core-config';
import { allocateShardTables } from '../src/dataplane/tables/shard-tables';
import { createRedirectBuffer, RedirectIndex } from '../src/dataplane/sync/redirect';
import { createSyncRingBuffer, SyncRing, SyncRingReader } from '../src/dataplane/sync/ring';
import { SessionWalker } from '../src/dataplane/sync/walk';
import { SyncService, type SyncDataplane } from '../src/control/sync/service';
import { validateSync } from '../src/control/sync/config';
import { defaultGlobals, toCoreGlobals } from '../src/control/globals';
import { parseIPv4 } from '../src/control/inet';

const args = process.argv.slice(2);
const sessionsArg = args.indexOf('--sessions');
const N = sessionsArg >= 0 ? Number(args[sessionsArg + 1]) : 200_000;
const KEY = 'bench sync key, long enough to count';

function globals(ss: boolean): CoreGlobals {
  return { ...toCoreGlobals({ ...defaultGlobals('64:ff9b::/96'), 'ss-enabled': ss }) };
}
function config(ss: boolean): CoreConfig {
  const r = [{ address: parseIPv4('198.19.0.1'), portMin: 1024, portMax: 65535, mark: 0 },
    { address: parseIPv4('198.19.0.2'), portMin: 1024, portMax: 65535, mark: 0 },
    { address: parseIPv4('198.19.0.3'), portMin: 1024, portMax: 65535, mark: 0 },
    { address: parseIPv4('198.19.0.4'), portMin: 1024, portMax: 65535, mark: 0 }];
  return { instance: 'bench', globals: globals(ss), pool4: { TCP: r, UDP: r, ICMP: r }, bib: [] };
}

/** Shards of one translator without DPDK, as the data plane wires them (test/unit/helpers/sync-rig.ts). */
class Translator implements SyncDataplane {
  readonly cores: Nat64Core[] = [];
  readonly readers: SyncRingReader[] = [];
  readonly walkers: SessionWalker[] = [];
  readonly redirect: RedirectIndex;
  constructor(readonly syncShards: number, capacity: number, ss: boolean) {
    const rbuf = createRedirectBuffer();
    this.redirect = new RedirectIndex(rbuf);
    for (let s = 0; s < syncShards; s++) {
      const buffers = allocateShardTables(capacity);
      const core = new Nat64Core(s, syncShards, buffers, new Float64Array(COUNTER_COUNT));
      core.configure(config(ss), []);
      core.setRedirect(rbuf);
      const ring = createSyncRingBuffer();
      core.tables.sessions.sync = ss ? new SyncRing(ring) : null;
      this.cores.push(core);
      this.readers.push(new SyncRingReader(ring));
      this.walkers.push(new SessionWalker(buffers));
    }
  }
  syncReader(s: number): SyncRingReader { return this.readers[s]; }
  syncWalker(s: number): SessionWalker { return this.walkers[s]; }
  redirectIndex(): RedirectIndex { return this.redirect; }
  syncApply(shard: number, recs: Int32Array, n: number): Promise<number[]> {
    const ses = this.cores[shard].tables.sessions, ring = ses.sync;
    ses.sync = null;
    try { return Promise.resolve(this.cores[shard].applyPeer(recs, n, Date.now())); } finally { ses.sync = ring; }
  }
  get sessions(): number { return this.cores.reduce((m, c) => m + c.tables.sessions.count, 0); }
}

/** First packets of flow k (IPv6 UDP, client 2001:db8:1::<k/256+1> port 10000 + k%256 -> 64:ff9b::198.18.0.16:5353). */
const HEAD = 64;
const pkt = new Uint8Array(HEAD + 48 + 64);
function flow(k: number): void {
  const p = pkt, o = HEAD;
  p.fill(0, o, o + 48);
  p[o] = 0x60; p[o + 5] = 8; p[o + 6] = 17; p[o + 7] = 64;
  p.set([0x20, 0x01, 0x0d, 0xb8, 0, 1], o + 8);
  const host = (k >>> 8) + 1;
  p[o + 20] = (host >>> 24) & 0xff; p[o + 21] = (host >>> 16) & 0xff; p[o + 22] = (host >>> 8) & 0xff; p[o + 23] = host & 0xff;
  p.set([0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0, 198, 18, 0, 16], o + 24);
  const sport = 10000 + (k & 0xff);
  p[o + 40] = sport >>> 8; p[o + 41] = sport & 0xff; p[o + 42] = 5353 >>> 8; p[o + 43] = 5353 & 0xff; p[o + 45] = 8;
  // UDP checksum over the pseudo-header and header (RFC 768 / RFC 8200 §8.1).
  let sum = 17 + 8 + 8;
  for (let i = o + 8; i < o + 40; i += 2) sum += (p[i] << 8) | p[i + 1];
  sum += sport + 5353;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  const c = (~sum) & 0xffff || 0xffff;
  p[o + 46] = c >>> 8; p[o + 47] = c & 0xff;
}

function establish(core: Nat64Core, from: number, to: number, drain?: SyncRingReader): number {
  let ok = 0;
  for (let k = from; k < to; k++) {
    flow(k);
    if (core.process6(pkt, HEAD, 48, pkt.length - HEAD, Date.now()) === Result.EMIT4) ok++;
    if (drain && (k & 1023) === 1023) drain.drain(() => undefined);
  }
  return ok;
}

/** Phase 1: sessions/s of J's core, sync off and on (alternated, best of 3 each: the box is shared). */
function establishment(): { off: number; on: number } {
  const out: { off: number; on: number } = { off: 0, on: 0 };
  for (let round = 0; round < 3; round++) {
    for (const ss of [false, true]) {
      const t = new Translator(1, 1 << 18, ss);
      establish(t.cores[0], 0, 4096, t.readers[0]); // warm-up
      const t0 = process.hrtime.bigint();
      establish(t.cores[0], 4096, 4096 + N, t.readers[0]);
      const rate = Math.round(N / (Number(process.hrtime.bigint() - t0) / 1e9));
      out[ss ? 'on' : 'off'] = Math.max(out[ss ? 'on' : 'off'], rate);
    }
  }
  return out;
}

interface PeerReport { applied: number; lastAt: number; firstAt: number; bytes: number; stats: Record<string, number> }

async function peer(jPort: number, kPort: number): Promise<void> {
  const k = new Translator(2, 1 << 18, true);
  const svc = new SyncService(validateSync({ address: '127.0.0.1', port: kPort, peers: [`127.0.0.1#${jPort}`], key: KEY, refreshMs: 0 }), k);
  await svc.start();
  let firstAt = 0;
  let mode: 'live' | 'dump' = 'live';
  process.on('message', (m: { cmd: string }) => {
    if (m.cmd === 'enable') { svc.setGlobals(globals(true)); process.send!({ ready: true }); }
    if (m.cmd === 'dump') {
      mode = 'dump';
      // A new K: fresh tables (emptied without telling J, as a shard does when its instance goes), asks J for everything.
      svc.setGlobals(null);
      for (const c of k.cores) {
        const ring = c.tables.sessions.sync;
        c.tables.sessions.sync = null;
        c.configure(null, []);
        c.configure(config(true), []);
        c.tables.sessions.sync = ring;
      }
      firstAt = 0;
      svc.setGlobals(globals(true));
    }
    if (m.cmd === 'stop') void svc.stop().then(() => process.exit(0));
    if (m.cmd === 'stats') process.send!({ mode: 'stats', applied: k.sessions, lastAt: Date.now(), firstAt, stats: { ...svc.stats } });
  });
  let reported = '';
  setInterval(() => {
    const n = k.sessions;
    if (n > 0 && firstAt === 0) firstAt = Date.now();
    if (n >= N && reported !== mode) {
      reported = mode;
      process.send!({ mode, applied: n, lastAt: Date.now(), firstAt, stats: { ...svc.stats } });
    }
  }, 1).unref();
}

async function main(): Promise<void> {
  if (args.includes('--peer')) { await peer(Number(args[args.indexOf('--peer') + 1]), Number(args[args.indexOf('--peer') + 2])); return; }
  const est = establishment();
  const jPort = 27000 + Math.floor(Math.random() * 1000) * 2, kPort = jPort + 1;
  const child = fork(__filename, ['--peer', String(jPort), String(kPort), '--sessions', String(N)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const reports: PeerReport[] = [];
  let waiting: ((r: PeerReport) => void) | null = null;
  let ready: (() => void) | null = null;
  child.on('message', (m: PeerReport & { ready?: boolean; mode?: string }) => {
    if (m.ready) { ready?.(); return; }
    if (waiting) { const w = waiting; waiting = null; w(m); } else reports.push(m);
  });
  const next = () => new Promise<PeerReport>((r) => { if (reports.length) r(reports.shift()!); else waiting = r; });
  const j = new Translator(1, 1 << 18, true);
  const svc = new SyncService(validateSync({ address: '127.0.0.1', port: jPort, peers: [`127.0.0.1#${kPort}`], key: KEY, refreshMs: 0 }), j);
  await svc.start();
  svc.setGlobals(globals(true));
  await new Promise<void>((r) => { ready = r; child.send({ cmd: 'enable' }); });
  await new Promise((r) => setTimeout(r, 200));
  // Phase 2: establish N sessions in slices (the event loop turns between them: the service drains).
  const before = { ...svc.stats };
  const t0 = Date.now();
  let k = 0;
  const SLICE = 2048;
  await new Promise<void>((done) => {
    const step = () => {
      establish(j.cores[0], k, Math.min(N, k + SLICE));
      k = Math.min(N, k + SLICE);
      if (k < N) setImmediate(step); else done();
    };
    step();
  });
  const madeMs = Date.now() - t0;
  const live = await Promise.race([next(), new Promise<null>((r) => setTimeout(() => r(null), 60000))]);
  const sentBytes = svc.stats['sync-bytes-sent'] - before['sync-bytes-sent'];
  const sentRecords = svc.stats['sync-records-sent'] - before['sync-records-sent'];
  const sentDatagrams = svc.stats['sync-sent'] - before['sync-sent'];
  const ringDropped = svc.stats['sync-ring-dropped'], lagMs = svc.stats['sync-lag-ms'];
  // Phase 3: a dump of the N sessions to a K that starts over.
  const dumpBefore = { ...svc.stats };
  const d0 = Date.now();
  child.send({ cmd: 'dump' });
  const dump = await Promise.race([next(), new Promise<null>((r) => setTimeout(() => r(null), 60000))]);
  if (!dump) {
    child.send({ cmd: 'stats' });
    const st = await next();
    process.stderr.write(`dump incomplete: K has ${st.applied} sessions; K: ${JSON.stringify(st.stats)}; J: ${JSON.stringify(svc.stats)}\n`);
  }
  const dumpBytes = svc.stats['sync-bytes-sent'] - dumpBefore['sync-bytes-sent'];
  const dumpRecords = svc.stats['sync-dump-records-sent'] - dumpBefore['sync-dump-records-sent'];
  child.send({ cmd: 'stop' });
  await svc.stop();
  const result = {
    sessions: N,
    establishmentPerSecond: est,
    live: live ? {
      establishedPerSecondOnJ: Math.round(N / (madeMs / 1000)),
      carriedPerSecond: Math.round(N / ((live.lastAt - t0) / 1000)),
      appliedOnK: live.applied,
      ringDropped,
      bytesPerSession: +(sentBytes / Math.max(1, sentRecords)).toFixed(1),
      wireBytesPerSessionIPv4: +((sentBytes + sentDatagrams * 28) / Math.max(1, sentRecords)).toFixed(1),
      datagrams: sentDatagrams,
      lastLagMs: lagMs,
      peer: Object.fromEntries(Object.entries(live.stats).filter(([, v]) => v !== 0)),
    } : null,
    dump: dump ? {
      recordsPerSecond: Math.round(N / ((dump.lastAt - d0) / 1000)),
      bytesPerSession: +(dumpBytes / Math.max(1, dumpRecords)).toFixed(1),
      recordsSent: dumpRecords,
      peer: Object.fromEntries(Object.entries(dump.stats).filter(([, v]) => v !== 0)),
    } : null,
  };
  if (args.includes('--json')) process.stdout.write(`${JSON.stringify(result)}\n`);
  else {
    const f = (x: number) => `${(x / 1000).toFixed(0)} k/s`;
    process.stdout.write(`session sync, ${N} UDP sessions, HMAC-SHA256, J 1 shard -> K 2 shards over loopback UDP\n`);
    process.stdout.write(`  establishment on J's core: ${f(est.off)} (ss-enabled off), ${f(est.on)} (on)\n`);
    if (result.live) {
      process.stdout.write(`  live: J established ${f(result.live.establishedPerSecondOnJ)}, K applied ${result.live.appliedOnK} at ${f(result.live.carriedPerSecond)} end to end, ` +
        `${result.live.bytesPerSession} B/session payload (${result.live.wireBytesPerSessionIPv4} B with IPv4+UDP headers), ring drops ${result.live.ringDropped}\n`);
    } else process.stdout.write('  live: K did not get every session within 60 s\n');
    if (result.dump) process.stdout.write(`  dump: ${f(result.dump.recordsPerSecond)}, ${result.dump.bytesPerSession} B/session\n`);
    else process.stdout.write('  dump: incomplete within 60 s\n');
  }
}

main().catch((e) => { process.stderr.write(`bench sync failed: ${(e as Error).stack ?? e}\n`); process.exit(1); });
