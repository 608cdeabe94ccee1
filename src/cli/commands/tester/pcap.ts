import { Command, Option, UsageError } from 'clipanion';
import { frames4to6, frames6to4 } from '../../../tester/pcap-flows';
import { writePcap } from '../../../tester/pcap';
import { TesterCommand } from '../../tester';

export default class TesterPcapCommand extends TesterCommand {
  static override paths = [['tester', 'pcap']];
  static override usage = Command.Usage({
    category: 'tester',
    description: 'Write a pcap file with one frame per flow, addressed to the running daemon\'s port',
    details: `
      6to4: IPv6 frames from the clients to the IPv4 server embedded in pool6, to the daemon's IPv6 port
      MAC (TCP: SYNs, which create the sessions). 4to6: IPv4 frames from the server to each flow's pool4
      transport address, read from the BIB: the dynamic entries a 6to4 phase made, or static ones that
      --add-bib adds first (TCP: SYN+ACKs). Classic libpcap, no FCS: for net_pcap (rx_pcap=...),
      Pktgen-DPDK (-s P:FILE) or tcpreplay.
    `,
    examples: [
      ['4096 flows of 84-byte frames, IPv6 to IPv4', 'nat64 tester pcap --flows 4096 --size 84 --direction 6to4 --out v6.pcap'],
      ['Their answers, after the 6to4 frames went through', 'nat64 tester pcap --flows 4096 --direction 4to6 --out v4.pcap'],
      ['4to6 with static BIB entries added first', 'nat64 tester pcap --flows 4096 --size 1518 --direction 4to6 --add-bib --out v4.pcap'],
    ],
  });

  direction = Option.String('--direction', '6to4', { description: '6to4 or 4to6 (default 6to4)' });
  addBib = Option.Boolean('--add-bib', false, { description: '4to6: first add a static BIB entry for every flow that has none' });
  out = Option.String('--out', { required: true, description: 'The pcap file to write' });

  protected async run(): Promise<void> {
    if (this.direction !== '6to4' && this.direction !== '4to6') throw new UsageError(`--direction: '${this.direction}' is not 6to4 or 4to6`);
    const facts = await this.facts();
    const plan = this.plan(facts);
    const frames = this.direction === '6to4' ? frames6to4(plan) : frames4to6(plan, await this.pool4OfFlows(plan, facts, this.addBib));
    const n = writePcap(this.out, frames);
    this.context.stderr.write(`nat64: wrote ${n} ${this.direction} frames (${this.direction === '6to4' ? plan.opts.size : plan.opts.size - 20} bytes with FCS) to ${this.out}\n`);
  }
}
