import { Command } from 'clipanion';
import { ControlCommand } from '../../base';

export default class InstanceFlushCommand extends ControlCommand {
  static override paths = [['instance', 'flush']];
  static override usage = Command.Usage({
    category: 'instance',
    description: 'Remove every instance',
    examples: [['Stop translating altogether', 'nat64 instance flush']],
  });

  protected async run(): Promise<void> { await this.request(['instance', 'flush']); }
}
