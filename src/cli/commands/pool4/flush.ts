import { Command, Option } from 'clipanion';
import { ControlCommand } from '../../base';

export default class Pool4FlushCommand extends ControlCommand {
  static override paths = [['pool4', 'flush']];
  static override usage = Command.Usage({
    category: 'pool4',
    description: 'Empty pool4 (the port\'s own IPv4 addresses, ports 61001-65535, are used instead)',
    examples: [['Empty pool4 and its static BIB entries', 'nat64 pool4 flush'], ['Keep the static BIB entries', 'nat64 pool4 flush --quick']],
  });

  quick = Option.Boolean('--quick', false, { description: 'Do not cascade to static BIB entries' });

  protected async run(): Promise<void> { await this.request(['pool4', 'flush'], this.quick ? { quick: true } : {}); }
}
