import { Command, Option } from 'clipanion';
import type { SessionRow } from '../../../dataplane/manager-api';
import { ProtocolDisplayCommand } from '../../base';

const FIELDS = ['protocol', 'ipv6Local', 'ipv6LocalPort', 'ipv6Remote', 'ipv6RemotePort', 'ipv4Local', 'ipv4LocalPort',
  'ipv4Remote', 'ipv4RemotePort', 'state', 'expiresInMs', 'shard', 'origin'];

export default class SessionDisplayCommand extends ProtocolDisplayCommand {
  static override paths = [['session', 'display']];
  static override usage = Command.Usage({
    category: 'session',
    description: 'Show the session table',
    details: 'IPv6 local is the IPv6 node, IPv6 remote the pool6 address it talks to; IPv4 local is the pool4 transport address, IPv4 remote the IPv4 node (Jool\'s "Remote"/"Local" columns, per side). Origin is "peer" for a session applied from another translator (session sync).',
    examples: [['TCP sessions', 'nat64 session display --tcp'], ['As CSV', 'nat64 session display --csv'], ['UDP as JSON', 'nat64 session display --udp --json'], ['Sessions of a /64 subscriber', 'nat64 session display --subscriber 2001:db8:0:66::/64']],
  });


  subscriber = Option.String('--subscriber', { description: 'Only entries of IPv6 sources inside this prefix (an address: its /128), e.g. 2001:db8:0:66::/64' });

  protected async run(): Promise<void> {
    const protocol = this.protocol;
    const args: Record<string, unknown> = protocol ? { protocol } : {};
    if (this.subscriber !== undefined) args.subscriber = this.subscriber;
    const rows = await this.request(['session', 'display'], args) as SessionRow[];
    if (this.mode !== 'table') return this.show<SessionRow>(FIELDS.map((key) => ({ key, header: key })), rows);
    this.show<SessionRow>([
      { key: 'protocol', header: 'Proto' },
      { key: 'ipv6Local', header: 'IPv6 node', get: (r) => `${r.ipv6Local}#${r.ipv6LocalPort}` },
      { key: 'ipv6Remote', header: 'via pool6', get: (r) => `${r.ipv6Remote}#${r.ipv6RemotePort}` },
      { key: 'ipv4Local', header: 'pool4', get: (r) => `${r.ipv4Local}#${r.ipv4LocalPort}` },
      { key: 'ipv4Remote', header: 'IPv4 node', get: (r) => `${r.ipv4Remote}#${r.ipv4RemotePort}` },
      { key: 'state', header: 'State' },
      { key: 'expiresInMs', header: 'Expires in', get: (r) => `${Math.ceil(r.expiresInMs / 1000)} s` },
      // Session sync: "peer" when the session was applied from another translator's record.
      { key: 'origin', header: 'Origin', get: (r) => r.origin ?? 'local' },
    ], rows);
  }
}
