/**
 * One instance in Jool's atomic-configuration format (the "file handle" JSON and the entries of the
 * daemon file's "instances") -> the control plane's Instance -> the CoreConfig every shard receives.
 *
 * As Jool: unknown keys are errors, "comment" is allowed in every object, omitted globals take
 * their defaults. Unlike Jool, "bib" is applied on updates too (we can swap it atomically).
 */
import type { CoreConfig, Pool4Range } from '../dataplane/core-config';
import type { InstanceFileConfig } from './config-types';
import { Nat64Error, q } from './errors';
import { displayGlobals, parseGlobalsObject, toCoreGlobals } from './globals';
import { formatIPv4, parsePortRange, parsePrefix4, parseTransport4, parseTransport6 } from './inet';
import { fileDefaultPorts, type Instance, type Pool4Entry, type Protocol, type StaticBib } from './model';
import { checkInstanceName, parseFramework, parseProtocol } from './names';
import { autoMaxIterations, checkPool4Size, parseMark, parseMaxIterations, pool4Add } from './pool4';
import { bibAdd, describeBib } from './static-bib';

type Json = Record<string, unknown>;

export function expectObject(v: unknown, field: string): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new Nat64Error('E_CONFIG_FIELD', `${field}: must be a JSON object, not ${q(v)}`);
  }
  return v as Json;
}

export function expectArray(v: unknown, field: string): unknown[] {
  if (!Array.isArray(v)) throw new Nat64Error('E_CONFIG_FIELD', `${field}: must be a JSON array, not ${q(v)}`);
  return v;
}

export function checkKeys(obj: Json, allowed: readonly string[], field: string): void {
  for (const k of Object.keys(obj)) {
    if (k !== 'comment' && !allowed.includes(k)) {
      throw new Nat64Error('E_CONFIG_FIELD', `${field}: unknown field ${q(k)} (expected one of ${allowed.join(', ')})`);
    }
  }
}

export function requireField(obj: Json, key: string, field: string): unknown {
  if (obj[key] === undefined) throw new Nat64Error('E_CONFIG_FIELD', `${field}.${key}: missing`);
  return obj[key];
}

const INSTANCE_KEYS = ['instance', 'framework', 'global', 'pool4', 'bib'] as const;

export interface ParseInstanceOptions {
  /** Name given with -i when the file has no "instance" (Jool allows either). */
  name?: string;
  /** pool6 of the existing instance, so an update may omit it (it cannot change anyway). */
  pool6?: string;
}

export function parseInstance(raw: unknown, field: string, opts: ParseInstanceOptions = {}): Instance {
  const obj = expectObject(raw, field);
  checkKeys(obj, INSTANCE_KEYS, field);
  const nameRaw = obj.instance ?? opts.name;
  if (nameRaw === undefined) throw new Nat64Error('E_CONFIG_FIELD', `${field}.instance: missing (or pass -i)`);
  const name = checkInstanceName(nameRaw, `${field}.instance`);
  if (opts.name !== undefined && obj.instance !== undefined && obj.instance !== opts.name) {
    throw new Nat64Error('E_CONFIG_FIELD', `${field}.instance: the file names ${q(obj.instance)} but -i says ${q(opts.name)}`);
  }
  // Jool makes "framework" mandatory; we have only one framework, so it defaults to netfilter.
  const framework = obj.framework === undefined ? 'netfilter' : parseFramework(obj.framework, `${field}.framework`);
  const globals = parseGlobalsObject(obj.global, `${field}.global`, opts.pool6);

  let pool4: Pool4Entry[] = [];
  expectArray(obj.pool4 ?? [], `${field}.pool4`).forEach((e, i) => {
    pool4 = pool4Add(pool4, parsePool4Item(e, `${field}.pool4[${i}]`));
  });

  let bib: StaticBib[] = [];
  expectArray(obj.bib ?? [], `${field}.bib`).forEach((e, i) => {
    const f = `${field}.bib[${i}]`;
    bib = bibAdd(bib, pool4, parseBibItem(e, f), f);
  });
  return { name, framework, globals, pool4, bib };
}

