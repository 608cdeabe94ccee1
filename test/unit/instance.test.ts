import { strict as assert } from 'node:assert';
import { parseGlobal } from '../../src/control/globals';
import { formatIPv4, formatIPv6 } from '../../src/control/inet';
import { parseInstance, toCoreConfig, toInstanceFile } from '../../src/control/instance';

import { JOOL_NAT64_SAMPLE } from '../fixtures/jool-nat64-sample';

function code(fn: () => unknown): string {
  try { fn(); } catch (e) { return (e as { code: string }).code; }
  return 'no error';
}

describe('instance: Jool atomic configuration', () => {
  it("accepts Jool's documented NAT64 sample unchanged", () => {
    const inst = parseInstance(JSON.parse(JOOL_NAT64_SAMPLE), 'file');
    assert.equal(inst.name, 'instance name');
    assert.equal(inst.globals['manually-enabled'], false);
    assert.equal(inst.globals['udp-timeout'], 3_600_000);
    assert.equal(inst.globals['icmp-timeout'], 330_000);
    assert.deepEqual(inst.globals['mtu-plateaus'], [6, 5, 4, 3, 2, 1]); // Jool sorts them
    assert.equal(inst.pool4.length, 4); // 192.0.2.2/31 is two addresses
    assert.equal(inst.bib.length, 3);
  });

  it('turns it into the CoreConfig the shards need (binary, milliseconds)', () => {
    const core = toCoreConfig(parseInstance(JSON.parse(JOOL_NAT64_SAMPLE), 'file'));
    assert.equal(core.instance, 'instance name');
    assert.equal(formatIPv6(core.globals.pool6), '64:ff9b::');
    assert.equal(core.globals.pool6Len, 96);
    assert.equal(core.globals.tos, 254);
    assert.equal(core.globals.fArgs, 10);
    assert.equal(core.globals.tcpEstTimeout, 36_000_000);
    assert.equal(core.globals.tcpTransTimeout, 300_000);
    assert.equal(core.globals.maximumSimultaneousOpens, 16);
    assert.deepEqual(core.globals.logging, { bib: true, session: true, debug: false });
    assert.equal(core.globals.addressDependentFiltering, true);
    assert.deepEqual(core.pool4.UDP, [{ address: 0xc0000201, portMin: 61001, portMax: 62000, mark: 1, maxIterations: 1500 }]);
    // An omitted port range in a file covers every port (the sample's static BIB needs port 80).
    assert.deepEqual(core.pool4.TCP.map((r) => [formatIPv4(r.address), r.portMin, r.portMax]),
      [['192.0.2.2', 1, 65535], ['192.0.2.3', 1, 65535]]);
    assert.deepEqual(core.pool4.ICMP.map((r) => [r.portMin, r.portMax]), [[1000, 2000]]);
    const icmp = core.bib.find((b) => b.protocol === 'ICMP')!;
    assert.equal(formatIPv6(icmp.ipv6), '2001:db8:aaaa::1');
    assert.equal(icmp.ipv6Port, 44);
    assert.equal(icmp.ipv4Port, 1044);
  });

  it('a file pool4 entry without port range covers ports 1-65535 (ICMP ids 0-65535)', () => {
    const inst = parseInstance({ instance: 'x', global: { pool6: '64:ff9b::/96' },
      pool4: [{ protocol: 'ICMP', prefix: '192.0.2.1' }, { protocol: 'UDP', prefix: '192.0.2.1' }] }, 'f');
    assert.deepEqual(inst.pool4.map((e) => [e.protocol, e.portMin, e.portMax]), [['UDP', 1, 65535], ['ICMP', 0, 65535]]);
  });

  it('defaults every global a file omits, and round-trips through toInstanceFile', () => {
    const inst = parseInstance({ instance: 'x', framework: 'iptables', global: { pool6: '64:ff9b::/96' } }, 'f');
    const core = toCoreConfig(inst);
    assert.equal(core.globals.manuallyEnabled, true);
    assert.equal(core.globals.udpTimeout, 300_000);
    assert.equal(core.globals.tcpEstTimeout, 7_200_000);
    assert.equal(core.globals.tcpTransTimeout, 240_000);
    assert.equal(core.globals.icmpTimeout, 60_000);
    assert.equal(core.globals.lowestIpv6Mtu, 1280);
    assert.equal(core.globals.fArgs, 11);
    assert.equal(core.globals.maximumSimultaneousOpens, 10);
    assert.deepEqual(core.globals.mtuPlateaus, [65535, 32000, 17914, 8166, 4352, 2002, 1492, 1006, 508, 296, 68]);
    assert.equal(core.globals.pool6Strict, false);
    assert.equal(core.globals.icmpAdminProhibited, false, 'RFC 7915 §4.4/§5.4 errors are opt-in');
    const on = parseInstance({ instance: 'x', global: { pool6: '64:ff9b::/96', 'icmp-admin-prohibited': true } }, 'f');
    assert.equal(toCoreConfig(on).globals.icmpAdminProhibited, true);
    assert.equal(toInstanceFile(on).global['icmp-admin-prohibited'], true, 'file display shows it, file handle takes it back');
    const again = parseInstance(toInstanceFile(parseInstance(JSON.parse(JOOL_NAT64_SAMPLE), 'file')), 'f');
    assert.deepEqual(toCoreConfig(again), toCoreConfig(parseInstance(JSON.parse(JOOL_NAT64_SAMPLE), 'file')));
  });

  it('refuses unknown keys but allows comments everywhere', () => {
    assert.equal(code(() => parseInstance({ instance: 'x', global: { pool6: '64:ff9b::/96' }, eamt: [] }, 'f')), 'E_CONFIG_FIELD');
    assert.equal(code(() => parseInstance({ instance: 'x', global: { pool6: '64:ff9b::/96' }, pool4: [{ protocol: 'TCP', prefix: '192.0.2.1', port: 1 }] }, 'f')), 'E_CONFIG_FIELD');
    parseInstance({ comment: 1, instance: 'x', global: { comment: 'c', pool6: '64:ff9b::/96' }, pool4: [{ comment: {}, protocol: 'TCP', prefix: '192.0.2.1' }] }, 'f');
  });

  it('checks names, framework and static BIB collisions', () => {
    const base = { global: { pool6: '64:ff9b::/96' }, pool4: [{ protocol: 'TCP', prefix: '192.0.2.1', 'port range': '1-100' }] };
    assert.equal(code(() => parseInstance({ ...base, instance: 'sixteen-chars-xx' }, 'f')), 'E_BAD_INSTANCE_NAME');
    assert.equal(code(() => parseInstance({ ...base, instance: 'x', framework: 'tc' }, 'f')), 'E_CONFIG_FIELD');
    const bib = (v6: string, v4: string) => ({ protocol: 'TCP', 'ipv6 address': v6, 'ipv4 address': v4 });
    assert.equal(code(() => parseInstance({ ...base, instance: 'x', bib: [bib('2001:db8::1#1', '192.0.2.1#5'), bib('2001:db8::2#1', '192.0.2.1#5')] }, 'f')), 'E_BIB_EXISTS');
    assert.equal(code(() => parseInstance({ ...base, instance: 'x', bib: [bib('2001:db8::1#1', '192.0.2.1#5'), bib('2001:db8::1#1', '192.0.2.1#6')] }, 'f')), 'E_BIB_EXISTS');
    assert.equal(code(() => parseInstance({ ...base, instance: 'x', bib: [bib('2001:db8::1#1', '192.0.2.1#101')] }, 'f')), 'E_BIB_NOT_IN_POOL4');
  });
});

