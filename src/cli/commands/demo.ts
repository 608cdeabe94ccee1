import { Command, Option } from 'clipanion';
import * as t from 'typanion';

export default class DemoCommand extends Command {
  static override paths = [['demo']];
  static override usage = Command.Usage({
    description: 'Build the sample network of the user guide with namespaces and translate between them',
    details: `
      Creates network namespaces for two IPv6-only nodes (2001:db8::2, 2001:db8::3), an IPv4 node
      (203.0.113.16, serving HTTP on :8080 and UDP echo on :5353) and the translator, starts
      \`nat64 daemon\` on them with DPDK's net_af_packet, runs \`nat64 instance add example --pool6 64:ff9b::/96\`,
      then pings, fetches a page and exchanges UDP through the translator. Everything it created is
      removed on exit or Ctrl-C. Needs root.
    `,
    examples: [
      ['Run the demo once', 'nat64 demo'],
      ['Run it with two shards and keep it up to experiment', 'nat64 demo --shards 2 --keep'],
    ],
  });

  shards = Option.String('--shards', '1', { validator: t.cascade(t.isNumber(), [t.isInteger(), t.isInInclusiveRange(1, 8)]) as never, description: 'Number of shard workers' });
  keep = Option.Boolean('--keep', false, { description: 'Keep the network up until Ctrl-C' });
  prefix = Option.String('--prefix', 'n64demo', { description: 'Prefix of the namespace names' });

  async execute(): Promise<number> {
    if (process.getuid && process.getuid() !== 0) {
      this.context.stderr.write('nat64 demo: needs root (network namespaces and DPDK)\n');
      return 1;
    }
    const { runDemo } = await import('../../demo/run-demo'); // loaded when needed (CLI start-up)
    return runDemo({ prefix: this.prefix, shards: Number(this.shards), keep: this.keep, log: (l) => this.context.stdout.write(`${l}\n`) });
  }
}
