import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startDaemon, type DaemonProcess } from './helpers/daemon-process';

/**
 * dataplane.ports[].mac (issue 14): the daemon's ports keep the configured MAC, so a tester's files
 * stay valid across restarts. net_null takes it through rte_eth_dev_default_mac_addr_set, net_memif
 * through its mac= device argument; net_pcap has neither and is refused by name.
 */
describe('nat64 daemon: a fixed MAC per port', function () {
  this.timeout(120000);
  const ports = (dir: string, v4Device: string) => [
    { name: 'v6', device: 'net_null0', mac: '02:00:00:00:64:06', addresses: ['2001:db8::1/64'] },
    { name: 'v4', device: v4Device.replace(/DIR/g, dir), mac: '02:00:00:00:64:04', addresses: ['198.19.0.1/24'] },
  ];
  const config = (dir: string, v4Device: string) => ({ dataplane: { mbufs: 4095, ports: ports(dir, v4Device) }, instances: [] });
  let d: DaemonProcess | null = null;
  afterEach(async () => { if (d) await d.stop(); d = null; });

  it('net_null and net_memif ports show the configured MAC in `port display --json`, twice across a restart', async () => {
    for (let run = 0; run < 2; run++) {
      const dir = `/tmp/nat64-mac-${process.pid}-${run}`;
      d = await startDaemon(config(dir, 'net_memif0,role=server,socket=DIR.sock'), 'mac');
      const r = d.cli(['port', 'display', '--json']);
      assert.equal(r.status, 0, r.stderr);
      const rows = JSON.parse(r.stdout) as Array<{ configName: string; driver: string; mac: string }>;
      assert.deepEqual(rows.map((p) => [p.configName, p.driver, p.mac]),
        [['v6', 'net_null', '02:00:00:00:64:06'], ['v4', 'net_memif', '02:00:00:00:64:04']]);
      await d.stop();
      d = null;
    }
  });

  it('a driver that cannot take one (net_pcap) stops the daemon with a coded error naming port and driver', async () => {
    const dir = path.join('/tmp', `nat64-mac-pcap-${process.pid}`);
    // An empty classic pcap file (24-byte header, LINKTYPE_ETHERNET) to read from.
    const header = Buffer.alloc(24);
    header.writeUInt32LE(0xa1b2c3d4, 0); header.writeUInt16LE(2, 4); header.writeUInt16LE(4, 6);
    header.writeUInt32LE(65535, 16); header.writeUInt32LE(1, 20);
    fs.writeFileSync(`${dir}.in.pcap`, header);
    try {
      await assert.rejects(startDaemon(config(dir, 'net_pcap9,rx_pcap=DIR.in.pcap,tx_pcap=DIR.out.pcap'), 'mac-pcap', 20000),
        /port 1 \(net_pcap\) refuses the configured mac 02:00:00:00:64:04/);
    } finally {
      fs.rmSync(`${dir}.in.pcap`, { force: true });
      fs.rmSync(`${dir}.out.pcap`, { force: true });
    }
  });
});
