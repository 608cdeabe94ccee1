import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { call } from '../../src/cli/client';
import { ControlServer } from '../../src/control/server';
import { ControlState } from '../../src/control/state';
import { RecorderDataplane } from './control-recorder';

/** Raw client: send bytes, collect the response lines. */
function raw(path: string, data: string | Buffer, wantLines: number): Promise<any[]> {
  return new Promise((resolve, reject) => {
    const s: Socket = createConnection(path);
    let buf = '';
    s.on('connect', () => s.write(data));
    s.on('data', (d) => {
      buf += d.toString();
      const lines = buf.split('\n').filter(Boolean);
      if (lines.length >= wantLines) { s.destroy(); resolve(lines.map((l) => JSON.parse(l))); }
    });
    s.on('close', () => resolve(buf.split('\n').filter(Boolean).map((l) => JSON.parse(l))));
    s.on('error', reject);
  });
}

describe('control socket (real Unix socket)', () => {
  let dir: string, path: string, dp: RecorderDataplane, server: ControlServer, state: ControlState;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nat64-ctl-'));
    path = join(dir, 'run', 'nat64.sock');
    dp = new RecorderDataplane();
    state = new ControlState(dp);
    server = new ControlServer(state, { path, maxLineBytes: 4096 });
    await server.listen();
  });
  afterEach(async () => { await server.close(); rmSync(dir, { recursive: true, force: true }); });

  it('creates the directory 0750 and the socket 0600', () => {
    assert.equal(statSync(join(dir, 'run')).mode & 0o777, 0o750);
    assert.equal(statSync(path).mode & 0o777, 0o600);
  });

  it('round trip: a change and a display, errors with code and message', async () => {
    await call({ socket: path }, ['instance', 'add'], undefined, { pool6: '64:ff9b::/96' });
    await call({ socket: path }, ['pool4', 'add'], 'default', { prefix: '203.0.113.1', ports: '61001-65535', protocol: 'UDP' });
    const rows = await call({ socket: path }, ['pool4', 'display'], undefined, {}) as any[];
    assert.deepEqual(rows.map((r) => [r.protocol, r.address, r.portMin, r.portMax]), [['UDP', '203.0.113.1', 61001, 65535]]);
    assert.equal(dp.last!.pool4.UDP.length, 1);
    await assert.rejects(call({ socket: path }, ['pool4', 'add'], undefined, { prefix: '203.0.113.1/33' }), { code: 'E_BAD_PREFIX' });
    await assert.rejects(call({ socket: path }, ['pool4', 'add'], undefined, { prefix: '203.0.113.1', colour: 'red' }), { code: 'E_PROTOCOL' });
    await assert.rejects(call({ socket: path }, ['pool5', 'add'], undefined, {}), { code: 'E_UNKNOWN_COMMAND' });
    await assert.rejects(call({ socket: path }, ['global', 'display'], 'nope', {}), { code: 'E_INSTANCE_NOT_FOUND' });
  });

  it('answers garbage with E_PROTOCOL and keeps serving the same connection', async () => {
    const res = await raw(path, 'not json\n{"id":7}\n[1]\n{"id":8,"command":["instance","display"]}\n', 4);
    assert.deepEqual(res.map((r) => r.ok), [false, false, false, true]);
    assert.deepEqual(res.map((r) => r.error?.code ?? 'ok'), ['E_PROTOCOL', 'E_PROTOCOL', 'E_PROTOCOL', 'ok']);
    assert.equal(res[1].id, 7);
    assert.equal(res[3].id, 8);
  });

  it('closes a connection that sends an oversized line, and the daemon goes on', async () => {
    const res = await raw(path, Buffer.alloc(10_000, 'a'), 1);
    assert.equal(res[0].error.code, 'E_PROTOCOL');
    assert.deepEqual(await call({ socket: path }, ['instance', 'display'], undefined), []);
  });

  it('a client leaving mid-request changes nothing half-way, and others are served', async () => {
    dp.delayMs = 50;
    const s = createConnection(path);
    await new Promise((r) => s.on('connect', r));
    s.write('{"id":1,"command":["instance","add"],"args":{"pool6":"64:ff9b::/96"}}\n{"id":2,"comm');
    s.destroy();
    await new Promise((r) => setTimeout(r, 100));
    // The complete request ran to completion (atomically); the torn one never started.
    assert.equal(state.instance?.name, 'default');
    assert.equal(dp.applied.length, 1);
    assert.equal((await call({ socket: path }, ['instance', 'status'], undefined) as any).status, 'Running');
  });

  it('refuses to start over a live daemon, replaces a stale socket file', async () => {
    const second = new ControlServer(state, { path });
    await assert.rejects(second.listen(), { code: 'E_DAEMON_RUNNING' });
    await server.close();
    // A daemon killed with SIGKILL leaves its socket file behind.
    const script = `require('net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`;
    spawnSync(process.execPath, ['-e', script]);
    assert.ok(statSync(path).isSocket(), 'a stale socket file is left behind');
    server = new ControlServer(state, { path });
    await server.listen();
    assert.deepEqual(await call({ socket: path }, ['instance', 'display'], undefined), []);
  });

  it('a missing daemon is E_DAEMON_UNREACHABLE', async () => {
    await assert.rejects(call({ socket: join(dir, 'none.sock') }, ['instance', 'display'], undefined), { code: 'E_DAEMON_UNREACHABLE' });
  });
});
