/** Session sync: datagram encoding and checks, Jool's batching rules, the receiver's sequence bookkeeping. */
import * as assert from 'node:assert/strict';
import {
  FLAG_DUMP, FLAG_LOSS, FLAG_MAC, HEADER_BYTES, MAC_BYTES, MsgType, RECORD_BYTES, decodeHeader, decodeRecord, encodeRecord,
  recordsPerDatagram, sign, writeHeader, type Header,
} from '../../src/control/sync/wire';
import { SyncBatcher, type BatchSettings } from '../../src/control/sync/batcher';
import { PeerTable } from '../../src/control/sync/peers';
import { SR_AGE, SR_KIND, SR_PORTS, SR_R4, SR_RPORT, SR_STRIDE, SR_TIME_HI, SR_TIME_LO, SR_V4, SR_V6 } from '../../src/dataplane/sync/record';

const KEY = Buffer.from('a shared key of 32 characters!!!');
const ID = { hi: 0x1234, lo: 0x56789abc };

function record(i: number, time = 1000): Int32Array {
  const w = new Int32Array(SR_STRIDE);
  w[SR_KIND] = 1 | (6 << 8) | (3 << 16);
  w[SR_V6] = 0x20010db8; w[SR_V6 + 3] = i;
  w[SR_PORTS] = (40000 << 16) | (61000 + i);
  w[SR_V4] = 0xcb007101 | 0; w[SR_R4] = 0xcb007110 | 0; w[SR_RPORT] = 8080;
  w[SR_TIME_HI] = 0; w[SR_TIME_LO] = time;
  return w;
}

function datagram(type: MsgType, flags: number, records: Int32Array[], key: Buffer | null, seq = 1): Buffer {
  const body = type === MsgType.DUMP_REQUEST ? 8 : records.length * RECORD_BYTES;
  const b = Buffer.alloc(HEADER_BYTES + body + (key ? MAC_BYTES : 0));
  writeHeader(b, type, flags | (key ? FLAG_MAC : 0), ID, seq, 5000, type === MsgType.DUMP_REQUEST ? 0 : records.length);
  records.forEach((r, i) => encodeRecord(r, 0, 250, b, HEADER_BYTES + i * RECORD_BYTES));
  if (key) sign(b, HEADER_BYTES + body, key);
  return b;
}

