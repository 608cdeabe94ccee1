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
}

export interface PortRow extends PortInfo { configName: string; addresses: string[]; stats: PortStats }

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
  bib(protocol?: Protocol): BibRow[];
  sessions(protocol?: Protocol): SessionRow[];
  stop(): Promise<void>;
  /** BIB entries and sessions per shard and protocol (metrics). Optional: test recorders may omit it. */
  tableCounts?(): Array<{ shard: number; bib: Record<Protocol, number>; sessions: Record<Protocol, number> }>;
  /** Where RFC 6888 mapping log lines go (logging-bib/logging-session); the daemon sets it. */
  onMappingLog?: (line: string) => void;
}
