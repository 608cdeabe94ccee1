/**
 * What a tester needs for N flows through the running daemon, from the daemon's own facts (its
 * ports' MACs and addresses, pool6, pool4, the BIB), so that generated files are right the first
 * time. Pure: the CLI fetches the facts over the control socket and writes the files.
 *
 * Flow k (0 <= k < N): IPv6 client `clients + (k / P + 1)` port `10000 + k % P` (P: ports per client)
 * talks to the IPv4 server `server` port 5353 (UDP) or 80 (TCP), whose IPv6 name is `server`
 * embedded in pool6 (RFC 6052). The bench's flows are the same with P = 256.
 */
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6, parsePrefix6, tryParseIPv4, tryParseIPv6 } from '../control/inet';
import { Nat64Error } from '../control/errors';
import { embed } from '../dataplane/rfc6052';
import type { Proto } from './frames';

export const CLIENT_PORT_BASE = 10000;
export const SERVER_PORT = { UDP: 5353, TCP: 80 } as const;
/** When pool4 is empty the daemon uses the IPv4 port's own addresses with these ports (as Jool). */
const DEFAULT_POOL4_PORTS = { min: 61001, max: 65535 };

export interface FactPort { configName: string; mac: string; addresses: string[] }
export interface FactPool4 { protocol: string; address: string; portMin: number; portMax: number }
export interface FactBib { protocol: string; ipv6: string; ipv6Port: number; ipv4: string; ipv4Port: number; static: boolean }
export interface DaemonFacts { pool6: string; ports: FactPort[]; pool4: FactPool4[]; bib: FactBib[] }

export interface TesterOptions {
  flows: number;
  /** IPv6 frame size on the wire, FCS included (RFC 9693 §4); IPv4 frames are 20 bytes shorter. */
  size: number;
  proto: Proto;
  /** The IPv6 clients' /64 or longer prefix (default 2001:db8:1::/64, routed by the daemon via the tester). */
  clients: string;
  portsPerClient?: number;
  /** The IPv4 server (default: the address after the daemon's IPv4 port address). */
  server?: string;
  testerMac6: string;
  testerMac4: string;
  /** The tester's own address on the IPv6 link, next hop of the clients (default: the daemon's IPv6 port address plus one). */
  testerIp6?: string;
}

/** The user's request does not fit the daemon (one line on stderr, exit 1). */
export class TesterError extends Nat64Error {
  constructor(message: string) { super('E_USAGE', message); }
}

export interface Side { name: string; mac: string; address: string; prefixLen: number }

export interface TesterPlan {
  opts: TesterOptions;
  v6: Side; v4: Side;
  pool6: { text: string; addr: Uint8Array; len: number };
  server4: number; server6: Uint8Array; serverPort: number;
  clientBase: Uint8Array;
  tester6: Uint8Array;
  portsPerClient: number; clientCount: number;
  /** pool4 ranges of the protocol (or the daemon's default when pool4 is empty). */
  pool4: Array<{ address: number; portMin: number; portMax: number }>;
  pool4Empty: boolean;
}

function side(ports: FactPort[], family: 4 | 6): Side {
  for (const p of ports) {
    for (const a of p.addresses) {
      const [addr, len] = a.split('/');
      if ((family === 6) === addr.includes(':')) return { name: p.configName, mac: p.mac, address: addr, prefixLen: Number(len) };
    }
  }
  throw new TesterError(`the daemon has no port with an IPv${family} address (nat64 port display)`);
}

export function makePlan(facts: DaemonFacts, opts: TesterOptions): TesterPlan {
  const v6 = side(facts.ports, 6), v4 = side(facts.ports, 4);
  const p6 = parsePrefix6(facts.pool6, 'pool6');
  const clients = parsePrefix6(opts.clients, '--clients');
  if (clients.len > 96) throw new TesterError(`--clients: ${opts.clients} leaves fewer than 32 bits for clients (use /96 or shorter)`);
  const portsPerClient = opts.portsPerClient ?? Math.min(opts.flows, 4096);
  if (portsPerClient < 1 || portsPerClient > 65535 - CLIENT_PORT_BASE + 1) throw new TesterError(`--ports-per-client: ${portsPerClient} is outside 1-${65536 - CLIENT_PORT_BASE}`);
  const server4 = opts.server !== undefined ? parseIPv4(opts.server, '--server') : nextAddress(v4);
  const server6 = new Uint8Array(16);
  embed(p6.addr, p6.len, server4, server6, 0);
  const pool4 = facts.pool4.filter((e) => e.protocol === opts.proto)
    .map((e) => ({ address: parseIPv4(e.address), portMin: e.portMin, portMax: e.portMax }));
  const pool4Empty = pool4.length === 0;
  if (pool4Empty) pool4.push({ address: parseIPv4(v4.address), portMin: DEFAULT_POOL4_PORTS.min, portMax: DEFAULT_POOL4_PORTS.max });
  return {
    opts, v6, v4, pool6: { text: facts.pool6, addr: p6.addr, len: p6.len }, server4, server6, serverPort: SERVER_PORT[opts.proto],
    clientBase: clients.addr, tester6: opts.testerIp6 !== undefined ? parseIPv6(opts.testerIp6, '--tester-ip6') : plusOne6(v6.address), portsPerClient, clientCount: Math.ceil(opts.flows / portsPerClient), pool4, pool4Empty,
  };
}

