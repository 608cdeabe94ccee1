import { Command, Option } from 'clipanion';
import type { BibRow } from '../../../dataplane/manager-api';
import { ProtocolDisplayCommand } from '../../base';

export default class BibDisplayCommand extends ProtocolDisplayCommand {
  static override paths = [['bib', 'display']];
  static override usage = Command.Usage({
    category: 'bib',
    description: 'Show the BIB (static and dynamic entries)',
    examples: [['TCP entries', 'nat64 bib display --tcp'], ['Everything as JSON', 'nat64 bib display --json'], ['UDP as CSV', 'nat64 bib display --udp --csv'], ['One subscriber\'s mappings', 'nat64 bib display --subscriber 2001:db8::66']],
  });


  subscriber = Option.String('--subscriber', { description: 'Only entries of IPv6 sources inside this prefix (an address: its /128), e.g. 2001:db8:0:66::/64' });

  protected async run(): Promise<void> {
    const protocol = this.protocol;
    const args: Record<string, unknown> = protocol ? { protocol } : {};
    if (this.subscriber !== undefined) args.subscriber = this.subscriber;
    const rows = await this.request(['bib', 'display'], args) as BibRow[];
    if (this.mode === 'table') {
      this.show<BibRow>([
        { key: 'protocol', header: 'Proto' },
        { key: 'ipv6', header: 'IPv6 transport address', get: (r) => `${r.ipv6}#${r.ipv6Port}` },
        { key: 'ipv4', header: 'IPv4 transport address', get: (r) => `${r.ipv4}#${r.ipv4Port}` },
        { key: 'static', header: 'Kind', get: (r) => (r.static ? 'static' : 'dynamic') },
        { key: 'shard', header: 'Shard' },
      ], rows);
    } else {
      this.show<BibRow>(['protocol', 'ipv6', 'ipv6Port', 'ipv4', 'ipv4Port', 'static', 'shard'].map((key) => ({ key, header: key })), rows);
    }
  }
}
