import { Command, Option } from 'clipanion';
import { ProtocolCommand, parseInteger } from '../../base';

export default class Pool4RemoveCommand extends ProtocolCommand {
  static override paths = [['pool4', 'remove']];
  static override usage = Command.Usage({
    category: 'pool4',
    description: 'Remove IPv4 transport addresses from pool4',
    details: 'Without a protocol flag every protocol is affected, without a port range every port, without --mark every mark. Static BIB entries that lose their pool4 address go too, unless --quick (then they stay, inactive, until the address returns).',
    examples: [
      ['Remove an address entirely', 'nat64 pool4 remove 203.0.113.1'],
      ['Remove some TCP ports', 'nat64 pool4 remove --tcp 203.0.113.1 61001-62000'],
    ],
  });

  prefix = Option.String({ name: 'ipv4-prefix' });
  ports = Option.String({ required: false, name: 'port-range' });
  mark = Option.String('--mark', { description: 'Only entries with this mark' });
  quick = Option.Boolean('--quick', false, { description: 'Do not cascade to static BIB entries' });

  protected async run(): Promise<void> {
    const protocol = this.protocol;
    await this.request(['pool4', 'remove'], {
      prefix: this.prefix,
      ...(this.ports === undefined ? {} : { ports: this.ports }),
      ...(protocol ? { protocol } : {}),
      ...(this.mark === undefined ? {} : { mark: parseInteger(this.mark, '--mark') }),
      ...(this.quick ? { quick: true } : {}),
    });
  }
}
