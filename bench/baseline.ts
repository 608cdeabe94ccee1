import { spawn } from 'node:child_process';
import { memoryArgs } from '../src/native/eal-args';

/**
 * What the box moves with no translation at all: dpdk-testpmd forwarding (io mode, or 5tswap) from
 * the same net_pcap replay to net_null that the scenario uses, over the same time window. Returns
 * the median of the per-second Tx-pps samples of the null port, in Mpps.
 */
export async function testpmdMpps(pcap: string, seconds: number, mode: 'io' | '5tswap' = 'io'): Promise<number> {
  const args = ['--no-pci', '--iova-mode=va', '--no-telemetry', '-l', '0,1', '--log-level=error', ...memoryArgs(),
    `--vdev=net_pcap0,rx_pcap=${pcap},infinite_rx=1`, '--vdev=net_null0,no-rx=1', '--',
    `--forward-mode=${mode}`, '--port-topology=chained', '--stats-period=1', '--auto-start'];
  const p = spawn('dpdk-testpmd', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  p.stdout.on('data', (b: Buffer) => { out += b.toString(); });
  p.stderr.on('data', (b: Buffer) => { out += b.toString(); });
  await new Promise((r) => setTimeout(r, (seconds + 3) * 1000));
  p.kill('SIGINT');
  await new Promise((r) => p.on('exit', r));
  // Per-port blocks: "Port 1 ... Tx-pps: N"; the null port is port 1.
  const samples: number[] = [];
  const re = /NIC statistics for port 1[\s\S]*?Tx-pps:\s+(\d+)/g;
  for (let m = re.exec(out); m; m = re.exec(out)) samples.push(Number(m[1]));
  const good = samples.filter((s) => s > 0).sort((a, b) => a - b);
  if (good.length === 0) throw new Error(`testpmd gave no rate:\n${out.slice(-2000)}`);
  return good[Math.floor(good.length / 2)] / 1e6;
}
