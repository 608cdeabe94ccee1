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
  /** One claim word per virtual address (virtual-addresses.ts). */
  virtual?: SharedArrayBuffer;
  /** RFC 6888 mapping-log ring (events.ts), drained by the main thread. */
  events?: SharedArrayBuffer;
  /** Session sync (ss-enabled): this shard's record ring (sync/ring.ts), drained by the main thread. */
  syncRing?: SharedArrayBuffer;
  /** Session sync: IPv6 owners of mappings applied from peers (sync/redirect.ts), shared by all shards. */
  redirect?: SharedArrayBuffer;
  /** The instance to translate with at start (a restarted shard gets the current one). */
  instance: CoreConfig | null;
  /**
   * NAT64_TEST_HOOKS set in the daemon's environment (docs/reliability.md): only then does the shard
   * accept the 'test-crash' message. Never set in production.
   */
  testHooks?: boolean;
  /** dataplane.flowCacheEntries (undefined: the default size; 0: no flow cache). */
  flowCacheEntries?: number;
  /** RFC 4443 §2.4(f) token bucket of the errors this shard originates (translate/icmp-rate-limit.ts). */
  icmpErrors?: { perSecond: number; burst: number };
}

/** Control messages on the mailbox. */
export type ShardMessage =
  | { type: 'instance'; cfg: CoreConfig | null }
  | { type: 'mtu'; port: number; mtu: number }
  | { type: 'ping' }
  /** Session sync: apply n of a peer's records (sync/record.ts layout); answers counts by APPLY_RESULTS. */
  | { type: 'sync-apply'; recs: Int32Array; n: number }
  /** Announce virtual addresses just claimed (gratuitous ARP / unsolicited NA), by port index. */
  | { type: 'announce'; items: Array<{ port: number; family: 4 | 6; addr4: number; addr6: Uint8Array }> }
  /** Reliability tests: make this shard's task die (throw from the loop, or exit its worker thread). */
  | { type: 'test-crash'; how: 'throw' | 'exit' };
