import { Command, Option } from 'clipanion';
import type { SubscriberReport, SubscriberRow } from '../../../dataplane/manager-api';
import { DisplayCommand, parseInteger } from '../../base';

export default class SubscriberDisplayCommand extends DisplayCommand {
  static override paths = [['subscriber', 'display']];
  static override usage = Command.Usage({
    category: 'subscriber',
    description: 'Show the subscribers that hold the most pool4 ports, against their limits (RFC 6888 REQ-4)',
    details: 'A subscriber is an IPv6 source prefix of subscriber-prefix-length bits. Counted only while a per-subscriber limit is on (subscriber-port-limit or subscriber-mapping-rate). Usage is the highest share of a limit in use over TCP, UDP and ICMP. With --json: the limits and the rows.',
    examples: [['The 20 heaviest subscribers', 'nat64 subscriber display'], ['The top 5 as JSON', 'nat64 subscriber display --top 5 --json'], ['Every counted subscriber as CSV', 'nat64 subscriber display --top 100000 --csv']],
  });

  top = Option.String('--top', { description: 'How many subscribers (default 20)' });

  protected async run(): Promise<void> {
    const top = parseInteger(this.top, '--top');
    const r = await this.request(['subscriber', 'display'], top !== undefined ? { top } : {}) as SubscriberReport;
    if (this.mode === 'json') { this.print(`${JSON.stringify(r, null, 2)}\n`); return; }
    if (this.mode === 'table') {
      const l = r.limits, lim = (n: number) => (n > 0 ? String(n) : 'none');
      this.print(r.prefixLength === 0
        ? 'Per-subscriber limits are off (subscriber-port-limit 0, subscriber-mapping-rate 0): nothing is counted.\n'
        : `Subscriber: /${r.prefixLength}; limits: TCP ${lim(l.tcp)}, UDP ${lim(l.udp)}, ICMP ${lim(l.icmp)} ports, ${lim(l.mappingsPerSecond)} new mappings/s\n`);
    }
    this.show<SubscriberRow>([
      { key: 'subscriber', header: 'Subscriber' },
      { key: 'tcp', header: 'TCP' },
      { key: 'udp', header: 'UDP' },
      { key: 'icmp', header: 'ICMP' },
      { key: 'usage', header: 'Usage', get: (x) => (this.mode === 'table' ? `${Math.round(x.usage * 100)} %` : String(x.usage)) },
    ], r.subscribers);
  }
}
