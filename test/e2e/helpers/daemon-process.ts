/**
 * `nat64 daemon` as a child process on a file written by the test, with its socket in a temporary
 * directory: for tests that need only vdevs (no namespaces). stop() ends it with SIGTERM.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const BIN = path.resolve(__dirname, '../../../../bin/nat64');

export interface DaemonProcess {
  dir: string;
  socket: string;
  output: () => string;
  /** `nat64 ARGS --socket S`, synchronously. */
  cli: (args: string[]) => { status: number | null; stdout: string; stderr: string };
  /** SIGSTOP freezes it at once (what it wrote so far can be read), SIGCONT resumes it. */
  signal: (sig: NodeJS.Signals) => void;
  stop: () => Promise<void>;
}

/** `ready`: what to wait for (default: the control socket answers); false: nothing. */
export async function startDaemon(config: unknown, label: string, timeoutMs = 30000, ready?: false | (() => boolean)): Promise<DaemonProcess> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `nat64-${label}-`));
  const socket = path.join(dir, 'nat64.sock');
  const file = path.join(dir, 'nat64.json');
  fs.writeFileSync(file, JSON.stringify(config, null, 2));
  const child: ChildProcess = spawn(process.execPath, [BIN, 'daemon', '--config', file, '--socket', socket], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (b: Buffer) => { output += b.toString(); });
  child.stderr!.on('data', (b: Buffer) => { output += b.toString(); });
  const cli = (args: string[]) => spawnSync(process.execPath, [BIN, ...args, '--socket', socket], { encoding: 'utf8', timeout: 20000 });
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill('SIGCONT');
      child.kill('SIGTERM');
      await new Promise((r) => { child.once('exit', r); setTimeout(r, 15000); });
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const end = Date.now() + timeoutMs;
  const isReady = ready === false ? () => true : ready ?? (() => fs.existsSync(socket) && cli(['instance', 'display']).status === 0);
  while (!isReady()) {
    if (child.exitCode !== null || Date.now() > end) {
      await stop();
      throw new Error(`nat64 daemon (${label}) did not start:\n${output.slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, ready ? 5 : 200));
  }
  return { dir, socket, output: () => output, cli, signal: (sig) => { child.kill(sig); }, stop };
}
