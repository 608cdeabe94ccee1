import * as assert from 'node:assert/strict';
import { ShardTables, allocateShardTables, TableError } from '../../src/dataplane/tables/shard-tables';
import { NIL } from '../../src/dataplane/tables/layout';
import { a4, a6 } from '../rfc/vectors/build';

const X = a6('2001:db8::8');
const Y = a6('2001:db8::9');
const T = a4('203.0.113.1');

describe('tables: BIB', () => {
  it('inserts and finds an entry by its IPv6 and by its IPv4 transport address', () => {
    const t = new ShardTables(allocateShardTables(16));
    const b = t.bib.insert(17, X, 0, 5000, T, 61002, false);
    assert.notEqual(b, NIL);
    assert.equal(t.bib.lookup6(17, X, 0, 5000), b);
    assert.equal(t.bib.lookup4(17, T, 61002), b);
    assert.equal(t.bib.addr4(b), T);
    assert.equal(t.bib.port4(b), 61002);
    assert.equal(t.bib.port6(b), 5000);
    assert.equal(t.bib.count, 1);
  });

  it('keys include the protocol, the address and the port', () => {
    const t = new ShardTables(allocateShardTables(16));
    t.bib.insert(17, X, 0, 5000, T, 61002, false);
    assert.equal(t.bib.lookup6(6, X, 0, 5000), NIL);
    assert.equal(t.bib.lookup6(17, Y, 0, 5000), NIL);
    assert.equal(t.bib.lookup6(17, X, 0, 5001), NIL);
    assert.equal(t.bib.lookup4(6, T, 61002), NIL);
    assert.equal(t.bib.lookup4(17, T + 1, 61002), NIL);
    assert.equal(t.bib.lookup4(17, T, 61003), NIL);
  });

  it('reads the IPv6 address from any offset of a packet buffer', () => {
    const t = new ShardTables(allocateShardTables(16));
    const pkt = new Uint8Array(64);
    pkt.set(X, 24);
    const b = t.bib.insert(6, pkt, 24, 80, T, 80, true);
    assert.equal(t.bib.lookup6(6, X, 0, 80), b);
    assert.ok(t.bib.isStatic(b));
    const back = new Uint8Array(20);
    t.bib.copyAddr6(b, back, 4);
    assert.deepEqual(back.subarray(4), X);
  });

  it('removes from both indexes and reuses the slot; other entries of a chain stay reachable', () => {
    // Capacity 4 -> 4 buckets: 4 entries, chains guaranteed to collide somewhere.
    const t = new ShardTables(allocateShardTables(4));
    const ids = [0, 1, 2, 3].map((i) => t.bib.insert(17, X, 0, 1000 + i, T, 62000 + i, false));
    assert.ok(ids.every((i) => i !== NIL));
    t.bib.remove(ids[1]);
    assert.equal(t.bib.lookup6(17, X, 0, 1001), NIL);
    assert.equal(t.bib.lookup4(17, T, 62001), NIL);
    for (const i of [0, 2, 3]) {
      assert.equal(t.bib.lookup6(17, X, 0, 1000 + i), ids[i]);
      assert.equal(t.bib.lookup4(17, T, 62000 + i), ids[i]);
    }
    const again = t.bib.insert(17, Y, 0, 7, T, 7, false);
    assert.equal(again, ids[1]);
    assert.equal(t.bib.count, 4);
  });

  it('returns NIL when full, and accepts again after a removal', () => {
    const t = new ShardTables(allocateShardTables(2));
    const a = t.bib.insert(17, X, 0, 1, T, 1, false);
    t.bib.insert(17, X, 0, 2, T, 2, false);
    assert.equal(t.bib.insert(17, X, 0, 3, T, 3, false), NIL);
    t.bib.remove(a);
    assert.notEqual(t.bib.insert(17, X, 0, 3, T, 3, false), NIL);
  });

  it('rounds the capacity up to a power of two and rejects nonsense with a coded error', () => {
    assert.equal(allocateShardTables(1000).capacity, 1024);
    assert.throws(() => allocateShardTables(0), (e: unknown) => e instanceof TableError && e.code === 'ERR_TABLE_CAPACITY');
    assert.throws(() => new ShardTables({ ...allocateShardTables(4), header: new SharedArrayBuffer(160) }),
      (e: unknown) => e instanceof TableError && e.code === 'ERR_TABLE_BUFFERS');
  });

  it('bumps the record sequence number by two per change (even when stable, for readers)', () => {
    const t = new ShardTables(allocateShardTables(4));
    const b = t.bib.insert(17, X, 0, 1, T, 1, false);
    assert.equal(t.bib.rec[b * 11] % 2, 0);
    assert.equal(t.bib.rec[b * 11], 2);
    t.bib.remove(b);
    assert.equal(t.bib.rec[b * 11], 4);
  });
});
