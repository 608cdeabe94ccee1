/**
 * The daemon file's "sync" section (docs/session-sync.md "Configuration"): where session-sync
 * datagrams go and whom they are accepted from. joold's names where joold has the setting
 * ("multicast address", "multicast port", "in interface", "out interface", "ttl"); ours otherwise.
 */
import { readFileSync } from 'node:fs';
import { Nat64Error, q } from '../errors';
import { checkKeys, expectArray, expectObject } from '../instance';
import { formatIPv4, formatIPv6, tryParseIPv4, tryParseIPv6 } from '../inet';

export interface SyncPeer { address: string; port: number }

export interface SyncConfig {
  family: 4 | 6;
  /** Local address the socket binds (default: any). */
  address?: string;
  /** UDP port bound, and sent to unless a peer names another. */
  port: number;
  multicastAddress?: string;
  inInterface?: string;
  outInterface?: string;
  /** Multicast hops (joold's "ttl"). */
  ttl: number;
  /** Accepted sources; the unicast destinations when there is no multicast address. */
  peers: SyncPeer[];
  /** Shared key for HMAC-SHA256 (from "key" or "keyFile"); none: no MAC. */
  key?: Buffer;
  /** Period of the refresh of sessions in use (ms); 0: never. */
  refreshMs: number;
}

export const SYNC_DEFAULTS = { port: 6400, ttl: 1, refreshMs: 20_000 } as const;
const KEYS = ['address', 'port', 'multicast address', 'multicast port', 'in interface', 'out interface', 'ttl', 'peers',
  'key', 'keyFile', 'refreshMs', 'comment'];
const MIN_KEY = 16;

/** Canonical text of an address (how the socket reports a source), and its family; null if not one. */
export function canonicalAddress(text: string): { text: string; family: 4 | 6 } | null {
  const v4 = tryParseIPv4(text);
  if (v4 !== null) return { text: formatIPv4(v4), family: 4 };
  const v6 = tryParseIPv6(text);
  if (v6 === null) return null;
  // An IPv4-mapped source (dual-stack socket) is the IPv4 peer.
  if (v6.subarray(0, 10).every((b) => b === 0) && v6[10] === 0xff && v6[11] === 0xff) {
    return { text: `${v6[12]}.${v6[13]}.${v6[14]}.${v6[15]}`, family: 4 };
  }
  return { text: formatIPv6(v6), family: 6 };
}

function port(v: unknown, f: string): number {
  const n = typeof v === 'string' && /^[0-9]+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 65535) throw new Nat64Error('E_CONFIG_FIELD', `${f}: ${q(v)} must be a UDP port (1-65535)`);
  return n;
}

function addr(v: unknown, f: string): { text: string; family: 4 | 6 } {
  const a = typeof v === 'string' ? canonicalAddress(v) : null;
  if (a === null) throw new Nat64Error('E_CONFIG_FIELD', `${f}: ${q(v)} is not an IPv4 or IPv6 address`);
  return a;
}

function iface(v: unknown, f: string): string {
  if (typeof v !== 'string' || !/^[A-Za-z0-9_.@-]{1,15}$/.test(v)) throw new Nat64Error('E_CONFIG_FIELD', `${f}: ${q(v)} is not an interface name`);
  return v;
}

/** "192.0.2.2", "192.0.2.2#6401", "fd00::2", "[fd00::2]:6401", "fd00::2#6401". */
function parsePeer(v: unknown, dflt: number, f: string): SyncPeer & { family: 4 | 6 } {
  if (typeof v !== 'string') throw new Nat64Error('E_CONFIG_FIELD', `${f}: ${q(v)} must be an address, optionally with #port`);
  const m = /^\[([^\]]+)\](?::|#)([0-9]+)$/.exec(v) ?? /^([^#]+)#([0-9]+)$/.exec(v) ?? /^([0-9.]+):([0-9]+)$/.exec(v);
  const a = addr(m ? m[1] : v, f);
  return { address: a.text, family: a.family, port: m ? port(m[2], f) : dflt };
}

