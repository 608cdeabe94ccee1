import { writeFileSync } from 'node:fs';
import { Command, Option, UsageError } from 'clipanion';
import { socketPath } from '../../../control/protocol';
import { siitperfConf } from '../../../tester/siitperf';
import { parseInteger } from '../../base';
import { TesterCommand } from '../../tester';

export default class TesterSiitperfCommand extends TesterCommand {
  static override paths = [['tester', 'siitperf']];
  static override usage = Command.Usage({
    category: 'tester',
    description: 'Write a siitperf.conf for RFC 9693 stateful tests of the running daemon',
    details: `
      siitperf's stateful mode: its Initiator (the IPv6 side, one client address) opens the connections
      in a preliminary phase, its Responder (the IPv4 server) answers from its state table. Source ports
      10000.. (--ports-per-client of them) times destination ports make --flows connections. The file's
      comments give the siitperf-tp command line and the static neighbours the daemon needs.
    `,
    examples: [
      ['1 M connections, 84-byte frames', 'nat64 tester siitperf --flows 1048576 --out siitperf.conf'],
      ['Other cores for the four sender/receiver threads', 'nat64 tester siitperf --flows 65536 --cpus 2,4,6,8 --out siitperf.conf'],
    ],
  });

  cpus = Option.String('--cpus', '1,2,3,4', { description: 'Cores of CPU-L-Send, CPU-R-Recv, CPU-R-Send, CPU-L-Recv (default 1,2,3,4)' });
  rate = Option.String('--rate', '100000', { description: 'Preliminary-phase frame rate R, frames/s, for the suggested command line (default 100000)' });
  out = Option.String('--out', { description: 'The file to write (default: stdout)' });

  protected async run(): Promise<void> {
    const cpus = this.cpus.split(',').map((c) => parseInteger(c.trim(), '--cpus')!);
    if (cpus.length !== 4) throw new UsageError(`--cpus: '${this.cpus}' is not four core numbers`);
    const rate = parseInteger(this.rate, '--rate')!;
    if (rate < 1) throw new UsageError('--rate: must be at least 1');
    const plan = this.plan(await this.facts());
    const text = siitperfConf(plan, { cpus: cpus as [number, number, number, number], rate }, `the nat64 daemon at ${socketPath(this.socket)}`);
    if (this.out) writeFileSync(this.out, text); else this.print(text);
  }
}
