/**
 * Jool's pool4 max-iterations (`pool4 add --max-iterations`, files' "max-iterations"): how many
 * candidate ports one new mapping may try before pool4 reports exhaustion. Accepted, shown, and
 * (issue 12) applied by the data plane: auto (Jool's transport addresses / 128, 1024..8192), a
 * fixed number, or infinity.
 */
import * as assert from 'node:assert/strict';
import { Pool4 } from '../../src/dataplane/tables/pool4';
import type { Pool4Range } from '../../src/dataplane/core-config';
import { ShardTables, allocateShardTables } from '../../src/dataplane/tables/shard-tables';
import { toCoreConfig } from '../../src/control/instance';
import { defaultGlobals } from '../../src/control/globals';
import { a4, a6 } from '../rfc/vectors/build';
import { range } from './helpers/core-harness';

const UDP = 17;

/** One address, 64 UDP ports, all but one taken; `hosts` new hosts then try to get a mapping. */
function successes(maxIterations: number | undefined, hosts = 40): number {
  const r: Pool4Range = { ...range('203.0.113.1', 61000, 61063), maxIterations };
  const t = new ShardTables(allocateShardTables(4096));
  const p = new Pool4({ TCP: [], UDP: [r], ICMP: [] }, [], 0, 1, t.header);
  p.track(t.bib);
  const filler = a6('2001:db8::ff');
  for (let port = 61000; port <= 61063; port++) if (port !== 61037) t.bib.insert(UDP, filler, 0, port, r.address, port, false);
  let ok = 0;
  for (let h = 0; h < hosts; h++) {
    // Source ports outside pool4: no port preservation, only the RFC 6056 sequence.
    if (p.allocate(UDP, t.bib, a6(`2001:db8::${h + 1}`), 0, 30000 + h, a4('198.51.100.1'), 53, 0b1111)) {
      assert.equal(p.port, 61037);
      ok++;
    }
  }
  return ok;
}

describe('pool4 max-iterations (Jool) reaches the allocator', () => {
  it('max-iterations 1: a mapping whose first candidate is taken fails (pool4-exhausted), though a port is free', () => {
    const ok = successes(1);
    assert.ok(ok < 40, `${ok} of 40 found the free port with one candidate each`);
  });

  it('infinity (0 in the core): every new mapping finds the one free port', () => {
    assert.equal(successes(0), 40);
  });

  it('a large fixed value behaves as infinity on a small set; no value keeps the old bound (4096 per address)', () => {
    assert.equal(successes(64), 40);
    assert.equal(successes(undefined), 40);
  });

  it('the control plane resolves auto (transport addresses / 128, clamped 1024..8192), fixed values and infinity', () => {
    const e = (maxIterations: number | 'auto' | 'infinity', protocol: 'TCP' | 'UDP' | 'ICMP', portMax = 65535) =>
      ({ mark: 0, protocol, address: a4('203.0.113.1'), portMin: 1, portMax, maxIterations });
    const inst = { name: 'x', framework: 'netfilter', globals: defaultGlobals('64:ff9b::/96'),
      pool4: [e('auto', 'TCP'), e(1500, 'UDP'), e('infinity', 'ICMP')], bib: [] };
    const cfg = toCoreConfig(inst as unknown as Parameters<typeof toCoreConfig>[0]);
    assert.equal(cfg.pool4.TCP[0].maxIterations, 1024); // 65535 / 128 = 511 -> at least 1024
    assert.equal(cfg.pool4.UDP[0].maxIterations, 1500);
    assert.equal(cfg.pool4.ICMP[0].maxIterations, 0);
  });
});
