import { strict as assert } from 'node:assert';
import { validateConfig } from '../../src/control/config';

/** dataplane.ports[].mac (issue 14): a fixed MAC so that testers' files survive restarts. */
const withMac = (mac: unknown) => ({
  dataplane: {
    ports: [
      { name: 'v6', device: 'net_memif0,role=server,socket=/run/nat64/memif6.sock', mac, addresses: ['2001:db8::1/64'] },
      { name: 'v4', device: 'net_memif1,role=server,socket=/run/nat64/memif4.sock', addresses: ['198.19.0.1/24'] },
    ],
  },
  instances: [],
});

describe('config: dataplane.ports[].mac', () => {
  it('is optional, and normalised to lower case when given', () => {
    const c = validateConfig(withMac('02:00:5E:00:64:01'));
    assert.equal(c.dataplane.ports[0].mac, '02:00:5e:00:64:01');
    assert.equal('mac' in c.dataplane.ports[1], false, 'absent: the driver chooses');
    assert.equal(validateConfig(c).dataplane.ports[0].mac, '02:00:5e:00:64:01', 'validating twice changes nothing');
  });

  it('net_memif (no mac_addr_set in DPDK 22.11) gets it as its mac= device argument', () => {
    const c = validateConfig(withMac('02:00:00:00:64:06'));
    assert.equal(c.dataplane.ports[0].device, 'net_memif0,role=server,socket=/run/nat64/memif6.sock,mac=02:00:00:00:64:06');
    const same: any = withMac('02:00:00:00:64:06');
    same.dataplane.ports[0].device += ',mac=02:00:00:00:64:06';
    assert.equal(validateConfig(same).dataplane.ports[0].device, same.dataplane.ports[0].device, 'already there: unchanged');
    const other: any = withMac('02:00:00:00:64:06');
    other.dataplane.ports[0].device += ',mac=02:00:00:00:64:07';
    assert.throws(() => validateConfig(other), { code: 'E_CONFIG_FIELD', message: /^dataplane\.ports\[0\]\.mac: .*contradicts mac=02:00:00:00:64:07/ });
    const other2: any = withMac('02:00:00:00:64:06');
    other2.dataplane.ports[0].device = 'net_null0';
    assert.equal(validateConfig(other2).dataplane.ports[0].device, 'net_null0', 'other drivers: rte_eth_dev_default_mac_addr_set at start');
  });

  it('refuses what cannot be a port\'s own address, in one line naming the field', () => {
    for (const bad of ['02:00:00:00:00', '02-00-00-00-00-01', 'zz:00:00:00:00:01', 2, '', '01:00:5e:00:00:01', 'ff:ff:ff:ff:ff:ff', '00:00:00:00:00:00']) {
      assert.throws(() => validateConfig(withMac(bad)), (e: any) => {
        assert.equal(e.code, 'E_CONFIG_FIELD', `${bad}: ${e.message}`);
        assert.ok(e.message.startsWith('dataplane.ports[0].mac: '), e.message);
        assert.ok(!e.message.includes('\n'));
        return true;
      }, String(bad));
    }
  });
});
