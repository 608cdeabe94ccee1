import { strict as assert } from 'node:assert';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_EAL, loadConfig, parseConfigText, validateConfig } from '../../src/control/config';

const good = () => ({
  dataplane: {
    ports: [
      { name: 'v6', device: 'net_af_packet0,iface=nat64-v6', addresses: ['2001:db8::1/96'],
        routes: [{ prefix: '2001:db8:1::/96', via: '2001:db8::5' }] },
      { name: 'v4', device: 'net_af_packet1,iface=nat64-v4', addresses: ['203.0.113.1/24'],
        neighbors: [{ address: '203.0.113.16', mac: '02:00:00:00:00:10' }] },
    ],
  },
  instances: [{ instance: 'default', framework: 'netfilter', global: { pool6: '64:ff9b::/96' } }],
});

/** Apply `edit` to a good config and expect `code` with a message starting with `path`. */
function rejects(edit: (c: any) => void, code: string, path: string) {
  const c: any = good();
  edit(c);
  assert.throws(() => validateConfig(c), (e: any) => {
    assert.equal(e.code, code, e.message);
    assert.ok(e.message.startsWith(path + ':'), `message "${e.message}" should start with "${path}:"`);
    assert.ok(!e.message.includes('\n'));
    return true;
  });
}

describe('config: a good file', () => {
  it('parses with every default filled in', () => {
    const c = validateConfig(good());
    assert.deepEqual(c.dataplane.eal, DEFAULT_EAL);
    assert.deepEqual(DEFAULT_EAL, ['--no-pci', '--in-memory', '--iova-mode=va', '--no-telemetry', '-l', '0']);
    assert.equal(c.dataplane.shards, 1);
    assert.equal(c.dataplane.mbufs, 16383);
    assert.equal(c.dataplane.mbufDataRoom, 5120);
    assert.equal(c.dataplane.reassemblyDatagrams, 256);
    assert.equal(c.dataplane.reassemblyTimeoutMs, 2000);
    assert.equal(c.dataplane.sessionsPerShard, 65536);
    assert.equal(c.dataplane.flowCacheEntries, undefined); // the default size (flow-cache.ts)
    assert.equal(c.dataplane.ports[0].mtu, 1500);
    assert.deepEqual(c.dataplane.ports[1].routes, []);
    assert.deepEqual(c.dataplane.ports[0].neighbors, []);
    assert.equal(c.dataplane.ports[0].rxChecksum, 'auto'); // by driver: native/port.cc
    assert.equal(c.dataplane.ports[0].txChecksum, 'auto');
    assert.equal(c.instances[0].instance, 'default');
    assert.equal(c.instances[0].global['udp-timeout'], '0:05:00');
  });
  it('accepts a file without instances', () => {
    const c: any = good();
    delete c.instances;
    assert.deepEqual(validateConfig(c).instances, []);
  });
  it('accepts the DESIGN.md example and config/nat64.example.json', () => {
    const design = {
      dataplane: {
        eal: ['--no-pci', '--in-memory', '--iova-mode=va', '--no-telemetry'], shards: 2,
        ports: [
          { name: 'v6', device: 'net_af_packet0,iface=eth0', addresses: ['2001:db8::1/96'], routes: [{ prefix: '2001:db8:1::/96', via: '2001:db8::5' }] },
          { name: 'v4', device: 'net_af_packet1,iface=eth1', addresses: ['203.0.113.1/24'], mtu: 1500, neighbors: [{ address: '203.0.113.16', mac: '02:00:00:00:00:10' }] },
        ],
      },
      instances: [{
        instance: 'default', framework: 'netfilter', global: { pool6: '64:ff9b::/96', 'udp-timeout': '0:05:00' },
        pool4: [{ protocol: 'UDP', prefix: '203.0.113.1/32', 'port range': '61001-65535' }, { protocol: 'TCP', prefix: '203.0.113.1/32', 'port range': '80' }],
        bib: [{ protocol: 'TCP', 'ipv6 address': '2001:db8::8#80', 'ipv4 address': '203.0.113.1#80' }],
      }],
    };
    assert.equal(validateConfig(design).dataplane.shards, 2);
    const example = loadConfig(join(__dirname, '../../../config/nat64.example.json'));
    assert.equal(example.instances[0].global.pool6, '64:ff9b::/96');
  });
  it('takes the checksum modes of a port (issue 10)', () => {
    const c: any = good();
    c.dataplane.ports[0].rxChecksum = 'detect';
    c.dataplane.ports[1].rxChecksum = 'device';
    c.dataplane.ports[1].txChecksum = 'off';
    const v = validateConfig(c);
    assert.deepEqual(v.dataplane.ports.map((p) => [p.rxChecksum, p.txChecksum]), [['detect', 'auto'], ['device', 'off']]);
  });
  it('reads a control section', () => {
    const c: any = good();
    c.control = { socket: '/tmp/x.sock', group: 'nat64' };
    assert.deepEqual(validateConfig(c).control, { socket: '/tmp/x.sock', group: 'nat64' });
  });
});

