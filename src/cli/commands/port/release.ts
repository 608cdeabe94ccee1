import { Command, Option } from 'clipanion';
import type { VirtualRow } from '../../../dataplane/manager-api';
import { ControlCommand } from '../../base';
import { json } from '../../format';

/**
 * `nat64 port release`: this node stops answering for virtual addresses (docs/ha.md). Keepalived's
 * notify hook runs it on BACKUP, FAULT and STOP.
 */
export default class PortReleaseCommand extends ControlCommand {
  static override paths = [['port', 'release']];
  static override usage = Command.Usage({
    category: 'port',
    description: 'Give up virtual addresses: stop answering ARP/ND and pings for them',
    details: `
      Without addresses every virtual address (of \`--port\` if given) is released. Releasing an address not
      held changes nothing. Packets that still arrive for a released pool4 address (a neighbour that has not
      moved yet) are translated as usual.
    `,
    examples: [['Every virtual address', 'nat64 port release'], ['One address', 'nat64 port release 203.0.113.1']],
  });

  port = Option.String('--port', { description: 'Only the virtual addresses of this port' });
  json = Option.Boolean('--json', false, { description: 'Print [{"port","address","claimed"}]' });
  addresses = Option.Rest({ name: 'address' });

  protected async run(): Promise<void> {
    const rows = await this.request(['port', 'release'], { ...(this.port ? { name: this.port } : {}), addresses: this.addresses }) as VirtualRow[];
    this.print(this.json ? json(rows) : rows.map((r) => `${r.port} ${r.address} ${r.claimed ? 'claimed' : 'released'}\n`).join(''));
  }
}
