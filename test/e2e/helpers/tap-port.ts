/**
 * Gives a RelNet's IPv4 side a DPDK net_tap port instead of net_af_packet (config first, then
 * wiring once the daemon runs).
 *
 * net_tap creates its TAP interface in the daemon's namespace (the translator's, made by the test).
 * Once the daemon has opened it, the interface is moved into the switch namespace, given a MAC of
 * its own (net_tap gives the kernel side the DPDK port's MAC: as a bridge port that address would
 * be the bridge's own and never forwarded to DPDK) and enslaved to br4 in place of the t4 veth,
 * which is deleted. The queue file descriptors DPDK holds keep working across the move. This is
 * wiring, not tuning: the IPv4 node and the bridge keep every kernel default.
 *
 *   ... [nat64] net_tap ··· <tap> ─ br4 ─ <p>-h4 203.0.113.16
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import type { RelNet } from '../reliability-net';

/** The kernel side of the TAP interface gets this MAC; the DPDK port keeps the one net_tap chose. */
export const TAP_MAC = '02:00:00:64:64:04';

function ip(args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** For RelNet's `config`: the IPv4 port becomes net_tap0 on interface `tap`. */
export function tapIpv4Config(cfg: any, tap: string): void {
  cfg.dataplane.ports[1].device = `net_tap0,iface=${tap}`;
}

/** After net.up(): put the TAP interface where t4 was. */
export function wireTapIpv4(net: RelNet, tap: string): void {
  const t = net.t;
  ip(['-n', t.ns.t, 'link', 'set', tap, 'netns', t.ns.sw]);
  ip(['-n', t.ns.sw, 'link', 'set', tap, 'address', TAP_MAC]);
  ip(['-n', t.ns.sw, 'link', 'set', tap, 'master', 'br4']);
  ip(['-n', t.ns.sw, 'link', 'set', tap, 'up']);
  ip(['-n', t.ns.t, 'link', 'del', 't4']);
  const ports = net.json<Array<{ configName: string; driver: string }>>(['port', 'display']);
  assert.equal(ports.find((p) => p.configName === 'v4')?.driver, 'net_tap', JSON.stringify(ports));
}
