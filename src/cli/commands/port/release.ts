import { Command } from 'clipanion';
import { VirtualAddressCommand } from './virtual';

/**
 * `nat64 port release`: this node stops answering for virtual addresses (docs/ha.md). Keepalived's
 * notify hook runs it on BACKUP, FAULT and STOP.
 */
export default class PortReleaseCommand extends VirtualAddressCommand {
  protected readonly verb = 'release';
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
}
