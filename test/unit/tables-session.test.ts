import * as assert from 'node:assert/strict';
import { ShardTables, allocateShardTables } from '../../src/dataplane/tables/shard-tables';
import { NIL } from '../../src/dataplane/tables/layout';
import { TimerClass } from '../../src/dataplane/tables/expiry';
import { a4, a6 } from '../rfc/vectors/build';

const X = a6('2001:db8::8');
const T = a4('203.0.113.1');
const Y = a4('198.51.100.7');

function listOf(t: ShardTables, cls: number): number[] {
  const out: number[] = [];
  const rec = t.sessions.rec;
  for (let i = t.expiry.head(cls); i !== NIL; i = rec[i * 8 + 5]) out.push(i);
  return out;
}

describe('tables: sessions and expiry lists', () => {
  let t: ShardTables;
  let bib: number;
  beforeEach(() => {
    t = new ShardTables(allocateShardTables(8));
    bib = t.bib.insert(17, X, 0, 5000, T, 61001, false);
  });

  it('inserts, finds by (bib, remote address, remote port), counts sessions on the BIB entry', () => {
    const s = t.sessions.insert(bib, Y, 53, 0, TimerClass.UDP, 1000);
    assert.equal(t.sessions.lookup(bib, Y, 53), s);
    assert.equal(t.sessions.lookup(bib, Y, 54), NIL);
    assert.equal(t.sessions.lookup(bib, Y + 1, 53), NIL);
    assert.equal(t.bib.sessions(bib), 1);
    assert.equal(t.sessions.remote4(s), Y);
    assert.equal(t.sessions.remotePort(s), 53);
    assert.equal(t.sessions.remove(s), bib);
    assert.equal(t.bib.sessions(bib), 0);
    assert.equal(t.sessions.lookup(bib, Y, 53), NIL);
  });

  it('answers "any session with this IPv4 address" for address-dependent filtering', () => {
    t.sessions.insert(bib, Y, 53, 0, TimerClass.UDP, 0);
    assert.ok(t.sessions.anyWithAddress(bib, Y));
    assert.ok(!t.sessions.anyWithAddress(bib, Y + 1));
    const other = t.bib.insert(17, X, 0, 5001, T, 61002, false);
    assert.ok(!t.sessions.anyWithAddress(other, Y));
  });

  it('keeps each timer class ordered by last use: touch moves to the tail, possibly to another class', () => {
    const a = t.sessions.insert(bib, Y, 1, 0, TimerClass.UDP, 10);
    const b = t.sessions.insert(bib, Y, 2, 0, TimerClass.UDP, 20);
    const c = t.sessions.insert(bib, Y, 3, 0, TimerClass.UDP, 30);
    assert.deepEqual(listOf(t, TimerClass.UDP), [a, b, c]);
    t.expiry.touch(a, TimerClass.UDP, 40);
    assert.deepEqual(listOf(t, TimerClass.UDP), [b, c, a]);
    t.expiry.touch(c, TimerClass.TCP_TRANS, 50);
    assert.deepEqual(listOf(t, TimerClass.UDP), [b, a]);
    assert.deepEqual(listOf(t, TimerClass.TCP_TRANS), [c]);
    assert.equal(t.sessions.timerClass(c), TimerClass.TCP_TRANS);
    t.sessions.remove(b);
    assert.deepEqual(listOf(t, TimerClass.UDP), [a]);
    assert.equal(t.expiry.lastUse[a], 40);
  });

  it('returns NIL when the session table is full', () => {
    for (let i = 0; i < 8; i++) assert.notEqual(t.sessions.insert(bib, Y, i, 0, TimerClass.UDP, 0), NIL);
    assert.equal(t.sessions.insert(bib, Y, 99, 0, TimerClass.UDP, 0), NIL);
    assert.equal(t.sessions.count, 8);
  });

  it('keeps state and the TCP state field independent', () => {
    const s = t.sessions.insert(bib, Y, 80, 2, TimerClass.TCP_TRANS, 0);
    assert.equal(t.sessions.state(s), 2);
    t.sessions.setState(s, 3);
    assert.equal(t.sessions.state(s), 3);
    assert.equal(t.sessions.remotePort(s), 80);
    assert.equal(t.sessions.timerClass(s), TimerClass.TCP_TRANS);
  });

  it('a second ShardTables over the same buffers sees the same entries (state only in shared memory)', () => {
    const s = t.sessions.insert(bib, Y, 53, 0, TimerClass.UDP, 5);
    const again = new ShardTables(t.buffers);
    assert.equal(again.bib.lookup4(17, T, 61001), bib);
    assert.equal(again.sessions.lookup(bib, Y, 53), s);
    assert.equal(again.expiry.head(TimerClass.UDP), s);
    assert.notEqual(again.sessions.insert(bib, Y, 54, 0, TimerClass.UDP, 6), s);
  });
});
