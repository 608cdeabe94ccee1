import { strict as assert } from 'node:assert';
import { ControlState } from '../../src/control/state';
import { parsePrefix4, parseTransport4, parseTransport6 } from '../../src/control/inet';
import { RecorderDataplane } from './control-recorder';

async function rejectsWith(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (e: any) => { assert.equal(e.code, code, e.message); return true; });
}

const add = (prefix: string, ports = '61001-65535'.split('-').map(Number), protocol: 'TCP' | 'UDP' | 'ICMP' = 'TCP', force = false) =>
  ({ protocol, prefix: parsePrefix4(prefix), portMin: ports[0], portMax: ports[1], mark: 0, force });

async function withInstance() {
  const dp = new RecorderDataplane();
  const st = new ControlState(dp);
  await st.instanceAdd('default', '64:ff9b::/96');
  return { dp, st };
}

describe('control state: instances', () => {
  it('adds one instance and hands its CoreConfig to the data plane', async () => {
    const { dp, st } = await withInstance();
    assert.equal(dp.applied.length, 1);
    assert.equal(dp.last!.instance, 'default');
    assert.deepEqual(st.instanceDisplay(), [{ name: 'default', framework: 'netfilter', pool6: '64:ff9b::/96', status: 'Running' }]);
  });
  it('refuses a second instance on the port pair, and a duplicate name', async () => {
    const { dp, st } = await withInstance();
    await rejectsWith(st.instanceAdd('other', '64:ff9b::/96'), 'E_PORTS_IN_USE');
    await rejectsWith(st.instanceAdd('default', '64:ff9b::/96'), 'E_INSTANCE_EXISTS');
    assert.equal(dp.applied.length, 1);
  });
  it('status: Running, Stopped when manually-enabled is false, Stopped without instance', async () => {
    const { st } = await withInstance();
    assert.equal(st.instanceStatus('default').status, 'Running');
    await st.globalUpdate('default', 'manually-enabled', 'false');
    assert.deepEqual(st.instanceStatus('default'), { instance: 'default', status: 'Stopped', reason: 'manually-enabled is false' });
    await st.instanceRemove('default');
    assert.equal(st.instanceStatus('default').status, 'Stopped');
  });
  it('remove and flush stop translation (setInstance(null))', async () => {
    const { dp, st } = await withInstance();
    await st.instanceFlush();
    assert.equal(dp.last, null);
    await rejectsWith(st.instanceRemove('default'), 'E_INSTANCE_NOT_FOUND');
  });
});

describe('control state: atomicity', () => {
  it('a data-plane refusal leaves the state exactly as it was', async () => {
    const { dp, st } = await withInstance();
    await st.pool4Add('default', add('192.0.2.1'));
    const before = st.instance;
    dp.failNext = Object.assign(new Error('shard 1 did not answer'), { code: 'NAT64_ETIMEDOUT' });
    await rejectsWith(st.pool4Add('default', add('192.0.2.2')), 'E_DATAPLANE');
    assert.equal(st.instance, before);
    dp.failNext = new Error('boom');
    await rejectsWith(st.globalUpdate('default', 'udp-timeout', '10:00'), 'E_DATAPLANE');
    assert.equal(st.globalDisplay('default')['udp-timeout'], '0:05:00');
    dp.failNext = new Error('boom');
    await rejectsWith(st.instanceRemove('default'), 'E_DATAPLANE');
    assert.equal(st.instance, before);
  });
  it('a validation error never reaches the data plane', async () => {
    const { dp, st } = await withInstance();
    const n = dp.applied.length;
    await rejectsWith(st.globalUpdate('default', 'udp-timeout', '1:00'), 'E_TIMEOUT_TOO_SMALL');
    await rejectsWith(st.globalUpdate('default', 'pool6', '2001:db8::/96'), 'E_POOL6_IMMUTABLE');
    await rejectsWith(st.fileHandle(undefined, { instance: 'default', global: { pool6: '64:ff9b::/96', tos: 300 } }), 'E_BAD_VALUE');
    assert.equal(dp.applied.length, n);
  });
  it('concurrent changes are serialised: neither is lost', async () => {
    const { dp, st } = await withInstance();
    dp.delayMs = 20;
    await Promise.all([st.pool4Add('default', add('192.0.2.1')), st.pool4Add('default', add('192.0.2.2'))]);
    assert.equal(st.pool4Display('default').length, 2);
    assert.equal(dp.last!.pool4.TCP.length, 2);
  });
});

