import { Command, Option } from 'clipanion';
import type { StatRow } from '../../../control/state';
import { DisplayCommand } from '../../base';

export default class StatsDisplayCommand extends DisplayCommand {
  static override paths = [['stats', 'display']];
  static override usage = Command.Usage({
    category: 'stats',
    description: 'Show the data plane\'s counters: every translated or dropped packet is counted under a reason',
    examples: [['Non-zero counters', 'nat64 stats display'], ['All, with explanations', 'nat64 stats display --all --explain'],
      ['As JSON (with explanations)', 'nat64 stats display --json'], ['As CSV', 'nat64 stats display --all --csv']],
  });

  all = Option.Boolean('--all', false, { description: 'Include counters that are zero' });
  explain = Option.Boolean('--explain', false, { description: 'Add what each counter means' });

  protected async run(): Promise<void> {
    const rows = await this.request(['stats', 'display'], this.all ? { all: true } : {}) as StatRow[];
    const cols = [{ key: 'name', header: 'Counter' }, { key: 'value', header: 'Value' }];
    // JSON always carries the explanation: programs can ignore it, people reading it want it.
    if (this.explain || this.mode === 'json') cols.push({ key: 'explain', header: 'Explanation' });
    this.show<StatRow>(cols, rows);
  }
}
