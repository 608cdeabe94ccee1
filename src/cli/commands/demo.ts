import { Command, Option, UsageError } from 'clipanion';
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

      With \`--ha\`: two translators J and K on the same segments, Keepalived (VRRPv3, config/keepalived/) and
      session sync in each on a management veth, a UDP exchange through J; then every process of J is killed
      and the demo prints how long until traffic flows again through K, and K's sessions (from J by session
      sync). docs/ha.md. Needs keepalived installed.
    `,
    examples: [
      ['Run the demo once', 'nat64 demo'],
      ['Run it with two shards and keep it up to experiment', 'nat64 demo --shards 2 --keep'],
      ['A failover: two translators, Keepalived, one of them killed', 'nat64 demo --ha'],
      ['The same with VRRP\'s default 1 s advertisements', 'nat64 demo --ha --advert-int 1'],
    ],
  });

  shards = Option.String('--shards', '1', { validator: t.cascade(t.isNumber(), [t.isInteger(), t.isInInclusiveRange(1, 8)]) as never, description: 'Number of shard workers' });
  keep = Option.Boolean('--keep', false, { description: 'Keep the network up until Ctrl-C' });
  prefix = Option.String('--prefix', { description: 'Prefix of the namespace names (default n64demo, n64hademo with --ha)' });
  ha = Option.Boolean('--ha', false, { description: 'Show an active/passive failover with Keepalived instead' });
  advertInt = Option.String('--advert-int', '0.1', { description: 'With --ha: Keepalived\'s advert_int in seconds (VRRPv3: 0.01-40)' });

  private usage(message: string): number {
    this.context.stderr.write(this.cli.error(new UsageError(message), { command: this }).replace(/\x1b\[[0-9;]*m/g, ''));
    return 1;
  }

  async execute(): Promise<number> {
    const log = (l: string) => this.context.stdout.write(`${l}\n`);
    // The user's mistakes first, then the machine's.
    if (this.ha && this.keep) return this.usage('--keep cannot be used with --ha (the demo kills a translator)');
    if (this.ha && (!/^\d+(\.\d{1,2})?$/.test(this.advertInt) || Number(this.advertInt) < 0.01 || Number(this.advertInt) > 40)) {
      return this.usage(`--advert-int: '${this.advertInt}' must be seconds from 0.01 to 40 (at most two decimals)`);
    }
    if (process.getuid && process.getuid() !== 0) {
      this.context.stderr.write('nat64 demo: needs root (network namespaces and DPDK)\n');
      return 1;
    }
    if (this.ha) {
      const { runHaDemo } = await import('../../demo/ha-demo'); // loaded when needed (CLI start-up)
      return runHaDemo({ prefix: this.prefix ?? 'n64hademo', shards: Number(this.shards), advertInt: this.advertInt, log });
    }
    const { runDemo } = await import('../../demo/run-demo');
    return runDemo({ prefix: this.prefix ?? 'n64demo', shards: Number(this.shards), keep: this.keep, log });
  }
}
