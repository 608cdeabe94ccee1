/**
 * The daemon's configuration state and every operation the CLI can ask for.
 *
 * Atomicity: a change builds the complete new Instance from the current one (immutable data), hands
 * its CoreConfig to the data plane, and only when `setInstance` resolved does it become the
 * current state. A validation error or a data-plane refusal leaves everything as it was. Changes
 * are serialised, so two clients can never both build on the same old state.
 *
 * Instances: like Jool's netfilter mode, at most one instance translates on a port pair, and the
 * daemon has one port pair, so there is at most one instance.
 */
import { ALL_COUNTER_DEFS } from '../dataplane/io-counters';
import type { BibRow, DataplaneApi, PortRow, SessionRow, SubscriberReport, VirtualRow } from '../dataplane/manager-api';
import { checkVirtualSelection, health, type HealthResult } from './ha';
import type { InstanceFileConfig } from './config-types';
import { Nat64Error, q, toErrorPayload } from './errors';
import { defaultGlobals, displayGlobals, parseGlobal, type GlobalValues } from './globals';
import { formatPrefix6, parsePool6, type Prefix4, type Prefix6, type Transport4, type Transport6 } from './inet';
import { parseInstance, toCoreConfig, toInstanceFile } from './instance';
import type { Framework, Instance, MaxIterations, Protocol, StaticBib } from './model';
import { bibOrphanedBy, checkPool4Size, pool4Add, pool4Remove, pool4Rows, type Pool4Row } from './pool4';
import { bibAdd, bibRemove } from './static-bib';

export const DEFAULT_INSTANCE = 'default';

export interface InstanceRow { name: string; framework: Framework; pool6: string; status: 'Running' | 'Stopped' }
export interface StatusResult { instance: string; status: 'Running' | 'Stopped'; reason?: string }
export interface StatRow { name: string; value: number; explain: string }
export interface Pool4AddArgs { protocol: Protocol; prefix: Prefix4; portMin: number; portMax: number; mark: number; maxIterations?: MaxIterations; standby?: boolean; force: boolean }
export interface Pool4RemoveArgs { protocol?: Protocol; prefix: Prefix4; portMin: number; portMax: number; mark?: number; quick: boolean }

const EXPLAIN: ReadonlyMap<string, string> = new Map(ALL_COUNTER_DEFS.map((c) => [c.name, c.explain]));
/** DPDK port counters shown by `stats display` as port-<name>-<suffix> (rte_eth_stats fields). */
const PORT_STATS: ReadonlyArray<[string, keyof PortRow['stats'], string]> = [
  ['rx-packets', 'ipackets', 'Packets received by the DPDK port.'],
  ['tx-packets', 'opackets', 'Packets transmitted by the DPDK port.'],
  ['rx-missed', 'imissed', 'Packets dropped because the rx queues were full: by the NIC, or for net_af_packet by the kernel at the packet socket\'s ring (tp_drops) while the shard did not empty it in time.'],
  ['rx-errors', 'ierrors', 'Erroneous packets received by the DPDK port.'],
  ['tx-errors', 'oerrors', 'Packets the DPDK port failed to transmit.'],
  ['rx-nombuf', 'rxNombuf', 'Receive failures for want of a packet buffer.'],
];
const MTU_MIN = 68, MTU_MAX = 9702, IPV6_MIN_MTU = 1280;

export class ControlState {
  private current: Instance | null = null;
  private tail: Promise<unknown> = Promise.resolve();

  /** Rows the data plane does not keep (session sync's counters), added to `stats display`. */
  extraStats: () => StatRow[] = () => [];

  constructor(private readonly dp: DataplaneApi) {}

  /** The committed instance (tests and the daemon's log use it). */
  get instance(): Instance | null { return this.current; }

  // ---- instance ----------------------------------------------------------------------------

  instanceAdd(name: string, pool6: string, framework: Framework = 'netfilter'): Promise<void> {
    return this.change(() => {
      this.checkPortPairFree(name);
      const globals: GlobalValues = defaultGlobals(formatPrefix6(parsePool6(pool6, '--pool6')));
      return { name, framework, globals, pool4: [], bib: [] };
    });
  }

  instanceRemove(name: string): Promise<void> {
    return this.change(() => { this.get(name); return null; });
  }

  instanceFlush(): Promise<void> {
    return this.change(() => null);
  }

  instanceDisplay(): InstanceRow[] {
    const i = this.current;
    return i ? [{ name: i.name, framework: i.framework, pool6: i.globals['pool6'] as string, status: this.statusOf(i).status }] : [];
  }

  instanceStatus(name: string): StatusResult {
    const i = this.current;
    if (!i || i.name !== name) return { instance: name, status: 'Stopped', reason: 'instance does not exist' };
    return this.statusOf(i);
  }

  // ---- pool4 -------------------------------------------------------------------------------

