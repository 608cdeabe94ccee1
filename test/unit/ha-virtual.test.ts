import { strict as assert } from 'node:assert';
import { validateConfig } from '../../src/control/config';
import { dispatch } from '../../src/control/handlers';
import { parseIPv4, parseIPv6, parsePrefix4, parsePrefix6 } from '../../src/control/inet';
import { ControlState } from '../../src/control/state';
import { buildGratuitousArp } from '../../src/dataplane/l2/arp';
import { OwnAddresses, type PortRuntime } from '../../src/dataplane/l2/interfaces';
import { icmp6Checksum } from '../../src/dataplane/l2/local-checksum';
import { buildUnsolicitedAdvertisement } from '../../src/dataplane/l2/ndp';
import { VirtualAddresses } from '../../src/dataplane/virtual-addresses';
import { RecorderDataplane } from './control-recorder';

/** Virtual addresses and the health check (docs/ha.md): what Keepalived and BGP watchers rely on. */
const MAC = new Uint8Array([2, 0x64, 0, 0, 1, 4]);

function ports(): PortRuntime[] {
  const p6 = parsePrefix6('2001:db8::11/96', 'a', { defaultLen: null, allowHostBits: true });
  const v6 = parsePrefix6('2001:db8::1/96', 'a', { defaultLen: null, allowHostBits: true });
  const p4 = parsePrefix4('203.0.113.11/24', 'a', { defaultLen: null, allowHostBits: true });
  const v4 = parsePrefix4('203.0.113.1/24', 'a', { defaultLen: null, allowHostBits: true });
  const base = { mtu: 1500, routes4: [], routes6: [] };
  return [
    { ...base, id: 0, name: 'v6', mac: MAC, v4: [], v6: [p6, { ...v6, slot: 0 }] },
    { ...base, id: 1, name: 'v4', mac: MAC, v4: [p4, { ...v4, slot: 1 }], v6: [] },
  ];
}

function virtuals(): { va: VirtualAddresses; own: OwnAddresses } {
  const rt = ports();
  const va = new VirtualAddresses([
    { name: 'v6', rt: rt[0], virtualAddresses: ['2001:db8::1/96'] },
    { name: 'v4', rt: rt[1], virtualAddresses: ['203.0.113.1/24'] },
  ]);
  return { va, own: new OwnAddresses(rt, new Int32Array(va.buffer)) };
}

const VIP4 = parseIPv4('203.0.113.1'), FIXED4 = parseIPv4('203.0.113.11');
const VIP6 = parseIPv6('2001:db8::1');

