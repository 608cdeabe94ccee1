import * as fs from 'node:fs';
import * as path from 'node:path';
import { memoryArgs } from '../native/eal-args';
import { waitListening } from './listening';
import {
  addNamespaces, background, BIN, ns, PACED_HTTP, removeNamespaces, REPO, Translator, UDP_ECHO_PEER, until, veth,
} from './ha-tools';

/**
 * An active/passive pair on one machine (docs/ha.md), for `nat64 demo --ha` and the failover test:
 *
 *   <p>-h6 2001:db8::2 ── br6 ──┬── <p>-j  t6 2001:db8::11 ┐ m0 192.168.64.1 ┐
 *                               └── <p>-k  t6 2001:db8::12 ┘ m0 192.168.64.2 ┘ management veth
 *   <p>-h4 203.0.113.16 ─ br4 ──┬── <p>-j  t4 203.0.113.11    (Keepalived, VRRPv3)
 *     (paced HTTP :8080,        └── <p>-k  t4 203.0.113.12
 *      UDP echo :5353)          (bridges in <p>-sw; t6/t4 are DPDK net_af_packet ports)
 *
 * Virtual addresses: 2001:db8::1 (the IPv6 node's route to pool6) and 203.0.113.1 (pool4, on-link).
 * Keepalived runs the shipped config/keepalived/ files with each node's values; session sync
 * (docs/session-sync.md) runs on the management veth too, unless turned off.
 */
export const V6_VIP = '2001:db8::1';
export const V4_VIP = '203.0.113.1';
export const H6 = '2001:db8::2';
export const H4 = '203.0.113.16';
export const MAPPED = `64:ff9b::${H4}`;
export type Node = 'j' | 'k';
export const NODES = {
  j: { fixed6: '2001:db8::11', fixed4: '203.0.113.11', mgmt: '192.168.64.1', mac: '02:64:00:00:01:0', priority: 150 },
  k: { fixed6: '2001:db8::12', fixed4: '203.0.113.12', mgmt: '192.168.64.2', mac: '02:64:00:00:02:0', priority: 100 },
} as const;
const RING = 'framesz=5120,blocksz=20480';

/** Shared key of the session-sync channel (HMAC-SHA256, docs/session-sync.md). */
const SYNC_KEY = 'nat64-ha-pair-demo-key-0123456789';

/**
 * The daemon's file: the same for both nodes apart from the fixed addresses and MACs. With `sync`,
 * session synchronisation runs on the management veth (ss-enabled, the file's "sync" section).
 */
export function translatorConfig(node: Node, shards: number, sync = true): object {
  const n = NODES[node];
  const peer = node === 'j' ? NODES.k : NODES.j;
  return {
    dataplane: {
      eal: ['--no-pci', '--iova-mode=va', '--no-telemetry', '-l', '0', '--log-level=warning', ...memoryArgs()],
      shards,
      ports: [
        { name: 'v6', device: `net_af_packet0,iface=t6,qpairs=${shards},${RING}`, mac: `${n.mac}6`,
          addresses: [`${n.fixed6}/96`], virtualAddresses: [`${V6_VIP}/96`] },
        { name: 'v4', device: `net_af_packet1,iface=t4,qpairs=${shards},${RING}`, mac: `${n.mac}4`,
          addresses: [`${n.fixed4}/24`], virtualAddresses: [`${V4_VIP}/24`] },
      ],
    },
    ...(sync ? { sync: { address: n.mgmt, port: 6400, peers: [peer.mgmt], key: SYNC_KEY } } : {}),
    instances: [{
      instance: 'default', framework: 'netfilter', global: { pool6: '64:ff9b::/96', 'ss-enabled': sync },
      pool4: ['TCP', 'UDP', 'ICMP'].map((protocol) => ({ protocol, prefix: `${V4_VIP}/32`, 'port range': '61001-65535' })),
    }],
  };
}

/**
 * config/keepalived/keepalived.conf with this node's values. The shipped file is what runs, so
 * every substitution must find its text: an example that drifted fails here, not in the field.
 */
