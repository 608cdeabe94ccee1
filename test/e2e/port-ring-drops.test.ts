/**
 * net_af_packet's kernel ring drops are counted (issue 11): a frame the kernel dropped at the packet
 * socket's ring because the shard did not empty it in time (PACKET_STATISTICS tp_drops, which
 * DPDK 22.11's PMD never reads) shows as port-<name>-rx-missed. A ring of 16 frames and a burst of
 * datagrams make the kernel drop for sure; then every frame the kernel's interface received is
 * either received by the port or counted missed.
 */
import { strict as assert } from 'node:assert';
import { flood, RelNet, sleep } from './reliability-net';
import { mapped } from '../../src/demo/checks';
import { nsExec } from '../../src/demo/topology';

describe('port counters: net_af_packet ring drops are rx-missed', function () {
  this.timeout(120000);
  const net = new RelNet({
    prefix: 'n64prd', shards: 1,
    // 4 blocks of 4 frames: the translator configures its own port's ring (framecnt).
    config: (c) => { c.dataplane.ports[0].device = `${c.dataplane.ports[0].device.replace(/,framecnt=\d+/, '')},framecnt=16`; },
  });
  before(async () => {
    await net.up();
    assert.equal(net.cli(['instance', 'add', 'example', '--pool6', '64:ff9b::/96']).status, 0);
  });
  after(async () => { await net.down(); });

  /** Frames the kernel received on the translator's IPv6 interface (what its packet sockets were offered). */
  const kernelRx = (): number => {
    const [l] = JSON.parse(nsExec(net.t.ns.t, ['ip', '-s', '-j', 'link', 'show', net.t.ifaces.v6])) as Array<{ stats64: { rx: { packets: number } } }>;
    return l.stats64.rx.packets;
  };

  it('every frame the interface received is rx-packets or rx-missed, and a 16-frame ring under a burst misses some', async () => {
    const k0 = kernelRx(), c0 = net.counters();
    const f = await flood(net, net.t.v6Nodes[1].ns, 'udp6-dports', mapped(net.t), 20000, 2);
    await sleep(500); // the shard empties the ring
    const k1 = kernelRx(), c1 = net.counters();
    const d = (k: string) => (c1[k] ?? 0) - (c0[k] ?? 0);
    const offered = k1 - k0, rx = d('port-v6-rx-packets'), missed = d('port-v6-rx-missed');
    // eslint-disable-next-line no-console
    console.log(`      ${f.sent} sent; kernel rx ${offered}, port rx ${rx}, rx-missed ${missed}`);
    assert.ok(offered >= f.sent, `kernel saw ${offered} of ${f.sent}`);
    assert.ok(missed > 0, `no rx-missed with a 16-frame ring (port rx ${rx} of ${offered})`);
    // Neighbour Discovery may add a frame or two between the two readings.
    assert.ok(Math.abs(offered - rx - missed) <= 4, `kernel rx ${offered} != port rx ${rx} + rx-missed ${missed}`);
  });
});