describe('control state: pool4 and BIB', () => {
  it('merges overlapping ranges as Jool does, and splits on removal', async () => {
    const { st } = await withInstance();
    await st.pool4Add('default', add('192.0.2.1', [1000, 2500]));
    await st.pool4Add('default', add('192.0.2.1', [1500, 3000]));
    assert.deepEqual(st.pool4Display('default').map((r) => [r.portMin, r.portMax]), [[1000, 3000]]);
    await st.pool4Remove('default', { prefix: parsePrefix4('192.0.2.1'), portMin: 2000, portMax: 2100, quick: false });
    assert.deepEqual(st.pool4Display('default').map((r) => [r.portMin, r.portMax]), [[1000, 1999], [2101, 3000]]);
    await rejectsWith(st.pool4Remove('default', { prefix: parsePrefix4('192.0.2.9'), portMin: 0, portMax: 65535, quick: false }), 'E_POOL4_NOT_FOUND');
  });
  it('asks for --force above 256 addresses and refuses more than a /16', async () => {
    const { st } = await withInstance();
    await rejectsWith(st.pool4Add('default', add('10.0.0.0/23')), 'E_POOL4_TOO_LARGE');
    await st.pool4Add('default', add('10.0.0.0/23', [1, 2], 'TCP', true));
    await rejectsWith(st.pool4Add('default', add('10.0.0.0/15', [1, 2], 'TCP', true)), 'E_POOL4_TOO_LARGE');
  });
  it('static BIB: must be in pool4 of its protocol; removal cascades unless --quick', async () => {
    const { dp, st } = await withInstance();
    const v6 = parseTransport6('2001:db8::8#80', 'f'), v4 = parseTransport4('203.0.113.1#80', 'f');
    await rejectsWith(st.bibAdd('default', 'TCP', v6, v4), 'E_BIB_NOT_IN_POOL4');
    await st.pool4Add('default', add('203.0.113.1', [80, 80], 'UDP'));
    await rejectsWith(st.bibAdd('default', 'TCP', v6, v4), 'E_BIB_NOT_IN_POOL4');
    await st.pool4Add('default', add('203.0.113.1', [80, 80]));
    await st.bibAdd('default', 'TCP', v6, v4);
    assert.equal(dp.last!.bib.length, 1);
    await rejectsWith(st.bibAdd('default', 'TCP', v6, v4), 'E_BIB_EXISTS');
    await st.pool4Remove('default', { protocol: 'TCP', prefix: parsePrefix4('203.0.113.1'), portMin: 80, portMax: 80, quick: true });
    assert.equal(dp.last!.bib.length, 1, '--quick keeps the orphan');
    await st.pool4Add('default', add('203.0.113.1', [80, 80]));
    await st.pool4Remove('default', { protocol: 'TCP', prefix: parsePrefix4('203.0.113.1'), portMin: 80, portMax: 80, quick: false });
    assert.equal(dp.last!.bib.length, 0, 'cascade');
    await rejectsWith(st.bibRemove('default', 'TCP', v6), 'E_BIB_NOT_FOUND');
  });
  it('static BIB refuses a transport address a dynamic entry holds', async () => {
    const { dp, st } = await withInstance();
    await st.pool4Add('default', add('203.0.113.1', [1, 65535]));
    dp.bibRows = [{ protocol: 'TCP', ipv6: '2001:db8::9', ipv6Port: 5, ipv4: '203.0.113.1', ipv4Port: 4000, static: false, shard: 0 }];
    await rejectsWith(st.bibAdd('default', 'TCP', parseTransport6('2001:db8::8#1', 'f'), parseTransport4('203.0.113.1#4000', 'f')), 'E_BIB_EXISTS');
  });
});

describe('control state: file handle, stats, ports', () => {
  it('creates, then replaces the whole configuration (omitted globals back to defaults)', async () => {
    const dp = new RecorderDataplane();
    const st = new ControlState(dp);
    assert.equal(await st.fileHandle(undefined, { instance: 'alpha', framework: 'netfilter', global: { pool6: '64:ff9b::/96', tos: 7 } }), 'alpha');
    assert.equal(dp.last!.globals.tos, 7);
    await st.fileHandle('alpha', { global: { 'udp-timeout': '10:00' } });
    assert.equal(dp.last!.globals.tos, 0);
    assert.equal(dp.last!.globals.udpTimeout, 600_000);
    await rejectsWith(st.fileHandle(undefined, { instance: 'alpha', global: { pool6: '2001:db8::/96' } }), 'E_POOL6_IMMUTABLE');
    await rejectsWith(st.fileHandle(undefined, { instance: 'beta', global: { pool6: '64:ff9b::/96' } }), 'E_PORTS_IN_USE');
    await rejectsWith(st.fileHandle('alpha', { instance: 'beta', global: { pool6: '64:ff9b::/96' } }), 'E_CONFIG_FIELD');
  });
  it('stats: non-zero counters with their explanation, --all includes zeros', async () => {
    const { dp, st } = await withInstance();
    dp.totals = { 'translated-6to4': 5, 'bib4-not-found': 1 };
    assert.deepEqual(st.statsDisplay(false).map((r) => [r.name, r.value]), [['translated-6to4', 5], ['bib4-not-found', 1]]);
    assert.ok(st.statsDisplay(false)[1].explain.includes('BIB'));
    assert.ok(st.statsDisplay(true).length > 40);
  });
  it('port MTU: validated against the port family, applied through the data plane', async () => {
    const { dp, st } = await withInstance();
    await st.portUpdateMtu('v4', 9000);
    assert.equal(dp.mtus.v4, 9000);
    await rejectsWith(st.portUpdateMtu('v6', 1200), 'E_BAD_VALUE');
    await rejectsWith(st.portUpdateMtu('v5', 1500), 'E_PORT_NOT_FOUND');
    dp.failNext = new Error('device busy');
    await rejectsWith(st.portUpdateMtu('v4', 1500), 'E_DATAPLANE');
  });
});
