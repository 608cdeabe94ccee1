import { strict as assert } from 'node:assert';
import { finish, ipv4Frame, ipv6Frame, macBytes, sum16 } from '../../src/tester/frames';
import { clientAddress, clientPort, daemonNeeds, makePlan, pool4OfFlows, staticBibFor, type DaemonFacts, type TesterOptions } from '../../src/tester/plan';
import { checkRangePool4, pktgenCommands } from '../../src/tester/pktgen';
import { siitperfConf } from '../../src/tester/siitperf';
import { formatIPv6 } from '../../src/control/inet';

const facts = (): DaemonFacts => ({
  pool6: '64:ff9b::/96',
  ports: [
    { configName: 'v6', mac: '02:00:00:00:64:06', addresses: ['2001:db8::1/64'] },
    { configName: 'v4', mac: '02:00:00:00:64:04', addresses: ['198.19.0.1/24'] },
  ],
  pool4: [{ protocol: 'UDP', address: '198.19.0.1', portMin: 20000, portMax: 29999 }],
  bib: [],
});
const options = (o: Partial<TesterOptions> = {}): TesterOptions =>
  ({ flows: 4096, size: 84, proto: 'UDP', clients: '2001:db8:1::/64', testerMac6: '02:00:00:00:01:06', testerMac4: '02:00:00:00:01:04', ...o });

