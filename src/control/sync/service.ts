/**
 * Session synchronisation on the main thread (docs/session-sync.md): drains the shards' sync rings,
 * batches the records by Jool's ss-* rules and sends them on an ordinary kernel UDP socket (never a
 * DPDK port); receives the peers' datagrams, checks source, MAC, sequence, and hands each record to
 * the shard that owns its IPv4 port, through that shard's mailbox (the shard applies it between
 * bursts). Also: dumps for peers that ask (a late joiner, a gap), the periodic refresh of sessions
 * in use, keepalives so a lost last datagram is noticed, and the counters.
 */
import * as dgram from 'node:dgram';
import { networkInterfaces } from 'node:os';
import type { CoreGlobals } from '../../dataplane/core-config';
import { hashOwner6 } from '../../dataplane/classify';
import type { RedirectIndex } from '../../dataplane/sync/redirect';
import type { SyncRingReader } from '../../dataplane/sync/ring';
import type { SessionWalker } from '../../dataplane/sync/walk';
import { APPLY_RESULTS } from '../../dataplane/sync/apply';
import {
  SR_AGE, SR_PORTS, SR_STRIDE, SR_TIME_HI, SR_TIME_LO, SR_V6, recordProto, recordTime,
} from '../../dataplane/sync/record';
import { Nat64Error } from '../errors';
import { SyncBatcher } from './batcher';
import { canonicalAddress, type SyncConfig } from './config';
import { PeerTable } from './peers';
import { SYNC_STATS, zeroSyncStats, type SyncStatValues } from './stats';
import {
  FLAG_DUMP, FLAG_DUMP_END, FLAG_LOSS, FLAG_MAC, HEADER_BYTES, MAC_BYTES, MsgType, RECORDS_OFFSET, RECORD_BYTES, TARGET_BYTES,
  decodeHeader, decodeRecord, encodeRecord, newSenderId, recordsPerDatagram, sign, writeHeader,
} from './wire';

/** What the service needs of the data plane (Dataplane implements it; tests use plain tables). */
export interface SyncDataplane {
  readonly syncShards: number;
  syncReader(shard: number): SyncRingReader;
  syncWalker(shard: number): SessionWalker;
  /** Apply n records (SR_STRIDE words each) in the shard; resolves with counts by APPLY_RESULTS. */
  syncApply(shard: number, recs: Int32Array, n: number): Promise<number[]>;
  redirectIndex(): RedirectIndex;
}

/** Main-thread timer period: the latency ss-flush-asap adds at most. */
export const TICK_MS = 5;
/** A sender says it is alive at least this often (a receiver notices a lost last datagram within it). */
export const KEEPALIVE_MS = 1000;
/** At most one dump asked of a peer in this long. */
export const DUMP_ASK_MS = 1000;
/** Records handed to a shard in one mailbox message, and waiting for it at most. */
const APPLY_BATCH = 8192;
const APPLY_BACKLOG = 65536;
/** Session slots a dump or refresh reads per tick and shard. */
const WALK_SLICE = 16384;
/**
 * Records a dump sends per tick at most (about 200 k/s): a dump must not flood the peer's socket
 * buffer, or the peer loses datagrams, sees gaps, and asks for the next dump.
 */
const DUMP_RECORDS_PER_TICK = 1024;
/** Socket buffers asked for (the kernel caps them at net.core.rmem_max / wmem_max). */
const SOCKET_BUFFER = 4 << 20;

interface ApplyQueue { recs: Int32Array; n: number; busy: boolean; oldestMs: number }
interface WalkJob { shard: number; slot: number; since: number; to: { address: string; port: number } | null }

