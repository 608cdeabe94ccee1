import { Shard } from './shard';
import type { ShardInit } from './shard-init';

/**
 * The Piscina task: one per shard, long-lived (a task costs 25-35 µs to dispatch, so never one per
 * batch). It returns only when the control plane sets the shard's STOP flag.
 */
export default function runShard(init: ShardInit): { shard: number } {
  new Shard(init).run();
  return { shard: init.shard };
}
