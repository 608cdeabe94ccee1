import { strict as assert } from 'node:assert';
import { parseConfigText } from '../../src/control/config';
import { buildRegistry, counterMetricName, parseListen, TOP_SUBSCRIBERS } from '../../src/control/metrics';
import type { DataplaneApi } from '../../src/dataplane/manager-api';
import { SYNC_STATS } from '../../src/control/sync/stats';

describe('control: Prometheus metrics', () => {
  it('parses listen addresses and refuses others with the field name', () => {
    assert.deepEqual(parseListen('127.0.0.1:9464', 'f'), { host: '127.0.0.1', port: 9464 });
    assert.deepEqual(parseListen('[::1]:9464', 'f'), { host: '::1', port: 9464 });
    assert.deepEqual(parseListen(':9464', 'f'), { host: '::', port: 9464 });
    for (const bad of ['9464', '127.0.0.1', '127.0.0.1:0', '127.0.0.1:70000', '::1:9464', '']) {
      assert.throws(() => parseListen(bad, 'control.metrics'), /control\.metrics/, bad);
    }
  });

  it('control.metrics is validated with the file', () => {
    const base = { dataplane: { ports: [{ name: 'p', device: 'net_null0' }] } };
    assert.equal(parseConfigText(JSON.stringify({ ...base, control: { metrics: '127.0.0.1:9464' } })).control?.metrics, '127.0.0.1:9464');
    assert.throws(() => parseConfigText(JSON.stringify({ ...base, control: { metrics: 'localhost' } })), /control\.metrics/);
  });

  it('exposes every counter per shard, tables per protocol, ports', async () => {
    const dp = {
      counters: () => ({ total: {}, perShard: [{ 'bib4-not-found': 3 }, { 'bib4-not-found': 4, 'log-dropped': 1 }] }),
      tableCounts: () => [{ shard: 0, bib: { TCP: 1, UDP: 2, ICMP: 0 }, sessions: { TCP: 5, UDP: 2, ICMP: 0 } }],
      ports: () => [{ configName: 'v4', stats: { ipackets: 10, opackets: 9, ibytes: 1, obytes: 1, imissed: 2, ierrors: 0, oerrors: 0, rxNombuf: 0 } }],
    } as unknown as DataplaneApi;
    const text = await buildRegistry(dp).metrics();
    assert.equal(counterMetricName('bib4-not-found'), 'nat64_bib4_not_found_total');
    assert.match(text, /^nat64_bib4_not_found_total\{shard="0"\} 3$/m);
    assert.match(text, /^nat64_bib4_not_found_total\{shard="1"\} 4$/m);
    assert.match(text, /^nat64_log_dropped_total\{shard="1"\} 1$/m);
    assert.match(text, /^nat64_sessions\{shard="0",protocol="TCP"\} 5$/m);
    assert.match(text, /^nat64_bib_entries\{shard="0",protocol="UDP"\} 2$/m);
    assert.match(text, /^nat64_port_rx_missed_total\{port="v4"\} 2$/m);
  });

  it('issue 15: the top subscribers\' ports per protocol (at most TOP_SUBSCRIBERS of them) and the limits', async () => {
    const asked: number[] = [];
    const rows = Array.from({ length: 30 }, (_, k) => ({ subscriber: `2001:db8::${k + 1}/128`, tcp: 100 - k, udp: 1, icmp: 0, usage: (100 - k) / 1134 }));
    const dp = {
      counters: () => ({ total: {}, perShard: [] }), ports: () => [],
      subscribers: (top: number) => {
        asked.push(top);
        return { prefixLength: 128, limits: { tcp: 1134, udp: 1134, icmp: 1134, mappingsPerSecond: 0 }, subscribers: rows.slice(0, top) };
      },
    } as unknown as DataplaneApi;
    const text = await buildRegistry(dp).metrics();
    assert.deepEqual(asked, [TOP_SUBSCRIBERS], "one read of the subscriber tables per scrape");
    assert.match(text, /^nat64_subscriber_ports\{subscriber="2001:db8::1\/128",protocol="TCP"\} 100$/m);
    assert.equal(text.split('\n').filter((l) => l.startsWith('nat64_subscriber_ports{') && l.includes('protocol="TCP"')).length, TOP_SUBSCRIBERS);
    assert.match(text, /^nat64_subscriber_port_limit\{protocol="UDP"\} 1134$/m);
  });

  it('session sync: its counters and lag gauges, when the daemon has a sync link (docs/session-sync.md)', async () => {
    const dp = { counters: () => ({ total: {}, perShard: [] }), ports: () => [] } as unknown as DataplaneApi;
    const values = () => SYNC_STATS.map((d) => ({ name: d.name, explain: d.explain, value: d.name === 'sync-rejected-auth' ? 2 : d.name === 'sync-lag-ms' ? 4 : 0 }));
    const text = await buildRegistry(dp, { defs: SYNC_STATS, values }).metrics();
    assert.match(text, /^nat64_sync_rejected_auth_total 2$/m);
    assert.match(text, /^nat64_sync_applied_total 0$/m);
    assert.match(text, /^# TYPE nat64_sync_lag_ms gauge$/m);
    assert.match(text, /^nat64_sync_lag_ms 4$/m);
    assert.doesNotMatch(await buildRegistry(dp).metrics(), /nat64_sync_/, 'no sync section, no sync metrics');
  });
});