export class SyncService {
  readonly stats: SyncStatValues = zeroSyncStats();
  private socket: dgram.Socket | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly id = newSenderId();
  private seq = 0;
  private enabled = false;
  private readonly batcher: SyncBatcher;
  private readonly peers: PeerTable;
  private readonly key: Buffer | null;
  private readonly applyQueues: ApplyQueue[];
  private readonly ringDropped: number[];
  private loss = false;
  private lastSendMs = 0;
  /** The time the batcher's current flush wrote the ages for (the datagrams' send time). */
  private flushNow = 0;
  private refresh: WalkJob | null = null;
  private lastRefreshMs = 0;
  private readonly dumps = new Map<string, WalkJob & { seq: number; buf: Buffer; n: number }>();
  private readonly dumpSeq = new Map<string, number>();
  private readonly scratch = new Int32Array(SR_STRIDE);

  constructor(private readonly cfg: SyncConfig, private readonly dp: SyncDataplane,
    private readonly log: (line: string) => void = () => undefined) {
    this.key = cfg.key ?? null;
    this.peers = new PeerTable(cfg.peers.map((p) => p.address));
    this.batcher = new SyncBatcher((recs, count, oldest) => this.sendRecords(recs, count, oldest));
    this.applyQueues = Array.from({ length: dp.syncShards }, () => ({ recs: new Int32Array(APPLY_BATCH * SR_STRIDE), n: 0, busy: false, oldestMs: 0 }));
    this.ringDropped = Array.from({ length: dp.syncShards }, (_, s) => dp.syncReader(s).dropped);
  }

  /** Bind the socket (and join the group); the service sends nothing until an instance enables it. */
  async start(): Promise<void> {
    const c = this.cfg;
    const sock = dgram.createSocket({ type: c.family === 4 ? 'udp4' : 'udp6', reuseAddr: true });
    sock.on('message', (msg, rinfo) => this.onMessage(msg, rinfo.address, rinfo.port));
    sock.on('error', (e) => this.log(`sync socket: ${e.message}`));
    await new Promise<void>((resolve, reject) => {
      sock.once('error', (e: NodeJS.ErrnoException) => reject(new Nat64Error('E_SYNC_SOCKET',
        `sync: cannot bind ${c.address ?? (c.family === 4 ? '0.0.0.0' : '::')}#${c.port} (${e.code ?? e.message})`)));
      sock.bind(c.port, c.address, () => resolve());
    });
    try {
      if (c.multicastAddress) {
        sock.setMulticastTTL(c.ttl);
        sock.setMulticastLoopback(false);
        const inIf = c.inInterface ? this.interfaceAddress(c.inInterface) : undefined;
        sock.addMembership(c.multicastAddress, inIf);
        if (c.outInterface) sock.setMulticastInterface(this.interfaceAddress(c.outInterface));
      }
    } catch (e) {
      sock.close();
      throw new Nat64Error('E_SYNC_SOCKET', `sync: multicast set-up failed (${(e as Error).message})`);
    }
    try { sock.setRecvBufferSize(SOCKET_BUFFER); sock.setSendBufferSize(SOCKET_BUFFER); } catch { /* the kernel's default then */ }
    this.socket = sock;
    this.timer = setInterval(() => this.tick(Date.now()), TICK_MS);
    this.timer.unref();
  }

  /** IPv4: the interface's first IPv4 address; IPv6: "::%name" (the scope names the interface). */
  private interfaceAddress(name: string): string {
    if (this.cfg.family === 6) return `::%${name}`;
    const a = (networkInterfaces()[name] ?? []).find((x) => x.family === 'IPv4');
    if (!a) throw new Error(`interface ${name} has no IPv4 address`);
    return a.address;
  }