describe('globals: Jool names, types, ranges and minimums', () => {
  it('booleans as Jool spells them', () => {
    for (const t of ['true', '1', 'yes', 'on', 'ON', true]) assert.equal(parseGlobal('drop-icmpv6-info', t, 'f'), true);
    for (const f of ['false', '0', 'no', 'off', false]) assert.equal(parseGlobal('drop-icmpv6-info', f, 'f'), false);
    assert.equal(code(() => parseGlobal('drop-icmpv6-info', 'maybe', 'f')), 'E_BAD_VALUE');
  });
  it('RFC 6146 minimum timeouts', () => {
    assert.equal(code(() => parseGlobal('udp-timeout', '1:59', 'f')), 'E_TIMEOUT_TOO_SMALL');
    assert.equal(parseGlobal('udp-timeout', '2:00', 'f'), 120_000);
    assert.equal(code(() => parseGlobal('tcp-est-timeout', '1:59:59', 'f')), 'E_TIMEOUT_TOO_SMALL');
    assert.equal(code(() => parseGlobal('tcp-trans-timeout', '3:59', 'f')), 'E_TIMEOUT_TOO_SMALL');
    assert.equal(parseGlobal('tcp-trans-timeout', 240, 'f'), 240_000);
    assert.equal(code(() => parseGlobal('icmp-timeout', '0', 'f')), 'E_TIMEOUT_TOO_SMALL');
  });
  it('integer ranges', () => {
    assert.equal(code(() => parseGlobal('tos', 256, 'f')), 'E_BAD_VALUE');
    assert.equal(code(() => parseGlobal('f-args', 16, 'f')), 'E_BAD_VALUE');
    assert.equal(code(() => parseGlobal('lowest-ipv6-mtu', 1279, 'f')), 'E_BAD_VALUE');
    assert.equal(parseGlobal('lowest-ipv6-mtu', '1500', 'f'), 1500);
    assert.equal(code(() => parseGlobal('maximum-simultaneous-opens', -1, 'f')), 'E_BAD_VALUE');
  });
  it('mtu-plateaus from the CLI string, sorted and deduplicated', () => {
    assert.deepEqual(parseGlobal('mtu-plateaus', '1000, 6000, 5000, 6000', 'f'), [6000, 5000, 1000]);
    assert.equal(code(() => parseGlobal('mtu-plateaus', '1500, 0', 'f')), 'E_BAD_VALUE');
    assert.equal(code(() => parseGlobal('mtu-plateaus', [], 'f')), 'E_BAD_VALUE');
  });
  it('unknown and SIIT-only keys', () => {
    assert.equal(code(() => parseGlobal('udp-timeot', '5:00', 'f')), 'E_UNKNOWN_GLOBAL');
    assert.throws(() => parseGlobal('eam-hairpin-mode', 'simple', 'f'), /SIIT-only/);
    assert.equal(code(() => parseGlobal('__proto__', 1, 'f')), 'E_UNKNOWN_GLOBAL');
  });
});
