import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { waitListening } from './listening';

/**
 * The sample network of Jool's "Stateful NAT64 Run", built from network namespaces and veth pairs
 * (nothing is created in the host's own namespace, and nothing leaves it):
 *
 *   <p>-h6a 2001:db8::2 ─┐                           ┌─ <p>-h4 203.0.113.16 (HTTP :8080, UDP echo :5353)
 *   <p>-h6b 2001:db8::3 ─┼─ br6 ─ <p>-t (translator) ─ br4 ─┘
 *                        (bridges live in <p>-sw)     DPDK net_af_packet on t6 and t4
 *
 * IPv6 nodes route 64:ff9b::/96 via 2001:db8::1 (the translator's IPv6 port); the IPv4 node has
 * no default route, as in the guide: it only ever talks to 203.0.113.1, the translator's pool4.
 */
export interface Topology {
  prefix: string;
  ns: { sw: string; t: string; h6a: string; h6b: string; h4: string };
  /** Interfaces in the translator namespace for DPDK's net_af_packet. */
  ifaces: { v6: string; v4: string };
  v6Nodes: Array<{ ns: string; addr: string }>;
  v4Node: { ns: string; addr: string };
  translator: { v6: string; v4: string };
}

function sh(args: string[]): string {
  return execFileSync(args[0], args.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export function nsExec(ns: string, args: string[]): string {
  return sh(['ip', 'netns', 'exec', ns, ...args]);
}

export function describeTopology(prefix: string): Topology {
  const ns = { sw: `${prefix}-sw`, t: `${prefix}-t`, h6a: `${prefix}-h6a`, h6b: `${prefix}-h6b`, h4: `${prefix}-h4` };
  return {
    prefix, ns, ifaces: { v6: 't6', v4: 't4' },
    v6Nodes: [{ ns: ns.h6a, addr: '2001:db8::2' }, { ns: ns.h6b, addr: '2001:db8::3' }],
    v4Node: { ns: ns.h4, addr: '203.0.113.16' },
    translator: { v6: '2001:db8::1', v4: '203.0.113.1' },
  };
}

/** Create every namespace, bridge and veth; on failure, remove what was made and rethrow. */
export function createTopology(prefix: string): Topology {
  const t = describeTopology(prefix);
  destroyTopology(t); // leftovers of an interrupted run
  try {
    for (const n of Object.values(t.ns)) sh(['ip', 'netns', 'add', n]);
    const sw = t.ns.sw;
    for (const br of ['br6', 'br4']) {
      nsExec(sw, ['ip', 'link', 'add', br, 'type', 'bridge']);
      nsExec(sw, ['ip', 'link', 'set', br, 'up']);
    }
    // veth pairs created directly inside the namespaces (never in the host's own namespace).
    const link = (a: string, aNs: string, b: string, bNs: string, br: string) => {
      sh(['ip', 'link', 'add', a, 'netns', aNs, 'type', 'veth', 'peer', 'name', b, 'netns', bNs]);
      nsExec(bNs, ['ip', 'link', 'set', b, 'master', br]);
      nsExec(bNs, ['ip', 'link', 'set', b, 'up']);
      nsExec(aNs, ['ip', 'link', 'set', a, 'up']);
      nsExec(aNs, ['ip', 'link', 'set', 'lo', 'up']);
      // Every interface keeps the kernel's default offloads: the nodes send TCP/UDP with partial
      // checksums (CHECKSUM_PARTIAL) and TSO, as containers and VMs do; the translator copes.
    };
    link('t6', t.ns.t, 'sw-t6', sw, 'br6');
    link('t4', t.ns.t, 'sw-t4', sw, 'br4');
    // The translator's own interfaces are left as created: the daemon takes them over itself
    // (kernel IPv6, GRO/LRO, the veth peer's segmentation: native/kernel-iface.h).
    t.v6Nodes.forEach((n, k) => {
      link('eth0', n.ns, `sw-h6${k}`, sw, 'br6');
      nsExec(n.ns, ['ip', '-6', 'addr', 'add', `${n.addr}/96`, 'dev', 'eth0', 'nodad']);
      nsExec(n.ns, ['ip', '-6', 'route', 'add', '64:ff9b::/96', 'via', t.translator.v6]);
    });
    link('eth0', t.v4Node.ns, 'sw-h4', sw, 'br4');
    nsExec(t.v4Node.ns, ['ip', 'addr', 'add', `${t.v4Node.addr}/24`, 'dev', 'eth0']);
    return t;
  } catch (e) {
    destroyTopology(t);
    throw e;
  }
}

/** Deleting a namespace deletes the veths and bridges inside it. Idempotent. */
export function destroyTopology(t: Topology): void {
  const existing = sh(['ip', 'netns', 'list']);
  for (const n of Object.values(t.ns)) {
    if (new RegExp(`^${n}( |$)`, 'm').test(existing)) {
      try { sh(['ip', 'netns', 'pids', n]).split(/\s+/).filter(Boolean).forEach((pid) => { try { process.kill(Number(pid), 'SIGKILL'); } catch { /* gone */ } }); } catch { /* none */ }
      try { sh(['ip', 'netns', 'del', n]); } catch { /* already gone */ }
    }
  }
}

/** Long-running servers on the IPv4 node: an HTTP server and a UDP echo server. */
export function startIpv4Services(t: Topology): ChildProcess[] {
  const http = spawn('ip', ['netns', 'exec', t.v4Node.ns, 'python3', '-m', 'http.server', '8080', '--bind', t.v4Node.addr],
    { stdio: 'ignore', detached: false });
  const udp = spawn('ip', ['netns', 'exec', t.v4Node.ns, 'python3', '-c', UDP_ECHO, t.v4Node.addr, '5353'],
    { stdio: 'ignore', detached: false });
  return [http, udp];
}

/** Resolves once startIpv4Services' servers have their sockets (spawned is not listening yet). */
export async function ipv4ServicesListening(t: Topology, services: ChildProcess[]): Promise<void> {
  await Promise.all([
    waitListening(t.v4Node.ns, 8080, 'tcp', { server: services[0] }),
    waitListening(t.v4Node.ns, 5353, 'udp', { server: services[1] }),
  ]);
}

/** A UDP echo server: answers every datagram with "echo:" + its payload. */
const UDP_ECHO = [
  'import socket, sys',
  's = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)',
  's.bind((sys.argv[1], int(sys.argv[2])))',
  'while True:',
  '    data, peer = s.recvfrom(65535)',
  '    s.sendto(b"echo:" + data, peer)',
].join('\n');