describe('config: every error names its field', () => {
  it('syntax and unreadable file', () => {
    assert.throws(() => parseConfigText('{ "dataplane": ', 'f.json'), { code: 'E_CONFIG_SYNTAX' });
    assert.throws(() => loadConfig('/nonexistent/nat64.json'), { code: 'E_CONFIG_READ' });
  });
  it('structure', () => {
    rejects((c) => { c.extra = 1; }, 'E_CONFIG_FIELD', 'extra');
    rejects((c) => { delete c.dataplane; }, 'E_CONFIG_FIELD', 'dataplane');
    rejects((c) => { c.dataplane.ports = []; }, 'E_CONFIG_FIELD', 'dataplane.ports');
    rejects((c) => { c.dataplane.port = []; }, 'E_CONFIG_FIELD', 'dataplane');
    rejects((c) => { c.dataplane.eal = ['-l', 0]; }, 'E_CONFIG_FIELD', 'dataplane.eal[1]');
  });
  it('numbers and their ranges', () => {
    rejects((c) => { c.dataplane.shards = 0; }, 'E_CONFIG_FIELD', 'dataplane.shards');
    rejects((c) => { c.dataplane.shards = 1.5; }, 'E_CONFIG_FIELD', 'dataplane.shards');
    rejects((c) => { c.dataplane.mbufs = 10; }, 'E_CONFIG_FIELD', 'dataplane.mbufs');
    rejects((c) => { c.dataplane.mbufDataRoom = 512; }, 'E_CONFIG_FIELD', 'dataplane.mbufDataRoom');
    rejects((c) => { c.dataplane.reassemblyTimeoutMs = 10; }, 'E_CONFIG_FIELD', 'dataplane.reassemblyTimeoutMs');
    rejects((c) => { c.dataplane.sessionsPerShard = '1'; }, 'E_CONFIG_FIELD', 'dataplane.sessionsPerShard');
    rejects((c) => { c.dataplane.flowCacheEntries = -1; }, 'E_CONFIG_FIELD', 'dataplane.flowCacheEntries');
    rejects((c) => { c.dataplane.flowCacheEntries = 1 << 23; }, 'E_CONFIG_FIELD', 'dataplane.flowCacheEntries');
    for (const n of [0, 1000, 1 << 22]) {
      const g = good() as { dataplane: Record<string, unknown> };
      g.dataplane.flowCacheEntries = n;
      assert.equal(validateConfig(g).dataplane.flowCacheEntries, n);
    }
    rejects((c) => { c.dataplane.ports[0].mtu = 1000; }, 'E_CONFIG_FIELD', 'dataplane.ports[0].mtu'); // IPv6 port: >= 1280
  });
  it('ports', () => {
    rejects((c) => { c.dataplane.ports[1].addresses = ['203.0.113.1/33']; }, 'E_BAD_PREFIX', 'dataplane.ports[1].addresses[0]');
    rejects((c) => { c.dataplane.ports[1].name = 'v6'; }, 'E_CONFIG_FIELD', 'dataplane.ports[1].name');
    rejects((c) => { c.dataplane.ports[1].name = 'a b'; }, 'E_CONFIG_FIELD', 'dataplane.ports[1].name');
    rejects((c) => { c.dataplane.ports[1].device = c.dataplane.ports[0].device; }, 'E_CONFIG_FIELD', 'dataplane.ports[1].device');
    rejects((c) => { delete c.dataplane.ports[0].device; }, 'E_CONFIG_FIELD', 'dataplane.ports[0].device');
    rejects((c) => { c.dataplane.ports[0].routes[0].via = '203.0.113.5'; }, 'E_BAD_ADDRESS', 'dataplane.ports[0].routes[0].via');
    rejects((c) => { c.dataplane.ports[0].routes[0].prefix = '2001:db8:1::1/96'; }, 'E_BAD_PREFIX', 'dataplane.ports[0].routes[0].prefix');
    rejects((c) => { c.dataplane.ports[1].neighbors[0].mac = '02:00:00:00:00'; }, 'E_BAD_MAC', 'dataplane.ports[1].neighbors[0].mac');
    rejects((c) => { c.dataplane.ports[1].neighbors[0].address = '203.0.113.300'; }, 'E_BAD_ADDRESS', 'dataplane.ports[1].neighbors[0].address');
    rejects((c) => { c.dataplane.ports[0].rxChecksum = 'hardware'; }, 'E_CONFIG_FIELD', 'dataplane.ports[0].rxChecksum');
    rejects((c) => { c.dataplane.ports[1].txChecksum = 'device'; }, 'E_CONFIG_FIELD', 'dataplane.ports[1].txChecksum');
  });
  it('instances', () => {
    rejects((c) => { c.instances[0].global.pool6 = '64:ff9b::/80'; }, 'E_BAD_PREFIX', 'instances[0].global.pool6');
    rejects((c) => { delete c.instances[0].global.pool6; }, 'E_CONFIG_FIELD', 'instances[0].global.pool6');
    rejects((c) => { c.instances[0].global['udp-timeout'] = '1:00'; }, 'E_TIMEOUT_TOO_SMALL', 'instances[0].global.udp-timeout');
    rejects((c) => { c.instances[0].global.bogus = 1; }, 'E_UNKNOWN_GLOBAL', 'instances[0].global.bogus');
    rejects((c) => { c.instances[0].pool4 = [{ protocol: 'TCP', prefix: '203.0.113.1', 'port range': '9-1' }]; }, 'E_BAD_PORT_RANGE', 'instances[0].pool4[0].port range');
    rejects((c) => { c.instances[0].bib = [{ protocol: 'TCP', 'ipv6 address': '2001:db8::8#80', 'ipv4 address': '203.0.113.1#80' }]; }, 'E_BIB_NOT_IN_POOL4', 'instances[0].bib[0]');
    rejects((c) => { c.instances.push({ ...c.instances[0] }); }, 'E_INSTANCE_EXISTS', 'instances[1].instance');
    rejects((c) => { c.instances.push({ ...c.instances[0], instance: 'other' }); }, 'E_PORTS_IN_USE', 'instances[1]');
    rejects((c) => { c.control = { group: '' }; }, 'E_CONFIG_FIELD', 'control.group');
  });
});
