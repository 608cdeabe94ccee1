import * as assert from 'node:assert/strict';
import { Pool4 } from '../../src/dataplane/tables/pool4';
import { ShardTables, allocateShardTables } from '../../src/dataplane/tables/shard-tables';
import { a4, a6 } from '../rfc/vectors/build';
import { range } from './helpers/core-harness';

const UDP = 17;
const pools = {
  TCP: [range('203.0.113.1', 1000, 1099), range('203.0.113.2', 1000, 1049)],
  UDP: [range('203.0.113.1', 61001, 61100), range('203.0.113.1', 62000, 62010), range('203.0.113.2', 61001, 61100),
    range('203.0.113.3', 61001, 61100)],
  ICMP: [range('203.0.113.1', 0, 65535)],
};

function pool(shard: number, shards: number, t = new ShardTables(allocateShardTables(4096))): { p: Pool4; t: ShardTables } {
  return { p: new Pool4(pools, [], shard, shards, t.header), t };
}

describe('tables: pool4 slices', () => {
  for (const shards of [1, 2, 4]) {
    it(`${shards} shard(s): slices are disjoint, cover every port, and hold only p % shards === shard`, () => {
      for (const [addr, all] of [['203.0.113.1', [...range1(61001, 61100), ...range1(62000, 62010)]],
        ['203.0.113.2', range1(61001, 61100)]] as const) {
        const seen = new Set<number>();
        for (let s = 0; s < shards; s++) {
          for (const port of pool(s, shards).p.slicePorts(UDP, a4(addr))) {
            assert.equal(port % shards, s);
            assert.ok(!seen.has(port), `port ${port} in two shards`);
            seen.add(port);
          }
        }
        assert.deepEqual([...seen].sort((a, b) => a - b), all);
      }
    });

    it(`${shards} shard(s): paired address pooling picks the same IPv4 address for a host in every shard`, () => {
      for (let h = 0; h < 50; h++) {
        const host = a6(`2001:db8::${h.toString(16)}:1`);
        const picks = new Set<number>();
        for (let s = 0; s < shards; s++) picks.add(pool(s, shards).p.pairedAddress(UDP, host, 0));
        assert.equal(picks.size, 1);
      }
    });
  }

  it('spreads hosts over the addresses (paired pooling is not "always the first")', () => {
    const { p } = pool(0, 1);
    const used = new Set<number>();
    for (let h = 0; h < 64; h++) used.add(p.pairedAddress(UDP, a6(`2001:db8::${h.toString(16)}`), 0));
    assert.equal(used.size, 3);
  });

  it('allocates every port of the slice once, on the paired address first, then reports exhaustion', () => {
    const { p, t } = pool(1, 2);
    const host = a6('2001:db8::77');
    const paired = p.pairedAddress(6, host, 0);
    const got: string[] = [];
    for (;;) {
      if (!p.allocate(6, t.bib, host, 0, 40000 + got.length, a4('198.51.100.1'), 80, 0b1011)) break;
      assert.equal(p.port % 2, 1);
      got.push(`${p.addr}#${p.port}`);
      t.bib.insert(6, host, 0, 40000 + got.length, p.addr, p.port, false);
      if (got.length <= 25) assert.equal(p.addr, paired, 'paired address until its slice is used up');
    }
    assert.equal(new Set(got).size, got.length);
    assert.equal(got.length, 50 + 25); // 203.0.113.1: 100 ports / 2, 203.0.113.2: 50 / 2
  });

  it('keeps a well-known source port in the well-known range when it can (RFC 6146 §3.5.1.1)', () => {
    const t = new ShardTables(allocateShardTables(64));
    const p = new Pool4({ TCP: [range('203.0.113.1', 500, 1523)], UDP: [], ICMP: [] }, [], 0, 1, t.header);
    for (let i = 0; i < 20; i++) {
      assert.ok(p.allocate(6, t.bib, a6('2001:db8::1'), 0, 80 + i, 0, 0, 0b1011));
      assert.ok(p.port < 1024);
      t.bib.insert(6, a6('2001:db8::1'), 0, 80 + i, p.addr, p.port, false);
      assert.ok(p.allocate(6, t.bib, a6('2001:db8::1'), 0, 40000 + i, 0, 0, 0b1011));
      assert.ok(p.port >= 1024);
      t.bib.insert(6, a6('2001:db8::1'), 0, 40000 + i, p.addr, p.port, false);
    }
  });

  it('preserves parity with one shard when the slice has both', () => {
    const t = new ShardTables(allocateShardTables(64));
    const p = new Pool4(pools, [], 0, 1, t.header);
    for (const src of [40001, 40002, 40003, 40004]) {
      assert.ok(p.allocate(UDP, t.bib, a6('2001:db8::5'), 0, src, 0, 0, 0b1011));
      assert.equal(p.port & 1, src & 1);
      t.bib.insert(UDP, a6('2001:db8::5'), 0, src, p.addr, p.port, false);
    }
  });

  it('falls back to the port addresses with 61001-65535 when pool4 is empty (Jool default)', () => {
    const t = new ShardTables(allocateShardTables(4));
    const p = new Pool4({ TCP: [], UDP: [], ICMP: [] }, [a4('192.0.2.1')], 0, 1, t.header);
    assert.ok(p.hasAddress(a4('192.0.2.1')));
    assert.ok(p.contains(UDP, a4('192.0.2.1'), 61001));
    assert.ok(!p.contains(UDP, a4('192.0.2.1'), 61000));
    assert.equal(p.slicePorts(UDP, a4('192.0.2.1')).length, 65535 - 61001 + 1);
  });

  it('keeps its allocation cursor in the shared header (a restarted worker continues the sequence)', () => {
    const t = new ShardTables(allocateShardTables(64));
    const p1 = new Pool4(pools, [], 0, 1, t.header);
    assert.ok(p1.allocate(UDP, t.bib, a6('2001:db8::5'), 0, 40000, 0, 0, 0));
    const first = p1.port;
    const p2 = new Pool4(pools, [], 0, 1, t.header);
    assert.ok(p2.allocate(UDP, t.bib, a6('2001:db8::5'), 0, 40000, 0, 0, 0));
    assert.notEqual(p2.port, first, 'same f-args, but the cursor moved on');
  });
});

