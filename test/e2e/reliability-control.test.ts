/**
 * Control plane against the real daemon while traffic flows (issue 6): clients that crash
 * mid-request, send garbage, flood connections or leave without reading never affect the
 * daemon or translation; unprivileged users cannot reach the socket. (Unit tests cover the
 * same against the recorder: test/unit/control-socket.test.ts.)
 */
import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { RelNet, sleep } from './reliability-net';

function connect(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createConnection(path);
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

describe('reliability: control-socket clients cannot hurt the daemon (traffic flowing)', function () {
  this.timeout(120000);
  const net = new RelNet({ prefix: 'n64rlc', shards: 2 });
  before(async () => {
    await net.up();
    assert.equal(net.cli(['instance', 'add', 'example', '--pool6', '64:ff9b::/96']).status, 0);
  });
  after(async () => { await net.down(); });

  it('half requests, garbage, oversized lines, clients killed mid-request and a connection flood', async () => {
    const flow = net.probe(0, 46000, 8);
    await sleep(500);
    const sock = net.socket;
    // 1. Half a request, then the client vanishes.
    const half = await connect(sock);
    half.write('{"id":1,"command":["session","disp');
    half.destroy();
    // 2. Binary garbage with newlines: each line is answered with E_PROTOCOL, nothing else happens.
    const garbage = await connect(sock);
    let answers = '';
    garbage.on('data', (b) => { answers += b; });
    garbage.on('error', () => undefined);
    for (let i = 0; i < 20; i++) garbage.write(Buffer.concat([randomBytes(200), Buffer.from('\n')]));
    await sleep(300);
    garbage.destroy();
    assert.match(answers, /E_PROTOCOL/);
    // 3. A 4 MB line without a newline: bounded by the line splitter, then the connection is closed.
    const big = await connect(sock);
    big.on('error', () => undefined);
    const closed = new Promise((r) => big.on('close', r));
    big.write(Buffer.alloc(4 << 20, 0x41));
    await Promise.race([closed, sleep(5000)]);
    big.destroy();
    // 4. A request whose client leaves before the answer (the daemon's write hits a closed socket).
    for (let i = 0; i < 20; i++) {
      const s = await connect(sock);
      s.on('error', () => undefined);
      s.end('{"id":2,"command":["session","display"],"args":{}}\n');
      s.destroy();
    }
    // 5. A CLI process SIGKILLed mid-request, several times.
    for (let i = 0; i < 5; i++) {
      const c = spawn(process.execPath, ['-e', `
        const s = require('net').createConnection(${JSON.stringify(sock)});
        s.on('connect', () => { s.write('{"id":3,"command":["stats","disp'); setInterval(() => {}, 1000); });`]);
      await sleep(150);
      c.kill('SIGKILL');
    }
    // 6. More connections than the daemon accepts (maxConnections 64), held open, then dropped.
    const flood: Socket[] = [];
    for (let i = 0; i < 100; i++) {
      const s = createConnection(sock);
      s.on('error', () => undefined);
      flood.push(s);
    }
    await sleep(500);
    for (const s of flood) s.destroy();
    await sleep(200);
    // The daemon still answers, configuration intact, translation never stopped.
    const d = net.cli(['instance', 'display', '--json']);
    assert.equal(d.status, 0, d.stderr);
    assert.match(d.stdout, /example/);
    const p = await flow;
    assert.equal(net.daemon!.exitCode, null, net.output);
    assert.ok(p.maxGapMs < 500, `flow gap ${p.maxGapMs} ms`);
    assert.ok(p.received >= p.sent * 0.97, `flow ${p.received}/${p.sent}`);
    assert.doesNotMatch(net.output, /internal error|Unhandled|TypeError/);
  });

  it('the socket is 0600 root: an unprivileged user cannot connect', () => {
    const st = fs.statSync(net.socket);
    assert.equal(st.mode & 0o777, 0o600);
    assert.equal(st.uid, 0);
    const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '-e', `
      const s = require('net').createConnection(${JSON.stringify(net.socket)});
      s.on('connect', () => { console.log('connected'); process.exit(0); });
      s.on('error', (e) => { console.log(e.code); process.exit(0); });`], { encoding: 'utf8', timeout: 10000 });
    assert.match(r.stdout, /EACCES/, r.stdout + r.stderr);
  });
});
