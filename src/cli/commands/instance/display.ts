import { Command } from 'clipanion';
import type { InstanceRow } from '../../../control/state';
import { DisplayCommand } from '../../base';

export default class InstanceDisplayCommand extends DisplayCommand {
  static override paths = [['instance', 'display']];
  static override usage = Command.Usage({
    category: 'instance',
    description: 'List the instances',
    examples: [['As a table', 'nat64 instance display'], ['As JSON', 'nat64 instance display --json'], ['As CSV', 'nat64 instance display --csv']],
  });

  protected async run(): Promise<void> {
    const rows = await this.request(['instance', 'display']) as InstanceRow[];
    this.show([
      { key: 'name', header: 'Name' }, { key: 'framework', header: 'Framework' },
      { key: 'pool6', header: 'pool6' }, { key: 'status', header: 'Status' },
    ], rows);
  }
}
