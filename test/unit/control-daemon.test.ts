import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { call } from '../../src/cli/client';
import { runDaemon } from '../../src/control/daemon';
import { RecorderDataplane } from './control-recorder';

const cfg = (instances: unknown[]) => JSON.stringify({
  dataplane: { ports: [{ name: 'v6', device: 'net_null0', addresses: ['2001:db8::1/96'] }, { name: 'v4', device: 'net_null1', addresses: ['203.0.113.1/24'] }] },
  instances,
});
const inst = (tos: number) => ({ instance: 'default', framework: 'netfilter', global: { pool6: '64:ff9b::/96', tos } });

describe('daemon lifecycle (recorder data plane)', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'nat64-d-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('starts, serves, reloads atomically (keeping the old config on error) and stops', async () => {
    const file = join(dir, 'nat64.json'), sock = join(dir, 'nat64.sock');
    writeFileSync(file, cfg([inst(1)]));
    const dp = new RecorderDataplane(), logs: string[] = [], exits: number[] = [];
    const d = await runDaemon({ configPath: file, socketPath: sock, dataplane: () => dp, log: (l) => logs.push(l), exit: (c) => exits.push(c) });
    assert.ok(dp.started);
    assert.equal(dp.last!.globals.tos, 1);
    assert.equal((await call({ socket: sock }, ['instance', 'status'], undefined) as { status: string }).status, 'Running');

    writeFileSync(file, cfg([{ ...inst(2), global: { pool6: '64:ff9b::/80' } }]));
    assert.equal(await d.reload(), false);
    assert.equal(dp.last!.globals.tos, 1);
    assert.ok(logs.some((l) => l.startsWith('reload rejected, keeping the running configuration: instances[0].global.pool6')));

    writeFileSync(file, cfg([inst(2)]));
    assert.equal(await d.reload(), true);
    assert.equal(dp.last!.globals.tos, 2);

    writeFileSync(file, cfg([]));
    assert.equal(await d.reload(), true);
    assert.equal(dp.last, null, 'a file without instances stops translation');

    await d.stop();
    assert.ok(dp.stopped);
    await assert.rejects(call({ socket: sock }, ['instance', 'display'], undefined), { code: 'E_DAEMON_UNREACHABLE' });
    assert.deepEqual(exits, []);
  });

  it('exits non-zero with the one-line reason on a bad file', async () => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, '{"dataplane": {"ports": []}}');
    const logs: string[] = [], exits: number[] = [];
    await assert.rejects(runDaemon({ configPath: file, socketPath: join(dir, 's'), dataplane: () => new RecorderDataplane(), log: (l) => logs.push(l), exit: (c) => exits.push(c) }));
    assert.deepEqual(exits, [2]);
    assert.deepEqual(logs, ['configuration rejected: dataplane.ports: at least one port is needed']);
  });
});
