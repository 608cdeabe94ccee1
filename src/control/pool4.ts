/**
 * pool4 as Jool manages it: entries are (mark, protocol, address, port range); adding merges with
 * what overlaps or touches, removing subtracts (and may split a range). Pure functions over
 * immutable arrays; the caller decides whether to commit the result.
 */
import { Nat64Error, q } from './errors';
import { formatIPv4, formatPrefix4, prefix4Addresses, type Prefix4 } from './inet';
import type { MaxIterations, Pool4Entry, Protocol, StaticBib } from './model';

/** Jool asks for --force above this many addresses in one add (a typo in the length is expensive). */
export const POOL4_FORCE_THRESHOLD = 256;
/** Refused even with --force: every address becomes a pool4 range in every shard. */
export const POOL4_HARD_LIMIT = 65536;

export interface Pool4Add {
  mark: number;
  protocol: Protocol;
  prefix: Prefix4;
  portMin: number;
  portMax: number;
  /** undefined: keep the set's current value (or auto for a new set). */
  maxIterations?: MaxIterations;
  /** A standby entry (docs/ha.md): translated and synced into, never allocated from. */
  standby?: boolean;
}

export function checkPool4Size(prefix: Prefix4, force: boolean, field: string): void {
  const count = 2 ** (32 - prefix.len);
  if (count > POOL4_HARD_LIMIT) {
    throw new Nat64Error('E_POOL4_TOO_LARGE', `${field}: ${formatPrefix4(prefix)} has ${count} addresses; at most ${POOL4_HARD_LIMIT} (a /16) can be added at once`);
  }
  if (count > POOL4_FORCE_THRESHOLD && !force) {
    throw new Nat64Error('E_POOL4_TOO_LARGE', `${field}: ${formatPrefix4(prefix)} has ${count} addresses; add --force if you really mean that many`);
  }
}

const sameSlot = (e: Pool4Entry, mark: number, protocol: Protocol, address: number) =>
  e.mark === mark && e.protocol === protocol && e.address === address;

export function pool4Add(entries: readonly Pool4Entry[], add: Pool4Add): Pool4Entry[] {
  const setIters = entries.find((e) => e.mark === add.mark && e.protocol === add.protocol)?.maxIterations;
  const maxIterations = add.maxIterations ?? setIters ?? 'auto';
  const out: Pool4Entry[] = entries.map((e) =>
    // max-iterations belongs to the whole set (mark + protocol), as in Jool.
    e.mark === add.mark && e.protocol === add.protocol ? { ...e, maxIterations } : e);
  const standby = add.standby === true;
  for (const address of prefix4Addresses(add.prefix)) {
    let min = add.portMin, max = add.portMax;
    for (let i = out.length - 1; i >= 0; i--) {
      const e = out[i];
      if (!sameSlot(e, add.mark, add.protocol, address)) continue;
      if (e.portMax + 1 < min || e.portMin > max + 1) continue; // neither overlaps nor touches
      if ((e.standby === true) !== standby) {
        // A port is either ours to give or a peer's we back up; touching ranges stay apart.
        if (e.portMax < min || e.portMin > max) continue;
        throw new Nat64Error('E_POOL4_STANDBY_CONFLICT', `pool4 add: ${add.protocol} ${formatIPv4(address)} ${add.portMin}-${add.portMax} overlaps ${standby ? 'an allocating' : 'a standby'} entry (${e.portMin}-${e.portMax}); remove it first`);
      }
      min = Math.min(min, e.portMin);
      max = Math.max(max, e.portMax);
      out.splice(i, 1);
    }
    out.push({ mark: add.mark, protocol: add.protocol, address, portMin: min, portMax: max, maxIterations, ...(standby ? { standby: true as const } : {}) });
  }
  return sortPool4(out);
}

export interface Pool4Remove {
  /** undefined: every mark. */
  mark?: number;
  /** undefined: every protocol. */
  protocol?: Protocol;
  prefix: Prefix4;
  portMin: number;
  portMax: number;
}

export function pool4Matches(r: Pool4Remove, protocol: Protocol, mark: number, address: number): boolean {
  if (r.mark !== undefined && r.mark !== mark) return false;
  if (r.protocol !== undefined && r.protocol !== protocol) return false;
  const size = 2 ** (32 - r.prefix.len);
  return address >= r.prefix.addr && address < r.prefix.addr + size;
}

