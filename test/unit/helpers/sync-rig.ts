/**
 * A translator's shards for session-sync tests without DPDK: real Nat64Cores over real shard
 * tables, sync rings and the shared redirect index, wired as the data plane wires them (the
 * classifier picks the shard, 'sync-apply' mutes the shard's ring while applying). Implements the
 * SyncDataplane a SyncService needs, so services talk over real UDP sockets in the tests.
 */
import type { CoreConfig } from '../../../src/dataplane/core-config';
import type { Result } from '../../../src/dataplane/core-api';
import type { SyncDataplane } from '../../../src/control/sync/service';
import { createRedirectBuffer, RedirectIndex } from '../../../src/dataplane/sync/redirect';
import { createSyncRingBuffer, SyncRing, SyncRingReader } from '../../../src/dataplane/sync/ring';
import { SessionWalker } from '../../../src/dataplane/sync/walk';
import { readSessions } from '../../../src/dataplane/tables/read';
import type { SessionRow } from '../../../src/dataplane/manager-api';
import { HEADROOM } from '../../rfc/vectors/harness';
import { makeConfig, makeCore, type CoreRig } from './core-harness';

export class SyncRig implements SyncDataplane {
  readonly cores: CoreRig[] = [];
  readonly readers: SyncRingReader[] = [];
  readonly walkers: SessionWalker[] = [];
  private readonly rings: SyncRing[] = [];
  readonly redirect: RedirectIndex;

  constructor(readonly shards: number, cfg: CoreConfig = makeConfig({ ssEnabled: true }), capacity = 1024, ringCapacity = 1024) {
    const rbuf = createRedirectBuffer(1024);
    this.redirect = new RedirectIndex(rbuf);
    for (let s = 0; s < shards; s++) {
      const rig = makeCore(cfg, { shard: s, shards, capacity, own: [] });
      rig.core.setRedirect(rbuf);
      const ring = createSyncRingBuffer(ringCapacity);
      this.rings.push(new SyncRing(ring));
      this.readers.push(new SyncRingReader(ring));
      this.walkers.push(new SessionWalker(rig.buffers));
      this.cores.push(rig);
    }
    this.configure(cfg);
  }

  /** As the shard does on an instance message: configure, and the ring follows ss-enabled. */
  configure(cfg: CoreConfig | null): void {
    this.cores.forEach((r, s) => {
      r.core.configure(cfg, []);
      r.core.tables.sessions.sync = cfg?.globals.ssEnabled ? this.rings[s] : null;
    });
  }

  get syncShards(): number { return this.shards; }
  syncReader(shard: number): SyncRingReader { return this.readers[shard]; }
  syncWalker(shard: number): SessionWalker { return this.walkers[shard]; }
  redirectIndex(): RedirectIndex { return this.redirect; }
  syncApply(shard: number, recs: Int32Array, n: number): Promise<number[]> {
    const sessions = this.cores[shard].core.tables.sessions, ring = sessions.sync;
    sessions.sync = null;
    try { return Promise.resolve(this.cores[shard].core.applyPeer(recs, n, Date.now())); } finally { sessions.sync = ring; }
  }

  /** A packet as the data plane handles it: to the owning shard (classifier), then through its core. */
  run(family: 4 | 6, pkt: Uint8Array, now: number): { shard: number; r: Result; pkt: Uint8Array } {
    const buf = new Uint8Array(HEADROOM + pkt.length + 256);
    buf.set(pkt, HEADROOM);
    const c0 = this.cores[0].core;
    const shard = family === 6 ? c0.ownerOf6(buf, HEADROOM, pkt.length) : c0.ownerOf4(buf, HEADROOM, pkt.length);
    const core = this.cores[shard].core;
    const cap = buf.length - HEADROOM;
    const r = family === 6 ? core.process6(buf, HEADROOM, pkt.length, cap, now) : core.process4(buf, HEADROOM, pkt.length, cap, now);
    return { shard, r, pkt: buf.slice(core.out.off, core.out.off + core.out.len) };
  }

  sessions(): SessionRow[] {
    return this.cores.flatMap((r, s) => readSessions(r.buffers, s, Date.now()));
  }

  /** Records waiting in the rings (drained). */
  drainAll(): number {
    return this.readers.reduce((n, r) => n + r.drain(() => undefined), 0);
  }
}
