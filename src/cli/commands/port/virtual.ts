import { Option } from 'clipanion';
import type { VirtualRow } from '../../../dataplane/manager-api';
import { ControlCommand } from '../../base';
import { json } from '../../format';

/** `port claim` and `port release`: the same arguments and output, one verb apart (docs/ha.md). */
export abstract class VirtualAddressCommand extends ControlCommand {
  protected abstract readonly verb: 'claim' | 'release';
  port = Option.String('--port', { description: 'Only the virtual addresses of this port' });
  json = Option.Boolean('--json', false, { description: 'Print [{"port","address","claimed"}]' });
  addresses = Option.Rest({ name: 'address' });

  protected async run(): Promise<void> {
    const rows = await this.request(['port', this.verb], { ...(this.port ? { name: this.port } : {}), addresses: this.addresses }) as VirtualRow[];
    this.print(this.json ? json(rows) : rows.map((r) => `${r.port} ${r.address} ${r.claimed ? 'claimed' : 'released'}\n`).join(''));
  }
}
