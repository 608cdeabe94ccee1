import { Command, Option } from 'clipanion';
import { ProtocolCommand } from '../../base';

export default class BibAddCommand extends ProtocolCommand {
  static override paths = [['bib', 'add']];
  static override usage = Command.Usage({
    category: 'bib',
    description: 'Add a static BIB entry (a permanent mapping, e.g. to publish an IPv6 server)',
    details: 'The IPv4 transport address must be in pool4 for that protocol (as Jool); the protocol defaults to --tcp.',
    examples: [['Publish 2001:db8::8 port 80 as 203.0.113.1 port 80', 'nat64 bib add --tcp 2001:db8::8#80 203.0.113.1#80']],
  });

  ipv6 = Option.String({ name: 'ipv6-transport-address' });
  ipv4 = Option.String({ name: 'ipv4-transport-address' });

  protected async run(): Promise<void> {
    await this.request(['bib', 'add'], { ipv6: this.ipv6, ipv4: this.ipv4, protocol: this.protocol ?? 'TCP' });
  }
}
