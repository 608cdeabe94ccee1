/**
 * The daemon's configuration file (DESIGN.md "Configuration file"): parse, validate, fill defaults.
 * Every error names the JSON path of the field ("dataplane.ports[1].addresses[0]: ...") so the
 * operator can find it in a file that cannot carry comments.
 */
import { readFileSync } from 'node:fs';
import { DEFAULT_MBUF_DATA_ROOM, type ControlConfig, type DaemonConfig, type DataplaneConfig, type InstanceFileConfig, type NeighborConfig, type PortConfig, type RouteConfig, RX_CHECKSUM_MODES, TX_CHECKSUM_MODES } from './config-types';
import { Nat64Error, q } from './errors';
import { checkKeys, expectArray, expectObject, parseInstance, requireField, toInstanceFile } from './instance';
import { parseListen } from './metrics';
import { validateSync } from './sync/config';
import { parseInterfaceAddress, parseIPv4, parseIPv6, parseMac, parsePrefix4, parsePrefix6, tryParseIPv4 } from './inet';

export const DEFAULT_EAL = ['--no-pci', '--in-memory', '--iova-mode=va', '--no-telemetry', '-l', '0'];
/** icmpErrors*: per shard, like Linux's icmp_msgs_per_sec / icmp_msgs_burst (RFC 4443 §2.4(f)). */
export const DEFAULTS = {
  shards: 1, mtu: 1500, mbufs: 16383, sessionsPerShard: 65536, icmpErrorsPerSecond: 1000, icmpErrorBurst: 50,
  reassemblyDatagrams: 256, reassemblyTimeoutMs: 2000,
} as const;
const MAX_SHARDS = 64;