  /** The instance changed (Dataplane.onInstance): ss-enabled and the batching globals. */
  setGlobals(g: CoreGlobals | null): void {
    const was = this.enabled;
    this.enabled = g !== null && g.ssEnabled === true;
    if (g?.ss) this.batcher.configure({ ...g.ss, mac: this.key !== null });
    if (this.enabled && !was) {
      // A translator that starts syncing asks every peer for its tables (a late joiner catches up).
      this.lastRefreshMs = Date.now();
      this.askDump(null, Date.now());
    }
    if (!this.enabled) this.dp.redirectIndex().clear();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.enabled) this.tick(Date.now(), true);
    const s = this.socket;
    this.socket = null;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }

  rows(): Array<{ name: string; value: number; explain: string }> {
    return SYNC_STATS.map((d) => ({ name: d.name, value: this.stats[d.name], explain: d.explain }));
  }

  // ---- sending -----------------------------------------------------------------------------

  /** One timer tick: records out, keepalive, refresh and dump slices, dump asks. */
  tick(now: number, final = false): void {
    if (!this.socket) return;
    if (!this.enabled) { for (let s = 0; s < this.dp.syncShards; s++) this.dp.syncReader(s).drain(() => undefined); return; }
    for (let round = 0; round < 64; round++) {
      let moved = 0;
      for (let s = 0; s < this.dp.syncShards; s++) {
        const r = this.dp.syncReader(s);
        const dropped = r.dropped;
        if (dropped !== this.ringDropped[s]) {
          this.stats['sync-ring-dropped'] += (dropped - this.ringDropped[s]) >>> 0;
          this.ringDropped[s] = dropped;
          this.loss = true;
        }
        // The session's last use: the shard wrote the age at the event.
        moved += r.drain((w, o) => { this.batcher.push(w, o, recordTime(w, o) - w[o + SR_AGE]); }, this.batcher.free);
      }
      this.flushNow = now;
      this.batcher.flush(now, final);
      if (moved === 0) break;
    }
    this.refreshSlice(now);
    for (const job of this.dumps.values()) this.dumpSlice(job, now);
    this.flushNow = now;
    if (now - this.lastSendMs >= KEEPALIVE_MS) this.sendRecords(Buffer.alloc(0), 0, now);
    for (const p of this.peers.all()) {
      if (this.peers.dueForDump(p, now, DUMP_ASK_MS)) {
        p.wantDump = false;
        p.lastDumpAskMs = now;
        this.stats['sync-gaps']++;
        this.askDump(p, now);
      }
    }
  }

  private frame(type: MsgType, flags: number, count: number, body: Buffer, seq: number, now: number): Buffer {
    const mac = this.key !== null;
    const b = Buffer.allocUnsafe(HEADER_BYTES + body.length + (mac ? MAC_BYTES : 0));
    writeHeader(b, type, flags | (mac ? FLAG_MAC : 0), this.id, seq, now, count);
    body.copy(b, HEADER_BYTES);
    if (mac) sign(b, HEADER_BYTES + body.length, this.key!);
    return b;
  }

  private sendRecords(recs: Buffer, count: number, oldestMs: number): void {
    // The batcher wrote the ages as of its flush time: the header says that time.
    const now = this.flushNow;
    const flags = this.loss ? FLAG_LOSS : 0;
    this.loss = false;
    this.broadcast(this.frame(MsgType.RECORDS, flags, count, recs, this.seq++ >>> 0, now));
    this.stats['sync-records-sent'] += count;
    if (count > 0) this.stats['sync-lag-ms'] = Math.max(0, now - oldestMs);
  }

  /** To the group, or to every peer. */
  private broadcast(b: Buffer): void {
    this.lastSendMs = Date.now();
    if (this.cfg.multicastAddress) this.sendTo(b, this.cfg.port, this.cfg.multicastAddress);
    else for (const p of this.cfg.peers) this.sendTo(b, p.port, p.address);
  }

  private sendTo(b: Buffer, port: number, address: string): void {
    if (!this.socket) return;
    this.stats['sync-sent']++;
    this.stats['sync-bytes-sent'] += b.length;
    this.socket.send(b, port, address, (e) => { if (e) this.stats['sync-send-errors']++; });
  }

  /** Ask one peer (or all: null) for a full dump. */
  private askDump(peer: { idHi: number; idLo: number } | null, now: number): void {
    const body = Buffer.alloc(TARGET_BYTES);
    if (peer) { body.writeUInt32BE(peer.idHi >>> 0, 0); body.writeUInt32BE(peer.idLo >>> 0, 4); }
    this.broadcast(this.frame(MsgType.DUMP_REQUEST, 0, 0, body, this.seq++ >>> 0, now));
    this.stats['sync-dump-requests-sent']++;
  }

  /** Every refreshMs: sessions used since the last walk go out again (a peer's copy never expires early). */
  private refreshSlice(now: number): void {
    if (this.cfg.refreshMs <= 0) return;
    if (!this.refresh) {
      if (now - this.lastRefreshMs < this.cfg.refreshMs) return;
      this.refresh = { shard: 0, slot: 0, since: this.lastRefreshMs, to: null };
      this.lastRefreshMs = now;
    }
    const job = this.refresh;
    const w = this.dp.syncWalker(job.shard);
    w.walk(job.slot, job.slot + WALK_SLICE, job.since, now, (rec) => {
      if (this.batcher.free === 0) { this.flushNow = now; this.batcher.flush(now, true); }
      this.batcher.push(rec, 0, now - rec[SR_AGE], now);
    });
    this.flushNow = now;
    this.batcher.flush(now);
    job.slot += WALK_SLICE;
    if (job.slot >= w.capacity) { job.slot = 0; job.shard++; }
    if (job.shard >= this.dp.syncShards) this.refresh = null;
  }

  private startDump(address: string, port: number): void {
    const key = `${address}#${port}`;
    if (this.dumps.has(key)) return;
    const per = recordsPerDatagram(Number.MAX_SAFE_INTEGER, this.batcher.recordsPerDatagram, this.key !== null);
    this.dumps.set(key, { shard: 0, slot: 0, since: -Infinity, to: { address, port }, seq: this.dumpSeq.get(key) ?? 0, buf: Buffer.alloc(per * RECORD_BYTES), n: 0 });
  }

  private dumpSlice(job: WalkJob & { seq: number; buf: Buffer; n: number }, now: number): void {
    const per = job.buf.length / RECORD_BYTES;
    const flush = (end: boolean) => {
      if (job.n === 0 && !end) return;
      const flags = FLAG_DUMP | (end ? FLAG_DUMP_END : 0);
      this.sendTo(this.frame(MsgType.RECORDS, flags, job.n, job.buf.subarray(0, job.n * RECORD_BYTES), job.seq++ >>> 0, now), job.to!.port, job.to!.address);
      this.stats['sync-dump-records-sent'] += job.n;
      job.n = 0;
    };
    let budget = DUMP_RECORDS_PER_TICK;
    while (budget > 0 && job.shard < this.dp.syncShards) {
      const w = this.dp.syncWalker(job.shard);
      // Small steps so that the budget is kept to within one step.
      const step = Math.min(WALK_SLICE, budget * 4);
      budget -= w.walk(job.slot, job.slot + step, job.since, now, (rec) => {
        encodeRecord(rec, 0, rec[SR_AGE], job.buf, job.n * RECORD_BYTES);
        if (++job.n === per) flush(false);
      });
      budget -= step >>> 6; // reading empty slots costs too
      job.slot += step;
      if (job.slot >= w.capacity) { job.slot = 0; job.shard++; }
    }
    if (job.shard >= this.dp.syncShards) {
      flush(true);
      const key = `${job.to!.address}#${job.to!.port}`;
      this.dumpSeq.set(key, job.seq);
      this.dumps.delete(key);
    }
  }

  // ---- receiving ---------------------------------------------------------------------------

  /** One datagram from the socket (exposed for the tests and the fuzzer: never throws). */
  onMessage(msg: Buffer, fromAddress: string, fromPort: number): void {
    const st = this.stats;
    st['sync-received']++;
    st['sync-bytes-received'] += msg.length;
    const src = canonicalAddress(fromAddress);
    const peer = src ? this.peers.get(src.text) : undefined;
    if (!peer) { st['sync-rejected-source']++; return; }
    const h = decodeHeader(msg, this.key);
    if (typeof h === 'string') { st[h === 'mac-bad' || h === 'mac-missing' ? 'sync-rejected-auth' : 'sync-rejected-malformed']++; return; }
    if (h.idHi === this.id.hi && h.idLo === this.id.lo) return; // our own multicast
    if (!this.enabled) { st['sync-rejected-disabled']++; return; }
    const now = Date.now();
    if (this.peers.accept(peer, h, now) === 'replay') { st['sync-rejected-replay']++; return; }
    if (h.type === MsgType.DUMP_REQUEST) {
      if ((h.targetHi === 0 && h.targetLo === 0) || (h.targetHi === this.id.hi && h.targetLo === this.id.lo)) {
        st['sync-dump-requests-received']++;
        this.startDump(src!.text, fromPort);
      }
      return;
    }
    st['sync-records-received'] += h.count;
    const shards = this.dp.syncShards, w = this.scratch;
    // The records' ages count from the send time; on our clock without socket-buffer delay.
    const sent = this.peers.toLocal(peer, h.time, now);
    for (let k = 0; k < h.count; k++) {
      const off = RECORDS_OFFSET + k * RECORD_BYTES;
      decodeRecord(msg, off, w, 0);
      w[SR_TIME_HI] = Math.floor(sent / 4294967296);
      w[SR_TIME_LO] = sent | 0;
      const port4 = w[SR_PORTS] & 0xffff;
      const shard = port4 % shards;
      if (shards > 1) {
        const proto = recordProto(w, 0);
        // The IPv6 side must reach the shard that owns the IPv4 port (sync/redirect.ts); where the
        // hash already leads there, an entry left by an earlier mapping must not lead elsewhere.
        const differ = hashOwner6(proto, msg, off + 4, w[SR_PORTS] >>> 16, shards) !== shard;
        if (!this.dp.redirectIndex().set(proto, w, SR_V6, w[SR_PORTS] >>> 16, shard, differ)) {
          st['sync-rejected-table-full']++;
          continue;
        }
      }
      this.enqueue(shard, w, peer, h.time);
    }
  }

  private enqueue(shard: number, w: Int32Array, peer: { wantDump: boolean }, sentMs: number): void {
    const q = this.applyQueues[shard];
    if (q.n >= APPLY_BACKLOG) { this.stats['sync-rejected-backlog']++; peer.wantDump = true; return; }
    if ((q.n + 1) * SR_STRIDE > q.recs.length) {
      const bigger = new Int32Array(Math.min(q.recs.length * 2, APPLY_BACKLOG * SR_STRIDE));
      bigger.set(q.recs.subarray(0, q.n * SR_STRIDE));
      q.recs = bigger;
    }
    if (q.n === 0) q.oldestMs = sentMs;
    q.recs.set(w, q.n * SR_STRIDE);
    q.n++;
    if (!q.busy) this.applyNext(shard);
  }

  /** One mailbox message at a time per shard; records that arrive meanwhile go in the next one. */
  private applyNext(shard: number): void {
    const q = this.applyQueues[shard];
    if (q.n === 0) return;
    const n = Math.min(q.n, APPLY_BATCH);
    const batch = q.recs.slice(0, n * SR_STRIDE);
    q.recs.copyWithin(0, n * SR_STRIDE, q.n * SR_STRIDE);
    q.n -= n;
    const sent = q.oldestMs;
    q.busy = true;
    this.dp.syncApply(shard, batch, n).then((counts) => {
      this.stats['sync-applied'] += counts[0];
      for (let i = 1; i < APPLY_RESULTS.length; i++) {
        if (counts[i]) this.stats[`sync-rejected-${APPLY_RESULTS[i]}` as keyof SyncStatValues] += counts[i];
      }
      this.stats['sync-peer-lag-ms'] = Math.max(0, Date.now() - sent);
    }, (e: unknown) => {
      this.log(`sync: shard ${shard} did not apply ${n} peer records (${(e as Error).message})`);
      this.stats['sync-rejected-backlog'] += n;
    }).finally(() => {
      q.busy = false;
      this.applyNext(shard);
    });
  }
}