describe('HA: virtual addresses in the data plane', () => {
  it('a virtual address is not ours until claimed, then is, and again not once released', () => {
    const { va, own } = virtuals();
    assert.equal(own.port4(VIP4), -1);
    assert.equal(own.released4(VIP4), true);
    assert.equal(own.port6(VIP6, 0), -1);
    assert.equal(own.released6(VIP6, 0), true);
    assert.equal(own.port4(FIXED4), 1, 'fixed addresses are always ours');
    assert.equal(own.released4(FIXED4), false);
    assert.deepEqual(va.set(va.list, true).map((v) => v.text), ['2001:db8::1/96', '203.0.113.1/24']);
    assert.equal(own.port4(VIP4), 1);
    assert.equal(own.port6(VIP6, 0), 0);
    assert.equal(own.released4(VIP4), false);
    assert.deepEqual(va.set(va.list, true), [], 'claiming again changes nothing');
    va.set(va.select('v4', undefined, ['v6', 'v4']), false);
    assert.equal(own.port4(VIP4), -1);
    assert.equal(own.port6(VIP6, 0), 0, 'the other port keeps its claim');
  });

  it('requests are sourced from fixed addresses, never from a virtual one the node does not hold', () => {
    const rt = ports();
    rt[1].v4 = [rt[1].v4[1]]; // the IPv4 port has only its virtual address
    const claimed = new Int32Array(2);
    const own = new OwnAddresses(rt, claimed);
    assert.equal(own.first4(1), 0, 'nothing held: no source address (an ARP probe)');
    Atomics.store(claimed, 1, 1);
    assert.equal(own.first4(1), VIP4 >>> 0);
    const out = new Uint8Array(16);
    assert.ok(own.first6(0, out, 0));
    assert.deepEqual(out, parseIPv6('2001:db8::11'), 'the fixed IPv6 address comes first even when the virtual one is listed');
    assert.deepEqual(own.all4(), [VIP4 >>> 0], 'the default pool4 includes the virtual address');
  });

  it('select: every address, a port\'s, or named ones; unknown ones refused before anything changes', () => {
    const { va } = virtuals();
    const names = ['v6', 'v4'];
    assert.equal(va.select(undefined, undefined, names).length, 2);
    assert.deepEqual(va.select(undefined, ['203.0.113.1'], names).map((v) => v.port), ['v4']);
    assert.deepEqual(va.select(undefined, ['2001:DB8:0::1/96'], names).map((v) => v.port), ['v6']);
    assert.throws(() => va.select(undefined, ['203.0.113.11'], names), (e: any) => e.code === 'E_NOT_VIRTUAL');
    assert.throws(() => va.select('v6', ['203.0.113.1'], names), (e: any) => e.code === 'E_NOT_VIRTUAL');
    assert.throws(() => va.select('v9', undefined, names), (e: any) => e.code === 'E_PORT_NOT_FOUND');
  });

  it('gratuitous ARP: a broadcast request with sender and target both the address (RFC 5227 announcement)', () => {
    const buf = new Uint8Array(64);
    const len = buildGratuitousArp(buf, 0, MAC, VIP4 >>> 0);
    assert.equal(len, 42);
    assert.deepEqual([...buf.subarray(0, 6)], [255, 255, 255, 255, 255, 255]);
    assert.deepEqual([...buf.subarray(6, 12)], [...MAC]);
    assert.deepEqual([buf[12], buf[13], buf[20], buf[21]], [0x08, 0x06, 0, 1], 'ARP request');
    assert.deepEqual([...buf.subarray(22, 28)], [...MAC], 'sender hardware address');
    assert.deepEqual([...buf.subarray(28, 32)], [203, 0, 113, 1], 'sender IP');
    assert.deepEqual([...buf.subarray(38, 42)], [203, 0, 113, 1], 'target IP');
  });

  it('unsolicited NA: to all-nodes, hop limit 255, Router and Override set, Solicited clear, target and TLLA (RFC 4861 §7.2.6)', () => {
    const buf = new Uint8Array(128);
    const len = buildUnsolicitedAdvertisement(buf, 0, MAC, VIP6, 0);
    assert.equal(len, 14 + 40 + 32);
    assert.deepEqual([...buf.subarray(0, 6)], [0x33, 0x33, 0, 0, 0, 1]);
    const ip = 14, icmp = 54;
    assert.equal(buf[ip + 7], 255);
    assert.deepEqual([...buf.subarray(ip + 8, ip + 24)], [...VIP6], 'source: the address itself');
    assert.deepEqual([...buf.subarray(ip + 24, ip + 40)], [...parseIPv6('ff02::1')]);
    assert.equal(buf[icmp], 136);
    assert.equal(buf[icmp + 4], 0x80 | 0x20, 'R and O, not S');
    assert.deepEqual([...buf.subarray(icmp + 8, icmp + 24)], [...VIP6]);
    assert.deepEqual([buf[icmp + 24], buf[icmp + 25], ...buf.subarray(icmp + 26, icmp + 32)], [2, 1, ...MAC], 'target link-layer address option');
    assert.equal(icmp6Checksum(buf, ip, 32), 0, 'checksum verifies');
  });
});

