/**
 * What the field's failover engines ask of the daemon (docs/ha.md): Keepalived's notify hook
 * claims or releases the virtual addresses, and Keepalived's track_script or a BGP speaker's
 * watcher asks whether this translator should carry traffic at all.
 */
import type { DataplaneApi, PortRow } from '../dataplane/manager-api';
import { Nat64Error, q } from './errors';
import { parseIPv4, parseIPv6, tryParseIPv4 } from './inet';

/** A shard whose burst loop has not beaten for this long is stuck (it beats every ~100 ms). */
export const SHARD_SILENT_MS = 2000;

export interface HealthCheck { check: 'instance' | 'shards' | 'ports'; ok: boolean; detail: string }
export interface HealthResult { healthy: boolean; checks: HealthCheck[] }

/**
 * Validate a claim/release against the ports' virtual addresses before the data plane is asked:
 * a typo must fail with a clear message and change nothing.
 */
export function checkVirtualSelection(cmd: string, ports: PortRow[], port: string | undefined, addresses: string[]): void {
  if (port !== undefined && !ports.some((p) => p.configName === port)) {
    throw new Nat64Error('E_PORT_NOT_FOUND', `${cmd}: no port named ${q(port)} (ports: ${ports.map((p) => p.configName).join(', ') || 'none'})`);
  }
  const pool = ports.filter((p) => port === undefined || p.configName === port)
    .flatMap((p) => p.virtualAddresses.map((v) => ({ port: p.configName, text: v.address, key: hostKey(v.address, '') })));
  if (pool.length === 0) {
    throw new Nat64Error('E_NOT_VIRTUAL', `${cmd}: ${port === undefined ? 'no port has' : `port ${q(port)} has no`} virtual addresses (dataplane.ports[].virtualAddresses)`);
  }
  for (const a of addresses) {
    const key = hostKey(a, `${cmd} address`);
    if (!pool.some((v) => v.key === key)) {
      throw new Nat64Error('E_NOT_VIRTUAL', `${cmd}: ${q(a)} is not a virtual address${port ? ` of port ${q(port)}` : ''} (virtual: ${pool.map((v) => `${v.port} ${v.text}`).join(', ')})`);
    }
  }
}

/** The address part of "A" or "A/len" in a canonical form, for comparisons. */
function hostKey(text: string, field: string): string {
  const host = text.split('/')[0];
  if (tryParseIPv4(host) !== null) return `4:${parseIPv4(host, field)}`;
  try {
    return `6:${Buffer.from(parseIPv6(host, field)).toString('hex')}`;
  } catch {
    throw new Nat64Error('E_BAD_ADDRESS', `${field}: ${q(text)} is not an IPv4 or IPv6 address`);
  }
}

/** Healthy: an instance translates, every shard's loop is alive, every port's link is up. */
export function health(dp: DataplaneApi, instance: { running: boolean; detail: string }): HealthResult {
  const checks: HealthCheck[] = [];
  checks.push({ check: 'instance', ok: instance.running, detail: instance.detail });
  const silent = dp.shardStatus().filter((s) => s.heartbeatAgeMs > SHARD_SILENT_MS);
  checks.push({
    check: 'shards', ok: silent.length === 0,
    detail: silent.length === 0 ? 'every shard loop is alive'
      : silent.map((s) => `shard ${s.shard} silent for ${s.heartbeatAgeMs} ms`).join(', '),
  });
  const down = dp.ports().filter((p) => p.link !== 'up');
  checks.push({
    check: 'ports', ok: down.length === 0,
    detail: down.length === 0 ? 'every link is up' : down.map((p) => `port ${p.configName} link down`).join(', '),
  });
  return { healthy: checks.every((c) => c.ok), checks };
}
