import { spawn } from 'node:child_process';
import { memoryArgs } from '../src/native/eal-args';

/**
 * What the box moves with no translation at all: dpdk-testpmd forwarding (io, or 5tswap which also
 * swaps addresses and ports) from port 0 to port 1 of the given vdevs, one forwarding lcore.
 * Returns the median of the per-second Tx-pps samples of port 1, in Mpps.
 *   pcap: net_pcap infinite replay -> net_null (the devices of the "pcap" scenarios)
 *   null: net_null rx -> net_null (the devices of the "null" scenarios, without the generator's
 *         callbacks; their cost is the "pass" stage row)
 */
export async function testpmdMpps(vdevs: [string, string], seconds: number, mode: 'io' | '5tswap' = 'io'): Promise<number> {
  const mem = memoryArgs();
  // Without hugepages EAL's default 64 MB cannot hold testpmd's mbuf pools (as scenario.ts does).
  const args = ['--no-pci', '--iova-mode=va', '--no-telemetry', '-l', '0,1', '--log-level=error', ...mem,
    ...(mem.includes('--no-huge') ? ['-m', '1024'] : []), `--vdev=${vdevs[0]}`, `--vdev=${vdevs[1]}`, '--',
    `--forward-mode=${mode}`, '--port-topology=chained', '--stats-period=1', '--auto-start'];
  const p = spawn('dpdk-testpmd', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  p.stdout.on('data', (b: Buffer) => { out += b.toString(); });
  p.stderr.on('data', (b: Buffer) => { out += b.toString(); });
  // Listened for from the start: a testpmd that fails at once (no memory, a bad vdev) exits before
  // the measurement ends, and a listener added afterwards would wait forever (the bench then ended
  // silently with status 0 when nothing else was pending).
  let exited = false;
  const exit = new Promise((r) => p.on('exit', () => { exited = true; r(undefined); }));
  await Promise.race([exit, new Promise((r) => setTimeout(r, (seconds + 2) * 1000))]);
  if (exited) throw new Error(`dpdk-testpmd exited early (status ${p.exitCode}):\n${out.slice(-2000)}`);
  p.kill('SIGINT');
  await exit;
  const samples: number[] = [];
  const re = /NIC statistics for port 1[\s\S]*?Tx-pps:\s+(\d+)/g;
  for (let m = re.exec(out); m; m = re.exec(out)) samples.push(Number(m[1]));
  const good = samples.filter((s) => s > 0).sort((a, b) => a - b);
  if (good.length === 0) throw new Error(`testpmd gave no rate:\n${out.slice(-2000)}`);
  return good[Math.floor(good.length / 2)] / 1e6;
}
