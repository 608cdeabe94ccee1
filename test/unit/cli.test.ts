import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hoistInstance } from '../../src/cli/main';
import { csv, table } from '../../src/cli/format';
import { RecorderDaemon, runCli } from './helpers/cli-rig';


const run = runCli;

describe('cli: parsing and usage errors (no daemon needed)', () => {
  it('unknown commands and missing arguments exit non-zero with a usage message, no stack', async () => {
    for (const argv of [['pool5', 'add'], ['pool4', 'add'], ['instance', 'add'], ['global', 'update', 'tos']]) {
      const r = await run(argv);
      assert.notEqual(r.code, 0, argv.join(' '));
      assert.ok(!/\n\s+at /.test(r.out + r.err), 'no stack trace');
    }
  });
  it('exclusive protocol flags are a usage error', async () => {
    const r = await run(['pool4', 'display', '--tcp', '--udp', '--socket', '/nonexistent.sock']);
    assert.equal(r.code, 1);
    assert.match(r.out + r.err, /mutually exclusive/);
  });
  it('an absent daemon gives one line and exit 1', async () => {
    const r = await run(['instance', 'display', '--socket', join(tmpdir(), 'nat64-none.sock')]);
    assert.equal(r.code, 1);
    assert.match(r.err, /^nat64: cannot reach the nat64 daemon at .*: is it running\?/);
    assert.equal(r.err.trim().split('\n').length, 1);
  });
  it('moves a leading -i NAME behind the command path, as jool writes it', () => {
    assert.deepEqual(hoistInstance(['-i', 'alpha', 'pool4', 'display']), ['pool4', 'display', '-i', 'alpha']);
    assert.deepEqual(hoistInstance(['--instance=alpha', 'global', 'display']), ['global', 'display', '--instance=alpha']);
    assert.deepEqual(hoistInstance(['pool4', 'display', '-i', 'a']), ['pool4', 'display', '-i', 'a']);
  });
  it('help lists the Jool nouns', async () => {
    const r = await run(['--help']);
    for (const noun of ['instance add', 'pool4 add', 'bib add', 'session display', 'stats display', 'global update', 'file handle', 'port update', 'daemon']) {
      assert.ok(r.out.includes(noun), noun);
    }
  });
});

describe('cli: format', () => {
  it('aligns tables and quotes CSV fields as RFC 4180', () => {
    const cols = [{ key: 'a', header: 'A' }, { key: 'b', header: 'Bee' }];
    assert.equal(table(cols, [{ a: 'xx', b: 1 }]), 'A   Bee\n--  ---\nxx  1\n');
    assert.equal(csv(cols, [{ a: 'x,"y"', b: [1, 2] }]), 'a,b\n"x,""y""","1,2"\n');
    assert.equal(csv(cols, [{ a: 1, b: 2 }], false), '1,2\n');
  });
});

