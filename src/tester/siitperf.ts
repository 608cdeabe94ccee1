/**
 * A siitperf.conf for RFC 9693 stateful tests (siitperf's stateful extension: the Initiator on the
 * IPv6 side, the Responder on the IPv4 side answering from its state table). Keys and meanings as
 * siitperf's README documents them. siitperf uses one Initiator address, so the flows are port
 * pairs: source ports 10000.. (one BIB entry each) x destination ports of the server (sessions).
 */
import { formatIPv4, formatIPv6 } from '../control/inet';
import { clientAddress, CLIENT_PORT_BASE, daemonNeeds, type TesterPlan } from './plan';

export interface SiitperfOptions { cpus: [number, number, number, number]; rate: number }

export function siitperfConf(plan: TesterPlan, o: SiitperfOptions, source = 'the nat64 daemon'): string {
  const { opts } = plan;
  const sports = plan.portsPerClient, dports = Math.ceil(opts.flows / sports);
  const dmin = plan.serverPort, dmax = Math.min(65535, dmin + dports - 1);
  const t = 2000, d = Math.ceil((1000 * opts.flows) / o.rate) + t + 1000;
  return [
    `# siitperf.conf from ${source} (\`nat64 tester siitperf\`): RFC 9693 stateful test, ${opts.flows} connections.`,
    `# Left = daemon port ${plan.v6.name} (${plan.v6.address}), right = daemon port ${plan.v4.name} (${plan.v4.address}); pool6 ${plan.pool6.text}.`,
    '# The daemon needs, in its configuration file (siitperf answers neither Neighbour Discovery nor ARP):',
    ...daemonNeeds(plan).map((l) => `#   ${l}`),
    `# Run (IPv6 frame size, rate, duration s, timeout ms, n, m, then N M R T D of the stateful extension):`,
    `#   siitperf-tp ${opts.size} <rate> 60 2000 2 2 ${opts.flows} ${opts.flows} ${o.rate} ${t} ${d}`,
    '',
    'IP-L-Vers 6 # Initiator: IPv6',
    'IP-R-Vers 4 # Responder: IPv4',
    '',
    `IPv6-L-Real ${formatIPv6(clientAddress(plan, 0))} # the Initiator (IPv6 client)`,
    'IPv6-L-Virt :: # currently not used',
    'IPv6-R-Real :: # currently not used',
    `IPv6-R-Virt ${formatIPv6(plan.server6)} # the Responder as the client sees it: pool6 + ${formatIPv4(plan.server4)}`,
    'IPv4-L-Real 0.0.0.0 # currently unused',
    'IPv4-L-Virt 0.0.0.0 # currently unused',
    `IPv4-R-Real ${formatIPv4(plan.server4)} # the Responder (IPv4 server)`,
    'IPv4-R-Virt 0.0.0.0 # currently unused',
    '',
    `MAC-L-Tester ${opts.testerMac6}`,
    `MAC-R-Tester ${opts.testerMac4}`,
    `MAC-L-DUT ${plan.v6.mac} # daemon port ${plan.v6.name}`,
    `MAC-R-DUT ${plan.v4.mac} # daemon port ${plan.v4.name}`,
    '',
    'Forward 1 # Initiator -> Responder in the test phase',
    'Reverse 1 # Responder -> Initiator (4-tuples from the state table)',
    'Promisc 0',
    '',
    'Num-L-Nets 1 # port enumeration requires 1',
    'Num-R-Nets 1',
    '',
    `CPU-L-Send ${o.cpus[0]}`,
    `CPU-R-Recv ${o.cpus[1]}`,
    `CPU-R-Send ${o.cpus[2]}`,
    `CPU-L-Recv ${o.cpus[3]}`,
    '',
    'MEM-Channels 2',
    '',
    '# RFC 4814 pseudorandom ports: source ports are BIB entries, source x destination ports are sessions',
    'Fwd-var-sport 3',
    'Fwd-var-dport 3',
    `Fwd-sport-min ${CLIENT_PORT_BASE}`,
    `Fwd-sport-max ${CLIENT_PORT_BASE + sports - 1}`,
    `Fwd-dport-min ${dmin}`,
    `Fwd-dport-max ${dmax}`,
    '# redundant: the Responder takes its 4-tuples from the state table',
    'Rev-var-sport 0',
    'Rev-var-dport 0',
    'Rev-sport-min 0',
    'Rev-sport-max 1',
    'Rev-dport-min 0',
    'Rev-dport-max 1',
    '',
    'Stateful 1 # Initiator on the left (IPv6), Responder on the right (IPv4)',
    'Enumerate-ports 3 # a unique port pair per preliminary frame: every connection is made once',
    '# (siitperf versions with IP address enumeration call the next key Responder-tuples)',
    'Responder-ports 3 # pseudorandom 4-tuples from the state table',
    '',
  ].join('\n');
}
