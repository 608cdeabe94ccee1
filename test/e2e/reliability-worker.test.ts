/**
 * Worker failure (issue 6): a shard whose task dies is relaunched over the same shared-memory
 * tables. Two IPv6 nodes send continuous UDP request/response flows that hash to different
 * shards; the daemon (NAT64_TEST_HOOKS) is told to kill one shard mid-flow. The other flow must
 * never stop, the killed shard's sessions must still be listed, and its flow must resume.
 * NAT64_RELIABILITY_LONG=1 repeats the kill several times per mode.
 */
import { strict as assert } from 'node:assert';
import { RelNet, sleep, type Probe } from './reliability-net';

const LONG = process.env.NAT64_RELIABILITY_LONG === '1';
const KILLS = LONG ? 5 : 1;

interface Session { protocol: string; ipv6LocalPort: number; ipv6Local: string; shard: number }

describe('reliability: a shard worker that dies is restarted with its tables (2 shards)', function () {
  this.timeout(180000);
  const net = new RelNet({ prefix: 'n64rlw', shards: 2 });
  const restartTimes: number[] = [];

  before(async () => {
    await net.up();
    const r = net.cli(['instance', 'add', 'example', '--pool6', '64:ff9b::/96']);
    assert.equal(r.status, 0, r.stderr);
  });
  after(async () => {
    // eslint-disable-next-line no-console
    if (restartTimes.length) console.log(`      restart times (ms): ${restartTimes.join(', ')}`);
    await net.down();
  });

  for (const how of ['throw', 'exit'] as const) {
    it(`kill by ${how === 'throw' ? 'an exception in the burst loop' : 'exiting the worker thread'}: other shard unaffected, sessions kept, flow resumes`, async () => {
      const victim = 1, survivor = 0;
      // Node 0's flow on the survivor, node 1's flow on the victim (classify.ts hash).
      const base = how === 'throw' ? 40000 : 41000;
      const sportA = net.portOnShard(0, survivor, 2, base), sportB = net.portOnShard(1, victim, 2, base);
      const seconds = 3 + 2 * KILLS;
      const flows = [net.probe(0, sportA, seconds), net.probe(1, sportB, seconds)];
      await sleep(1500);
      const before = net.json<Session[]>(['-i', 'example', 'session', 'display', '--udp']);
      const mine = before.find((s) => s.ipv6LocalPort === sportB);
      assert.ok(mine, `victim flow has no session: ${JSON.stringify(before)}`);
      assert.equal(mine.shard, victim);
      assert.equal(before.find((s) => s.ipv6LocalPort === sportA)?.shard, survivor);
      const killedAt: number[] = [];
      for (let k = 0; k < KILLS; k++) {
        const outBefore = net.output.length;
        killedAt.push(Date.now());
        net.crashShard(victim, how);
        // The daemon logs "shard N restarted in X ms" once the new task answers its mailbox.
        const deadline = Date.now() + 10000;
        let m: RegExpMatchArray | null = null;
        while (!(m = net.output.slice(outBefore).match(/shard 1 restarted in (\d+) ms/)) && Date.now() < deadline) await sleep(50);
        assert.ok(m, `no restart logged:\n${net.output.slice(-2000)}`);
        restartTimes.push(Number(m[1]));
        // Sessions survive: still listed right after the restart (shared-memory tables).
        const after = net.json<Session[]>(['-i', 'example', 'session', 'display', '--udp']);
        assert.ok(after.some((s) => s.ipv6LocalPort === sportB && s.shard === victim), JSON.stringify(after));
        await sleep(1500);
      }
      const [a, b] = (await Promise.all(flows)) as [Probe, Probe];
      assert.match(net.output, new RegExp(`shard 1 died`));
      // The survivor's flow never stopped: no gap longer than 500 ms (requests every 20 ms).
      assert.ok(a.maxGapMs < 500, `survivor gap ${a.maxGapMs} ms`);
      assert.ok(a.received >= a.sent * 0.97, `survivor ${a.received}/${a.sent}`);
      // The victim's flow resumed after every kill: a reply came later than 500 ms after the last one.
      const last = killedAt[killedAt.length - 1] - b.t0;
      assert.ok(b.replies.some((t) => t > last + 500), `victim flow did not resume: last reply at ${b.replies.at(-1)} ms, kill at ${last} ms`);
      assert.ok(b.received >= b.sent * 0.8, `victim ${b.received}/${b.sent}`);
      // Its session kept the same pool4 transport address: the BIB entry survived, no new mapping.
      const end = net.json<Array<Session & { ipv4LocalPort: number }>>(['-i', 'example', 'session', 'display', '--udp']);
      const sameFlow = end.filter((s) => s.ipv6LocalPort === sportB);
      assert.equal(sameFlow.length, 1, JSON.stringify(sameFlow));
      assert.equal(sameFlow[0].ipv4LocalPort, (mine as Session & { ipv4LocalPort: number }).ipv4LocalPort);
      // eslint-disable-next-line no-console
      console.log(`      ${how}: survivor ${a.received}/${a.sent} max gap ${a.maxGapMs.toFixed(0)} ms; victim ${b.received}/${b.sent} max gap ${b.maxGapMs.toFixed(0)} ms`);
    });
  }

  it('a crash request for a shard that does not exist is refused and changes nothing', async () => {
    const outBefore = net.output.length;
    net.crashShard(7, 'throw');
    await sleep(500);
    assert.match(net.output.slice(outBefore), /test hook failed: no shard 7/);
    assert.equal(net.daemon!.exitCode, null);
  });
});
