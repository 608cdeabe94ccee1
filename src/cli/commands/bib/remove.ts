import { Command, Option, UsageError } from 'clipanion';
import { ProtocolCommand } from '../../base';

export default class BibRemoveCommand extends ProtocolCommand {
  static override paths = [['bib', 'remove']];
  static override usage = Command.Usage({
    category: 'bib',
    description: 'Remove a static BIB entry, named by its IPv6 side, its IPv4 side, or both',
    examples: [
      ['By both sides', 'nat64 bib remove --tcp 2001:db8::8#80 203.0.113.1#80'],
      ['By the IPv4 side', 'nat64 bib remove --tcp 203.0.113.1#80'],
    ],
  });

  addresses = Option.Rest({ name: 'transport-address' });

  protected async run(): Promise<void> {
    if (this.addresses.length < 1 || this.addresses.length > 2) throw new UsageError('give one or two transport addresses (IPv6#port and/or IPv4#port)');
    // An IPv6 transport address has a colon before its '#'.
    const v6 = this.addresses.filter((a) => a.split('#')[0].includes(':'));
    const v4 = this.addresses.filter((a) => !a.split('#')[0].includes(':'));
    if (v6.length > 1 || v4.length > 1) throw new UsageError('give at most one IPv6 and one IPv4 transport address');
    await this.request(['bib', 'remove'], {
      protocol: this.protocol ?? 'TCP',
      ...(v6.length ? { ipv6: v6[0] } : {}),
      ...(v4.length ? { ipv4: v4[0] } : {}),
    });
  }
}