export function loadConfig(path: string): DaemonConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Nat64Error('E_CONFIG_READ', `${path}: cannot read the configuration file (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  return parseConfigText(text, path);
}

export function parseConfigText(text: string, source = 'config'): DaemonConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Nat64Error('E_CONFIG_SYNTAX', `${source}: not valid JSON (${(e as Error).message})`);
  }
  return validateConfig(raw);
}

export function validateConfig(raw: unknown): DaemonConfig {
  const top = expectObject(raw, '(top level)');
  for (const k of Object.keys(top)) {
    if (!['dataplane', 'instances', 'control', 'sync', 'comment'].includes(k)) {
      throw new Nat64Error('E_CONFIG_FIELD', `${k}: unknown field (expected dataplane, instances, control, sync)`);
    }
  }
  const dataplane = validateDataplane(requireFieldTop(top, 'dataplane'));
  const instances = validateInstances(top.instances ?? []);
  const out: DaemonConfig = { dataplane, instances };
  if (top.control !== undefined) out.control = validateControl(top.control);
  if (top.sync !== undefined) out.sync = validateSync(top.sync);
  return out;
}

function requireFieldTop(obj: Record<string, unknown>, key: string): unknown {
  if (obj[key] === undefined) throw new Nat64Error('E_CONFIG_FIELD', `${key}: missing`);
  return obj[key];
}

function int(v: unknown, field: string, min: number, max: number, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new Nat64Error('E_CONFIG_FIELD', `${field}: ${q(v)} must be an integer from ${min} to ${max}`);
  }
  return v;
}

function str(v: unknown, field: string): string {
  if (typeof v !== 'string' || v.length === 0) throw new Nat64Error('E_CONFIG_FIELD', `${field}: ${q(v)} must be a non-empty string`);
  return v;
}

function validateDataplane(raw: unknown): DataplaneConfig {
  const f = 'dataplane';
  const d = expectObject(raw, f);
  checkKeys(d, ['eal', 'shards', 'ports', 'mbufs', 'mbufDataRoom', 'sessionsPerShard', 'flowCacheEntries', 'icmpErrorsPerSecond',
    'icmpErrorBurst', 'reassemblyDatagrams', 'reassemblyTimeoutMs'], f);
  const eal = d.eal === undefined ? [...DEFAULT_EAL] : expectArray(d.eal, `${f}.eal`).map((a, i) => str(a, `${f}.eal[${i}]`));
  const ports = expectArray(requireField(d, 'ports', f), `${f}.ports`).map((p, i) => validatePort(p, `${f}.ports[${i}]`));
  if (ports.length === 0) throw new Nat64Error('E_CONFIG_FIELD', `${f}.ports: at least one port is needed`);
  ports.forEach((p, i) => {
    const j = ports.findIndex((o) => o.name === p.name);
    if (j !== i) throw new Nat64Error('E_CONFIG_FIELD', `${f}.ports[${i}].name: ${q(p.name)} is already the name of ports[${j}]`);
    const k = ports.findIndex((o) => o.device === p.device);
    if (k !== i) throw new Nat64Error('E_CONFIG_FIELD', `${f}.ports[${i}].device: ${q(p.device)} is already used by ports[${k}]`);
  });
  return {
    eal,
    shards: int(d.shards, `${f}.shards`, 1, MAX_SHARDS, DEFAULTS.shards),
    ports,
    mbufs: int(d.mbufs, `${f}.mbufs`, 1023, 1 << 24, DEFAULTS.mbufs),
    mbufDataRoom: int(d.mbufDataRoom, `${f}.mbufDataRoom`, 1024, 16384, DEFAULT_MBUF_DATA_ROOM),
    sessionsPerShard: int(d.sessionsPerShard, `${f}.sessionsPerShard`, 1024, 1 << 24, DEFAULTS.sessionsPerShard),
    ...(d.flowCacheEntries === undefined ? {}
      : { flowCacheEntries: int(d.flowCacheEntries, `${f}.flowCacheEntries`, 0, 1 << 22, 0) }),
    icmpErrorsPerSecond: int(d.icmpErrorsPerSecond, `${f}.icmpErrorsPerSecond`, 0, 1 << 24, DEFAULTS.icmpErrorsPerSecond),
    icmpErrorBurst: int(d.icmpErrorBurst, `${f}.icmpErrorBurst`, 1, 1 << 24, DEFAULTS.icmpErrorBurst),
    reassemblyDatagrams: int(d.reassemblyDatagrams, `${f}.reassemblyDatagrams`, 1, 1 << 20, DEFAULTS.reassemblyDatagrams),
    reassemblyTimeoutMs: int(d.reassemblyTimeoutMs, `${f}.reassemblyTimeoutMs`, 100, 60000, DEFAULTS.reassemblyTimeoutMs),
  };
}

function validatePort(raw: unknown, f: string): PortConfig {
  const p = expectObject(raw, f);
  checkKeys(p, ['name', 'device', 'mac', 'addresses', 'virtualAddresses', 'routes', 'mtu', 'neighbors', 'rxChecksum', 'txChecksum'], f);
  const name = str(requireField(p, 'name', f), `${f}.name`);
  if (!/^[A-Za-z0-9_.-]{1,32}$/.test(name)) {
    throw new Nat64Error('E_CONFIG_FIELD', `${f}.name: ${q(name)} must be 1-32 letters, digits, '.', '_' or '-'`);
  }
  const addresses = expectArray(p.addresses ?? [], `${f}.addresses`).map((a, i) => parseInterfaceAddress(a as string, `${f}.addresses[${i}]`));
  const virtual = expectArray(p.virtualAddresses ?? [], `${f}.virtualAddresses`)
    .map((a, i) => parseInterfaceAddress(a as string, `${f}.virtualAddresses[${i}]`));
  virtual.forEach((v, i) => {
    const host = v.text.split('/')[0];
    const clash = [...addresses, ...virtual.slice(0, i)].find((a) => a.text.split('/')[0] === host);
    if (clash) throw new Nat64Error('E_CONFIG_FIELD', `${f}.virtualAddresses[${i}]: ${q(v.text)} is already an address of the port`);
  });
  const hasV6 = [...addresses, ...virtual].some((a) => a.family === 6);
  // RFC 8200 §5: a link that carries IPv6 has an MTU of at least 1280.
  const mtu = int(p.mtu, `${f}.mtu`, hasV6 ? 1280 : 68, 9702, DEFAULTS.mtu);
  const mac = p.mac === undefined ? undefined : portMac(p.mac, `${f}.mac`);
  return {
    name,
    device: withMacArgument(str(requireField(p, 'device', f), `${f}.device`), mac, f),
    addresses: addresses.map((a) => a.text),
    virtualAddresses: virtual.map((a) => a.text),
    routes: expectArray(p.routes ?? [], `${f}.routes`).map((r, i) => validateRoute(r, `${f}.routes[${i}]`)),
    mtu,
    neighbors: expectArray(p.neighbors ?? [], `${f}.neighbors`).map((n, i) => validateNeighbor(n, `${f}.neighbors[${i}]`)),
    rxChecksum: oneOf(p.rxChecksum, `${f}.rxChecksum`, RX_CHECKSUM_MODES, 'auto'),
    txChecksum: oneOf(p.txChecksum, `${f}.txChecksum`, TX_CHECKSUM_MODES, 'auto'),
    ...(mac === undefined ? {} : { mac }),
  };
}

/**
 * DPDK 22.11's net_memif has no mac_addr_set but takes "mac=" when probed: the configured MAC goes
 * there (a different "mac=" already in the device string is a contradiction).
 */
function withMacArgument(device: string, mac: string | undefined, f: string): string {
  if (mac === undefined || !/^net_memif/.test(device)) return device;
  const given = /,mac=([^,]*)/.exec(device);
  if (!given) return `${device},mac=${mac}`;
  if (given[1].toLowerCase() !== mac) throw new Nat64Error('E_CONFIG_FIELD', `${f}.mac: ${q(mac)} contradicts mac=${given[1]} in ${f}.device`);
  return device;
}

/** The port's own MAC: unicast and not all zeros (a locally administered 02:... is the usual choice). */
function portMac(v: unknown, f: string): string {
  let mac: string;
  try {
    mac = parseMac(v as string, f);
  } catch (e) {
    throw new Nat64Error('E_CONFIG_FIELD', (e as Error).message);
  }
  if (mac === '00:00:00:00:00:00') throw new Nat64Error('E_CONFIG_FIELD', `${f}: ${q(v)} is not a usable MAC address (all zeros)`);
  return mac;
}

function oneOf<T extends string>(v: unknown, f: string, allowed: readonly T[], dflt: T): T {
  if (v === undefined) return dflt;
  if (typeof v === 'string' && (allowed as readonly string[]).includes(v)) return v as T;
  throw new Nat64Error('E_CONFIG_FIELD', `${f}: must be one of ${allowed.join(', ')}, not ${JSON.stringify(v)}`);
}

function validateRoute(raw: unknown, f: string): RouteConfig {
  const r = expectObject(raw, f);
  checkKeys(r, ['prefix', 'via'], f);
  const prefix = str(requireField(r, 'prefix', f), `${f}.prefix`);
  const via = str(requireField(r, 'via', f), `${f}.via`);
  const v4 = tryParseIPv4(prefix.split('/')[0]) !== null;
  if (v4) { parsePrefix4(prefix, `${f}.prefix`, { defaultLen: null }); parseIPv4(via, `${f}.via`); }
  else { parsePrefix6(prefix, `${f}.prefix`, { defaultLen: null }); parseIPv6(via, `${f}.via`); }
  return { prefix, via };
}

function validateNeighbor(raw: unknown, f: string): NeighborConfig {
  const n = expectObject(raw, f);
  checkKeys(n, ['address', 'mac'], f);
  const address = str(requireField(n, 'address', f), `${f}.address`);
  if (tryParseIPv4(address) === null) parseIPv6(address, `${f}.address`);
  return { address, mac: parseMac(requireField(n, 'mac', f) as string, `${f}.mac`) };
}

function validateInstances(raw: unknown): InstanceFileConfig[] {
  const list = expectArray(raw, 'instances');
  const out = list.map((item, i) => parseInstance(item, `instances[${i}]`));
  out.forEach((inst, i) => {
    const j = out.findIndex((o) => o.name === inst.name);
    if (j !== i) throw new Nat64Error('E_INSTANCE_EXISTS', `instances[${i}].instance: ${q(inst.name)} is already defined by instances[${j}]`);
    if (i > 0) {
      throw new Nat64Error('E_PORTS_IN_USE', `instances[${i}]: ${q(inst.name)} cannot translate on the daemon's ports, ${q(out[0].name)} already does (one instance per port pair, as Jool's netfilter instances)`);
    }
  });
  return out.map(toInstanceFile);
}

function validateControl(raw: unknown): ControlConfig {
  const c = expectObject(raw, 'control');
  checkKeys(c, ['socket', 'group', 'metrics'], 'control');
  const out: ControlConfig = {};
  if (c.socket !== undefined) out.socket = str(c.socket, 'control.socket');
  if (c.group !== undefined) {
    const g = c.group;
    const ok = typeof g === 'number' ? Number.isInteger(g) && g >= 0 : typeof g === 'string' && g !== '';
    if (!ok) throw new Nat64Error('E_CONFIG_FIELD', `control.group: ${q(g)} must be a group name or number`);
    out.group = g as string | number;
  }
  if (c.metrics !== undefined) { out.metrics = str(c.metrics, 'control.metrics'); parseListen(out.metrics, 'control.metrics'); }
  return out;
}
