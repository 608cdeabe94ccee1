/**
 * The NAT64 "global" keys of Jool (names, defaults, ranges as Jool documents them), with their
 * parsers. Values are kept normalised (booleans, integers, milliseconds, sorted plateaus, canonical
 * pool6 text); `global display` prints them back in Jool's notation so the output can be pasted into
 * an atomic-configuration file.
 */
import type { CoreGlobals } from '../dataplane/core-config';
import { Nat64Error, q } from './errors';
import { formatPrefix6, parsePool6 } from './inet';
import { formatJoolTime, parseJoolTime } from './timeout';

type Kind = 'bool' | 'int' | 'time' | 'plateaus' | 'pool6' | 'share';
export type GlobalValue = boolean | number | number[] | string;
export type GlobalValues = Readonly<Record<string, GlobalValue>>;

interface GlobalDef {
  kind: Kind;
  default: GlobalValue;
  min?: number;
  max?: number;
  /** Why the minimum exists (printed with E_TIMEOUT_TOO_SMALL). */
  minReason?: string;
}

const MIN = 60_000;
/** Largest absolute subscriber-port-limit: every port of 256 addresses. */
const MAX_SUBSCRIBER_PORTS = 256 * 65536;
const U32 = 0xffffffff;

export const GLOBALS: Readonly<Record<string, GlobalDef>> = {
  'manually-enabled': { kind: 'bool', default: true },
  'pool6': { kind: 'pool6', default: '' },
  // Not a Jool key: opt-in refusal of what RFC 6052 §3.1 forbids with the well-known prefix.
  'pool6-strict': { kind: 'bool', default: false },
  'lowest-ipv6-mtu': { kind: 'int', default: 1280, min: 1280, max: 65535 },
  'logging-debug': { kind: 'bool', default: false },
  'address-dependent-filtering': { kind: 'bool', default: false },
  'drop-icmpv6-info': { kind: 'bool', default: false },
  'drop-externally-initiated-tcp': { kind: 'bool', default: false },
  // Not a Jool key: RFC 7915 §4.4/§5.4 "administratively prohibited" errors for policy discards (default off: policy drops are silent).
  'icmp-admin-prohibited': { kind: 'bool', default: false },
  'udp-timeout': { kind: 'time', default: 5 * MIN, min: 2 * MIN, minReason: 'RFC 6146 §3.5.1 requires at least 2 minutes' },
  'tcp-est-timeout': { kind: 'time', default: 120 * MIN, min: 120 * MIN, minReason: 'RFC 6146 §3.5.2.2 requires at least 2 hours' },
  'tcp-trans-timeout': { kind: 'time', default: 4 * MIN, min: 4 * MIN, minReason: 'RFC 6146 §3.5.2.2 requires at least 4 minutes' },
  'icmp-timeout': { kind: 'time', default: 1 * MIN, min: 1, minReason: 'a session must live for some time' },
  'maximum-simultaneous-opens': { kind: 'int', default: 10, min: 0, max: U32 },
  'source-icmpv6-errors-better': { kind: 'bool', default: true },
  'logging-bib': { kind: 'bool', default: false },
  'logging-session': { kind: 'bool', default: false },
  'zeroize-traffic-class': { kind: 'bool', default: false },
  'override-tos': { kind: 'bool', default: false },
  'tos': { kind: 'int', default: 0, min: 0, max: 255 },
  'mtu-plateaus': { kind: 'plateaus', default: [65535, 32000, 17914, 8166, 4352, 2002, 1492, 1006, 508, 296, 68] },
  'f-args': { kind: 'int', default: 11, min: 0, max: 15 },
  'handle-rst-during-fin-rcv': { kind: 'bool', default: false },
  // Not Jool keys (Jool has no per-subscriber limits): RFC 6888 REQ-4 / REQ-5, docs/cli.md "Per-subscriber limits".
  'subscriber-prefix-length': { kind: 'int', default: 128, min: 1, max: 128 },
  'subscriber-port-limit': { kind: 'share', default: '25%', min: 0, max: MAX_SUBSCRIBER_PORTS },
  'subscriber-mapping-rate': { kind: 'int', default: 0, min: 0, max: 1_000_000 },
  // Session synchronisation (Jool's joold): docs/session-sync.md; the link itself is the file's "sync" section.
  'ss-enabled': { kind: 'bool', default: false },
  'ss-flush-asap': { kind: 'bool', default: true },
  'ss-flush-deadline': { kind: 'int', default: 2000, min: 0, max: U32 },
  'ss-capacity': { kind: 'int', default: 512, min: 0, max: U32 },
  'ss-max-payload': { kind: 'int', default: 1452, min: 0, max: U32 },
  'ss-max-sessions-per-packet': { kind: 'int', default: 27, min: 1, max: U32 },
};

