/**
 * Bench-only shard loop without translation, for the per-stage costs: the same native rx()/tx()
 * as src/dataplane/shard.ts, with a fixed verdict instead of Ingress.frame():
 *   drop     rx + verdict + free                       (the rx stage)
 *   pass     rx + TX unchanged to the other gen port   (rx + tx: "io forward" over the same devices)
 *   handoff  rx, HANDOFF to its own ring, rx again, TX (the hand-off hop, without the cross-core miss)
 * Runs in a worker_threads Worker started by scenario.ts; returns when `stop` is set.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Action, RX_DATA, RX_LEN, RX_STRIDE, VERDICT_STRIDE, V_ACTION, V_DATA, V_LEN, V_PARAM } from '../src/dataplane/abi';
import { loadNative } from '../src/native';

export type StageMode = 'drop' | 'pass' | 'handoff';
export interface StageJob { shard: number; mode: StageMode; outPort: number; stop: SharedArrayBuffer }

const MARK = 0xee; // last byte of the source MAC: "already handed off once"

function loop(job: StageJob): number {
  const n = loadNative();
  const views = n.shardAttach(job.shard);
  const rx = views.rxDesc, v = views.verdict, buf = new Uint8Array(views.arena);
  const stop = new Int32Array(job.stop);
  const mode = job.mode === 'drop' ? 0 : job.mode === 'pass' ? 1 : 2;
  let packets = 0;
  while (Atomics.load(stop, 0) === 0) {
    const got = n.rx(job.shard);
    for (let i = 0; i < got; i++) {
      const b = i * VERDICT_STRIDE, d = i * RX_STRIDE;
      const data = rx[d + RX_DATA];
      if (mode === 0) { v[b + V_ACTION] = Action.DROP; continue; }
      if (mode === 2 && buf[data + 11] !== MARK) {
        buf[data + 11] = MARK;
        v[b + V_ACTION] = Action.HANDOFF; v[b + V_PARAM] = job.shard; v[b + V_LEN] = 0;
        continue;
      }
      v[b + V_ACTION] = Action.TX; v[b + V_PARAM] = job.outPort; v[b + V_DATA] = data; v[b + V_LEN] = rx[d + RX_LEN];
    }
    n.tx(job.shard, got);
    packets += got;
  }
  return packets;
}

if (parentPort && workerData) parentPort.postMessage(loop(workerData as StageJob));