function parsePool4Item(raw: unknown, field: string) {
  const e = expectObject(raw, field);
  checkKeys(e, ['mark', 'protocol', 'prefix', 'port range', 'max-iterations', 'standby'], field);
  if (e.standby !== undefined && typeof e.standby !== 'boolean') {
    throw new Nat64Error('E_BAD_VALUE', `${field}.standby: ${q(e.standby)} is not true or false`);
  }
  const protocol = parseProtocol(requireField(e, 'protocol', field), `${field}.protocol`);
  const prefixRaw = requireField(e, 'prefix', field);
  const prefix = parsePrefix4(prefixRaw as string, `${field}.prefix`);
  // A file states its intent explicitly, so no --force here; the hard limit still applies.
  checkPool4Size(prefix, true, `${field}.prefix`);
  const ports = e['port range'] === undefined ? fileDefaultPorts(protocol) : parsePortRange(e['port range'] as string, `${field}.port range`);
  return {
    mark: e.mark === undefined ? 0 : parseMark(e.mark, `${field}.mark`),
    protocol,
    prefix,
    portMin: ports.min,
    portMax: ports.max,
    maxIterations: e['max-iterations'] === undefined ? undefined : parseMaxIterations(e['max-iterations'], `${field}.max-iterations`),
    standby: e.standby === true,
  };
}

function parseBibItem(raw: unknown, field: string): StaticBib {
  const e = expectObject(raw, field);
  checkKeys(e, ['protocol', 'ipv6 address', 'ipv4 address'], field);
  const protocol = parseProtocol(requireField(e, 'protocol', field), `${field}.protocol`);
  const v6 = parseTransport6(requireField(e, 'ipv6 address', field) as string, `${field}.ipv6 address`);
  const v4 = parseTransport4(requireField(e, 'ipv4 address', field) as string, `${field}.ipv4 address`);
  return { protocol, ipv6: v6.addr, ipv6Port: v6.port, ipv4: v4.addr, ipv4Port: v4.port };
}

/** What every shard receives. Times are already milliseconds; addresses already binary. */
export function toCoreConfig(inst: Instance): CoreConfig {
  const pool4: Record<Protocol, Pool4Range[]> = { TCP: [], UDP: [], ICMP: [] };
  for (const e of inst.pool4) {
    const maxIterations = e.maxIterations === 'infinity' ? 0
      : e.maxIterations === 'auto' ? autoMaxIterations(inst.pool4, e.mark, e.protocol) : e.maxIterations;
    pool4[e.protocol].push({ address: e.address, portMin: e.portMin, portMax: e.portMax, mark: e.mark, maxIterations,
      ...(e.standby === true ? { standby: true } : {}) });
  }
  return {
    instance: inst.name,
    globals: toCoreGlobals(inst.globals),
    pool4,
    bib: inst.bib.map((b) => ({ protocol: b.protocol, ipv6: new Uint8Array(b.ipv6), ipv6Port: b.ipv6Port, ipv4: b.ipv4, ipv4Port: b.ipv4Port })),
  };
}

/** The instance back in Jool's atomic-configuration format (round-trips through parseInstance). */
export function toInstanceFile(inst: Instance): InstanceFileConfig {
  return {
    instance: inst.name,
    framework: inst.framework,
    global: displayGlobals(inst.globals),
    pool4: inst.pool4.map((e) => ({
      mark: e.mark,
      protocol: e.protocol,
      prefix: formatIPv4(e.address),
      'port range': `${e.portMin}-${e.portMax}`,
      'max-iterations': e.maxIterations,
      ...(e.standby === true ? { standby: true } : {}),
    })),
    bib: inst.bib.map((b) => {
      const [v6, v4] = describeBib(b).split(' (')[0].split(' - ');
      return { protocol: b.protocol, 'ipv6 address': v6, 'ipv4 address': v4 };
    }),
  };
}