/** Jool keys that only mean something to SIIT: refused with a message that says so. */
const SIIT_ONLY = new Set([
  'amend-udp-checksum-zero', 'randomize-rfc6791-addresses', 'eam-hairpin-mode',
  'rfc6791v4-prefix', 'rfc6791v6-prefix',
]);

/** Jool's plateau list is bounded (it lives in a fixed array in the kernel). */
const MAX_PLATEAUS = 64;

export function globalKeys(): string[] { return Object.keys(GLOBALS); }

function lookup(key: string, field: string): GlobalDef {
  const def = Object.prototype.hasOwnProperty.call(GLOBALS, key) ? GLOBALS[key] : undefined;
  if (def) return def;
  if (SIIT_ONLY.has(key)) throw new Nat64Error('E_UNKNOWN_GLOBAL', `${field}: ${q(key)} is an SIIT-only global; a NAT64 instance has no such key`);
  throw new Nat64Error('E_UNKNOWN_GLOBAL', `${field}: ${q(key)} is not a NAT64 global (see 'nat64 global display')`);
}

const TRUE_WORDS = ['true', '1', 'yes', 'on'];
const FALSE_WORDS = ['false', '0', 'no', 'off'];

function parseBool(raw: unknown, field: string): boolean {
  if (typeof raw === 'boolean') return raw;
  const s = String(raw).trim().toLowerCase();
  if ((typeof raw === 'string' || typeof raw === 'number') && TRUE_WORDS.includes(s)) return true;
  if ((typeof raw === 'string' || typeof raw === 'number') && FALSE_WORDS.includes(s)) return false;
  throw new Nat64Error('E_BAD_VALUE', `${field}: ${q(raw)} is not a boolean (true/false, yes/no, on/off, 1/0)`);
}

function parseInt32(raw: unknown, def: GlobalDef, field: string): number {
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\s*[0-9]+\s*$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(n)) throw new Nat64Error('E_BAD_VALUE', `${field}: ${q(raw)} is not an integer`);
  if (n < (def.min ?? 0) || n > (def.max ?? U32)) {
    throw new Nat64Error('E_BAD_VALUE', `${field}: ${n} is out of range (${def.min ?? 0}-${def.max ?? U32})`);
  }
  return n;
}

function parsePlateaus(raw: unknown, field: string): number[] {
  const items = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',').map((s) => s.trim()) : null;
  if (!items || items.length === 0) {
    throw new Nat64Error('E_BAD_VALUE', `${field}: ${q(raw)} is not a list of MTUs (such as "1500, 1280")`);
  }
  if (items.length > MAX_PLATEAUS) throw new Nat64Error('E_BAD_VALUE', `${field}: at most ${MAX_PLATEAUS} plateaus are allowed`);
  const values = items.map((v, i) => parseInt32(v, { kind: 'int', default: 0, min: 1, max: 65535 }, `${field}[${i}]`));
  // Jool sorts them (largest first) and drops duplicates; the translator looks for the first smaller one.
  return [...new Set(values)].sort((a, b) => b - a);
}

/**
 * A limit given either as a number (absolute) or as "N%" (a share, 1-100 %, of something the key
 * documents: for subscriber-port-limit, of one pool4 address's ports). Normalised: a number, or
 * the canonical "N%" text.
 */
function parseShare(raw: unknown, def: GlobalDef, field: string): number | string {
  const m = typeof raw === 'string' ? /^\s*([0-9]+)\s*%\s*$/.exec(raw) : null;
  if (m) {
    const pct = Number(m[1]);
    if (pct < 1 || pct > 100) throw new Nat64Error('E_BAD_VALUE', `${field}: ${q(raw)} is out of range (a share is 1%-100%; 0 turns the limit off)`);
    return `${pct}%`;
  }
  try {
    return parseInt32(raw, def, field);
  } catch (e) {
    if (e instanceof Nat64Error && /not an integer/.test(e.message)) {
      throw new Nat64Error('E_BAD_VALUE', `${field}: ${q(raw)} is neither a number of ports nor a share such as "25%"`);
    }
    throw e;
  }
}

/** Parse one value for `key`; `field` is where it came from (JSON path or "global update <key>"). */
export function parseGlobal(key: string, raw: unknown, field: string): GlobalValue {
  const def = lookup(key, field);
  switch (def.kind) {
    case 'bool': return parseBool(raw, field);
    case 'int': return parseInt32(raw, def, field);
    case 'plateaus': return parsePlateaus(raw, field);
    case 'share': return parseShare(raw, def, field);
    case 'pool6': {
      if (typeof raw !== 'string') throw new Nat64Error('E_BAD_PREFIX', `${field}: ${q(raw)} is not an IPv6 prefix`);
      return formatPrefix6(parsePool6(raw, field));
    }
    case 'time': {
      const ms = parseJoolTime(raw, field);
      if (ms < (def.min ?? 0)) {
        throw new Nat64Error('E_TIMEOUT_TOO_SMALL', `${field}: ${q(raw)} is too small; ${def.minReason} (${formatJoolTime(def.min ?? 0)})`);
      }
      return ms;
    }
  }
}

