/**
 * Floods (issue 6): a SYN flood from IPv4 to unmapped ports and a UDP flood of new 5-tuples from
 * IPv6 must not starve an established session. The established flow (UDP request/response every
 * 10 ms) is measured alone, then during each flood; figures go to docs/reliability.md.
 * Floods are bounded in packets and seconds (NAT64_RELIABILITY_LONG=1: longer and bigger).
 */
import { strict as assert } from 'node:assert';
import { flood, RelNet, sleep, type FloodResult, type Probe } from './reliability-net';
import { mapped } from '../../src/demo/checks';

const LONG = process.env.NAT64_RELIABILITY_LONG === '1';
const SECONDS = LONG ? 20 : 4;
const COUNT = LONG ? 2_000_000 : 200_000;

function line(name: string, p: Probe, f?: FloodResult): string {
  const rate = f ? `${f.sent} packets in ${f.seconds.toFixed(1)} s (${Math.round(f.sent / f.seconds)}/s); ` : '';
  return `      ${name}: ${rate}established ${p.received}/${p.sent} (${(100 * p.received / p.sent).toFixed(1)} %), ` +
    `rtt p50 ${p.rttP50.toFixed(2)} ms p99 ${p.rttP99.toFixed(2)} ms max ${p.rttMax.toFixed(1)} ms, longest gap ${p.maxGapMs.toFixed(0)} ms`;
}

describe('reliability: floods do not starve established sessions (2 shards)', function () {
  this.timeout(240000);
  const net = new RelNet({ prefix: 'n64rlf', shards: 2 });
  const sport = 49000;
  before(async () => {
    await net.up();
    assert.equal(net.cli(['instance', 'add', 'example', '--pool6', '64:ff9b::/96']).status, 0);
    await net.probe(0, sport, 1); // the established session
  });
  after(async () => { await net.down(); });

  async function during(run: () => Promise<FloodResult>): Promise<{ p: Probe; f: FloodResult }> {
    const probe = net.probe(0, sport, SECONDS, 10);
    await sleep(200);
    const f = await run();
    return { p: await probe, f };
  }

  it('baseline: the established flow alone', async () => {
    const p = await net.probe(0, sport, SECONDS, 10);
    // eslint-disable-next-line no-console
    console.log(line('baseline', p));
    assert.ok(p.received >= p.sent * 0.99);
  });

  it('SYN flood from IPv4 to unmapped pool4 ports', async () => {
    const c0 = net.counters();
    const { p, f } = await during(() => flood(net, net.t.v4Node.ns, 'syn4', net.t.translator.v4, COUNT, SECONDS - 1, [net.t.v4Node.addr]));
    const c1 = net.counters();
    // eslint-disable-next-line no-console
    console.log(line('SYN flood', p, f));
    const d = (k: string) => (c1[k] ?? 0) - (c0[k] ?? 0);
    // eslint-disable-next-line no-console
    console.log(`        daemon: received ${d('received')}, tcp-v4-syn-stored ${d('tcp-v4-syn-stored')}, tcp-so-full ${d('tcp-so-full')}, bib4-not-found ${d('bib4-not-found')}, port-v4-rx-missed ${d('port-v4-rx-missed')}`);
    assert.ok(d('tcp-so-full') + d('tcp-v4-syn-stored') + d('bib4-not-found') > 0);
    assert.ok(p.received >= p.sent * 0.9, `established ${p.received}/${p.sent}`);
    assert.ok(p.maxGapMs < 1000, `gap ${p.maxGapMs} ms`);
  });

  it('UDP flood of new 5-tuples from IPv6', async () => {
    const c0 = net.counters();
    const { p, f } = await during(() => flood(net, net.t.v6Nodes[1].ns, 'udp6-tuples', mapped(net.t), COUNT, SECONDS - 1));
    const c1 = net.counters();
    // eslint-disable-next-line no-console
    console.log(line('UDP 5-tuple flood', p, f));
    const d = (k: string) => (c1[k] ?? 0) - (c0[k] ?? 0);
    // eslint-disable-next-line no-console
    console.log(`        daemon: received ${d('received')}, translated-6to4 ${d('translated-6to4')}, pool4-exhausted ${d('pool4-exhausted')}, session-table-full ${d('session-table-full')}, bib-table-full ${d('bib-table-full')}, port-v6-rx-missed ${d('port-v6-rx-missed')}`);
    // An exhausted pool4 fails a new 5-tuple in O(1) (tables/pool4.ts free-port counts), so the flood
    // cannot starve the shard that carries the established flow.
    assert.ok(p.received >= p.sent * 0.9, `established ${p.received}/${p.sent}`);
    assert.ok(p.maxGapMs < 1000, `gap ${p.maxGapMs} ms`);
    const afterFlood = await net.probe(0, sport, 1);
    assert.ok(afterFlood.received >= afterFlood.sent * 0.9, `after the flood ${afterFlood.received}/${afterFlood.sent}`);
    // The established session is still there with its mapping.
    const s = net.json<Array<{ ipv6LocalPort: number }>>(['-i', 'example', 'session', 'display', '--udp']);
    assert.ok(s.some((x) => x.ipv6LocalPort === sport));
  });
});
