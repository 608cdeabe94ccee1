/**
 * Prometheus metrics over HTTP (opt-in: `control.metrics` in the file or `nat64 daemon --metrics`).
 * Every scrape reads the data plane's shared-memory counters and tables, like `stats display` does:
 * translation is never stopped or asked anything. Names and labels: docs/metrics.md.
 */
import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Registry } from 'prom-client';
import { ALL_COUNTER_DEFS } from '../dataplane/io-counters';
import type { DataplaneApi } from '../dataplane/manager-api';
import { Nat64Error, q } from './errors';

const PROTOCOLS = ['TCP', 'UDP', 'ICMP'] as const;

/** "127.0.0.1:9464", "[::1]:9464", ":9464" (every address) -> host and port. */
export function parseListen(text: string, field: string): { host: string; port: number } {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]*)):([0-9]{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port < 1 || port > 65535) {
    throw new Nat64Error('E_CONFIG_FIELD', `${field}: ${q(text)} is not a listen address (such as "127.0.0.1:9464" or "[::1]:9464")`);
  }
  return { host: m[1] ?? (m[2] || '::'), port };
}

/** Prometheus name of a data-plane counter: "bib4-not-found" -> "nat64_bib4_not_found_total". */
/** Subscribers exported by nat64_subscriber_ports (bounded label cardinality). */
export const TOP_SUBSCRIBERS = 10;

export function counterMetricName(name: string): string {
  return `nat64_${name.replace(/[^a-zA-Z0-9]/g, '_')}_total`;
}

/** Metrics kept outside the data plane (session sync): name, value, help, and whether a gauge. */
export type ExtraMetrics = () => Array<{ name: string; value: number; explain: string; gauge?: boolean }>;