describe('tables: pool4 free-port bitmap', () => {
  it('allocate() with the bitmap (track) chooses exactly what BIB lookups choose, through inserts, removals and a re-track', () => {
    const plain = pool(0, 1), fast = pool(0, 1);
    fast.p.track(fast.t.bib);
    const host = a6('2001:db8::77');
    let x = 12345;
    const rnd = (n: number) => { x = (Math.imul(x, 1103515245) + 12345) >>> 0; return (x >>> 8) % n; };
    const live: number[][] = [[], []];
    for (let i = 0; i < 3000; i++) {
      const proto = [6, 17, 1][rnd(3)];
      if (rnd(3) === 0 && live[0].length > 0) {
        const k = rnd(live[0].length);
        plain.t.bib.remove(live[0][k]); fast.t.bib.remove(live[1][k]);
        live[0].splice(k, 1); live[1].splice(k, 1);
        continue;
      }
      if (i === 1500) fast.p.track(fast.t.bib); // configure() again: rebuilt from the BIB
      const sport = 1000 + rnd(200);
      const ok = [plain, fast].map(({ p, t }) => p.allocate(proto, t.bib, host, 0, sport, a4('198.51.100.1'), 80, 0b1011));
      assert.equal(ok[1], ok[0]);
      if (!ok[0]) continue;
      assert.equal(fast.p.addr, plain.p.addr);
      assert.equal(fast.p.port, plain.p.port);
      live[0].push(plain.t.bib.insert(proto, host, 0, sport + i, plain.p.addr, plain.p.port, false));
      live[1].push(fast.t.bib.insert(proto, host, 0, sport + i, fast.p.addr, fast.p.port, false));
    }
  });
});