export function validateSync(raw: unknown): SyncConfig {
  const f = 'sync';
  const s = expectObject(raw, f);
  checkKeys(s, KEYS, f);
  if (s.port !== undefined && s['multicast port'] !== undefined && port(s.port, `${f}.port`) !== port(s['multicast port'], `${f}["multicast port"]`)) {
    throw new Nat64Error('E_CONFIG_FIELD', `${f}: "port" and "multicast port" name the same setting and differ`);
  }
  const p = s.port !== undefined ? port(s.port, `${f}.port`) : s['multicast port'] !== undefined ? port(s['multicast port'], `${f}["multicast port"]`) : SYNC_DEFAULTS.port;
  const families = new Set<4 | 6>();
  const out: SyncConfig = { family: 4, port: p, ttl: SYNC_DEFAULTS.ttl, peers: [], refreshMs: SYNC_DEFAULTS.refreshMs };
  if (s.address !== undefined) { const a = addr(s.address, `${f}.address`); out.address = a.text; families.add(a.family); }
  if (s['multicast address'] !== undefined) {
    const a = addr(s['multicast address'], `${f}["multicast address"]`);
    const isMc = a.family === 4 ? (tryParseIPv4(a.text)! >>> 28) === 0xe : a.text.startsWith('ff');
    if (!isMc) throw new Nat64Error('E_CONFIG_FIELD', `${f}["multicast address"]: ${q(a.text)} is not a multicast address`);
    out.multicastAddress = a.text; families.add(a.family);
  }
  if (out.multicastAddress && out.address) {
    // Linux delivers group traffic to sockets bound to the wildcard (or the group), not to a unicast address.
    throw new Nat64Error('E_CONFIG_FIELD', `${f}.address: leave it out with a multicast address (the socket binds the wildcard address; "in interface" picks the link)`);
  }
  if (s['in interface'] !== undefined) out.inInterface = iface(s['in interface'], `${f}["in interface"]`);
  if (s['out interface'] !== undefined) out.outInterface = iface(s['out interface'], `${f}["out interface"]`);
  if (s.ttl !== undefined) {
    if (typeof s.ttl !== 'number' || !Number.isInteger(s.ttl) || s.ttl < 1 || s.ttl > 255) throw new Nat64Error('E_CONFIG_FIELD', `${f}.ttl: ${q(s.ttl)} must be an integer from 1 to 255`);
    out.ttl = s.ttl;
  }
  const peers = expectArray(s.peers ?? [], `${f}.peers`);
  if (peers.length === 0) throw new Nat64Error('E_CONFIG_FIELD', `${f}.peers: list at least one peer (sync datagrams are accepted only from them)`);
  peers.forEach((v, i) => {
    const pe = parsePeer(v, p, `${f}.peers[${i}]`);
    families.add(pe.family);
    if (out.peers.some((o) => o.address === pe.address)) throw new Nat64Error('E_CONFIG_FIELD', `${f}.peers[${i}]: ${q(pe.address)} is listed twice`);
    out.peers.push({ address: pe.address, port: pe.port });
  });
  if (families.size > 1) throw new Nat64Error('E_CONFIG_FIELD', `${f}: mixes IPv4 and IPv6 addresses; the sync link uses one family`);
  out.family = [...families][0];
  if (s.key !== undefined && s.keyFile !== undefined) throw new Nat64Error('E_CONFIG_FIELD', `${f}: give "key" or "keyFile", not both`);
  let key: string | undefined;
  if (s.key !== undefined) {
    if (typeof s.key !== 'string') throw new Nat64Error('E_CONFIG_FIELD', `${f}.key: must be a string`);
    key = s.key;
  } else if (s.keyFile !== undefined) {
    if (typeof s.keyFile !== 'string') throw new Nat64Error('E_CONFIG_FIELD', `${f}.keyFile: must be a path`);
    try { key = readFileSync(s.keyFile, 'utf8').trim(); } catch (e) {
      throw new Nat64Error('E_CONFIG_FIELD', `${f}.keyFile: cannot read ${q(s.keyFile)} (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
    }
  }
  if (key !== undefined) {
    if (key.length < MIN_KEY) throw new Nat64Error('E_CONFIG_FIELD', `${f}.key: at least ${MIN_KEY} characters (a guessable key is no authentication)`);
    out.key = Buffer.from(key, 'utf8');
  }
  if (s.refreshMs !== undefined) {
    if (typeof s.refreshMs !== 'number' || !Number.isInteger(s.refreshMs) || s.refreshMs < 0 || s.refreshMs > 3_600_000) {
      throw new Nat64Error('E_CONFIG_FIELD', `${f}.refreshMs: ${q(s.refreshMs)} must be an integer from 0 to 3600000`);
    }
    out.refreshMs = s.refreshMs;
  }
  return out;
}
