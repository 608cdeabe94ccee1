import { Command } from 'clipanion';
import { ControlCommand } from '../../base';
import { json } from '../../format';

export default class FileDisplayCommand extends ControlCommand {
  static override paths = [['file', 'display']];
  static override usage = Command.Usage({
    category: 'file',
    description: 'Print the instance as a Jool atomic-configuration file (feed it back with file handle)',
    examples: [['Save the running configuration', 'nat64 file display > instance.json']],
  });

  protected async run(): Promise<void> { this.print(json(await this.request(['file', 'display']))); }
}
