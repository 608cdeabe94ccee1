import { spawnSync } from 'node:child_process';
import type { Topology } from './topology';

/** What a person would type on an IPv6-only node of the guide's network, and what it printed. */
export interface CheckResult { name: string; ok: boolean; command: string; output: string }

function run(name: string, ns: string, args: string[], ok: (out: string, status: number | null) => boolean,
  shown = args.join(' '), timeoutMs = 15000): CheckResult {
  const r = spawnSync('ip', ['netns', 'exec', ns, ...args], { encoding: 'utf8', timeout: timeoutMs });
  const output = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
  return { name, ok: ok(output, r.status), command: `ip netns exec ${ns} ${shown}`, output };
}

/** The IPv4 node as seen from the IPv6 side (RFC 6052 embedding in the well-known prefix). */
export function mapped(t: Topology, pool6 = '64:ff9b::'): string {
  return `${pool6}${t.v4Node.addr}`;
}

export function pingCheck(t: Topology, node: number, count = 3): CheckResult {
  const n = t.v6Nodes[node];
  return run(`ping from ${n.addr}`, n.ns, ['ping', '-6', '-c', String(count), '-i', '0.2', '-W', '2', mapped(t)],
    (out, status) => status === 0 && / 0% packet loss/.test(out));
}

export function httpCheck(t: Topology, node: number): CheckResult {
  const n = t.v6Nodes[node];
  return run(`HTTP from ${n.addr}`, n.ns, ['curl', '-sS', '-m', '10', '-o', '/dev/null', '-w', '%{http_code}', `http://[${mapped(t)}]:8080/`],
    (out, status) => status === 0 && out === '200');
}

export function udpCheck(t: Topology, node: number): CheckResult {
  const n = t.v6Nodes[node];
  const payload = `hello-from-${n.addr}`;
  const client = [
    'import socket, sys',
    's = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)',
    's.settimeout(2)',
    'for attempt in range(3):',
    '    s.sendto(sys.argv[3].encode(), (sys.argv[1], int(sys.argv[2])))',
    '    try:',
    '        print(s.recvfrom(65535)[0].decode()); break',
    '    except socket.timeout:',
    '        pass',
  ].join('\n');
  return run(`UDP echo from ${n.addr}`, n.ns, ['python3', '-c', client, mapped(t), '5353', payload],
    (out, status) => status === 0 && out.includes(`echo:${payload}`),
    `python3 (UDP client: send '${payload}' to [${mapped(t)}]:5353, print the answer)`);
}
