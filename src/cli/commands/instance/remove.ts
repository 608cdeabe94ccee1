import { Command, Option, UsageError } from 'clipanion';
import { ControlCommand } from '../../base';

export default class InstanceRemoveCommand extends ControlCommand {
  static override paths = [['instance', 'remove']];
  static override usage = Command.Usage({
    category: 'instance',
    description: 'Remove an instance (translation stops; its BIB and sessions are dropped)',
    examples: [['Remove "default"', 'nat64 instance remove'], ['Remove "alpha"', 'nat64 instance remove alpha']],
  });

  name = Option.String({ required: false, name: 'name' });

  protected async run(): Promise<void> {
    if (this.name && this.instance && this.name !== this.instance) throw new UsageError(`the name '${this.name}' and -i '${this.instance}' disagree`);
    this.instance = this.name ?? this.instance;
    await this.request(['instance', 'remove']);
  }
}