  pool4Add(name: string, a: Pool4AddArgs): Promise<void> {
    return this.change(() => {
      const i = this.get(name);
      checkPool4Size(a.prefix, a.force, 'pool4 add');
      return { ...i, pool4: pool4Add(i.pool4, a) };
    });
  }

  pool4Remove(name: string, r: Pool4RemoveArgs): Promise<void> {
    return this.change(() => {
      const i = this.get(name);
      const pool4 = pool4Remove(i.pool4, r);
      // Jool cascades the removal to the BIB unless --quick; the orphans then stay inactive.
      const gone = r.quick ? [] : bibOrphanedBy(i.bib, r);
      return { ...i, pool4, bib: i.bib.filter((b) => !gone.includes(b)) };
    });
  }

  pool4Flush(name: string, quick: boolean): Promise<void> {
    return this.change(() => {
      const i = this.get(name);
      return { ...i, pool4: [], bib: quick ? i.bib : [] };
    });
  }

  pool4Display(name: string, protocol?: Protocol): Pool4Row[] {
    return pool4Rows(this.get(name).pool4, protocol);
  }

  // ---- bib / session -----------------------------------------------------------------------

  bibAdd(name: string, protocol: Protocol, v6: Transport6, v4: Transport4): Promise<void> {
    return this.change(() => {
      const i = this.get(name);
      const entry: StaticBib = { protocol, ipv6: v6.addr, ipv6Port: v6.port, ipv4: v4.addr, ipv4Port: v4.port };
      const dynamic = this.dp.bib(protocol).filter((row) => !row.static);
      return { ...i, bib: bibAdd(i.bib, i.pool4, entry, 'bib add', dynamic) };
    });
  }

  bibRemove(name: string, protocol: Protocol, v6?: Transport6, v4?: Transport4): Promise<void> {
    return this.change(() => {
      const i = this.get(name);
      if (!v6 && !v4) throw new Nat64Error('E_USAGE', 'bib remove: give the IPv6 or the IPv4 transport address (or both)');
      return { ...i, bib: bibRemove(i.bib, { protocol, ipv6: v6, ipv4: v4 }) };
    });
  }

  bibDisplay(name: string, protocol?: Protocol, subscriber?: Prefix6): BibRow[] {
    this.get(name);
    return this.dp.bib(protocol, subscriber);
  }

  sessionDisplay(name: string, protocol?: Protocol, subscriber?: Prefix6): SessionRow[] {
    this.get(name);
    return this.dp.sessions(protocol, subscriber);
  }

  /** Per-subscriber accounting (RFC 6888 REQ-4): the `top` subscribers by use of their limits. */
  subscriberDisplay(name: string, top: number): SubscriberReport {
    this.get(name);
    if (!this.dp.subscribers) throw new Nat64Error('E_DATAPLANE', 'this data plane does not count subscribers');
    return this.dp.subscribers(top);
  }

  // ---- stats -------------------------------------------------------------------------------

  /** Counters belong to the data plane, not to an instance: they keep counting with none. */
  statsDisplay(all: boolean): StatRow[] {
    const total = this.dp.counters().total;
    const names = [...EXPLAIN.keys(), ...Object.keys(total).filter((k) => !EXPLAIN.has(k))];
    const rows = names.map((n) => ({ name: n, value: total[n] ?? 0, explain: EXPLAIN.get(n) ?? '' }));
    rows.push(...this.extraStats());
    for (const p of this.dp.ports()) {
      for (const [suffix, field, explain] of PORT_STATS) {
        rows.push({ name: `port-${p.configName}-${suffix}`, value: Number(p.stats[field] ?? 0), explain: `${explain} (port ${p.configName})` });
      }
    }
    return rows.filter((r) => all || r.value !== 0);
  }

  // ---- global ------------------------------------------------------------------------------

  globalDisplay(name: string): ReturnType<typeof displayGlobals> {
    return displayGlobals(this.get(name).globals);
  }

  globalUpdate(name: string, key: string, value: unknown): Promise<void> {
    return this.change(() => {
      const i = this.get(name);
      const v = parseGlobal(key, value, `global update ${key}`);
      if (key === 'pool6' && v !== i.globals['pool6']) {
        throw new Nat64Error('E_POOL6_IMMUTABLE', `global update pool6: a NAT64 instance keeps the pool6 it was added with (${i.globals['pool6']}); remove and re-add the instance to change it`);
      }
      return { ...i, globals: { ...i.globals, [key]: v } };
    });
  }

  // ---- file handle (Jool atomic configuration) ---------------------------------------------

