import { Command, Option, UsageError } from 'clipanion';
import { ControlCommand } from '../../base';

export default class InstanceAddCommand extends ControlCommand {
  static override paths = [['instance', 'add']];
  static override usage = Command.Usage({
    category: 'instance',
    description: 'Create the instance that translates on the daemon\'s ports',
    details: 'At most one instance translates on the daemon\'s port pair (as Jool\'s netfilter instances); a second one is refused. The name defaults to "default" and may also be given with -i.',
    examples: [
      ['Create "default" with the well-known prefix', 'nat64 instance add --pool6 64:ff9b::/96'],
      ['Create "alpha"', 'nat64 instance add alpha --netfilter --pool6 2001:db8:64::/96'],
    ],
  });

  name = Option.String({ required: false, name: 'name' });
  pool6 = Option.String('--pool6', { required: true, description: 'RFC 6052 prefix (/32, /40, /48, /56, /64 or /96)' });
  netfilter = Option.Boolean('--netfilter', false, { description: 'Jool compatibility (the default)' });
  iptables = Option.Boolean('--iptables', false, { description: 'Jool compatibility; behaves as --netfilter' });

  protected async run(): Promise<void> {
    if (this.netfilter && this.iptables) throw new UsageError('--netfilter and --iptables are mutually exclusive');
    if (this.name && this.instance && this.name !== this.instance) throw new UsageError(`the name '${this.name}' and -i '${this.instance}' disagree`);
    this.instance = this.name ?? this.instance;
    await this.request(['instance', 'add'], { pool6: this.pool6, framework: this.iptables ? 'iptables' : 'netfilter' });
  }
}
