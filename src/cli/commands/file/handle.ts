import { readFileSync } from 'node:fs';
import { Command, Option } from 'clipanion';
import { Nat64Error } from '../../../control/errors';
import { ControlCommand } from '../../base';

export default class FileHandleCommand extends ControlCommand {
  static override paths = [['file', 'handle']];
  static override usage = Command.Usage({
    category: 'file',
    description: 'Apply a Jool atomic-configuration file: create the instance, or replace its whole configuration',
    details: 'All or nothing: on any error nothing changes. Omitted values return to their defaults (not their old values), as in Jool. Unlike Jool, "bib" is applied on updates too. The instance is the file\'s "instance", else -i, else "default".',
    examples: [['Apply a file', 'nat64 file handle /etc/nat64/instance.json']],
  });

  file = Option.String({ name: 'json-file' });
  force = Option.Boolean('--force', false, { description: 'Accepted for Jool compatibility (warnings never abort here)' });

  protected async run(): Promise<void> {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (e) {
      throw new Nat64Error('E_CONFIG_READ', `${this.file}: cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
    }
    let config: unknown;
    try {
      config = JSON.parse(text);
    } catch (e) {
      throw new Nat64Error('E_CONFIG_SYNTAX', `${this.file}: not valid JSON (${(e as Error).message})`);
    }
    // The file is read here, not by the daemon: the daemon never opens paths its clients name.
    await this.request(['file', 'handle'], { config });
  }
}
