import { Command, Option } from 'clipanion';
import { ControlCommand } from '../../base';

export default class GlobalUpdateCommand extends ControlCommand {
  static override paths = [['global', 'update']];
  static override usage = Command.Usage({
    category: 'global',
    description: 'Change one global value (names, types and minimums as Jool)',
    details: 'Booleans: true/false, yes/no, on/off, 1/0. Timeouts: [[HH:]MM:]SS[.mmm]. pool6 cannot change on a NAT64 instance.',
    examples: [
      ['Pause translation', 'nat64 global update manually-enabled false'],
      ['Ten-minute UDP sessions', 'nat64 global update udp-timeout 10:00'],
      ['New plateaus', 'nat64 global update mtu-plateaus "9000, 1500, 1280"'],
    ],
  });

  key = Option.String({ name: 'key' });
  value = Option.String({ name: 'value' });

  protected async run(): Promise<void> { await this.request(['global', 'update'], { key: this.key, value: this.value }); }
}