describe('session sync: wire format', () => {
  it('a record survives encode -> decode, with its age; 38 bytes on the wire', () => {
    const w = record(7), b = Buffer.alloc(RECORD_BYTES), back = new Int32Array(SR_STRIDE);
    encodeRecord(w, 0, 1234.7, b, 0);
    decodeRecord(b, 0, back, 0);
    assert.equal(RECORD_BYTES, 38);
    for (const f of [SR_KIND, SR_V6, SR_V6 + 1, SR_V6 + 2, SR_V6 + 3, SR_PORTS, SR_V4, SR_R4, SR_RPORT]) assert.equal(back[f], w[f], `word ${f}`);
    assert.equal(back[SR_AGE], 1234);
  });

  it('a datagram decodes to its header; with a key, only with the right MAC', () => {
    const b = datagram(MsgType.RECORDS, FLAG_LOSS, [record(1), record(2)], KEY, 9);
    const h = decodeHeader(b, KEY) as Header;
    assert.equal(typeof h, 'object');
    assert.deepEqual([h.type, h.flags & FLAG_LOSS, h.idHi, h.idLo, h.seq, h.time, h.count], [MsgType.RECORDS, FLAG_LOSS, ID.hi, ID.lo, 9, 5000, 2]);
    const other = Buffer.from('another key, also 32 characters.');
    assert.equal(decodeHeader(b, other), 'mac-bad');
    const flipped = Buffer.from(b); flipped[HEADER_BYTES + 5] ^= 1;
    assert.equal(decodeHeader(flipped, KEY), 'mac-bad', 'one changed record bit');
    assert.equal(decodeHeader(datagram(MsgType.RECORDS, 0, [record(1)], null), KEY), 'mac-missing');
    assert.equal(typeof decodeHeader(datagram(MsgType.RECORDS, 0, [record(1)], null), null), 'object', 'no key: no MAC needed');
  });

  it('refuses what is not ours: short, magic, version, type, flags, lengths (never throws)', () => {
    const good = datagram(MsgType.RECORDS, 0, [record(1)], null);
    assert.equal(decodeHeader(good.subarray(0, 20), null), 'short');
    const m = Buffer.from(good); m[0] = 0; assert.equal(decodeHeader(m, null), 'magic');
    const v = Buffer.from(good); v[4] = 2; assert.equal(decodeHeader(v, null), 'version');
    const t = Buffer.from(good); t[5] = 9; assert.equal(decodeHeader(t, null), 'type');
    const f = Buffer.from(good); f[6] = 0x80; assert.equal(decodeHeader(f, null), 'type');
    const c = Buffer.from(good); c.writeUInt16BE(2, 28); assert.equal(decodeHeader(c, null), 'length', 'count larger than the datagram');
    assert.equal(decodeHeader(Buffer.concat([good, Buffer.alloc(1)]), null), 'length', 'trailing byte');
    const req = datagram(MsgType.DUMP_REQUEST, 0, [], null);
    assert.equal((decodeHeader(req, null) as Header).type, MsgType.DUMP_REQUEST);
    const rc = Buffer.from(req); rc.writeUInt16BE(1, 28); assert.equal(decodeHeader(rc, null), 'length');
    for (let len = 0; len < 120; len++) assert.notEqual(decodeHeader(Buffer.alloc(len, 0xff), null), undefined);
  });

  it('records per datagram: the smaller of ss-max-sessions-per-packet and what ss-max-payload holds, at least one', () => {
    assert.equal(recordsPerDatagram(1452, 1000, false), Math.floor((1452 - 32) / 38));
    assert.equal(recordsPerDatagram(1452, 1000, true), Math.floor((1452 - 64) / 38));
    assert.equal(recordsPerDatagram(1452, 10, true), 10);
    assert.equal(recordsPerDatagram(0, 10, true), 1);
  });
});

describe('session sync: batching (Jool\'s ss-flush-asap, ss-flush-deadline, ss-capacity, ss-max-*)', () => {
  const base: BatchSettings = { flushAsap: true, flushDeadlineMs: 2000, capacity: 512, maxPayload: 1452, maxSessionsPerPacket: 10, mac: false };
  function rig(s: Partial<BatchSettings>) {
    const sent: number[] = [];
    const b = new SyncBatcher((recs, count) => { assert.equal(recs.length, count * RECORD_BYTES); sent.push(count); });
    b.configure({ ...base, ...s });
    return { b, sent };
  }

  it('ss-flush-asap true: everything queued leaves at the next flush, in datagrams of at most ss-max-sessions-per-packet', () => {
    const { b, sent } = rig({});
    for (let i = 0; i < 23; i++) assert.ok(b.push(record(i), 0, 0, 1000));
    assert.equal(b.flush(1000), 3);
    assert.deepEqual(sent, [10, 10, 3]);
    assert.equal(b.length, 0);
  });

  it('ss-flush-asap false: only full datagrams leave, the rest after ss-flush-deadline', () => {
    const { b, sent } = rig({ flushAsap: false, flushDeadlineMs: 500 });
    for (let i = 0; i < 13; i++) b.push(record(i), 0, 0, 1000 + i);
    b.flush(1100);
    assert.deepEqual(sent, [10], 'the full datagram only');
    b.flush(1499);
    assert.deepEqual(sent, [10], 'the oldest waiting record (t=1010) is 489 ms old');
    b.flush(1510);
    assert.deepEqual(sent, [10, 3], 'deadline reached');
  });

  it('ss-max-payload bounds the datagram when it holds fewer records than ss-max-sessions-per-packet', () => {
    const { b, sent } = rig({ maxPayload: 32 + 3 * RECORD_BYTES, maxSessionsPerPacket: 100 });
    for (let i = 0; i < 7; i++) b.push(record(i), 0, 0, 0);
    b.flush(0);
    assert.deepEqual(sent, [3, 3, 1]);
  });

  it('ss-capacity: no more records are queued than that (the rest stays in the shards\' rings)', () => {
    const { b } = rig({ capacity: 5, flushAsap: false });
    for (let i = 0; i < 5; i++) assert.ok(b.push(record(i), 0, 0, 0));
    assert.equal(b.free, 0);
    assert.equal(b.push(record(9), 0, 0, 0), false);
  });

  it('a forced flush (stop) sends the partial datagram whatever the rules', () => {
    const { b, sent } = rig({ flushAsap: false, flushDeadlineMs: 1e9 });
    b.push(record(1), 0, 0, 0);
    b.flush(0, true);
    assert.deepEqual(sent, [1]);
  });
});

