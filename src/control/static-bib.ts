/**
 * Static BIB entries (RFC 6146 §3.5.1: "BIB entries ... may also be created statically"), kept by
 * the control plane and handed to every shard in CoreConfig.bib.
 *
 * Decision (as Jool): the IPv4 transport address of a static entry must belong to pool4 for that
 * protocol. An empty pool4 (the port's own addresses, ports 61001-65535) does not count, because
 * that default exists for dynamic mappings only and changes with the port's addresses.
 */
import { Nat64Error } from './errors';
import { bytesEqual, formatIPv4, formatIPv6, formatTransport4, formatTransport6 } from './inet';
import type { Pool4Entry, StaticBib } from './model';
import { pool4Covers } from './pool4';

export function describeBib(b: StaticBib): string {
  return `${formatTransport6(b.ipv6, b.ipv6Port)} - ${formatTransport4(b.ipv4, b.ipv4Port)} (${b.protocol})`;
}

/** Adds `entry` after the checks Jool makes; `taken` lists dynamic mappings the data plane holds. */
export function bibAdd(bib: readonly StaticBib[], pool4: readonly Pool4Entry[], entry: StaticBib, field: string,
  taken: ReadonlyArray<{ protocol: string; ipv6: string; ipv6Port: number; ipv4: string; ipv4Port: number }> = []): StaticBib[] {
  if (!pool4Covers(pool4, entry.protocol, entry.ipv4, entry.ipv4Port)) {
    throw new Nat64Error('E_BIB_NOT_IN_POOL4', `${field}: ${formatTransport4(entry.ipv4, entry.ipv4Port)} is not in ${entry.protocol} pool4; add it with 'pool4 add' first`);
  }
  for (const b of bib) {
    if (b.protocol !== entry.protocol) continue;
    if (b.ipv4 === entry.ipv4 && b.ipv4Port === entry.ipv4Port) {
      throw new Nat64Error('E_BIB_EXISTS', `${field}: ${formatTransport4(entry.ipv4, entry.ipv4Port)} is already mapped (${describeBib(b)})`);
    }
    if (bytesEqual(b.ipv6, entry.ipv6) && b.ipv6Port === entry.ipv6Port) {
      throw new Nat64Error('E_BIB_EXISTS', `${field}: ${formatTransport6(entry.ipv6, entry.ipv6Port)} is already mapped (${describeBib(b)})`);
    }
  }
  const v6 = formatIPv6(entry.ipv6), v4 = formatIPv4(entry.ipv4);
  for (const t of taken) {
    if (t.protocol !== entry.protocol) continue;
    if ((t.ipv4 === v4 && t.ipv4Port === entry.ipv4Port) || (t.ipv6 === v6 && t.ipv6Port === entry.ipv6Port)) {
      throw new Nat64Error('E_BIB_EXISTS', `${field}: a dynamic BIB entry already uses it (${t.ipv6}#${t.ipv6Port} - ${t.ipv4}#${t.ipv4Port} ${t.protocol})`);
    }
  }
  return [...bib, entry];
}

/** Removes the static entry matching every side given (Jool lets either side identify it). */
export function bibRemove(bib: readonly StaticBib[], match: { protocol: StaticBib['protocol']; ipv6?: { addr: Uint8Array; port: number }; ipv4?: { addr: number; port: number } }): StaticBib[] {
  const hit = (b: StaticBib) => b.protocol === match.protocol
    && (!match.ipv6 || (bytesEqual(b.ipv6, match.ipv6.addr) && b.ipv6Port === match.ipv6.port))
    && (!match.ipv4 || (b.ipv4 === match.ipv4.addr && b.ipv4Port === match.ipv4.port));
  const out = bib.filter((b) => !hit(b));
  if (out.length === bib.length) {
    const what = [match.ipv6 && formatTransport6(match.ipv6.addr, match.ipv6.port), match.ipv4 && formatTransport4(match.ipv4.addr, match.ipv4.port)]
      .filter(Boolean).join(' - ');
    throw new Nat64Error('E_BIB_NOT_FOUND', `bib remove: no static ${match.protocol} BIB entry ${what} (dynamic entries expire with their sessions)`);
  }
  return out;
}
