/**
 * Bounded soak (issue 6): session churn through the real daemon (2 shards) while an established
 * flow is measured; the daemon's RSS is sampled, and the counters must stay consistent (every
 * received frame has exactly one outcome) and never go backwards.
 *
 *   NAT64_SOAK_SECONDS=600 npx mocha --timeout 0 dist/test/soak/soak.test.js    (long run)
 *   default 30 s (the CI run in scripts/test.sh)
 *
 * Sessions live at least 2 minutes (udp-timeout's minimum), so a run longer than that also shows
 * the tables emptying and memory staying flat while they recycle. pool4 is widened to 1024-65535 so
 * that 2 minutes of churn fit (200 flows/s x 120 s = 24k ports).
 */
import { strict as assert } from 'node:assert';
import { COUNTERS } from '../../src/dataplane/counters';
import { mapped } from '../../src/demo/checks';
import { RelNet, sleep } from '../e2e/reliability-net';

const SECONDS = Number(process.env.NAT64_SOAK_SECONDS || 30);
const FLOWS_PER_SECOND = Number(process.env.NAT64_SOAK_RATE || 200);

/**
 * Counters that are not a received frame's one outcome: side effects of a translation or an answer
 * (transmitted, hairpin, icmp-error-sent next to its reason, mtu-fragmented, no-route and neighbour
 * states after translation), timer events (expiry) and reassembly (a reassembled datagram is
 * received again).
 */
const NOT_OUTCOMES = new Set([
  'received', 'transmitted', 'hairpin', 'icmp-error-sent', 'mtu-fragmented', 'neighbor-solicit-sent', 'neighbor-held',
  'neighbor-unresolved', 'no-route', 'session-expired', 'bib-expired', 'tcp-v4-syn-expired', 'tcp-v4-syn-lost',
  'frag-reassembled', 'frag-timeout', 'fragment-alloc-failed', 'log-dropped',
]);

/**
 * One request/response flow after another from a fresh socket (a new source port: a new BIB entry
 * and session each), paced at RATE flows/s for SECONDS s. Prints {flows, answered}.
 */
const CHURN = `
import json, socket, sys, time
dst, rate, secs = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
t0 = time.time(); flows = 0; answered = 0
while time.time() < t0 + secs:
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s.settimeout(0.2)
    try:
        s.sendto(b'churn', (dst, 5353)); flows += 1
        s.recv(64); answered += 1
    except OSError:
        pass
    s.close()
    wait = t0 + flows / rate - time.time()
    if wait > 0: time.sleep(wait)
print(json.dumps({'flows': flows, 'answered': answered}))
`;

describe(`soak: ${SECONDS} s of session churn (2 shards)`, function () {
  this.timeout(SECONDS * 1000 + 180000);
  const net = new RelNet({ prefix: 'n64rls', shards: 2 });
  before(async () => {
    await net.up();
    assert.equal(net.cli(['instance', 'add', 'example', '--pool6', '64:ff9b::/96']).status, 0);
    // Churn needs rate x udp-timeout (2 min) free ports: 200/s -> 24k; the default 61001-65535 has 4535.
    const r = net.cli(['-i', 'example', 'pool4', 'add', '203.0.113.1', '1024-65535', '--udp']);
    assert.equal(r.status, 0, r.stderr);
  });
  after(async () => { await net.down(); });

  it('memory flat, counters consistent, the established flow unaffected', async () => {
    await net.probe(0, 50000, 1); // warm-up: JIT, neighbours
    const rss: number[] = [net.rssKb()];
    const c0 = net.counters();
    const probe = net.probe(0, 50000, SECONDS, 50);
    const churn = net.python(net.t.v6Nodes[1].ns, CHURN, [mapped(net.t), String(FLOWS_PER_SECOND), String(SECONDS)], SECONDS * 1000 + 30000);
    const samples: Array<Record<string, number>> = [c0];
    const sampler = (async () => {
      for (let t = 0; t < SECONDS; t += 5) {
        await sleep(5000);
        rss.push(net.rssKb());
        samples.push(net.counters());
      }
    })();
    const [p, outStr] = await Promise.all([probe, churn, sampler]).then(([a, b]) => [a, b] as const);
    const ch = JSON.parse(outStr) as { flows: number; answered: number };
    await sleep(500);
    const c1 = net.counters();
    rss.push(net.rssKb());
    samples.push(c1);
    const d = (k: string) => (c1[k] ?? 0) - (c0[k] ?? 0);
    const outcomes = COUNTERS.map((c) => c.name).filter((n) => !NOT_OUTCOMES.has(n)).reduce((s, n) => s + d(n), 0);
    const sessions = net.json<unknown[]>(['-i', 'example', 'session', 'display', '--udp']).length;
    // eslint-disable-next-line no-console
    console.log(`      ${SECONDS} s: ${ch.flows} new flows (${ch.answered} answered), ${sessions} UDP sessions now; ` +
      `RSS ${rss[0]} -> ${rss[rss.length - 1]} kB (max ${Math.max(...rss)}); received ${d('received')}, outcomes ${outcomes}; ` +
      `established ${p.received}/${p.sent}, p99 ${p.rttP99.toFixed(1)} ms\n      RSS every 5 s (MB): ${rss.map((k) => (k / 1024).toFixed(0)).join(' ')}` +
      `\n      sessions expired ${d('session-expired')}, BIB entries expired ${d('bib-expired')}, pool4-exhausted ${d('pool4-exhausted')}`);
    // Counters: one outcome per received frame, and none ever went down.
    assert.equal(outcomes, d('received'), JSON.stringify(Object.fromEntries(COUNTERS.map((c) => [c.name, d(c.name)]).filter(([, v]) => v))));
    for (let i = 1; i < samples.length; i++) {
      for (const [k, v] of Object.entries(samples[i])) assert.ok(v >= (samples[i - 1][k] ?? 0), `${k} went down`);
    }
    assert.ok(ch.answered >= ch.flows * 0.98, `churn ${ch.answered}/${ch.flows}`);
    assert.ok(d('translated-6to4') >= ch.answered && d('translated-4to6') >= ch.answered);
    assert.ok(p.received >= p.sent * 0.99, `established ${p.received}/${p.sent}`);
    // Memory: tables are preallocated shared memory, so RSS may only move with V8's heap: bounded growth.
    const growth = rss[rss.length - 1] - rss[0];
    assert.ok(growth < 64 * 1024, `RSS grew ${growth} kB`);
  });
});
