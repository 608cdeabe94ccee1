import { strict as assert } from 'node:assert';
import {
  formatIPv4, formatIPv6, parseInterfaceAddress, parseIPv4, parseIPv6, parseMac, parsePool6, parsePortRange,
  parsePrefix4, parsePrefix6, parseTransport4, parseTransport6, prefix4Contains,
} from '../../src/control/inet';
import { formatJoolTime, parseJoolTime } from '../../src/control/timeout';

function code(fn: () => unknown): string {
  try { fn(); } catch (e) { return (e as { code: string }).code; }
  return 'no error';
}

describe('inet: IPv4', () => {
  it('round-trips dotted quads as unsigned 32-bit integers', () => {
    assert.equal(parseIPv4('203.0.113.1'), 0xcb007101);
    assert.equal(parseIPv4('255.255.255.255'), 0xffffffff);
    assert.equal(formatIPv4(0xcb007101), '203.0.113.1');
  });
  it('refuses short, long, out-of-range and leading-zero forms', () => {
    for (const bad of ['1.2.3', '1.2.3.4.5', '256.0.0.1', '01.2.3.4', '1.2.3.x', '', ' 1.2.3.4']) {
      assert.equal(code(() => parseIPv4(bad)), 'E_BAD_ADDRESS', bad);
    }
  });
});

describe('inet: IPv6 (RFC 5952 output)', () => {
  const canon: Array<[string, string]> = [
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['2001:DB8::8', '2001:db8::8'],
    ['64:ff9b::203.0.113.1', '64:ff9b::cb00:7101'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // §4.2.2: one zero group stays
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],           // §4.2.3: the longest run
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],     // §4.2.3: first of equal runs
    ['::', '::'],
    ['::1', '::1'],
    ['::ffff:192.0.2.1', '::ffff:192.0.2.1'],
  ];
  for (const [input, out] of canon) {
    it(`${input} -> ${out}`, () => assert.equal(formatIPv6(parseIPv6(input)), out));
  }
  it('refuses malformed text', () => {
    for (const bad of ['2001:db8::1::2', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', '2001:db8::g', '12345::', 'fe80::1%eth0', '::1.2.3']) {
      assert.equal(code(() => parseIPv6(bad)), 'E_BAD_ADDRESS', bad);
    }
  });
});

describe('inet: prefixes', () => {
  it('parses IPv4 prefixes, length defaulting to 32', () => {
    assert.deepEqual(parsePrefix4('192.0.2.0/24'), { addr: 0xc0000200, len: 24 });
    assert.deepEqual(parsePrefix4('192.0.2.1'), { addr: 0xc0000201, len: 32 });
    assert.ok(prefix4Contains(parsePrefix4('192.0.2.2/31'), parseIPv4('192.0.2.3')));
    assert.ok(!prefix4Contains(parsePrefix4('192.0.2.2/31'), parseIPv4('192.0.2.4')));
  });
  it('refuses host bits, bad lengths and garbage with E_BAD_PREFIX', () => {
    for (const bad of ['192.0.2.1/24', '192.0.2.0/33', '192.0.2.0/', 'x/24', '192.0.2.0/024']) {
      assert.equal(code(() => parsePrefix4(bad)), 'E_BAD_PREFIX', bad);
    }
    assert.equal(code(() => parsePrefix6('2001:db8::1/64')), 'E_BAD_PREFIX');
  });
  it('interface addresses keep their host bits and name the field', () => {
    assert.deepEqual(parseInterfaceAddress('203.0.113.1/24', 'a'), { family: 4, text: '203.0.113.1/24' });
    assert.equal(parseInterfaceAddress('2001:db8::1/96', 'a').family, 6);
    assert.throws(() => parseInterfaceAddress('203.0.113.1/33', 'dataplane.ports[1].addresses[0]'),
      { code: 'E_BAD_PREFIX', message: "dataplane.ports[1].addresses[0]: '203.0.113.1/33' is not an IPv4/IPv6 prefix" });
    assert.equal(code(() => parseInterfaceAddress('203.0.113.1', 'a')), 'E_BAD_PREFIX');
  });
  it('pool6 follows RFC 6052: allowed lengths and a zero u octet', () => {
    assert.equal(parsePool6('64:ff9b::/96').len, 96);
    assert.equal(parsePool6('2001:db8::/32').len, 32);
    for (const bad of ['64:ff9b::/80', '64:ff9b::', '2001:db8:0:0:ff00::/96', '2001:db8::1/32', 'nope/96']) {
      assert.equal(code(() => parsePool6(bad)), 'E_BAD_PREFIX', bad);
    }
  });
});

describe('inet: ports, transport addresses, MAC', () => {
  it('port ranges as Jool writes them', () => {
    assert.deepEqual(parsePortRange('61001-65535'), { min: 61001, max: 65535 });
    assert.deepEqual(parsePortRange('80'), { min: 80, max: 80 });
    for (const bad of ['65536', '10-5', 'a-b', '1-2-3', '']) assert.equal(code(() => parsePortRange(bad)), 'E_BAD_PORT_RANGE', bad);
  });
  it('"addr#port" transport addresses', () => {
    assert.deepEqual(parseTransport4('192.0.2.1#80', 'f'), { addr: 0xc0000201, port: 80 });
    const t6 = parseTransport6('2001:db8::8#80', 'f');
    assert.equal(formatIPv6(t6.addr), '2001:db8::8');
    assert.equal(t6.port, 80);
    assert.equal(code(() => parseTransport4('192.0.2.1:80', 'f')), 'E_BAD_ADDRESS');
    assert.equal(code(() => parseTransport6('2001:db8::8#70000', 'f')), 'E_BAD_PORT');
  });
  it('MAC addresses, unicast only', () => {
    assert.equal(parseMac('02:00:00:00:00:AB'), '02:00:00:00:00:ab');
    assert.equal(code(() => parseMac('ff:ff:ff:ff:ff:ff')), 'E_BAD_MAC');
    assert.equal(code(() => parseMac('02-00-00-00-00-01')), 'E_BAD_MAC');
  });
});

describe('timeout notation', () => {
  it('reads [[HH:]MM:]SS[.mmm] and bare seconds', () => {
    assert.equal(parseJoolTime('5:00', 'f'), 300_000);
    assert.equal(parseJoolTime('2:00:00', 'f'), 7_200_000);
    assert.equal(parseJoolTime('0:05:00', 'f'), 300_000);
    assert.equal(parseJoolTime('90', 'f'), 90_000);
    assert.equal(parseJoolTime('1.5', 'f'), 1500);
    assert.equal(parseJoolTime(300, 'f'), 300_000);
  });
  it('refuses garbage and minutes/seconds above 59 inside a composite', () => {
    for (const bad of ['5m', '1:75:00', '1:00:60', '-1', '', 'a:b']) assert.equal(code(() => parseJoolTime(bad, 'f')), 'E_BAD_VALUE', bad);
  });
  it('formats back to text that parses to the same value', () => {
    for (const ms of [300_000, 7_200_000, 1500, 36_000_000]) assert.equal(parseJoolTime(formatJoolTime(ms), 'f'), ms);
    assert.equal(formatJoolTime(300_000), '0:05:00');
  });
});
