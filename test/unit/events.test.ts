import { strict as assert } from 'node:assert';
import { createEventBuffer, EventReader, EventRing, formatMappingLine, MappingEvent, type MappingRecord } from '../../src/dataplane/events';
import { allocateShardTables, ShardTables } from '../../src/dataplane/tables/shard-tables';
import { B_STRIDE, H_POOL6, H_POOL6_LEN } from '../../src/dataplane/tables/layout';

const V6 = Uint8Array.from([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
const ADDR4 = 0xcb007101; // 203.0.113.1

function setup(capacity = 8) {
  const buffers = allocateShardTables(1024);
  const tables = new ShardTables(buffers);
  const h = tables.header; // pool6 64:ff9b::/96, as configure() publishes it
  h[H_POOL6] = 0x0064ff9b; h[H_POOL6 + 1] = 0; h[H_POOL6 + 2] = 0; h[H_POOL6 + 3] = 0; h[H_POOL6_LEN] = 96;
  const sab = createEventBuffer(capacity);
  const ring = new EventRing(sab);
  const reader = new EventReader(sab, 3, buffers.header);
  return { tables, ring, reader };
}

const drain = (r: EventReader) => { const out: MappingRecord[] = []; r.drain((x) => out.push(x)); return out; };

describe('events: RFC 6888 mapping-log ring', () => {
  it('records BIB and session creation/removal from the tables only while a ring is attached', () => {
    const { tables, ring, reader } = setup();
    const b0 = tables.bib.insert(6, V6, 0, 40000, ADDR4, 61001, false);
    assert.deepEqual(drain(reader), [], 'logging off: nothing written');
    tables.bib.log = ring; tables.sessions.log = ring;
    const b = tables.bib.insert(17, V6, 0, 5000, ADDR4, 61002, false);
    const s = tables.sessions.insert(b, 0xcb007110, 5353, 0, 0, Date.now());
    tables.sessions.remove(s);
    tables.bib.remove(b);
    tables.bib.remove(b0);
    const got = drain(reader);
    assert.deepEqual(got.map((r) => r.event), ['bib-create', 'session-create', 'session-remove', 'bib-remove', 'bib-remove']);
    assert.equal(got[1].protocol, 'UDP');
    assert.equal(got[1].ipv6, '2001:db8::2');
    assert.equal(got[1].ipv6Port, 5000);
    assert.equal(got[1].ipv4, '203.0.113.1');
    assert.equal(got[1].ipv4Port, 61002);
    assert.equal(got[1].remote4, '203.0.113.16');
    assert.equal(got[1].remote4Port, 5353);
    assert.equal(got[1].remote6, '64:ff9b::cb00:7110');
    assert.equal(got[1].shard, 3);
    assert.ok(Math.abs(got[0].time - Date.now()) < 5000);
    assert.equal(got[4].protocol, 'TCP');
  });

  it('a full ring drops and counts; draining frees the slots; indices wrap', () => {
    const { tables, ring, reader } = setup(4);
    const b = tables.bib.insert(6, V6, 0, 1, ADDR4, 2, true);
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 6; i++) ring.bib(MappingEvent.BIB_CREATE, tables.bib.rec, b * B_STRIDE);
      const got = drain(reader);
      assert.equal(got.length, 4);
      assert.ok(got.every((r) => r.isStatic && r.ipv4Port === 2));
    }
    assert.equal(reader.dropped, 10);
  });

  it('formats the documented line', () => {
    const line = formatMappingLine({
      event: 'session-create', protocol: 'TCP', time: Date.UTC(2025, 0, 2, 3, 4, 5, 6), isStatic: false,
      ipv6: '2001:db8::2', ipv6Port: 40000, ipv4: '203.0.113.1', ipv4Port: 61001,
      remote6: '64:ff9b::cb00:7110', remote6Port: 8080, remote4: '203.0.113.16', remote4Port: 8080, shard: 0,
    }, 'example');
    assert.equal(line, 'nat64-mapping time=2025-01-02T03:04:05.006Z instance="example" event=session-create proto=TCP '
      + 'ipv6=2001:db8::2#40000 ipv6-remote=64:ff9b::cb00:7110#8080 ipv4=203.0.113.1#61001 ipv4-remote=203.0.113.16#8080 shard=0');
  });
});