describe('tables: pool4 refusal cost (issue 11)', () => {
  // One address, every unprivileged port, Jool's auto max-iterations for it (1024): a crowded pool
  // whose free ports sit in one block, as port preservation leaves it (one host, ports 10000 up).
  const crowded = { TCP: [], ICMP: [], UDP: [{ ...range('198.19.0.1', 1024, 65535), maxIterations: 1024 }] };
  for (const [shards, layout] of [[1, 'block'], [2, 'block'], [1, 'random'], [3, 'random']] as const) {
    it(`${shards} shard(s), ${layout} free ports: taken ports are passed by bitmap words and full-word summaries, with the choices and budget of one-by-one probing`, () => {
      const make = () => {
        const t = new ShardTables(allocateShardTables(1 << 17));
        return { p: new Pool4(crowded, [], 0, shards, t.header), t };
      };
      const plain = make(), fast = make();
      fast.p.track(fast.t.bib);
      const host = a6('2001:db8::1'), other = a6('2001:db8::2');
      for (const { t } of [plain, fast]) {
        // block: every port but 8464-9999 and a few scattered ones; random: 1 port in 400 free.
        let x = 777;
        for (let port = 1024; port <= 65535; port++) {
          x = (Math.imul(x, 1103515245) + 12345) >>> 0;
          const free = layout === 'block' ? (port >= 8464 && port < 10000) || port % 997 === 0 : (x >>> 8) % 400 === 0;
          if (port % shards !== 0 || free) continue;
          t.bib.insert(UDP, other, 0, port, a4('198.19.0.1'), port, false);
        }
      }
      let refused = 0;
      for (let i = 0; i < 400; i++) {
        const sport = i % 3 === 0 ? i : 20000 + i * 7; // low source ports: no well-known range in pool4
        const before = fast.p.probes;
        const ok = [plain, fast].map(({ p, t }) => p.allocate(UDP, t.bib, host, 0, sport, a4('198.51.100.1'), 53, 0b1011));
        assert.equal(ok[1], ok[0], `allocation ${i}`);
        if (!ok[0]) {
          refused++;
          // One-by-one probing costs 64 + 1024 candidates here.
          assert.ok(fast.p.probes - before <= 12, `refusal ${i} took ${fast.p.probes - before} steps`);
          continue;
        }
        assert.deepEqual([fast.p.addr, fast.p.port], [plain.p.addr, plain.p.port]);
        for (const { t } of [plain, fast]) t.bib.insert(UDP, host, 0, sport, a4('198.19.0.1'), fast.p.port, false);
      }
      assert.ok(refused > 20, `${refused} refusals: the test must exercise them`);
    });
  }
});

describe('tables: pool4 free-port counts', () => {
  for (const shards of [1, 2]) {
    it(`${shards} shard(s): the count follows inserts and removals, and an exhausted pool4 fails without probing`, () => {
      const { p, t } = pool(0, shards);
      p.track(t.bib);
      const addr = a4('203.0.113.2');
      const slice = p.slicePorts(6, addr).length;
      assert.equal(p.freePorts(6, addr), slice);
      const host = a6('2001:db8::99');
      const made: number[] = [];
      // Fill both TCP addresses: allocate() walks the paired address, then the other.
      for (let i = 0; ; i++) {
        if (!p.allocate(6, t.bib, host, 0, 2000 + i, a4('198.51.100.1'), 80, 0b1011)) break;
        made.push(t.bib.insert(6, host, 0, 2000 + i, p.addr, p.port, false));
      }
      assert.equal(made.length, p.slicePorts(6, a4('203.0.113.1')).length + slice);
      assert.equal(p.freePorts(6, addr), 0);
      assert.equal(p.freePorts(6, a4('203.0.113.1')), 0);
      // A port outside pool4 (a static entry elsewhere) never changes the count.
      p.mark(6, addr, 5000, true);
      assert.equal(p.freePorts(6, addr), 0);
      t.bib.remove(made[made.length - 1]);
      assert.equal(p.freePorts(6, addr) + p.freePorts(6, a4('203.0.113.1')), 1);
      assert.equal(p.allocate(6, t.bib, host, 0, 9999, a4('198.51.100.1'), 80, 0b1011), true);
    });
  }
});

function range1(a: number, b: number): number[] {
  const out: number[] = [];
  for (let i = a; i <= b; i++) out.push(i);
  return out;
}
