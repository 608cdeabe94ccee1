/**
 * I/O loop benchmark of the native addon, no translation: how fast a shard worker can move
 * packets through rx -> verdict -> tx, on net_pcap (infinite_rx replay of 64-byte UDP frames this
 * script writes) into net_null.
 *   direct:  one worker, every verdict TX.
 *   handoff: worker A receives and hands every packet to shard 1; worker B (the other core) takes
 *            them from its hand-off ring and transmits. One extra hop, as when RSS and the owner
 *            shard disagree.
 * Prints Mpps and ns/packet per scenario; writes bench/results/io-loop.json.
 * Run: node dist/bench/io-loop.js [seconds]   (root; a figure, not a test)
 */
import { mkdirSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { isMainThread, parentPort, Worker, workerData } from 'worker_threads';
import { Action, V_ACTION, V_DATA, V_LEN, V_PARAM, RX_DATA, RX_LEN, VERDICT_STRIDE, RX_STRIDE } from '../src/dataplane/abi';
import { loadNative, testEalArgs } from '../src/native';

interface Job { shard: number; action: Action; param: number; stop: SharedArrayBuffer }
interface Done { shard: number; packets: number; ns: number }

/** A classic pcap (LINKTYPE_ETHERNET) of `count` 64-byte Ethernet/IPv4/UDP frames (60 + FCS). */
function writePcap(path: string, count: number): void {
  const frameLen = 60;
  const buf = Buffer.alloc(24 + count * (16 + frameLen));
  buf.writeUInt32LE(0xa1b2c3d4, 0); // magic, microsecond timestamps
  buf.writeUInt16LE(2, 4);
  buf.writeUInt16LE(4, 6);
  buf.writeUInt32LE(65535, 16); // snaplen
  buf.writeUInt32LE(1, 20); // Ethernet
  for (let i = 0; i < count; i++) {
    let o = 24 + i * (16 + frameLen);
    buf.writeUInt32LE(frameLen, o + 8);
    buf.writeUInt32LE(frameLen, o + 12);
    o += 16;
    Buffer.from('020000000001020000000002', 'hex').copy(buf, o);
    buf.writeUInt16BE(0x0800, o + 12);
    const ip = o + 14;
    buf[ip] = 0x45;
    buf.writeUInt16BE(frameLen - 14, ip + 2);
    buf[ip + 8] = 64;
    buf[ip + 9] = 17;
    buf.writeUInt32BE(0xc0000201, ip + 12); // 192.0.2.1
    buf.writeUInt32BE(0xc6336400 + (i & 0xff), ip + 16); // 198.51.100.x: varied flows
    buf.writeUInt16BE(1024 + i, ip + 20);
    buf.writeUInt16BE(53, ip + 22);
    buf.writeUInt16BE(frameLen - 34, ip + 24);
  }
  writeFileSync(path, buf);
}

/** The shard loop: every packet gets the same verdict; the JS work per packet is the verdict write. */
function loop(job: Job): Done {
  const n = loadNative();
  const { rxDesc, verdict } = n.shardAttach(job.shard);
  const stop = new Int32Array(job.stop);
  let packets = 0;
  const t0 = process.hrtime.bigint();
  while (Atomics.load(stop, 0) === 0) {
    const got = n.rx(job.shard);
    for (let i = 0; i < got; i++) {
      const v = i * VERDICT_STRIDE;
      const d = i * RX_STRIDE;
      verdict[v + V_ACTION] = job.action;
      verdict[v + V_PARAM] = job.param;
      verdict[v + V_DATA] = rxDesc[d + RX_DATA];
      verdict[v + V_LEN] = rxDesc[d + RX_LEN];
    }
    n.tx(job.shard, got);
    packets += got;
  }
  return { shard: job.shard, packets, ns: Number(process.hrtime.bigint() - t0) };
}

function start(job: Job): Promise<Done> {
  return new Promise((resolve, reject) => {
    const w = new Worker(__filename, { workerData: job });
    w.once('message', resolve);
    w.once('error', reject);
  });
}

async function scenario(name: string, seconds: number, jobs: Job[], stop: SharedArrayBuffer, countShard: number) {
  const n = loadNative();
  const before = n.shardStats(countShard).txPackets;
  const lostBefore = n.shardStats(0).handoffDropped;
  const running = jobs.map(start);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  Atomics.store(new Int32Array(stop), 0, 1);
  const done = await Promise.all(running);
  Atomics.store(new Int32Array(stop), 0, 0);
  const sent = n.shardStats(countShard).txPackets - before;
  const ns = Math.max(...done.map((d) => d.ns));
  const mpps = (sent / ns) * 1e3;
  // Hand-offs lost to a full ring (the consumer slower than the producer) are not in `packets`.
  const handoffDropped = n.shardStats(0).handoffDropped - lostBefore;
  const result = { scenario: name, seconds: ns / 1e9, packets: sent, mpps: +mpps.toFixed(2), nsPerPacket: +(ns / sent).toFixed(1), handoffDropped };
  console.log(`${name.padEnd(8)} ${result.mpps.toFixed(2)} Mpps  ${result.nsPerPacket} ns/packet  (${sent} packets, ${handoffDropped} hand-offs dropped)`);
  return result;
}

async function main(): Promise<void> {
  const seconds = Number(process.argv[2] ?? 3);
  const dir = join(tmpdir(), `nat64-io-loop-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const pcap = join(dir, 'udp64.pcap');
  writePcap(pcap, 1024);
  const n = loadNative();
  n.ealInit(testEalArgs());
  n.mempoolCreate(16383);
  const rxPort = n.portProbe(`net_pcap0,rx_pcap=${pcap},infinite_rx=1`);
  const txPort = n.portProbe('net_null0');
  for (const p of [rxPort, txPort]) n.portStart(p, { rxQueues: 1, txQueues: 1, mtu: 1500 });
  n.shardCreate(0, 2, [{ portId: rxPort, queue: 0 }]);
  n.shardCreate(1, 2, []);
  const stop = new SharedArrayBuffer(4);
  const results = [
    await scenario('direct', seconds, [{ shard: 0, action: Action.TX, param: txPort, stop }], stop, 0),
    await scenario('handoff', seconds, [
      { shard: 0, action: Action.HANDOFF, param: 1, stop },
      { shard: 1, action: Action.TX, param: txPort, stop },
    ], stop, 1),
  ];
  const out = { bench: 'io-loop', date: new Date().toISOString(), node: process.version, eal: testEalArgs(),
    rx: n.portInfo(rxPort).driver, tx: n.portInfo(txPort).driver, frameBytes: 64, results,
    shardStats: [n.shardStats(0), n.shardStats(1)] };
  mkdirSync(join(__dirname, '..', '..', 'bench', 'results'), { recursive: true });
  writeFileSync(join(__dirname, '..', '..', 'bench', 'results', 'io-loop.json'), JSON.stringify(out, null, 2) + '\n');
  n.shutdown();
  rmSync(dir, { recursive: true, force: true });
}

if (isMainThread) {
  main().catch((e) => { console.error(e); process.exitCode = 1; });
} else {
  parentPort!.postMessage(loop(workerData as Job));
}