/** The server defaults to the IPv4 port's neighbour address: its own address plus one, on the link. */
function nextAddress(v4: Side): number {
  const own = parseIPv4(v4.address);
  const next = (own + 1) >>> 0;
  const mask = v4.prefixLen === 0 ? 0 : (~0 << (32 - v4.prefixLen)) >>> 0;
  const broadcast = ((own & mask) | ~mask) >>> 0;
  if (((next & mask) >>> 0) !== ((own & mask) >>> 0) || next === broadcast) {
    throw new TesterError(`no default IPv4 server after ${v4.address}/${v4.prefixLen}: give --server`);
  }
  return next;
}

function plusOne6(text: string): Uint8Array {
  const a = parseIPv6(text);
  for (let i = 15; i >= 0; i--) { a[i] = (a[i] + 1) & 0xff; if (a[i] !== 0) break; }
  return a;
}

export function clientAddress(plan: TesterPlan, k: number): Uint8Array {
  const a = Uint8Array.from(plan.clientBase);
  const v = new DataView(a.buffer);
  v.setUint32(12, (v.getUint32(12) + Math.floor(k / plan.portsPerClient) + 1) >>> 0);
  return a;
}

export function clientPort(plan: TesterPlan, k: number): number { return CLIENT_PORT_BASE + (k % plan.portsPerClient); }

/**
 * The pool4 transport address of every flow, read from the daemon's BIB (static entries, or the
 * dynamic ones a 6->4 phase made). A flow without one has nothing to answer: say how to get it.
 */
export function pool4OfFlows(plan: TesterPlan, bib: FactBib[]): Array<{ addr: number; port: number }> {
  const byV6 = new Map<string, FactBib>();
  for (const b of bib) if (b.protocol === plan.opts.proto) byV6.set(`${formatIPv6(tryParseIPv6(b.ipv6)!)}#${b.ipv6Port}`, b);
  const out: Array<{ addr: number; port: number }> = [];
  for (let k = 0; k < plan.opts.flows; k++) {
    const key = `${formatIPv6(clientAddress(plan, k))}#${clientPort(plan, k)}`;
    const b = byV6.get(key);
    if (!b) {
      throw new TesterError(`flow ${k} (${key}) has no ${plan.opts.proto} BIB entry: send the 6to4 traffic first (RFC 9693 phase 1), or add static entries with --add-bib`);
    }
    out.push({ addr: tryParseIPv4(b.ipv4)!, port: b.ipv4Port });
  }
  return out;
}

/**
 * Static BIB entries for every flow (4->6 traffic without a 6->4 phase): flow k gets the k-th free
 * transport address of pool4, in pool4's order, so that one pool4 range is one Pktgen port range.
 */
export function staticBibFor(plan: TesterPlan, bib: FactBib[]): Array<{ protocol: Proto; 'ipv6 address': string; 'ipv4 address': string }> {
  if (plan.pool4Empty) throw new TesterError(`--add-bib: ${plan.opts.proto} pool4 is empty, and static BIB entries must be in pool4 (nat64 pool4 add --${plan.opts.proto.toLowerCase()} ...)`);
  const taken = new Set(bib.filter((b) => b.protocol === plan.opts.proto).map((b) => `${b.ipv4}#${b.ipv4Port}`));
  const mine = new Set(bib.filter((b) => b.protocol === plan.opts.proto).map((b) => `${formatIPv6(tryParseIPv6(b.ipv6)!)}#${b.ipv6Port}`));
  const out: Array<{ protocol: Proto; 'ipv6 address': string; 'ipv4 address': string }> = [];
  let k = 0;
  for (const r of plan.pool4) {
    for (let port = Math.max(r.portMin, 1); port <= r.portMax && k < plan.opts.flows; port++) {
      const v4 = `${formatIPv4(r.address)}#${port}`;
      if (taken.has(v4)) continue;
      const v6 = `${formatIPv6(clientAddress(plan, k))}#${clientPort(plan, k)}`;
      k++;
      if (mine.has(v6)) continue; // already mapped: keep its entry
      out.push({ protocol: plan.opts.proto, 'ipv6 address': v6, 'ipv4 address': v4 });
    }
  }
  if (k < plan.opts.flows) throw new TesterError(`--add-bib: ${plan.opts.proto} pool4 has ${k} free transport addresses, not ${plan.opts.flows}`);
  return out;
}

/**
 * What the daemon's configuration file must say for the tester's traffic to come back: testers do
 * not answer Neighbour Discovery (Pktgen 23.06, siitperf) or ARP (siitperf), so the next hops are
 * static neighbours, and the clients are routed via the tester's IPv6 address.
 */
export function daemonNeeds(plan: TesterPlan): string[] {
  const t6 = formatIPv6(plan.tester6);
  return [
    `port ${plan.v6.name}: "routes": [{ "prefix": "${plan.opts.clients}", "via": "${t6}" }],`,
    `         "neighbors": [{ "address": "${t6}", "mac": "${plan.opts.testerMac6}" }]`,
    `port ${plan.v4.name}: "neighbors": [{ "address": "${formatIPv4(plan.server4)}", "mac": "${plan.opts.testerMac4}" }]`,
  ];
}
