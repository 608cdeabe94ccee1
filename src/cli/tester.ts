/**
 * What the `nat64 tester` commands share: the flow options and the daemon's facts (ports, pool6,
 * pool4, BIB), read over the control socket so that the files fit the running daemon.
 */
import { Option, UsageError } from 'clipanion';
import type { Proto } from '../tester/frames';
import { makePlan, pool4OfFlows, staticBibFor, type DaemonFacts, type FactBib, type TesterPlan } from '../tester/plan';
import { ControlCommand, parseInteger } from './base';

export abstract class TesterCommand extends ControlCommand {
  flows = Option.String('--flows', '1024', { description: 'Number of flows (distinct IPv6 source transport addresses x server) (default 1024)' });
  size = Option.String('--size', '84', { description: 'IPv6 frame size with FCS, 84-1518 (RFC 9693 §4; IPv4 frames are 20 bytes shorter) (default 84)' });
  proto = Option.String('--proto', 'udp', { description: 'udp or tcp (default udp)' });
  clients = Option.String('--clients', '2001:db8:1::/64', { description: 'IPv6 prefix of the clients, routed by the daemon via the tester (default 2001:db8:1::/64)' });
  portsPerClient = Option.String('--ports-per-client', { description: 'Source ports per client address (default: min(flows, 4096))' });
  server = Option.String('--server', { description: 'IPv4 server address (default: the daemon\'s IPv4 port address + 1)' });
  testerMac6 = Option.String('--tester-mac6', '02:00:00:00:01:06', { description: 'MAC of the tester\'s IPv6 port (default 02:00:00:00:01:06)' });
  testerMac4 = Option.String('--tester-mac4', '02:00:00:00:01:04', { description: 'MAC of the tester\'s IPv4 port (default 02:00:00:00:01:04)' });
  testerIp6 = Option.String('--tester-ip6', { description: 'The tester\'s IPv6 address, next hop of the clients (default: the daemon\'s IPv6 port address + 1)' });

  protected async facts(): Promise<DaemonFacts> {
    const globals = await this.request(['global', 'display']) as Record<string, unknown>;
    const [ports, pool4, bib] = await Promise.all([
      this.request(['port', 'display']), this.request(['pool4', 'display']), this.request(['bib', 'display']),
    ]);
    return { pool6: String(globals['pool6']), ports, pool4, bib } as DaemonFacts;
  }

  protected plan(facts: DaemonFacts): TesterPlan {
    const proto = this.proto.toUpperCase();
    if (proto !== 'UDP' && proto !== 'TCP') throw new UsageError(`--proto: '${this.proto}' is not udp or tcp`);
    const flows = parseInteger(this.flows, '--flows')!;
    if (flows < 1 || flows > 1 << 24) throw new UsageError(`--flows: ${flows} is outside 1-${1 << 24}`);
    const size = parseInteger(this.size, '--size')!;
    if (size < 84 || size > 1518) throw new UsageError(`--size: ${size} is outside 84-1518 (the IPv6 frame, FCS included)`);
    for (const [flag, mac] of [['--tester-mac6', this.testerMac6], ['--tester-mac4', this.testerMac4]]) {
      if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(mac)) throw new UsageError(`${flag}: '${mac}' is not a MAC address`);
    }
    return makePlan(facts, {
      flows, size, proto: proto as Proto, clients: this.clients, portsPerClient: parseInteger(this.portsPerClient, '--ports-per-client'),
      server: this.server, testerMac6: this.testerMac6.toLowerCase(), testerMac4: this.testerMac4.toLowerCase(), testerIp6: this.testerIp6,
    });
  }

  /**
   * The flows' pool4 transport addresses for 4->6 traffic: from the BIB, after adding static
   * entries for them in one atomic change when asked (file display + file handle).
   */
  protected async pool4OfFlows(plan: TesterPlan, facts: DaemonFacts, addBib: boolean): Promise<Array<{ addr: number; port: number }>> {
    let bib = facts.bib;
    if (addBib) {
      const add = staticBibFor(plan, bib);
      if (add.length) {
        const file = await this.request(['file', 'display']) as { bib?: unknown[] };
        await this.request(['file', 'handle'], { config: { ...file, bib: [...(file.bib ?? []), ...add] } });
        this.context.stderr.write(`nat64: added ${add.length} static ${plan.opts.proto} BIB entries for the flows\n`);
      }
      bib = await this.request(['bib', 'display']) as FactBib[];
    }
    return pool4OfFlows(plan, bib);
  }
}