describe('cli: against a daemon socket (recorder data plane)', () => {
  let d: RecorderDaemon;
  const cli = (...argv: string[]) => d.cli(...argv);

  beforeEach(async () => { d = await RecorderDaemon.start('nat64-cli-'); });
  afterEach(async () => { await d.stop(); });

  it('instance add / status / display, and E_PORTS_IN_USE for a second one', async () => {
    assert.equal((await cli('instance', 'add', '--pool6', '64:ff9b::/96')).code, 0);
    assert.equal((await cli('instance', 'status')).out, 'Running\n');
    const second = await cli('instance', 'add', 'alpha', '--pool6', '64:ff9b::/96');
    assert.equal(second.code, 1);
    assert.match(second.err, /^nat64: instance 'alpha': instance 'default' already translates/);
    const disp = JSON.parse((await cli('instance', 'display', '--json')).out);
    assert.deepEqual(disp, [{ name: 'default', framework: 'netfilter', pool6: '64:ff9b::/96', status: 'Running' }]);
  });

  it('pool4 add/display in table, CSV and JSON with stable field names', async () => {
    await cli('instance', 'add', '--pool6', '64:ff9b::/96');
    assert.equal((await cli('pool4', 'add', '--udp', '203.0.113.1', '61001-62000')).code, 0);
    assert.equal((await cli('pool4', 'add', '203.0.113.1', '80')).code, 0); // --tcp by default
    const j = JSON.parse((await cli('pool4', 'display', '--json')).out);
    assert.deepEqual(Object.keys(j[0]), ['mark', 'protocol', 'maxIterations', 'maxIterationsMode', 'address', 'portMin', 'portMax', 'standby']);
    assert.deepEqual(j.map((r: any) => [r.protocol, r.portMin, r.portMax]), [['TCP', 80, 80], ['UDP', 61001, 62000]]);
    const c = (await cli('pool4', 'display', '--csv', '--udp')).out;
    assert.equal(c, 'mark,protocol,maxIterations,maxIterationsMode,address,portMin,portMax\n0,UDP,1024,auto,203.0.113.1,61001,62000\n');
    const t = (await cli('pool4', 'display', '--tcp')).out;
    assert.match(t, /^Mark\s+Proto\s+Max iterations\s+Address\s+Ports\n/);
    assert.match(t, /0\s+TCP\s+1024 \(auto\)\s+203\.0\.113\.1\s+80-80/);
  });

  it('pool4 add --standby: shown (JSON, CSV and table grow a standby column only then); an overlap with the other kind is refused', async () => {
    await cli('instance', 'add', '--pool6', '64:ff9b::/96');
    assert.equal((await cli('pool4', 'add', '--udp', '203.0.113.1', '61001-62000')).code, 0);
    assert.doesNotMatch((await cli('pool4', 'display')).out, /Standby/, 'Jool\'s columns while no entry is standby');
    const a = await cli('pool4', 'add', '--udp', '203.0.113.2', '--standby');
    assert.equal(a.code, 0, a.err);
    const j = JSON.parse((await cli('pool4', 'display', '--json')).out);
    assert.deepEqual(j.map((r: any) => [r.address, r.standby]), [['203.0.113.1', false], ['203.0.113.2', true]]);
    assert.equal((await cli('pool4', 'display', '--csv')).out.split('\n')[0], 'mark,protocol,maxIterations,maxIterationsMode,address,portMin,portMax,standby');
    assert.match((await cli('pool4', 'display')).out, /Ports\s+Standby\n[\s\S]*203\.0\.113\.1\s+61001-62000\s+no\n[\s\S]*203\.0\.113\.2\s+61001-65535\s+yes/);
    const bad = await cli('pool4', 'add', '--udp', '203.0.113.2', '62000-62100');
    assert.equal(bad.code, 1);
    assert.match(bad.err, /^nat64: pool4 add: UDP 203\.0\.113\.2 62000-62100 overlaps a standby entry \(61001-65535\); remove it first\n$/);
  });

  it('bib add/remove, global update/display, stats, file handle', async () => {
    await cli('-i', 'default', 'instance', 'add', '--pool6', '64:ff9b::/96');
    await cli('pool4', 'add', '--tcp', '203.0.113.1', '80');
    assert.equal((await cli('bib', 'add', '2001:db8::8#80', '203.0.113.1#80')).code, 0);
    assert.equal(d.dp.last!.bib.length, 1);
    const bad = await cli('bib', 'add', '--udp', '2001:db8::8#80', '203.0.113.1#80');
    assert.equal(bad.code, 1);
    assert.match(bad.err, /not in UDP pool4/);
    assert.equal((await cli('bib', 'remove', '203.0.113.1#80')).code, 0);
    assert.equal(d.dp.last!.bib.length, 0);

    assert.equal((await cli('global', 'update', 'udp-timeout', '10:00')).code, 0);
    assert.equal(JSON.parse((await cli('global', 'display', '--json')).out)['udp-timeout'], '0:10:00');
    // RFC 7915 §4.4/§5.4: the icmp-admin-prohibited switch, off by default, reaches the shards.
    assert.equal(JSON.parse((await cli('global', 'display', '--json')).out)['icmp-admin-prohibited'], false);
    assert.equal((await cli('global', 'update', 'icmp-admin-prohibited', 'true')).code, 0);
    assert.equal(d.dp.last!.globals.icmpAdminProhibited, true);
    assert.match((await cli('global', 'display')).out, /icmp-admin-prohibited\s+true/);
    const small = await cli('global', 'update', 'tcp-trans-timeout', '1:00');
    assert.equal(small.code, 1);
    assert.match(small.err, /RFC 6146/);

    d.dp.totals = { 'translated-6to4': 3 };
    const stats = JSON.parse((await cli('stats', 'display', '--json')).out);
    assert.deepEqual(stats, [{ name: 'translated-6to4', value: 3, explain: 'IPv6 packet translated to IPv4.' }]);

    const file = join(d.dir, 'i.json');
    writeFileSync(file, JSON.stringify({ instance: 'default', framework: 'netfilter', global: { pool6: '64:ff9b::/96', tos: 9 } }));
    assert.equal((await cli('file', 'handle', file)).code, 0);
    assert.equal(d.dp.last!.globals.tos, 9);
    assert.equal(d.dp.last!.pool4.TCP.length, 0, 'the file replaced the whole configuration');
    writeFileSync(file, '{ nope');
    const syntax = await cli('file', 'handle', file);
    assert.equal(syntax.code, 1);
    assert.match(syntax.err, /not valid JSON/);
  });
});
