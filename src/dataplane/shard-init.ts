import type { CoreConfig } from './core-config';
import type { PortRuntime } from './l2/interfaces';
import type { ShardTableBuffers } from './tables/shard-tables';

/** Everything a shard worker needs, passed once as the Piscina task argument (structured clone). */
export interface ShardInit {
  shard: number;
  shards: number;
  ports: PortRuntime[];
  tables: ShardTableBuffers;
  counters: SharedArrayBuffer;
  mailbox: SharedArrayBuffer;
  neighbors: SharedArrayBuffer;
  /** The instance to translate with at start (a restarted shard gets the current one). */
  instance: CoreConfig | null;
}

/** Control messages on the mailbox. */
export type ShardMessage =
  | { type: 'instance'; cfg: CoreConfig | null }
  | { type: 'mtu'; port: number; mtu: number }
  | { type: 'ping' };
