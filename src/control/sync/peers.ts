/**
 * What a receiver knows of each configured peer (docs/session-sync.md "Loss and replay"): the
 * peer's current sender id (its start), the last sequence number of its main stream and of the dump
 * it is sending us. Decides, per datagram that passed the source and MAC checks, whether it is
 * new, a replay, or shows a gap (then the service asks that peer for a dump).
 */
import { compareId, FLAG_DUMP, FLAG_DUMP_END, FLAG_LOSS, type Header } from './wire';

export interface PeerState {
  address: string;
  idHi: number; idLo: number;
  known: boolean;
  /** Last sequence number of the main stream; -1: not known yet (the id came with a dump). */
  seq: number;
  dumpSeq: number;
  /** A dump should be asked for (gap, loss flag, new sender); the service rate-limits the asks. */
  wantDump: boolean;
  lastDumpAskMs: number;
  lastHeardMs: number;
  /** Last dump datagram from this peer (ms); -1 after its last one. A dump in progress is not asked for again. */
  dumpActiveMs: number;
  /**
   * The smallest (our receive time - its send time) seen, this window and the previous one: the
   * peer's clock plus the least delay on the way, i.e. its send times on our clock without the time
   * a datagram waited in a socket buffer (sync/apply.ts compares last uses across the two hosts).
   */
  offset: number; prevOffset: number; offsetSince: number;
}

/** Length of a clock-offset window (ms): a clock that was stepped is followed within two of them. */
const OFFSET_WINDOW_MS = 30_000;

export type PeerVerdict = 'ok' | 'replay';

export class PeerTable {
  private readonly peers = new Map<string, PeerState>();

  constructor(addresses: readonly string[]) {
    for (const a of addresses) {
      this.peers.set(a, { address: a, idHi: 0, idLo: 0, known: false, seq: -1, dumpSeq: -1, wantDump: false, lastDumpAskMs: -Infinity, lastHeardMs: -Infinity, dumpActiveMs: -1, offset: Infinity, prevOffset: Infinity, offsetSince: -Infinity });
    }
  }

  get(address: string): PeerState | undefined { return this.peers.get(address); }

  /**
   * Should a dump be asked of p now? When something was lost, not more often than every askMs, and
   * not while p is still sending one (what the running dump reads from its tables later covers the
   * loss; a new ask follows its end if the loss was before the walk passed).
   */
  dueForDump(p: PeerState, now: number, askMs: number): boolean {
    if (!p.wantDump || now - p.lastDumpAskMs < askMs) return false;
    return p.dumpActiveMs < 0 || now - p.dumpActiveMs > 2 * askMs;
  }
  all(): PeerState[] { return [...this.peers.values()]; }

  /** Sequence bookkeeping of one authenticated datagram from a configured peer. */
  accept(p: PeerState, h: Header, now: number): PeerVerdict {
    const dump = (h.flags & FLAG_DUMP) !== 0;
    const cmp = p.known ? compareId(h.idHi, h.idLo, p.idHi, p.idLo) : 1;
    if (cmp < 0) return 'replay'; // an earlier run of that peer
    if (cmp > 0) {
      // First word from this peer, or it restarted: what we hold of its old run is not refreshed any
      // more; its new tables come with a dump (asked for unless this datagram is one).
      p.known = true; p.idHi = h.idHi; p.idLo = h.idLo;
      p.seq = -1; p.dumpSeq = -1;
      if (!dump) p.wantDump = true;
    }
    if (dump) {
      if (h.seq <= p.dumpSeq) return 'replay';
      if (p.dumpSeq >= 0 && h.seq !== p.dumpSeq + 1) p.wantDump = true;
      p.dumpSeq = h.seq;
      p.dumpActiveMs = (h.flags & FLAG_DUMP_END) !== 0 ? -1 : now;
    } else {
      if (p.seq >= 0 && h.seq <= p.seq) return 'replay';
      if (p.seq >= 0 && h.seq !== p.seq + 1) p.wantDump = true;
      p.seq = h.seq;
    }
    if ((h.flags & FLAG_LOSS) !== 0) p.wantDump = true;
    p.lastHeardMs = now;
    if (now - p.offsetSince > OFFSET_WINDOW_MS) { p.prevOffset = p.offset; p.offset = Infinity; p.offsetSince = now; }
    p.offset = Math.min(p.offset, now - h.time);
    return 'ok';
  }

  /** A time on p's clock (a datagram's send time) on ours, by the least-delay offset. */
  toLocal(p: PeerState, peerTime: number, now: number): number {
    const off = Math.min(p.offset, p.prevOffset);
    return Number.isFinite(off) ? Math.min(now, peerTime + off) : now;
  }
}