export function keepalivedConfig(node: Node, socket: string, advertInt: string): string {
  const peer = node === 'j' ? NODES.k : NODES.j;
  let text = fs.readFileSync(path.join(REPO, 'config/keepalived/keepalived.conf'), 'utf8');
  const subs: Array<[RegExp, string]> = [
    [/router_id nat64-a/, `router_id nat64-${node}`],
    [/interface mgmt0/, 'interface m0'],
    [/priority 150/, `priority ${NODES[node].priority}`],
    [/advert_int 0\.1/, `advert_int ${advertInt}`],
    [/unicast_src_ip 192\.168\.64\.1/, `unicast_src_ip ${NODES[node].mgmt}`],
    [/ {4}192\.168\.64\.2\n/, `    ${peer.mgmt}\n`],
    [/\/etc\/nat64\/keepalived\//g, `${path.join(REPO, 'config/keepalived')}/`],
    [/\/usr\/local\/bin\/nat64/g, BIN],
    [/\/run\/nat64\/nat64\.sock/g, socket],
    [/\/run\/nat64\/vrrp-state/g, path.join(path.dirname(socket), 'vrrp-state')],
  ];
  for (const [re, to] of subs) {
    if (!re.test(text)) throw new Error(`config/keepalived/keepalived.conf no longer contains ${re}`);
    text = text.replace(re, to);
  }
  return text;
}

export class HaPair {
  readonly N: { sw: string; j: string; k: string; h6: string; h4: string };
  readonly tr = {} as Record<Node, Translator>;
  private readonly keepalived: Partial<Record<Node, ReturnType<typeof background>>> = {};
  private readonly services: Array<ReturnType<typeof background>> = [];

  /** `dir`: the pair's files (configurations, sockets, the HTTP server's directory `www`). */
  constructor(prefix: string, readonly shards: number, readonly advertInt: string, readonly dir: string, readonly sync = true) {
    this.N = { sw: `${prefix}-sw`, j: `${prefix}-j`, k: `${prefix}-k`, h6: `${prefix}-h6`, h4: `${prefix}-h4` };
  }

  /** Namespaces, bridges, veths, the IPv4 node's services and both daemons (no Keepalived yet). */
  async up(): Promise<void> {
    const N = this.N;
    addNamespaces(Object.values(N));
    for (const br of ['br6', 'br4']) { ns(N.sw, ['ip', 'link', 'add', br, 'type', 'bridge']); ns(N.sw, ['ip', 'link', 'set', br, 'up']); }
    const port = (name: string, nsName: string, swName: string, br: string) => {
      veth(name, nsName, swName, N.sw);
      ns(N.sw, ['ip', 'link', 'set', swName, 'master', br]);
    };
    for (const node of ['j', 'k'] as const) { port('t6', N[node], `${node}6`, 'br6'); port('t4', N[node], `${node}4`, 'br4'); }
    port('eth0', N.h6, 'h6', 'br6');
    port('eth0', N.h4, 'h4', 'br4');
    veth('m0', N.j, 'm0', N.k);
    ns(N.j, ['ip', 'addr', 'add', `${NODES.j.mgmt}/24`, 'dev', 'm0']);
    ns(N.k, ['ip', 'addr', 'add', `${NODES.k.mgmt}/24`, 'dev', 'm0']);
    ns(N.h6, ['ip', '-6', 'addr', 'add', `${H6}/96`, 'dev', 'eth0', 'nodad']);
    ns(N.h6, ['ip', '-6', 'route', 'add', '64:ff9b::/96', 'via', V6_VIP]);
    ns(N.h4, ['ip', 'addr', 'add', `${H4}/24`, 'dev', 'eth0']);
    fs.mkdirSync(path.join(this.dir, 'www'), { recursive: true });
    this.services.push(background(N.h4, ['python3', '-c', PACED_HTTP, path.join(this.dir, 'www'), H4, '8080']));
    this.services.push(background(N.h4, ['python3', '-c', UDP_ECHO_PEER, H4, '5353']));
    for (const node of ['j', 'k'] as const) {
      this.tr[node] = new Translator(node, N[node], path.join(this.dir, node), translatorConfig(node, this.shards, this.sync));
    }
    this.tr.j.start(); this.tr.k.start();
    await Promise.all([this.tr.j.ready(), this.tr.k.ready()]);
    await Promise.all([waitListening(N.h4, 8080, 'tcp', { server: this.services[0].proc }), waitListening(N.h4, 5353, 'udp', { server: this.services[1].proc })]);
  }

  /** Keepalived in the node's namespace, on the shipped configuration with this node's values. */
  startKeepalived(node: Node): void {
    const conf = path.join(this.dir, node, 'keepalived.conf');
    fs.writeFileSync(conf, keepalivedConfig(node, this.tr[node].socket, this.advertInt));
    this.keepalived[node] = background(this.N[node], ['keepalived', '--dont-fork', '--log-console', '--vrrp', '--use-file', conf,
      '--pid', path.join(this.dir, node, 'keepalived.pid'), '--vrrp_pid', path.join(this.dir, node, 'vrrp.pid')]);
  }

  /** Stop the node's Keepalived (SIGTERM: it runs its notify hook with STOP) and wait for it. */
  async stopKeepalived(node: Node): Promise<void> {
    const k = this.keepalived[node];
    if (!k || k.proc.exitCode !== null || k.proc.signalCode !== null) return;
    k.proc.kill('SIGTERM');
    await Promise.race([k.done, new Promise((r) => setTimeout(r, 10000))]);
  }

  keepalivedLog(node?: Node): string {
    const nodes: Node[] = node ? [node] : ['j', 'k'];
    return nodes.map((n) => `[${n}] ${this.keepalived[n]?.out().slice(-2000) ?? ''}`).join('\n---\n');
  }

  /**
   * J first, then K: with nopreempt whoever is MASTER stays so, and the order makes the roles
   * certain. Resolves once J holds both addresses and K is BACKUP.
   */
  async elect(timeoutMs = 30000): Promise<void> {
    this.startKeepalived('j');
    await until('J to claim the virtual addresses', () => this.tr.j.claimed().length === 2, timeoutMs, 200)
      .catch((e: Error) => { throw new Error(`${e.message}\n--- keepalived ---\n${this.keepalivedLog()}`); });
    this.startKeepalived('k');
    await until('K to enter BACKUP', () => /Entering BACKUP STATE/.test(this.keepalived.k!.out()), timeoutMs, 200)
      .catch((e: Error) => { throw new Error(`${e.message}\n--- keepalived ---\n${this.keepalivedLog()}`); });
  }

  async down(): Promise<void> {
    for (const k of Object.values(this.keepalived)) k?.proc.kill('SIGKILL');
    for (const s of this.services) s.proc.kill('SIGKILL');
    await Promise.all(Object.values(this.tr).map((t) => t.stop()));
    removeNamespaces(Object.values(this.N));
  }
}