describe('session sync: a peer\'s sequence (loss and replay)', () => {
  const h = (seq: number, flags = 0, id = ID): Header => ({ type: MsgType.RECORDS, flags, idHi: id.hi, idLo: id.lo, seq, time: 0, count: 0, targetHi: 0, targetLo: 0 });
  it('first datagram of a sender: accepted, and its tables are asked for', () => {
    const t = new PeerTable(['192.0.2.2']), p = t.get('192.0.2.2')!;
    assert.equal(t.accept(p, h(5), 0), 'ok');
    assert.ok(p.wantDump);
  });
  it('in order: ok; duplicate or older: replay; a gap or the loss flag: a dump is wanted', () => {
    const t = new PeerTable(['192.0.2.2']), p = t.get('192.0.2.2')!;
    t.accept(p, h(5), 0); p.wantDump = false;
    assert.equal(t.accept(p, h(6), 0), 'ok'); assert.ok(!p.wantDump);
    assert.equal(t.accept(p, h(6), 0), 'replay');
    assert.equal(t.accept(p, h(3), 0), 'replay');
    assert.equal(t.accept(p, h(9), 0), 'ok'); assert.ok(p.wantDump, 'seq 7 and 8 were lost');
    p.wantDump = false;
    assert.equal(t.accept(p, h(10, FLAG_LOSS), 0), 'ok'); assert.ok(p.wantDump, 'the sender lost records');
  });
  it('a restarted peer (larger id) starts over; an earlier run (smaller id) is a replay', () => {
    const t = new PeerTable(['192.0.2.2']), p = t.get('192.0.2.2')!;
    t.accept(p, h(100), 0); p.wantDump = false;
    assert.equal(t.accept(p, h(1, 0, { hi: ID.hi, lo: ID.lo + 1 }), 0), 'ok');
    assert.ok(p.wantDump, 'a new run: ask for its tables');
    assert.equal(t.accept(p, h(101, 0, ID), 0), 'replay');
  });
  it('a dump has its own sequence: it does not disturb the main stream, and a gap in it asks again', () => {
    const t = new PeerTable(['192.0.2.2']), p = t.get('192.0.2.2')!;
    assert.equal(t.accept(p, h(0, FLAG_DUMP), 0), 'ok');
    assert.ok(!p.wantDump, 'learned the sender from its dump: nothing to ask');
    assert.equal(t.accept(p, h(1, FLAG_DUMP), 0), 'ok');
    assert.equal(t.accept(p, h(40), 0), 'ok');
    assert.equal(t.accept(p, h(41), 0), 'ok');
    assert.ok(!p.wantDump);
    assert.equal(t.accept(p, h(1, FLAG_DUMP), 0), 'replay');
    assert.equal(t.accept(p, h(3, FLAG_DUMP), 0), 'ok');
    assert.ok(p.wantDump);
  });
});
