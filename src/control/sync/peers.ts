/**
 * What a receiver knows of each configured peer (docs/session-sync.md "Loss and replay"): the
 * peer's current sender id (its start), the last sequence number of its main stream and of the dump
 * it is sending us. Decides, per datagram that passed the source and MAC checks, whether it is
 * new, a replay, or shows a gap (then the service asks that peer for a dump).
 */
import { compareId, FLAG_DUMP, FLAG_LOSS, type Header } from './wire';

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
}

export type PeerVerdict = 'ok' | 'replay';

export class PeerTable {
  private readonly peers = new Map<string, PeerState>();

  constructor(addresses: readonly string[]) {
    for (const a of addresses) {
      this.peers.set(a, { address: a, idHi: 0, idLo: 0, known: false, seq: -1, dumpSeq: -1, wantDump: false, lastDumpAskMs: -Infinity, lastHeardMs: -Infinity });
    }
  }

  get(address: string): PeerState | undefined { return this.peers.get(address); }
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
    } else {
      if (p.seq >= 0 && h.seq <= p.seq) return 'replay';
      if (p.seq >= 0 && h.seq !== p.seq + 1) p.wantDump = true;
      p.seq = h.seq;
    }
    if ((h.flags & FLAG_LOSS) !== 0) p.wantDump = true;
    p.lastHeardMs = now;
    return 'ok';
  }
}