export function pool4Remove(entries: readonly Pool4Entry[], r: Pool4Remove): Pool4Entry[] {
  let touched = false;
  const out: Pool4Entry[] = [];
  for (const e of entries) {
    if (!pool4Matches(r, e.protocol, e.mark, e.address) || e.portMax < r.portMin || e.portMin > r.portMax) {
      out.push(e);
      continue;
    }
    touched = true;
    if (e.portMin < r.portMin) out.push({ ...e, portMax: r.portMin - 1 });
    if (e.portMax > r.portMax) out.push({ ...e, portMin: r.portMax + 1 });
  }
  if (!touched) {
    throw new Nat64Error('E_POOL4_NOT_FOUND', `pool4 remove: no ${r.protocol ?? ''}${r.protocol ? ' ' : ''}entry matches ${formatPrefix4(r.prefix)} ${r.portMin}-${r.portMax}${r.mark === undefined ? '' : ` mark ${r.mark}`}`);
  }
  return sortPool4(out);
}

/** Static BIB entries whose IPv4 side the removal takes out of pool4 (Jool cascades unless --quick). */
export function bibOrphanedBy(bib: readonly StaticBib[], r: Pool4Remove): StaticBib[] {
  return bib.filter((b) => (r.protocol === undefined || r.protocol === b.protocol)
    && pool4Matches({ ...r, mark: undefined }, b.protocol, 0, b.ipv4)
    && b.ipv4Port >= r.portMin && b.ipv4Port <= r.portMax);
}

export function pool4Covers(entries: readonly Pool4Entry[], protocol: Protocol, address: number, port: number): boolean {
  // A standby range is a peer's: static BIB entries belong in this translator's own ranges.
  return entries.some((e) => e.protocol === protocol && e.address === address && port >= e.portMin && port <= e.portMax
    && e.standby !== true);
}

function sortPool4(entries: Pool4Entry[]): Pool4Entry[] {
  const order = { TCP: 0, UDP: 1, ICMP: 2 };
  return entries.sort((a, b) => order[a.protocol] - order[b.protocol] || a.mark - b.mark
    || a.address - b.address || a.portMin - b.portMin);
}

/** Jool's automatic max-iterations: transport addresses / 128, clamped to 1024..8192. */
export function autoMaxIterations(entries: readonly Pool4Entry[], mark: number, protocol: Protocol): number {
  const total = entries.filter((e) => e.mark === mark && e.protocol === protocol && e.standby !== true)
    .reduce((n, e) => n + e.portMax - e.portMin + 1, 0);
  return Math.min(8192, Math.max(1024, Math.floor(total / 128)));
}

export interface Pool4Row {
  mark: number; protocol: Protocol; maxIterations: number | null; maxIterationsMode: 'auto' | 'fixed' | 'infinity';
  address: string; portMin: number; portMax: number;
  /** Translated and synced into, never allocated from (docs/ha.md). */
  standby: boolean;
}

/** `pool4 display` rows; maxIterations is null for "infinity". */
export function pool4Rows(entries: readonly Pool4Entry[], protocol?: Protocol): Pool4Row[] {
  return entries.filter((e) => !protocol || e.protocol === protocol).map((e) => ({
    mark: e.mark,
    protocol: e.protocol,
    maxIterations: e.maxIterations === 'infinity' ? null
      : e.maxIterations === 'auto' ? autoMaxIterations(entries, e.mark, e.protocol) : e.maxIterations,
    maxIterationsMode: e.maxIterations === 'infinity' ? 'infinity' : e.maxIterations === 'auto' ? 'auto' : 'fixed',
    address: formatIPv4(e.address),
    portMin: e.portMin,
    portMax: e.portMax,
    standby: e.standby === true,
  }));
}

export function parseMaxIterations(value: unknown, field: string): MaxIterations {
  if (value === 'auto' || value === 'infinity') return value;
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^[0-9]+$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > 0xffffffff) {
    throw new Nat64Error('E_BAD_VALUE', `${field}: ${q(value)} is not auto, infinity or a positive integer`);
  }
  return n;
}

export function parseMark(value: unknown, field: string): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^[0-9]+$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) {
    throw new Nat64Error('E_BAD_VALUE', `${field}: ${q(value)} is not a mark (0-4294967295)`);
  }
  return n;
}
