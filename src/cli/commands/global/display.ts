import { Command } from 'clipanion';
import { DisplayCommand } from '../../base';
import { json } from '../../format';

export default class GlobalDisplayCommand extends DisplayCommand {
  static override paths = [['global', 'display']];
  static override usage = Command.Usage({
    category: 'global',
    description: 'Show the instance\'s global values, in Jool\'s notation',
    details: '--json prints an object that can be pasted as the "global" of an atomic-configuration file.',
    examples: [['As a table', 'nat64 global display'], ['As a "global" object', 'nat64 global display --json'], ['As CSV', 'nat64 global display --csv']],
  });

  protected async run(): Promise<void> {
    const g = await this.request(['global', 'display']) as Record<string, unknown>;
    if (this.mode === 'json') return this.print(json(g));
    this.show([{ key: 'key', header: 'Key' }, { key: 'value', header: 'Value' }],
      Object.entries(g).map(([key, value]) => ({ key, value })));
  }
}
