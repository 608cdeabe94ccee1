import { Command, Option, UsageError } from 'clipanion';
import { ControlCommand, parseInteger } from '../../base';

export default class PortUpdateCommand extends ControlCommand {
  static override paths = [['port', 'update']];
  static override usage = Command.Usage({
    category: 'port',
    description: 'Change a port\'s MTU while translating',
    details: 'A port with an IPv6 address needs at least 1280 (RFC 8200).',
    examples: [['Jumbo frames on the IPv4 side', 'nat64 port update v4 --mtu 9000']],
  });

  name = Option.String({ name: 'port-name' });
  mtu = Option.String('--mtu', { description: 'New MTU' });

  protected async run(): Promise<void> {
    if (this.mtu === undefined) throw new UsageError('nothing to update: give --mtu');
    await this.request(['port', 'update'], { name: this.name, mtu: parseInteger(this.mtu, '--mtu') });
  }
}
