/**
 * Control-plane counts of a shard's tables per protocol (for metrics): a scan of the records'
 * flag words only, no rows, no strings. Like read.ts it runs while the shard translates; a record
 * changing under it can make a count off by one for one scrape, never throw.
 */
import type { Protocol } from '../manager-api';
import { BF_IN_USE, B_FLAGS, B_STRIDE, S_BIB, S_STRIDE } from './layout';
import type { ShardTableBuffers } from './shard-tables';

export interface TableCounts { bib: Record<Protocol, number>; sessions: Record<Protocol, number> }

const slot = (proto: number): Protocol | null => proto === 6 ? 'TCP' : proto === 17 ? 'UDP' : proto === 1 ? 'ICMP' : null;

export function countTables(b: ShardTableBuffers): TableCounts {
  const out: TableCounts = { bib: { TCP: 0, UDP: 0, ICMP: 0 }, sessions: { TCP: 0, UDP: 0, ICMP: 0 } };
  const bib = new Int32Array(b.bib), ses = new Int32Array(b.session);
  for (let i = 0; i < b.capacity; i++) {
    const f = bib[i * B_STRIDE + B_FLAGS];
    const p = (f & BF_IN_USE) !== 0 ? slot(f & 0xff) : null;
    if (p) out.bib[p]++;
  }
  for (let s = 0; s < b.capacity; s++) {
    const owner = ses[s * S_STRIDE + S_BIB];
    if (owner < 0 || owner >= b.capacity) continue;
    const f = bib[owner * B_STRIDE + B_FLAGS];
    const p = (f & BF_IN_USE) !== 0 ? slot(f & 0xff) : null;
    if (p) out.sessions[p]++;
  }
  return out;
}