  /** Creates the instance, or replaces its whole configuration (omitted values become defaults). */
  fileHandle(cliName: string | undefined, json: unknown): Promise<string> {
    return this.change(() => {
      const named = typeof json === 'object' && json !== null ? (json as { instance?: unknown }).instance : undefined;
      const name = typeof named === 'string' ? named : cliName;
      const same = this.current && this.current.name === name ? this.current : null;
      // An update may omit pool6 (it cannot change); a creation must give it.
      const next = parseInstance(json, 'file', { name: cliName ?? (named === undefined ? DEFAULT_INSTANCE : undefined), pool6: same?.globals['pool6'] as string | undefined });
      if (!same) this.checkPortPairFree(next.name);
      if (same && next.globals['pool6'] !== same.globals['pool6']) {
        throw new Nat64Error('E_POOL6_IMMUTABLE', `file.global.pool6: ${q(next.globals['pool6'])} differs from the instance's ${q(same.globals['pool6'])}; pool6 cannot change (as in Jool)`);
      }
      return next;
    }).then(() => this.current!.name);
  }

  /** Startup and SIGHUP: the file's instances become the whole state (none is fine). */
  applyInstances(files: readonly InstanceFileConfig[]): Promise<void> {
    return this.change(() => {
      if (files.length > 1) throw new Nat64Error('E_PORTS_IN_USE', 'at most one instance can translate on the daemon\'s ports');
      return files.length === 0 ? null : parseInstance(files[0], 'instances[0]');
    });
  }

  /** The instance in atomic-configuration form (what a SIGHUP-safe file would contain). */
  exportInstance(name: string): InstanceFileConfig {
    return toInstanceFile(this.get(name));
  }

  // ---- ports -------------------------------------------------------------------------------

  portDisplay(): PortRow[] { return this.dp.ports(); }

  portUpdateMtu(port: string, mtu: number): Promise<void> {
    return this.serial(async () => {
      const row = this.dp.ports().find((p) => p.configName === port);
      if (!row) {
        const names = this.dp.ports().map((p) => p.configName).join(', ');
        throw new Nat64Error('E_PORT_NOT_FOUND', `port update: no port named ${q(port)} (ports: ${names || 'none'})`);
      }
      const min = row.addresses.some((a) => a.includes(':')) ? IPV6_MIN_MTU : MTU_MIN;
      if (!Number.isInteger(mtu) || mtu < min || mtu > MTU_MAX) {
        throw new Nat64Error('E_BAD_VALUE', `port update --mtu: ${q(mtu)} is out of range for port ${q(port)} (${min}-${MTU_MAX})`);
      }
      await this.callDataplane(() => this.dp.setPortMtu(port, mtu));
    });
  }

  /**
   * `port claim` / `port release` (docs/ha.md): Keepalived's notify hook moves the virtual
   * addresses. Serialised with every other change, so a release cannot overtake a claim.
   */
  portVirtual(claim: boolean, port: string | undefined, addresses: string[]): Promise<VirtualRow[]> {
    return this.serial(async () => {
      checkVirtualSelection(claim ? 'port claim' : 'port release', this.dp.ports(), port, addresses);
      let rows: VirtualRow[] = [];
      await this.callDataplane(async () => { rows = await this.dp.setVirtual(claim, port, addresses.length ? addresses : undefined); });
      return rows;
    });
  }

  // ---- health ------------------------------------------------------------------------------

  /** For Keepalived's track_script and BGP watchers: does this translator carry traffic? */
  health(name: string): HealthResult {
    const s = this.instanceStatus(name);
    return health(this.dp, { running: s.status === 'Running', detail: s.status === 'Running' ? `instance ${q(name)} is running` : `instance ${q(name)}: ${s.reason}` });
  }

  // ---- machinery ---------------------------------------------------------------------------

  private get(name: string): Instance {
    const i = this.current;
    if (!i || i.name !== name) {
      throw new Nat64Error('E_INSTANCE_NOT_FOUND', `instance ${q(name)} does not exist${i ? ` (the daemon runs ${q(i.name)}; use -i ${i.name})` : " (add it with 'instance add')"}`);
    }
    return i;
  }

  private checkPortPairFree(name: string): void {
    const i = this.current;
    if (!i) return;
    if (i.name === name) throw new Nat64Error('E_INSTANCE_EXISTS', `instance ${q(name)} already exists`);
    throw new Nat64Error('E_PORTS_IN_USE', `instance ${q(name)}: instance ${q(i.name)} already translates on the daemon's ports (at most one instance per port pair); remove it first`);
  }

  private statusOf(i: Instance): StatusResult {
    return i.globals['manually-enabled']
      ? { instance: i.name, status: 'Running' }
      : { instance: i.name, status: 'Stopped', reason: 'manually-enabled is false' };
  }

  /** Build the next state synchronously, apply it to the data plane, then commit. */
  private change(build: () => Instance | null): Promise<void> {
    return this.serial(async () => {
      const next = build();
      await this.callDataplane(() => this.dp.setInstance(next ? toCoreConfig(next) : null));
      this.current = next;
    });
  }

  private serial<T>(op: () => Promise<T>): Promise<T> {
    const run = this.tail.then(op, op);
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async callDataplane(op: () => Promise<void>): Promise<void> {
    try {
      await op();
    } catch (e) {
      const p = toErrorPayload(e);
      throw new Nat64Error('E_DATAPLANE', `the data plane refused the change (${p.code}): ${p.message}`);
    }
  }
}