export function buildRegistry(dp: DataplaneApi, extra?: { defs: ReadonlyArray<{ name: string; explain: string; gauge?: boolean }>; values: ExtraMetrics }): Registry {
  const registry = new Registry();
  for (const def of extra?.defs ?? []) {
    const value = () => extra!.values().find((r) => r.name === def.name)?.value ?? 0;
    if (def.gauge) {
      new Gauge({ name: `nat64_${def.name.replace(/[^a-zA-Z0-9]/g, '_')}`, help: def.explain, registers: [registry], collect() { this.set(value()); } });
    } else {
      new Counter({ name: counterMetricName(def.name), help: def.explain, registers: [registry], collect() { this.reset(); this.inc(value()); } });
    }
  }
  // One collection per scrape, shared by every metric's collect().
  let snapshot: ReturnType<DataplaneApi['counters']> | null = null;
  const perShard = () => (snapshot ??= dp.counters()).perShard;
  ALL_COUNTER_DEFS.forEach((def, k) => {
    new Counter({
      name: counterMetricName(def.name), help: def.explain, labelNames: ['shard'], registers: [registry],
      collect() {
        if (k === 0) snapshot = null; // the first counter of a scrape takes a fresh snapshot
        this.reset();
        perShard().forEach((row, shard) => this.inc({ shard: String(shard) }, row[def.name] ?? 0));
      },
    });
  });
  const tables = (kind: 'bib' | 'sessions') => function (this: Gauge<'shard' | 'protocol'>) {
    this.reset();
    for (const t of dp.tableCounts?.() ?? []) {
      for (const p of PROTOCOLS) this.set({ shard: String(t.shard), protocol: p }, t[kind][p]);
    }
  };
  new Gauge({ name: 'nat64_bib_entries', help: 'BIB entries (static and dynamic) per shard and protocol.', labelNames: ['shard', 'protocol'], registers: [registry], collect: tables('bib') });
  new Gauge({ name: 'nat64_sessions', help: 'Sessions per shard and protocol.', labelNames: ['shard', 'protocol'], registers: [registry], collect: tables('sessions') });
  // RFC 6888 REQ-4: who is near its limit. Bounded cardinality: the TOP_SUBSCRIBERS most used only.
  // One read of the subscriber tables per scrape (a scan of every shard's table): the ports gauge
  // takes it, the limits gauge after it uses the same report.
  let subscribers: ReturnType<NonNullable<DataplaneApi['subscribers']>> | undefined;
  new Gauge({
    name: 'nat64_subscriber_ports', labelNames: ['subscriber', 'protocol'], registers: [registry],
    help: `Pool4 ports (ICMP identifiers) held per protocol by the ${TOP_SUBSCRIBERS} subscribers closest to their limits (empty while no per-subscriber limit is on).`,
    collect() {
      this.reset();
      subscribers = dp.subscribers?.(TOP_SUBSCRIBERS);
      for (const u of subscribers?.subscribers ?? []) {
        this.set({ subscriber: u.subscriber, protocol: 'TCP' }, u.tcp);
        this.set({ subscriber: u.subscriber, protocol: 'UDP' }, u.udp);
        this.set({ subscriber: u.subscriber, protocol: 'ICMP' }, u.icmp);
      }
    },
  });
  new Gauge({
    name: 'nat64_subscriber_port_limit', labelNames: ['protocol'], registers: [registry],
    help: 'subscriber-port-limit as enforced, per protocol (0: none).',
    collect() {
      this.reset();
      const l = (subscribers ?? dp.subscribers?.(0))?.limits;
      subscribers = undefined;
      if (!l) return;
      this.set({ protocol: 'TCP' }, l.tcp); this.set({ protocol: 'UDP' }, l.udp); this.set({ protocol: 'ICMP' }, l.icmp);
    },
  });
  const portStats: Array<[string, string, keyof ReturnType<DataplaneApi['ports']>[number]['stats']]> = [
    ['nat64_port_rx_packets_total', 'Packets received by the DPDK port.', 'ipackets'],
    ['nat64_port_tx_packets_total', 'Packets transmitted by the DPDK port.', 'opackets'],
    ['nat64_port_rx_bytes_total', 'Bytes received by the DPDK port.', 'ibytes'],
    ['nat64_port_tx_bytes_total', 'Bytes transmitted by the DPDK port.', 'obytes'],
    ['nat64_port_rx_missed_total', 'Packets dropped because the rx queues were full (imissed; net_af_packet: its kernel rings, PACKET_STATISTICS tp_drops).', 'imissed'],
    ['nat64_port_rx_errors_total', 'Erroneous received packets (ierrors).', 'ierrors'],
    ['nat64_port_tx_errors_total', 'Failed transmissions (oerrors).', 'oerrors'],
    ['nat64_port_rx_nombuf_total', 'Receive failures for want of a packet buffer (rx_nombuf).', 'rxNombuf'],
  ];
  let ports: ReturnType<DataplaneApi['ports']> | null = null;
  portStats.forEach(([name, help, field], k) => {
    new Counter({
      name, help, labelNames: ['port'], registers: [registry],
      collect() {
        if (k === 0) ports = null;
        ports ??= dp.ports();
        this.reset();
        for (const p of ports) this.inc({ port: p.configName }, Number(p.stats[field] ?? 0));
      },
    });
  });
  return registry;
}

export class MetricsServer {
  private server: Server | null = null;
  readonly registry: Registry;

  constructor(dp: DataplaneApi, private readonly listen: { host: string; port: number },
    extra?: Parameters<typeof buildRegistry>[1]) {
    this.registry = buildRegistry(dp, extra);
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      if (req.method !== 'GET' || (req.url ?? '/').split('?')[0] !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics\n');
        return;
      }
      this.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(text),
        (e: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${String(e)}\n`),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) =>
        reject(new Nat64Error('E_CONFIG_FIELD', `metrics: cannot listen on ${this.listen.host}:${this.listen.port} (${e.code ?? e.message})`)));
      server.listen(this.listen.port, this.listen.host, () => resolve());
    });
    this.server = server;
  }

  get address(): string {
    const a = this.server?.address();
    return a && typeof a === 'object' ? `${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}` : '';
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (s) await new Promise<void>((resolve) => { s.closeAllConnections(); s.close(() => resolve()); });
  }
}
