/** CI run of the session-sync fuzzer (test/fuzz/sync-engine.ts; docs/fuzzing.md "Session sync"). */
import * as assert from 'node:assert/strict';
import { fuzzSync } from '../fuzz/sync-engine';

describe('fuzz: the session-sync receiver under hostile datagrams', function () {
  this.timeout(60000);
  for (const o of [
    { seed: 0x5eed1, datagrams: 6000, shards: 1, key: false },
    { seed: 0x5eed2, datagrams: 6000, shards: 2, key: true },
    { seed: 0x5eed3, datagrams: 4000, shards: 3, key: false, capacity: 16 },
  ]) {
    it(`${o.datagrams} datagrams, ${o.shards} shard(s), ${o.key ? 'HMAC' : 'no key'}${o.capacity ? `, tables of ${o.capacity}` : ''}: every invariant holds`, async () => {
      const s = await fuzzSync(o);
      const c = s.counters;
      // The run reached the paths it is meant to: refusals of each kind and records applied.
      for (const k of ['sync-rejected-malformed', 'sync-rejected-source', 'sync-rejected-replay', 'sync-applied', 'sync-rejected-bad-record',
        'sync-rejected-not-pool4', 'sync-rejected-conflict']) assert.ok((c[k] ?? 0) > 0, `${k} never happened: ${JSON.stringify(c)}`);
      if (o.key) assert.ok(c['sync-rejected-auth'] > 0);
      if (o.capacity) assert.ok(c['sync-rejected-table-full'] > 0, JSON.stringify(c));
      assert.ok(s.sessions > 0);
    });
  }
});
