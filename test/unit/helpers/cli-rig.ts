/**
 * The CLI's unit tests: `main()` run in-process with its output captured, and a control socket
 * served by a ControlState over the recorder data plane (control-recorder.ts) for it to talk to.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { main } from '../../../src/cli/main';
import { ControlServer } from '../../../src/control/server';
import { ControlState } from '../../../src/control/state';
import { RecorderDataplane } from '../control-recorder';

/** A stream that keeps what is written; `isTTY` as a terminal's or a pipe's stdout says. */
export class Sink extends Writable {
  text = '';
  constructor(readonly isTTY = false) { super(); }
  override _write(chunk: Buffer, _enc: string, cb: () => void) { this.text += chunk.toString(); cb(); }
}

/** `nat64 ARGV` in this process: exit code, stdout (when it is a Sink) and stderr. */
export async function runCli(argv: string[], stdout: Writable = new Sink()): Promise<{ code: number; out: string; err: string }> {
  const stderr = new Sink();
  const code = await main(argv, { stdin: new PassThrough() as never, stdout: stdout as never, stderr: stderr as never });
  await new Promise((r) => setImmediate(r)); // a stream's 'error' event comes on the next tick
  process.exitCode = 0; // main sets it for the real binary; the test runner must not inherit it
  return { code, out: stdout instanceof Sink ? stdout.text : '', err: stderr.text };
}

/** A control socket in a fresh directory, served over a RecorderDataplane (`prepare` fills it first). */
export class RecorderDaemon {
  readonly dir: string;
  readonly sock: string;
  readonly dp = new RecorderDataplane();
  private readonly server: ControlServer;

  private constructor(prefix: string) {
    this.dir = mkdtempSync(join(tmpdir(), prefix));
    this.sock = join(this.dir, 'nat64.sock');
    this.server = new ControlServer(new ControlState(this.dp), { path: this.sock });
  }

  static async start(prefix: string, prepare?: (dp: RecorderDataplane) => void): Promise<RecorderDaemon> {
    const d = new RecorderDaemon(prefix);
    prepare?.(d.dp);
    await d.server.listen();
    return d;
  }

  /** `nat64 ARGV --socket` this daemon's socket. */
  cli(...argv: string[]): ReturnType<typeof runCli> { return runCli([...argv, '--socket', this.sock]); }

  async stop(): Promise<void> {
    await this.server.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
