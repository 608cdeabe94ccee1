import { Command, Option } from 'clipanion';
import { ProtocolCommand, parseInteger } from '../../base';

export default class Pool4AddCommand extends ProtocolCommand {
  static override paths = [['pool4', 'add']];
  static override usage = Command.Usage({
    category: 'pool4',
    description: 'Add IPv4 transport addresses to pool4',
    details: 'The protocol defaults to --tcp and the port range to 61001-65535 (as Jool). Ranges that overlap or touch are merged. More than 256 addresses at once need --force; a /16 is the most one command can add. --standby (an extension, docs/ha.md) adds a peer\'s partition this translator backs up: IPv4 packets to it are translated when a session exists and session sync applies into it, but new mappings are never allocated from it.',
    examples: [
      ['UDP ports 61001-65535 of one address', 'nat64 pool4 add --udp 203.0.113.1'],
      ['TCP port 80 only', 'nat64 pool4 add --tcp 203.0.113.1 80'],
      ['A /30 with a fixed max-iterations', 'nat64 pool4 add --icmp 192.0.2.8/30 1-65535 --max-iterations 5000'],
      ['Back up a peer\'s UDP partition (ECMP, docs/ha.md)', 'nat64 pool4 add --udp 198.51.100.2 --standby'],
    ],
  });

  prefix = Option.String({ name: 'ipv4-prefix' });
  ports = Option.String({ required: false, name: 'port-range' });
  mark = Option.String('--mark', { description: 'Jool\'s mark (0-4294967295), default 0' });
  maxIterations = Option.String('--max-iterations', { description: 'auto, infinity or a number' });
  force = Option.Boolean('--force', false, { description: 'Allow more than 256 addresses' });
  standby = Option.Boolean('--standby', false, { description: 'A peer\'s partition: translated and synced into, never allocated from' });

  protected async run(): Promise<void> {
    const iters = this.maxIterations === undefined || this.maxIterations === 'auto' || this.maxIterations === 'infinity'
      ? this.maxIterations : parseInteger(this.maxIterations, '--max-iterations');
    await this.request(['pool4', 'add'], {
      prefix: this.prefix,
      ...(this.ports === undefined ? {} : { ports: this.ports }),
      ...(this.protocol ? { protocol: this.protocol } : {}),
      ...(this.mark === undefined ? {} : { mark: parseInteger(this.mark, '--mark') }),
      ...(iters === undefined ? {} : { maxIterations: iters }),
      ...(this.force ? { force: true } : {}),
      ...(this.standby ? { standby: true } : {}),
    });
  }
}
