import { Command } from 'clipanion';
import type { PortRow } from '../../../dataplane/manager-api';
import { DisplayCommand } from '../../base';

export default class PortDisplayCommand extends DisplayCommand {
  static override paths = [['port', 'display']];
  static override usage = Command.Usage({
    category: 'port',
    description: 'Show the DPDK ports: driver, MAC, MTU, queues, checksum offloads, addresses and counters',
    details: `
      \`Rx csum\` is what the receive path does about TCP/UDP checksums: \`device\` (the driver's RX checksum
      offload flags are read: bad frames dropped, partial ones finished), \`detect\` (partial checksums
      recognised in software: net_af_packet, net_af_xdp) or \`off\` (frames arrive with complete checksums).
      \`Offloads\` lists the offloads enabled on the port by DPDK's names (rx: / tx:); a TCP_CKSUM/UDP_CKSUM
      tx offload finishes partial checksums in the device instead of in software. \`Kernel\` (net_af_packet) is
      what the daemon did to its Linux interface so that frames arrive wire-sized: GRO/LRO off, and on a
      veth an XDP pass program that makes the peer segment TSO/GSO aggregates (undone when the port closes).
    `,
    examples: [['As a table', 'nat64 port display'], ['As JSON', 'nat64 port display --json'], ['As CSV', 'nat64 port display --csv']],
  });

  protected async run(): Promise<void> {
    const rows = await this.request(['port', 'display']) as PortRow[];
    if (this.mode === 'json') return this.show([], rows);
    this.show<PortRow>([
      { key: 'configName', header: 'Name' }, { key: 'portId', header: 'Port' }, { key: 'driver', header: 'Driver' },
      { key: 'mac', header: 'MAC' }, { key: 'mtu', header: 'MTU' }, { key: 'rxQueues', header: 'RxQ' }, { key: 'link', header: 'Link' },
      { key: 'rxChecksum', header: 'Rx csum' },
      { key: 'offloads', header: 'Offloads', get: (r) => offloads(r) },
      { key: 'kernel', header: 'Kernel', get: (r) => (r.kernel.length ? r.kernel.join(', ') : '-') },
      { key: 'addresses', header: 'Addresses' },
      { key: 'virtualAddresses', header: 'Virtual', get: (r) => virtual(r) },
      { key: 'ipackets', header: 'Rx packets', get: (r) => r.stats.ipackets },
      { key: 'opackets', header: 'Tx packets', get: (r) => r.stats.opackets },
      { key: 'imissed', header: 'Rx missed', get: (r) => r.stats.imissed },
      { key: 'ierrors', header: 'Rx errors', get: (r) => r.stats.ierrors },
      { key: 'oerrors', header: 'Tx errors', get: (r) => r.stats.oerrors },
    ], rows);
  }
}

/** "203.0.113.1/24 claimed", one per virtual address (docs/ha.md), or "-". */
function virtual(r: PortRow): string {
  return r.virtualAddresses.length ? r.virtualAddresses.map((v) => `${v.address} ${v.claimed ? 'claimed' : 'released'}`).join(', ') : '-';
}

/** "rx:TCP_CKSUM,UDP_CKSUM tx:TCP_CKSUM,UDP_CKSUM", or "-" when the port runs without offloads. */
function offloads(r: PortRow): string {
  const parts = [];
  if (r.rxOffloads.length) parts.push(`rx:${r.rxOffloads.join(',')}`);
  if (r.txOffloads.length) parts.push(`tx:${r.txOffloads.join(',')}`);
  return parts.length ? parts.join(' ') : '-';
}
