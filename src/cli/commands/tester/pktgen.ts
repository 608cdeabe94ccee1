import { writeFileSync } from 'node:fs';
import { Command, Option, UsageError } from 'clipanion';
import { socketPath } from '../../../control/protocol';
import { checkRangePool4, pktgenCommands, type PktgenDirection } from '../../../tester/pktgen';
import { TesterCommand } from '../../tester';

export default class TesterPktgenCommand extends TesterCommand {
  static override paths = [['tester', 'pktgen']];
  static override usage = Command.Usage({
    category: 'tester',
    description: 'Write a Pktgen-DPDK command file (range mode) for the running daemon',
    details: `
      Pktgen port 0 faces the daemon's IPv6 port, port 1 its IPv4 port; MACs, addresses and pool6 come
      from the daemon. 6to4: the clients' source ports (and addresses) step through the flows. 4to6:
      the server sends to each flow's pool4 transport address, which must be one pool4 address with
      consecutive ports: --add-bib adds such static BIB entries first. The file's comments say what
      the daemon's configuration needs (a route for the clients and static neighbours: Pktgen 23.06
      does not answer Neighbour Discovery). Walk-through: bench/README.md.
    `,
    examples: [
      ['4096 UDP flows IPv6 to IPv4', 'nat64 tester pktgen --flows 4096 --out nat64.pkt'],
      ['Both directions, 1518-byte frames, static BIB entries for 4to6', 'nat64 tester pktgen --flows 4096 --size 1518 --direction both --add-bib --out nat64.pkt'],
    ],
  });

  direction = Option.String('--direction', '6to4', { description: '6to4, 4to6 or both (default 6to4)' });
  addBib = Option.Boolean('--add-bib', false, { description: '4to6/both: first add a static BIB entry for every flow that has none' });
  out = Option.String('--out', { description: 'The command file to write (default: stdout)' });

  protected async run(): Promise<void> {
    const d = this.direction as PktgenDirection;
    if (!['6to4', '4to6', 'both'].includes(d)) throw new UsageError(`--direction: '${this.direction}' is not 6to4, 4to6 or both`);
    const facts = await this.facts();
    const plan = this.plan(facts);
    const pool4 = d === '6to4' ? undefined : checkRangePool4(await this.pool4OfFlows(plan, facts, this.addBib));
    const text = pktgenCommands(plan, d, pool4, `the nat64 daemon at ${socketPath(this.socket)}`);
    if (this.out) writeFileSync(this.out, text); else this.print(text);
  }
}
