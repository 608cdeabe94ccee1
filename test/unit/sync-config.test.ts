/** The daemon file's "sync" section (docs/session-sync.md "Turning it on"). */
import * as assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateConfig } from '../../src/control/config';
import { canonicalAddress, validateSync } from '../../src/control/sync/config';
import { Nat64Error } from '../../src/control/errors';

function refused(raw: unknown, field: RegExp): void {
  assert.throws(() => validateSync(raw), (e: unknown) => e instanceof Nat64Error && e.code === 'E_CONFIG_FIELD' && field.test(e.message));
}

describe('configuration: the sync section', () => {
  it('unicast: defaults, peers with and without ports, canonical addresses', () => {
    const s = validateSync({ address: '192.0.2.1', peers: ['192.0.2.2', '192.0.2.3#6401', '192.0.2.4:6402'] });
    assert.deepEqual([s.family, s.port, s.ttl, s.refreshMs, s.key], [4, 6400, 1, 20000, undefined]);
    assert.deepEqual(s.peers, [{ address: '192.0.2.2', port: 6400 }, { address: '192.0.2.3', port: 6401 }, { address: '192.0.2.4', port: 6402 }]);
    const v6 = validateSync({ peers: ['FD00:0::2', '[fd00::3]:7000'], port: 7000, key: 'x'.repeat(16) });
    assert.deepEqual([v6.family, v6.peers[0].address, v6.peers[1].port, v6.key?.length], [6, 'fd00::2', 7000, 16]);
  });

  it('multicast with joold\'s names ("multicast port" is "port")', () => {
    const s = validateSync({ 'multicast address': 'ff05::6464', 'multicast port': '6500', 'in interface': 'mgmt0', 'out interface': 'mgmt0', ttl: 3, peers: ['fd00::2'] });
    assert.deepEqual([s.multicastAddress, s.port, s.inInterface, s.outInterface, s.ttl], ['ff05::6464', 6500, 'mgmt0', 'mgmt0', 3]);
  });

  it('refuses what cannot work, naming the field', () => {
    refused({}, /sync\.peers: list at least one peer/);
    refused({ peers: ['192.0.2.2', 'fd00::2'] }, /mixes IPv4 and IPv6/);
    refused({ peers: ['192.0.2.2'], key: 'short' }, /sync\.key: at least 16/);
    refused({ peers: ['192.0.2.2'], key: 'x'.repeat(16), keyFile: '/k' }, /"key" or "keyFile"/);
    refused({ peers: ['192.0.2.2'], keyFile: '/nonexistent/nat64-key' }, /keyFile: cannot read/);
    refused({ peers: ['192.0.2.2'], port: 0 }, /sync\.port/);
    refused({ peers: ['192.0.2.2'], port: 6400, 'multicast port': 6401 }, /name the same setting/);
    refused({ peers: ['192.0.2.2'], 'multicast address': '192.0.2.9' }, /not a multicast address/);
    refused({ peers: ['fd00::2'], 'multicast address': 'ff05::1', address: 'fd00::1' }, /sync\.address: leave it out/);
    refused({ peers: ['192.0.2.2', '192.0.2.2#7'] }, /listed twice/);
    refused({ peers: ['nat64.example'] }, /peers\[0\]/);
    refused({ peers: ['192.0.2.2'], ttl: 0 }, /sync\.ttl/);
    refused({ peers: ['192.0.2.2'], 'in interface': 'a b' }, /in interface/);
    refused({ peers: ['192.0.2.2'], reuseaddr: 1 }, /reuseaddr/);
  });

  it('the daemon file takes it at the top level; config/nat64-sync.example.json is valid', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nat64-sync-cfg-'));
    try {
      const keyFile = join(dir, 'sync.key');
      writeFileSync(keyFile, 'a key read from a file, trimmed\n');
      const example = JSON.parse(readFileSync(join(__dirname, '../../../config/nat64-sync.example.json'), 'utf8'));
      example.sync.keyFile = keyFile;
      const c = validateConfig(example);
      assert.equal(c.sync?.key?.toString(), 'a key read from a file, trimmed');
      assert.equal(c.instances[0].global['ss-enabled'], true);
    } finally { rmSync(dir, { recursive: true, force: true }); }
  });

  it('a socket\'s source address is compared in canonical form (IPv4-mapped is IPv4)', () => {
    assert.deepEqual(canonicalAddress('::ffff:192.0.2.2'), { text: '192.0.2.2', family: 4 });
    assert.deepEqual(canonicalAddress('FD00:0:0::2'), { text: 'fd00::2', family: 6 });
    assert.equal(canonicalAddress('x'), null);
  });
});
