import { Command } from 'clipanion';
import type { PortRow } from '../../../dataplane/manager-api';
import { DisplayCommand } from '../../base';

export default class PortDisplayCommand extends DisplayCommand {
  static override paths = [['port', 'display']];
  static override usage = Command.Usage({
    category: 'port',
    description: 'Show the DPDK ports: driver, MAC, MTU, queues, addresses and counters',
    examples: [['As a table', 'nat64 port display'], ['As JSON', 'nat64 port display --json']],
  });

  protected async run(): Promise<void> {
    const rows = await this.request(['port', 'display']) as PortRow[];
    if (this.mode === 'json') return this.show([], rows);
    this.show<PortRow>([
      { key: 'configName', header: 'Name' }, { key: 'portId', header: 'Port' }, { key: 'driver', header: 'Driver' },
      { key: 'mac', header: 'MAC' }, { key: 'mtu', header: 'MTU' }, { key: 'rxQueues', header: 'RxQ' },
      { key: 'addresses', header: 'Addresses' },
      { key: 'ipackets', header: 'Rx packets', get: (r) => r.stats.ipackets },
      { key: 'opackets', header: 'Tx packets', get: (r) => r.stats.opackets },
      { key: 'imissed', header: 'Rx missed', get: (r) => r.stats.imissed },
      { key: 'ierrors', header: 'Rx errors', get: (r) => r.stats.ierrors },
      { key: 'oerrors', header: 'Tx errors', get: (r) => r.stats.oerrors },
    ], rows);
  }
}