describe('HA: configuration, control state and health', () => {
  const file = (virtualAddresses: unknown) => ({
    dataplane: { ports: [{ name: 'v4', device: 'net_null0', addresses: ['203.0.113.11/24'], virtualAddresses }] },
  });

  it('dataplane.ports[].virtualAddresses: parsed like addresses; a duplicate of an address is refused', () => {
    assert.deepEqual(validateConfig(file(['203.0.113.1/24'])).dataplane.ports[0].virtualAddresses, ['203.0.113.1/24']);
    assert.deepEqual(validateConfig(file(undefined)).dataplane.ports[0].virtualAddresses, []);
    assert.throws(() => validateConfig(file(['203.0.113.11/24'])), /virtualAddresses\[0\]: '203\.0\.113\.11\/24' is already an address of the port/);
    assert.throws(() => validateConfig(file(['203.0.113.300/24'])), (e: any) => /virtualAddresses\[0\]/.test(e.message));
  });

  it('port claim/release: validated against the ports\' virtual addresses, then handed to the data plane', async () => {
    const dp = new RecorderDataplane();
    const st = new ControlState(dp);
    assert.deepEqual(await st.portVirtual(true, undefined, []), [{ port: 'v4', address: '203.0.113.1/24', claimed: true }]);
    assert.equal(dp.virtual['203.0.113.1/24'], true);
    await assert.rejects(st.portVirtual(false, 'v9', []), (e: any) => e.code === 'E_PORT_NOT_FOUND');
    await assert.rejects(st.portVirtual(false, 'v6', []), (e: any) => e.code === 'E_NOT_VIRTUAL' && /port 'v6' has no virtual addresses/.test(e.message));
    await assert.rejects(st.portVirtual(false, undefined, ['203.0.113.9']), (e: any) => e.code === 'E_NOT_VIRTUAL');
    await assert.rejects(st.portVirtual(false, undefined, ['nonsense']), (e: any) => e.code === 'E_BAD_ADDRESS');
    assert.equal(dp.virtual['203.0.113.1/24'], true, 'a refused release changed nothing');
    await st.portVirtual(false, 'v4', ['203.0.113.1']);
    assert.equal(dp.virtual['203.0.113.1/24'], false);
  });

  it('the control socket refuses malformed claim arguments', async () => {
    const st = new ControlState(new RecorderDataplane());
    await assert.rejects(dispatch(st, ['port', 'claim'], undefined, { addresses: '203.0.113.1' }), (e: any) => e.code === 'E_PROTOCOL');
    await assert.rejects(dispatch(st, ['port', 'claim'], undefined, { port: 'v4' }), (e: any) => e.code === 'E_PROTOCOL');
    assert.equal((await dispatch(st, ['port', 'claim'], undefined, { name: 'v4', addresses: ['203.0.113.1'] }) as unknown[]).length, 1);
  });

  it('health: an instance that runs, live shard loops and links up; each failure named', async () => {
    const dp = new RecorderDataplane();
    const st = new ControlState(dp);
    const failed = () => st.health('default').checks.filter((c) => !c.ok).map((c) => c.check);
    assert.deepEqual(failed(), ['instance'], 'no instance yet');
    await st.instanceAdd('default', '64:ff9b::/96');
    assert.equal(st.health('default').healthy, true);
    await st.globalUpdate('default', 'manually-enabled', false);
    assert.deepEqual(failed(), ['instance']);
    await st.globalUpdate('default', 'manually-enabled', true);
    dp.shardRows = [{ shard: 0, restarts: 1, lastRestartMs: 5, heartbeatAgeMs: 2500 }];
    assert.deepEqual(failed(), ['shards']);
    assert.match(st.health('default').checks[1].detail, /shard 0 silent for 2500 ms/);
    dp.shardRows = [{ shard: 0, restarts: 1, lastRestartMs: 5, heartbeatAgeMs: 10 }];
    dp.linkV4 = 'down';
    assert.deepEqual(failed(), ['ports']);
    assert.match(st.health('default').checks[2].detail, /port v4 link down/);
  });
});
