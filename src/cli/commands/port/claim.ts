import { Command } from 'clipanion';
import { VirtualAddressCommand } from './virtual';

/**
 * `nat64 port claim`: this node now holds virtual addresses (docs/ha.md). Keepalived's notify hook
 * runs it on MASTER; the daemon answers ARP/ND for them and announces them at once.
 */
export default class PortClaimCommand extends VirtualAddressCommand {
  protected readonly verb = 'claim';
  static override paths = [['port', 'claim']];
  static override usage = Command.Usage({
    category: 'port',
    description: 'Hold virtual addresses: answer ARP/ND for them and announce them (gratuitous ARP, unsolicited NA)',
    details: `
      Virtual addresses are listed per port in the daemon's file (\`dataplane.ports[].virtualAddresses\`) and are
      released when the daemon starts. Without addresses every virtual address (of \`--port\` if given) is
      claimed. Only addresses newly taken are announced: claiming an address already held changes nothing.
      Run by Keepalived's notify hook (config/keepalived/nat64-notify.sh) when this node becomes MASTER, and
      by its check (nat64-vrrp-check.sh) while MASTER, which re-claims after a daemon restart.
    `,
    examples: [
      ['Every virtual address', 'nat64 port claim'],
      ['Those of one port', 'nat64 port claim --port v4'],
      ['One address', 'nat64 port claim 2001:db8::1'],
    ],
  });
}
