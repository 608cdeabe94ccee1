/**
 * The one test double allowed: a DataplaneApi that records what the control plane hands it and
 * can be told to refuse the next change (as a real data plane might, e.g. a shard that died).
 */
import type { CoreConfig } from '../../src/dataplane/core-config';
import type { BibRow, DataplaneApi, PortRow, Protocol, SessionRow, ShardStatusRow, VirtualRow } from '../../src/dataplane/manager-api';
import type { DataplaneConfig } from '../../src/control/config-types';

export class RecorderDataplane implements DataplaneApi {
  started: DataplaneConfig | null = null;
  stopped = false;
  applied: Array<CoreConfig | null> = [];
  failNext: Error | null = null;
  delayMs = 0;
  bibRows: BibRow[] = [];
  sessionRows: SessionRow[] = [];
  totals: Record<string, number> = {};
  mtus: Record<string, number> = { v6: 1500, v4: 1500 };
  /** Virtual addresses of port v4 and whether they are held (docs/ha.md). */
  virtual: Record<string, boolean> = { '203.0.113.1/24': false };
  shardRows: ShardStatusRow[] = [{ shard: 0, restarts: 0, lastRestartMs: -1, heartbeatAgeMs: 5 }];
  linkV4: 'up' | 'down' = 'up';

  async start(cfg: DataplaneConfig): Promise<void> { this.started = cfg; }
  async stop(): Promise<void> { this.stopped = true; }

  async setInstance(cfg: CoreConfig | null): Promise<void> {
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    if (this.failNext) { const e = this.failNext; this.failNext = null; throw e; }
    this.applied.push(cfg);
  }

  get last(): CoreConfig | null | undefined { return this.applied[this.applied.length - 1]; }

  counters() { return { total: this.totals, perShard: [this.totals] }; }

  ports(): PortRow[] {
    const stats = { ipackets: 0, opackets: 0, ibytes: 0, obytes: 0, imissed: 0, ierrors: 0, oerrors: 0, rxNombuf: 0 };
    const row = (portId: number, configName: string, addresses: string[]): PortRow => ({
      portId, name: `net_af_packet${portId}`, driver: 'net_af_packet', mac: `02:00:00:00:00:0${portId + 1}`,
      maxRxQueues: 1, maxTxQueues: 1, rxQueues: 1, txQueues: 1, mtu: this.mtus[configName], configName, addresses, stats,
      virtualAddresses: configName === 'v4' ? Object.entries(this.virtual).map(([address, claimed]) => ({ address, claimed })) : [],
      rxChecksum: 'detect', rxOffloads: [], txOffloads: [], kernel: ['gro off'], link: configName === 'v4' ? this.linkV4 : 'up', linkSpeedMbps: 10000,
    });
    return [row(0, 'v6', ['2001:db8::1/96']), row(1, 'v4', ['203.0.113.1/24'])];
  }

  async setPortMtu(name: string, mtu: number): Promise<void> {
    if (this.failNext) { const e = this.failNext; this.failNext = null; throw e; }
    this.mtus[name] = mtu;
  }

  async setVirtual(claim: boolean, port?: string, addresses?: string[]): Promise<VirtualRow[]> {
    if (this.failNext) { const e = this.failNext; this.failNext = null; throw e; }
    const names = Object.keys(this.virtual).filter((a) => port === undefined || port === 'v4')
      .filter((a) => !addresses || addresses.some((x) => x.split('/')[0] === a.split('/')[0]));
    for (const a of names) this.virtual[a] = claim;
    return names.map((a) => ({ port: 'v4', address: a, claimed: claim }));
  }

  shardStatus(): ShardStatusRow[] { return this.shardRows; }

  bib(protocol?: Protocol): BibRow[] { return this.bibRows.filter((r) => !protocol || r.protocol === protocol); }
  sessions(protocol?: Protocol): SessionRow[] { return this.sessionRows.filter((r) => !protocol || r.protocol === protocol); }
}
