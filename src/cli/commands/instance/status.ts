import { Command, Option } from 'clipanion';
import type { StatusResult } from '../../../control/state';
import { ControlCommand } from '../../base';
import { json } from '../../format';

export default class InstanceStatusCommand extends ControlCommand {
  static override paths = [['instance', 'status']];
  static override usage = Command.Usage({
    category: 'instance',
    description: 'Say whether the instance translates: Running, or Stopped (and why)',
    examples: [['Status of "default"', 'nat64 instance status'], ['For scripts', 'nat64 -i alpha instance status --json']],
  });

  json = Option.Boolean('--json', false, { description: 'Print {"instance","status","reason"?}' });

  protected async run(): Promise<void> {
    const r = await this.request(['instance', 'status']) as StatusResult;
    this.print(this.json ? json(r) : `${r.status}${r.reason ? ` (${r.reason})` : ''}\n`);
  }
}
