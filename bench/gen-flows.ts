/**
 * The generator's per-flow tables (native genStart): for flow k the 32-bit word and the 16-bit
 * port it writes into the template, and the rx queue (ring) it enters on.
 *
 * Queue choice ("steer"): `owner` puts every frame on the queue polled by the shard that owns the
 * flow (as a NIC whose RSS or flow director agrees with the translator's sharding: no hand-off);
 * `spread` puts flow k on queue k % queues (an RSS that knows nothing of the sharding: with 2
 * shards half the frames take one hand-off hop).
 */
import { hashOwner6 } from '../src/dataplane/classify';
import { clientAddress6, clientHost, clientPort, type Proto } from './traffic';

export type Steer = 'owner' | 'spread';

export interface Flows { addr: Uint32Array; port: Uint16Array; queue: Uint8Array }

const PROTO_NUMBER = { UDP: 17, TCP: 6 } as const;

/** IPv6 -> IPv4: flow k's client address word (host) and port. */
export function flows6(n: number, proto: Proto, shards: number, steer: Steer, pph?: number): Flows {
  const f: Flows = { addr: new Uint32Array(n), port: new Uint16Array(n), queue: new Uint8Array(n) };
  for (let k = 0; k < n; k++) {
    f.addr[k] = clientHost(k, pph);
    f.port[k] = clientPort(k, pph);
    f.queue[k] = steer === 'owner' && shards > 1 ? hashOwner6(PROTO_NUMBER[proto], clientAddress6(k, pph), 0, clientPort(k, pph), shards) : k % shards;
  }
  return f;
}

/** IPv4 -> IPv6: the pool4 transport address the translator gave flow k (read back from the BIB). */
export function flows4(a4: Uint32Array, p4: Uint16Array, shards: number, steer: Steer): Flows {
  const n = a4.length;
  const f: Flows = { addr: a4, port: p4, queue: new Uint8Array(n) };
  // The owner of an IPv4 -> IPv6 packet is the shard that owns its pool4 port (port % shards).
  for (let k = 0; k < n; k++) f.queue[k] = steer === 'owner' ? p4[k] % shards : k % shards;
  return f;
}
