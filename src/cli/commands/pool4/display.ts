import { Command } from 'clipanion';
import type { Pool4Row } from '../../../control/pool4';
import type { Column } from '../../format';
import { ProtocolDisplayCommand } from '../../base';

export default class Pool4DisplayCommand extends ProtocolDisplayCommand {
  static override paths = [['pool4', 'display']];
  static override usage = Command.Usage({
    category: 'pool4',
    description: 'Show pool4 (every protocol unless one is given)',
    examples: [['All of it', 'nat64 pool4 display'], ['UDP as CSV', 'nat64 pool4 display --udp --csv'], ['As JSON', 'nat64 pool4 display --json']],
  });


  protected async run(): Promise<void> {
    const protocol = this.protocol;
    const rows = await this.request(['pool4', 'display'], protocol ? { protocol } : {}) as Pool4Row[];
    // Machine output keeps numbers apart; the table reads like Jool's.
    // The standby column (an extension, docs/ha.md) only when some entry is one: Jool's columns otherwise.
    const standby = rows.some((r) => r.standby);
    const machine: Column<Pool4Row>[] = ['mark', 'protocol', 'maxIterations', 'maxIterationsMode', 'address', 'portMin', 'portMax',
      ...(standby ? ['standby'] : [])].map((key) => ({ key, header: key }));
    const human: Column<Pool4Row>[] = [
      { key: 'mark', header: 'Mark' }, { key: 'protocol', header: 'Proto' },
      { key: 'maxIterations', header: 'Max iterations',
        get: (r) => r.maxIterationsMode === 'infinity' ? 'Infinite (fixed)' : `${r.maxIterations} (${r.maxIterationsMode})` },
      { key: 'address', header: 'Address' },
      { key: 'ports', header: 'Ports', get: (r) => `${r.portMin}-${r.portMax}` },
      ...(standby ? [{ key: 'standby', header: 'Standby', get: (r: Pool4Row) => (r.standby ? 'yes' : 'no') }] : []),
    ];
    this.show(this.mode === 'table' ? human : machine, rows);
  }
}
