import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { COMMANDS, wantsColors } from '../../src/cli/main';
import { RecorderDaemon, runCli as run, Sink } from './helpers/cli-rig';

const BIN = resolve(__dirname, '../../../bin/nat64');
const ESC = /\x1b\[/;

/** A pipe whose reader has gone: every write fails as a real one does. */
class ClosedPipe extends Writable {
  override _write(_chunk: Buffer, _enc: string, cb: (e: Error) => void) {
    cb(Object.assign(new Error('write EPIPE'), { code: 'EPIPE', errno: -32, syscall: 'write' }));
  }
}

/** `bin/nat64 ARGS | head -1` in a shell; resolves with head's output and nat64's status and stderr. */
function pipedToHead(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ status: number; out: string; err: string }> {
  const script = `"${process.execPath}" "${BIN}" ${args.map((a) => `'${a}'`).join(' ')} 2>"$ERRFILE" | head -1; echo "status=\${PIPESTATUS[0]}"`;
  const dir = mkdtempSync(join(tmpdir(), 'nat64-pipe-'));
  const errFile = join(dir, 'err');
  return new Promise((done, fail) => {
    const child = spawn('bash', ['-c', script], { env: { ...process.env, ...env, ERRFILE: errFile } });
    let out = '';
    child.stdout.on('data', (b: Buffer) => { out += b.toString(); });
    child.on('error', fail);
    child.on('close', () => {
      const err = require('node:fs').readFileSync(errFile, 'utf8') as string;
      rmSync(dir, { recursive: true, force: true });
      const m = /status=(\d+)\n$/.exec(out);
      done({ status: m ? Number(m[1]) : -1, out: out.replace(/status=\d+\n$/, ''), err });
    });
  });
}

describe('cli: pipes and terminals (issue 14)', function () {
  this.timeout(20000);

  it('a closed stdout ends quietly with status 0 (in-memory EPIPE)', async () => {
    for (const argv of [['--help'], ['session', 'display', '--help'], ['--version']]) {
      const r = await run(argv, new ClosedPipe());
      assert.equal(r.code, 0, argv.join(' '));
      assert.equal(r.err, '', `nothing on stderr: ${r.err}`);
    }
  });

  it('colours only for a terminal without NO_COLOR', async () => {
    assert.equal(wantsColors(new Sink(true), {}), true);
    assert.equal(wantsColors(new Sink(true), { NO_COLOR: '1' }), false);
    assert.equal(wantsColors(new Sink(false), { FORCE_COLOR: '3', TERM: 'xterm-256color' }), false);
    const saved = process.env.NO_COLOR;
    delete process.env.NO_COLOR;
    try {
      assert.match((await run(['--help'], new Sink(true))).out, ESC, 'a terminal gets colours');
      assert.doesNotMatch((await run(['--help'])).out, ESC);
      assert.doesNotMatch((await run(['pool4', 'display', '--help'])).out, ESC);
      const usage = await run(['pool4', 'add'], new Sink(false));
      assert.doesNotMatch(usage.out + usage.err, ESC);
      process.env.NO_COLOR = '1';
      assert.doesNotMatch((await run(['--help'], new Sink(true))).out, ESC, 'NO_COLOR wins over a terminal');
    } finally {
      if (saved === undefined) delete process.env.NO_COLOR; else process.env.NO_COLOR = saved;
    }
  });

  it('every display command lists --json and --csv in its --help, with an example of each', async () => {
    const displays = COMMANDS.filter((c) => c.paths?.some((p) => p[p.length - 1] === 'display'));
    assert.ok(displays.length >= 7);
    for (const c of displays) {
      const path = c.paths![0];
      if (path.join(' ') === 'file display') continue; // an atomic-configuration file: JSON only
      const help = (await run([...path, '--help'])).out;
      for (const flag of ['--json', '--csv']) {
        assert.match(help, new RegExp(`^\\s+${flag}\\s+\\S`, 'm'), `${path.join(' ')} --help lists ${flag}`);
        assert.match(help, new RegExp(`\\$ nat64 ${path.join(' ')}.* ${flag}`), `${path.join(' ')} --help: an example with ${flag}`);
      }
    }
  });

  describe('the real binary in a shell pipe', () => {
    let d: RecorderDaemon;
    let sock = '';
    // Enough rows that the output outgrows the pipe buffer (64 KiB) after head has gone.
    before(async () => {
      d = await RecorderDaemon.start('nat64-pipe-', (dp) => { dp.sessionRows = Array.from({ length: 4096 }, (_, k) => ({
        protocol: 'UDP' as const, ipv6Local: `2001:db8::${(k >> 8) + 2}`, ipv6LocalPort: 10000 + (k & 255),
        ipv6Remote: '64:ff9b::c612:10', ipv6RemotePort: 5353, ipv4Local: '198.19.0.1', ipv4LocalPort: 1024 + k,
        ipv4Remote: '198.18.0.16', ipv4RemotePort: 5353, state: 'V4 INIT', expiresInMs: 300000, shard: 0,
      })); });
      sock = d.sock;
    });
    after(async () => { await d.stop(); });

    it('`nat64 session display | head -1` prints one line, exit 0, no stack trace', async () => {
      const state = await pipedToHead(['instance', 'add', '--pool6', '64:ff9b::/96', '--socket', sock]);
      assert.equal(state.status, 0, state.err);
      for (const args of [['session', 'display'], ['session', 'display', '--csv'], ['session', 'display', '--json']]) {
        const r = await pipedToHead([...args, '--socket', sock]);
        assert.equal(r.status, 0, `${args.join(' ')}: ${r.err}`);
        assert.equal(r.err, '', `${args.join(' ')}: nothing on stderr`);
        assert.equal(r.out.split('\n').length, 2, r.out);
      }
    });

    it('`nat64 --help | head` has no escape codes, even with a colour terminal type', async () => {
      const r = await pipedToHead(['--help'], { TERM: 'xterm-256color', FORCE_COLOR: '3' });
      assert.equal(r.status, 0, r.err);
      assert.doesNotMatch(r.out, ESC);
    });
  });
});
