import { strict as assert } from 'node:assert';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RecorderDaemon, runCli } from './helpers/cli-rig';

/** The CLI of the HA surface (docs/ha.md): port claim/release, health, demo --ha's usage checks. */

const run = runCli;

describe('cli: HA commands against a daemon socket (recorder data plane)', () => {
  let d: RecorderDaemon;
  const cli = (...argv: string[]) => d.cli(...argv);

  beforeEach(async () => { d = await RecorderDaemon.start('nat64-cli-ha-'); });
  afterEach(async () => { await d.stop(); });

  it('port claim / release print each address and its state; port display shows the Virtual column', async () => {
    const c = await cli('port', 'claim');
    assert.equal(c.code, 0, c.err);
    assert.equal(c.out, 'v4 203.0.113.1/24 claimed\n');
    assert.match((await cli('port', 'display')).out, /Virtual[\s\S]*203\.0\.113\.1\/24 claimed/);
    const r = await cli('port', 'release', '203.0.113.1', '--json');
    assert.deepEqual(JSON.parse(r.out), [{ port: 'v4', address: '203.0.113.1/24', claimed: false }]);
    const bad = await cli('port', 'claim', '203.0.113.7');
    assert.equal(bad.code, 1);
    assert.match(bad.err, /^nat64: port claim: '203\.0\.113\.7' is not a virtual address \(virtual: v4 203\.0\.113\.1\/24\)\n$/);
  });

  it('health: exit 0 when healthy, 1 with the failing check named; --quiet prints nothing', async () => {
    const sick = await cli('health');
    assert.equal(sick.code, 1);
    assert.match(sick.out, /^FAIL {2}instance: instance 'default': instance does not exist$/m);
    assert.equal((await cli('health', '--quiet')).out, '');
    await cli('instance', 'add', '--pool6', '64:ff9b::/96');
    const ok = await cli('health', '--json');
    assert.equal(ok.code, 0);
    assert.equal(JSON.parse(ok.out).healthy, true);
  });
});

describe('cli: health and demo --ha without a daemon', () => {
  it('health: a daemon that is not running is unhealthy (exit 1), silently with --quiet', async () => {
    const sock = join(tmpdir(), 'nat64-none-ha.sock');
    const r = await run(['health', '--socket', sock]);
    assert.equal(r.code, 1);
    assert.match(r.err, /^nat64: unhealthy: /);
    const q = await run(['health', '--quiet', '--socket', sock]);
    assert.deepEqual([q.code, q.out, q.err], [1, '', '']);
    assert.equal((await run(['health', '--timeout', 'soon', '--socket', sock])).code, 1);
  });

  it('demo --ha refuses --keep and an advert_int VRRPv3 cannot express, before touching anything', async () => {
    const keep = await run(['demo', '--ha', '--keep']);
    assert.equal(keep.code, 1);
    assert.match(keep.err, /--keep cannot be used with --ha/);
    const adv = await run(['demo', '--ha', '--advert-int', '0.001']);
    assert.equal(adv.code, 1);
    assert.match(adv.err, /--advert-int: '0\.001' must be seconds from 0\.01 to 40/);
  });
});
