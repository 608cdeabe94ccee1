import type { CoreConfig } from './core-config';
import type { DataplaneConfig } from '../control/config-types';
import type { PortInfo, PortStats } from '../native/types';

export type Protocol = 'TCP' | 'UDP' | 'ICMP';

export interface BibRow {
  protocol: Protocol;
  ipv6: string; ipv6Port: number;
  ipv4: string; ipv4Port: number;
  static: boolean;
  shard: number;
}

export interface SessionRow {
  protocol: Protocol;
  /** IPv6 node's transport address and the pool6 address it talks to. */
  ipv6Local: string; ipv6LocalPort: number;
  ipv6Remote: string; ipv6RemotePort: number;
  /** pool4 transport address and the IPv4 node's. */
  ipv4Local: string; ipv4LocalPort: number;
  ipv4Remote: string; ipv4RemotePort: number;
  state: string;
  expiresInMs: number;
  shard: number;
  /** "peer": applied from a peer's sync record (docs/session-sync.md); "local": made here. */
  origin?: 'local' | 'peer';
}

/** One subscriber (RFC 6888 REQ-4) over all shards: what it holds and the limits (0 = none). */
export interface SubscriberRow {
  subscriber: string;
  tcp: number; udp: number; icmp: number;
  /** Highest held/limit over the protocols with a limit (0 when none has one). */
  usage: number;
}

export interface SubscriberReport {
  /** 0 when no per-subscriber limit is configured (no accounting, no rows). */
  prefixLength: number;
  /** What all shards together enforce: each shard's limit times the shard count. */
  limits: { tcp: number; udp: number; icmp: number; mappingsPerSecond: number };
  /** Subscribers holding anything, most used first (by usage, then by ports held). */
  subscribers: SubscriberRow[];
}

export interface PortRow extends PortInfo {
  configName: string;
  addresses: string[];
  /** dataplane.ports[].virtualAddresses and whether this node holds each now (docs/ha.md). */
  virtualAddresses: Array<{ address: string; claimed: boolean }>;
  stats: PortStats;
}

export interface VirtualRow { port: string; address: string; claimed: boolean }

export interface ShardStatusRow { shard: number; restarts: number; lastRestartMs: number; heartbeatAgeMs: number }

/**
 * The main-thread side of the data plane, as the control plane sees it. Queries read the shards'
 * shared-memory tables and counters directly (they never stop translation); changes reach the
 * shards as messages on their control mailboxes and resolve once every shard has applied them.
 */
export interface DataplaneApi {
  start(cfg: DataplaneConfig): Promise<void>;
  /** Atomically (every shard or none) replace the translating instance; null stops translation. */
  setInstance(cfg: CoreConfig | null): Promise<void>;
  counters(): { total: Record<string, number>; perShard: Array<Record<string, number>> };
  ports(): PortRow[];
  setPortMtu(name: string, mtu: number): Promise<void>;
  /** Claim (true) or release virtual addresses: all, a port's, or the listed ones (docs/ha.md). */
  setVirtual(claim: boolean, port?: string, addresses?: string[]): Promise<VirtualRow[]>;
  /** Shard liveness (health check). */
  shardStatus(): ShardStatusRow[];
  /** `within`: only the entries of IPv6 sources inside this prefix (a subscriber). */
  bib(protocol?: Protocol, within?: { addr: Uint8Array; len: number }): BibRow[];
  sessions(protocol?: Protocol, within?: { addr: Uint8Array; len: number }): SessionRow[];
  /** Per-subscriber accounting (RFC 6888 REQ-4), top `top` subscribers. Optional for test recorders. */
  subscribers?(top: number): SubscriberReport;
  stop(): Promise<void>;
  /** BIB entries and sessions per shard and protocol (metrics). Optional: test recorders may omit it. */
  tableCounts?(): Array<{ shard: number; bib: Record<Protocol, number>; sessions: Record<Protocol, number> }>;
  /** Where RFC 6888 mapping log lines go (logging-bib/logging-session); the daemon sets it. */
  onMappingLog?: (line: string) => void;
}