describe('nat64 tester: plans from the daemon\'s facts (issue 14)', () => {
  it('takes MACs, addresses and pool6 from the daemon; defaults the server and the tester next to its ports', () => {
    const p = makePlan(facts(), options());
    assert.deepEqual([p.v6.name, p.v6.mac, p.v4.name, p.v4.mac], ['v6', '02:00:00:00:64:06', 'v4', '02:00:00:00:64:04']);
    assert.equal(formatIPv6(p.server6), '64:ff9b::c613:2');
    assert.equal(formatIPv6(p.tester6), '2001:db8::2');
    assert.equal(formatIPv6(clientAddress(p, 0)), '2001:db8:1::1');
    assert.deepEqual([clientPort(p, 0), clientPort(p, 4095)], [10000, 14095]);
    const q = makePlan(facts(), options({ flows: 1000, portsPerClient: 256 }));
    assert.deepEqual([formatIPv6(clientAddress(q, 999)), clientPort(q, 999), q.clientCount], ['2001:db8:1::4', 10000 + 999 % 256, 4]);
    assert.deepEqual(daemonNeeds(p), [
      'port v6: "routes": [{ "prefix": "2001:db8:1::/64", "via": "2001:db8::2" }],',
      '         "neighbors": [{ "address": "2001:db8::2", "mac": "02:00:00:00:01:06" }]',
      'port v4: "neighbors": [{ "address": "198.19.0.2", "mac": "02:00:00:00:01:04" }]',
    ]);
  });

  it('an empty pool4 falls back to the IPv4 port address (61001-65535), where static entries cannot go', () => {
    const f = facts();
    f.pool4 = [];
    const p = makePlan(f, options());
    assert.deepEqual(p.pool4.map((r) => [r.portMin, r.portMax]), [[61001, 65535]]);
    assert.throws(() => staticBibFor(p, []), /pool4 is empty/);
  });

  it('static BIB entries take consecutive free pool4 ports, skip taken ones, and are read back per flow', () => {
    const p = makePlan(facts(), options({ flows: 4 }));
    const taken = [{ protocol: 'UDP', ipv6: '2001:db8::99', ipv6Port: 1, ipv4: '198.19.0.1', ipv4Port: 20001, static: true }];
    const add = staticBibFor(p, taken);
    assert.deepEqual(add.map((b) => [b['ipv6 address'], b['ipv4 address']]), [
      ['2001:db8:1::1#10000', '198.19.0.1#20000'], ['2001:db8:1::1#10001', '198.19.0.1#20002'],
      ['2001:db8:1::1#10002', '198.19.0.1#20003'], ['2001:db8:1::1#10003', '198.19.0.1#20004']]);
    const bib = add.map((b) => {
      const [v6, p6] = b['ipv6 address'].split('#'), [v4, p4] = b['ipv4 address'].split('#');
      return { protocol: 'UDP', ipv6: v6, ipv6Port: Number(p6), ipv4: v4, ipv4Port: Number(p4), static: true };
    });
    const flows = pool4OfFlows(p, bib);
    assert.deepEqual(flows.map((t) => t.port), [20000, 20002, 20003, 20004]);
    assert.throws(() => checkRangePool4(flows), /consecutive ports/);
    assert.throws(() => pool4OfFlows(p, bib.slice(1)), /flow 0 \(2001:db8:1::1#10000\) has no UDP BIB entry/);
  });

  it('frames carry valid checksums (UDP and TCP, both families)', () => {
    const e = { dstMac: macBytes('02:00:00:00:64:06'), srcMac: macBytes('02:00:00:00:01:06'), sport: 10000, dport: 5353 };
    for (const proto of ['UDP', 'TCP'] as const) {
      const six = ipv6Frame(84, proto, { ...e, src: clientAddress(makePlan(facts(), options()), 7), dst: new Uint8Array(16).fill(9) }).frame;
      const l4 = six.length - 54;
      assert.equal(finish(sum16(six, 54, l4, sum16(six, 22, 32) + l4 + six[20])), 0, `${proto} over IPv6`);
      const four = ipv4Frame(1498, proto, { ...e, src: 0xc6130002, dst: 0xc6130001 }).frame;
      assert.equal(four.length, 1494);
      assert.equal(finish(sum16(four, 14, 20)), 0);
      assert.equal(finish(sum16(four, 34, four.length - 34, sum16(four, 26, 8) + four.length - 34 + four[23])), 0, `${proto} over IPv4`);
    }
  });

  it('Pktgen range mode: coprime clients x ports only; the 4to6 range is the flows\' pool4 ports', () => {
    const p = makePlan(facts(), options({ flows: 12288 }));
    const text = pktgenCommands(p, '6to4');
    for (const l of ['range 0 src ip max 2001:db8:1::3', 'range 0 src ip inc ::1', 'range 0 src port max 14095', 'range 0 size start 84', 'enable 0 range',
      'set 0 src ip 2001:db8::2/64', 'set 1 src ip 198.19.0.2/24', 'enable 1 process']) assert.ok(text.split('\n').includes(l), l);
    assert.throws(() => pktgenCommands(makePlan(facts(), options({ flows: 8192 })), '6to4'), /coprime/);
    assert.throws(() => pktgenCommands(makePlan(facts(), options({ flows: 5000 })), '6to4'), /coprime/);
    const both = pktgenCommands(makePlan(facts(), options({ flows: 64, size: 1518, proto: 'TCP' })), 'both', { addr: 0xc6130001, first: 20000 });
    for (const l of ['range 1 dst port max 20063', 'range 1 size start 1498', 'range 0 size start 1518', 'range 0 tcp flag set syn', 'range 1 tcp flag set ack', 'range 1 proto tcp']) {
      assert.ok(both.split('\n').includes(l), l);
    }
  });

  it('siitperf.conf: one Initiator, source x destination ports = flows, the daemon\'s MACs', () => {
    const text = siitperfConf(makePlan(facts(), options({ flows: 65536 })), { cpus: [2, 4, 6, 8], rate: 100000 });
    const lines = text.split('\n').map((l) => l.replace(/\s*#.*$/, '')).filter(Boolean);
    for (const l of ['IPv6-L-Real 2001:db8:1::1', 'IPv6-R-Virt 64:ff9b::c613:2', 'IPv4-R-Real 198.19.0.2', 'MAC-L-DUT 02:00:00:00:64:06',
      'MAC-R-DUT 02:00:00:00:64:04', 'Fwd-sport-min 10000', 'Fwd-sport-max 14095', 'Fwd-dport-min 5353', 'Fwd-dport-max 5368',
      'CPU-L-Send 2', 'CPU-L-Recv 8', 'Stateful 1', 'Enumerate-ports 3', 'Responder-ports 3']) assert.ok(lines.includes(l), l);
    assert.match(text, /siitperf-tp 84 <rate> 60 2000 2 2 65536 65536 100000 2000 3656/);
  });
});