export function defaultGlobals(pool6: string): GlobalValues {
  const out: Record<string, GlobalValue> = {};
  for (const [k, d] of Object.entries(GLOBALS)) out[k] = Array.isArray(d.default) ? [...d.default] : d.default;
  out['pool6'] = pool6;
  return out;
}

/**
 * The "global" object of an atomic-configuration file: omitted keys take their defaults (not their
 * old values: Jool's atomic semantics), "comment" keys are ignored, pool6 is mandatory for NAT64.
 */
export function parseGlobalsObject(obj: unknown, field: string, pool6Fallback?: string): GlobalValues {
  if (obj === undefined) obj = {};
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
    throw new Nat64Error('E_CONFIG_FIELD', `${field}: must be an object of NAT64 global keys`);
  }
  const out: Record<string, GlobalValue> = { ...defaultGlobals('') };
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'comment') continue;
    out[k] = parseGlobal(k, v, `${field}.${k}`);
  }
  if (out['pool6'] === '') {
    if (!pool6Fallback) throw new Nat64Error('E_CONFIG_FIELD', `${field}.pool6: missing; a NAT64 instance needs pool6 (such as 64:ff9b::/96)`);
    out['pool6'] = pool6Fallback;
  }
  return out;
}

/** Jool notation: times as "H:MM:SS", everything else as is. Key order is GLOBALS order. */
export function displayGlobals(values: GlobalValues): Record<string, boolean | number | number[] | string> {
  const out: Record<string, boolean | number | number[] | string> = {};
  for (const [k, d] of Object.entries(GLOBALS)) {
    const v = values[k];
    out[k] = d.kind === 'time' ? formatJoolTime(v as number) : Array.isArray(v) ? [...v] : v;
  }
  return out;
}

function subscriberLimits(v: GlobalValue): { subscriberPortLimit: number; subscriberPortShare: number } {
  return typeof v === 'string' ? { subscriberPortLimit: 0, subscriberPortShare: parseInt(v, 10) } : { subscriberPortLimit: v as number, subscriberPortShare: 0 };
}

export function toCoreGlobals(values: GlobalValues): CoreGlobals {
  const pool6 = parsePool6(values['pool6'] as string);
  const b = (k: string) => values[k] as boolean;
  const n = (k: string) => values[k] as number;
  return {
    pool6: pool6.addr,
    pool6Len: pool6.len,
    pool6Strict: b('pool6-strict'),
    manuallyEnabled: b('manually-enabled'),
    zeroizeTrafficClass: b('zeroize-traffic-class'),
    overrideTos: b('override-tos'),
    tos: n('tos'),
    lowestIpv6Mtu: n('lowest-ipv6-mtu'),
    mtuPlateaus: [...(values['mtu-plateaus'] as number[])],
    addressDependentFiltering: b('address-dependent-filtering'),
    dropIcmpv6Info: b('drop-icmpv6-info'),
    dropExternallyInitiatedTcp: b('drop-externally-initiated-tcp'),
    handleRstDuringFinRcv: b('handle-rst-during-fin-rcv'),
    icmpAdminProhibited: b('icmp-admin-prohibited'),
    maximumSimultaneousOpens: n('maximum-simultaneous-opens'),
    sourceIcmpv6ErrorsBetter: b('source-icmpv6-errors-better'),
    udpTimeout: n('udp-timeout'),
    icmpTimeout: n('icmp-timeout'),
    tcpEstTimeout: n('tcp-est-timeout'),
    tcpTransTimeout: n('tcp-trans-timeout'),
    fArgs: n('f-args'),
    ...subscriberLimits(values['subscriber-port-limit']),
    subscriberPrefixLength: n('subscriber-prefix-length'),
    subscriberMappingRate: n('subscriber-mapping-rate'),
    logging: { bib: b('logging-bib'), session: b('logging-session'), debug: b('logging-debug') },
    ssEnabled: b('ss-enabled'),
    ss: {
      flushAsap: b('ss-flush-asap'), flushDeadlineMs: n('ss-flush-deadline'), capacity: n('ss-capacity'),
      maxPayload: n('ss-max-payload'), maxSessionsPerPacket: n('ss-max-sessions-per-packet'),
    },
  };
}
