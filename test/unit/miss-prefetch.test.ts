/**
 * The staged prefetch of the full path's lookups (src/dataplane/miss-prefetch.ts): for the frames
 * of a burst that miss the flow cache, it must reach exactly the sessions the full path then
 * reads (their records, last-use and back-pointer slots), in both directions, through BIB and
 * session chains several entries long; frames that hit, and new flows, reach none. A wrong hash, embedding or chain walk would prefetch lines
 * nobody reads and this test would fail (the translation itself would not: prefetches are hints).
 */
import { strict as assert } from 'node:assert';
import { BURST, RX_DATA } from '../../src/dataplane/abi';
import { Result } from '../../src/dataplane/core-api';
import {
  MissPrefetch, T_BIB_HEADS4, T_ENT4, T_FLOW6, T_ENT6, T_LAST_USE, T_SESSION_ADDR_HEADS, T_SESSION_HEADS, T_SESSION_REC,
} from '../../src/dataplane/miss-prefetch';
import { S_STRIDE } from '../../src/dataplane/tables/layout';
import { PROTO, a6, ipv4, ipv6, tcp, udp } from '../rfc/vectors/build';
import { makeConfig, makeCore, range } from './helpers/core-harness';
import { FlowRig } from './helpers/flow-rig';

const SLOT = 256;
const HR = 64;
const SERVER = '198.51.100.7';

describe('miss prefetch: the full path lines of flow-cache misses, one stage per link', () => {
  // Small tables (64 slots): chains of several BIB entries and sessions per bucket.
  const rig = makeCore(makeConfig(), { capacity: 64 });
  const fr = new FlowRig(rig.core, rig.c, true, 1500, 64);
  const mp = new MissPrefetch(60, rig.core, fr.flows);
  const buf = new Uint8Array(BURST * SLOT);
  const rx = new Uint32Array(BURST * 4);
  const flows: Array<{ v6: Uint8Array; v4: Uint8Array | null; session: number }> = [];

  before(() => {
    // 40 flows from 8 hosts (several sessions per BIB entry for TCP/UDP alike), then their replies.
    for (let k = 0; k < 40; k++) {
      const tcpFlow = k % 4 === 3;
      const v6 = ipv6({ src: `2001:db8::${(k % 8) + 1}`, dst: a6(`64:ff9b::c633:64${k % 5 + 1}`), nh: tcpFlow ? PROTO.TCP : PROTO.UDP,
        l4: tcpFlow ? tcp(5000 + (k >> 3), 80, [], 0x02) : udp(5000 + (k >> 3), 53 + k) });
      const w = new Uint8Array(2048);
      w.set(v6, HR);
      const o = fr.run6(w, HR, v6.length, 1900, 1000 + k);
      assert.equal(o.r, Result.EMIT4, `flow ${k}`);
      const s = rig.core.flowSession;
      let v4: Uint8Array | null = null;
      if (!tcpFlow) {
        const out = w.slice(o.off, o.off + o.len);
        const w32 = (o: number) => ((out[o] << 24) | (out[o + 1] << 16) | (out[o + 2] << 8) | out[o + 3]) >>> 0;
        v4 = ipv4({ src: w32(16), dst: w32(12), proto: PROTO.UDP, l4: udp((out[22] << 8) | out[23], (out[20] << 8) | out[21]) });
        const r = new Uint8Array(2048);
        r.set(v4, HR);
        assert.equal(fr.run4(r, HR, v4.length, 1900, 1000 + k).r, Result.EMIT6, `reply ${k}`);
      }
      flows.push({ v6, v4, session: s });
    }
  });

  /**
   * Lays frames out as a received burst and runs the shard's prefetch pass; returns the sessions
   * whose last use was prefetched. `misses`: every frame misses the cache, so each of those
   * sessions' record and back pointer must have been prefetched too (a hit needs neither).
   */
  let trace: Array<[number, number]> = [];
  function burst(frames: Uint8Array[], misses = true): number[] {
    frames.forEach((f, i) => {
      const at = i * SLOT;
      buf.fill(0, at, at + SLOT);
      buf[at + 12] = f[0] >>> 4 === 6 ? 0x86 : 0x08; buf[at + 13] = f[0] >>> 4 === 6 ? 0xdd : 0x00;
      buf.set(f, at + 14);
      rx[i * 4 + RX_DATA] = at;
      if (f[0] >>> 4 === 6) fr.flows.note6(i, buf, at + 14); else fr.flows.note4(i, buf, at + 14);
    });
    mp.trace = [];
    mp.run(frames.length, rx, buf);
    trace = mp.trace;
    mp.trace = null;
    // (A new session's, named after its address hash head, is checked by the test of new state.)
    const lastUse = trace.filter(([t], i) => t === T_LAST_USE && (i === 0 || trace[i - 1][0] !== T_SESSION_ADDR_HEADS)).map(([, s]) => s);
    for (const s of misses ? lastUse : []) {
      assert.ok(trace.some(([t, x]) => t === T_SESSION_REC && x === s * S_STRIDE), `session ${s}: record not prefetched`);
      assert.ok(trace.some(([t, x]) => (t === T_ENT6 || t === T_ENT4) && x === s), `session ${s}: back pointer not prefetched`);
    }
    return lastUse;
  }

  it('6->4 misses: each one\'s session record, last use and 6->4 back pointer', () => {
    fr.flows.invalidate(); // every flow misses now
    const pick = flows.slice(0, BURST);
    assert.deepEqual(burst(pick.map((f) => f.v6)).sort((x, y) => x - y), pick.map((f) => f.session).sort((x, y) => x - y));
  });

  it('4->6 misses: found by the IPv4 side', () => {
    fr.flows.invalidate();
    const pick = flows.filter((f) => f.v4 !== null).slice(0, BURST);
    assert.ok(pick.length >= 20);
    assert.deepEqual(burst(pick.map((f) => f.v4!)).sort((x, y) => x - y), pick.map((f) => f.session).sort((x, y) => x - y));
  });

  it('a hit names its session (the way that holds its key); a new flow names no existing session', () => {
    fr.flows.invalidate();
    const f = flows[0];
    const w = new Uint8Array(2048);
    w.set(f.v6, HR);
    assert.equal(fr.run6(w, HR, f.v6.length, 1900, 5000).hit, false); // fills the cache again
    const fresh = ipv6({ src: '2001:db8::99', dst: a6(`64:ff9b::${SERVER}`), nh: PROTO.UDP, l4: udp(7, 7) });
    assert.deepEqual(burst([f.v6, fresh], false), [f.session]);
  });

  it('new flows: the session records, hash heads and back pointers the inserts will take, in burst order', () => {
    fr.flows.invalidate();
    const fresh = [1, 2, 3, 4, 5].map((k) => ipv6({ src: `2001:db8:77::${k}`, dst: a6(`64:ff9b::c633:64${k}`), nh: PROTO.UDP,
      l4: udp(61000 + k, 4000 + k) })); // source ports inside pool4 (61001-65535): preserved
    // One new session on an existing mapping too (host 1's port 5000 talks to a new server).
    fresh.push(ipv6({ src: '2001:db8::1', dst: a6('64:ff9b::c633:6499'), nh: PROTO.UDP, l4: udp(5000, 53) }));
    burst(fresh, false);
    const predicted: Array<{ s: number; heads: number; addr: number; heads4: number }> = [];
    trace.forEach(([t, x], i) => {
      if (t !== T_SESSION_ADDR_HEADS) return;
      assert.equal(trace[i - 1][0], T_SESSION_HEADS);
      predicted.push({ s: trace[i + 1][1], heads: trace[i - 1][1], addr: x, heads4: trace[i - 2][0] === T_BIB_HEADS4 ? trace[i - 2][1] : -1 });
    });
    assert.equal(predicted.length, fresh.length);
    const sessions = rig.core.tables.sessions;
    fresh.forEach((v6, k) => {
      const w = new Uint8Array(2048);
      w.set(v6, HR);
      assert.equal(fr.run6(w, HR, v6.length, 1900, 9000 + k).r, Result.EMIT4);
      const s = rig.core.flowSession;
      assert.equal(s, predicted[k].s, `frame ${k}: session slot`);
      const bib = sessions.bibOf(s), r4 = sessions.remote4(s) | 0;
      assert.equal(sessions.bucket(bib, r4, sessions.remotePort(s)), predicted[k].heads, `frame ${k}: session head`);
      assert.equal(sessions.addrBucket(bib, r4), predicted[k].addr, `frame ${k}: address head`);
      const bibs = rig.core.tables.bib;
      // New mappings: the IPv4-side head of the entry pool4 chose; the existing mapping: none.
      assert.equal(predicted[k].heads4, k < 5 ? bibs.bucket4(PROTO.UDP, bibs.addr4(bib) | 0, bibs.port4(bib)) : -1, `frame ${k}: BIB IPv4 head`);
    });
  });
});

describe('miss prefetch: nothing predicted for new mappings while pool4 is exhausted', () => {
  it('a flood of new flows against a full pool4 walks no free lists (pool4.anyFree is O(1))', () => {
    const one = [range('203.0.113.1', 61001, 61001)];
    const rig = makeCore(makeConfig({}, [], { TCP: one, UDP: one, ICMP: one }), { capacity: 64 });
    const fr = new FlowRig(rig.core, rig.c, true, 1500, 64);
    const mp = new MissPrefetch(59, rig.core, fr.flows);
    const flow = (k: number) => ipv6({ src: `2001:db8:5::${k}`, dst: a6('64:ff9b::c633:6401'), nh: PROTO.UDP, l4: udp(61001, 53) });
    const creations = (v6: Uint8Array): number => {
      const buf = new Uint8Array(SLOT), rx = new Uint32Array(BURST * 4);
      buf[12] = 0x86; buf[13] = 0xdd; buf.set(v6, 14);
      fr.flows.note6(0, buf, 14);
      mp.trace = [];
      mp.run(1, rx, buf);
      const n = mp.trace.filter(([t]) => t === T_SESSION_ADDR_HEADS).length;
      mp.trace = null;
      return n;
    };
    assert.equal(rig.core.pool4!.anyFree(PROTO.UDP), true);
    assert.equal(creations(flow(1)), 1, 'room in pool4: the new mapping is predicted');
    const w = new Uint8Array(2048);
    w.set(flow(1), HR);
    assert.equal(fr.run6(w, HR, flow(1).length, 1900, 10).r, Result.EMIT4); // takes the only port
    assert.equal(rig.core.pool4!.anyFree(PROTO.UDP), false);
    assert.equal(creations(flow(2)), 0, 'pool4 exhausted: nothing predicted');
  });
});

describe('miss prefetch: the sets\' first two ways first, the other two only when needed', () => {
  it('a flow in the third or fourth way is found after its other ways are prefetched, not taken for a miss', () => {
    const rig = makeCore(makeConfig(), { capacity: 64 });
    const fr = new FlowRig(rig.core, rig.c, true, 1500, 64, 4); // four entries: one set of four ways
    const mp = new MissPrefetch(58, rig.core, fr.flows);
    const flow = (k: number) => ipv6({ src: `2001:db8:6::${k}`, dst: a6('64:ff9b::c633:6401'), nh: PROTO.UDP, l4: udp(7000 + k, 53) });
    const session: number[] = [];
    for (let k = 1; k <= 4; k++) { // flow 1 ends in the last way (each new entry goes first)
      const w = new Uint8Array(2048);
      w.set(flow(k), HR);
      assert.equal(fr.run6(w, HR, flow(k).length, 1900, k).r, Result.EMIT4);
      session[k] = rig.core.flowSession;
    }
    const buf = new Uint8Array(2 * SLOT), rx = new Uint32Array(BURST * 4);
    [flow(1), flow(5)].forEach((f, i) => {
      buf[i * SLOT + 12] = 0x86; buf[i * SLOT + 13] = 0xdd; buf.set(f, i * SLOT + 14);
      rx[i * 4 + RX_DATA] = i * SLOT;
      fr.flows.note6(i, buf, i * SLOT + 14);
    });
    mp.trace = [];
    mp.run(2, rx, buf);
    const trace = mp.trace;
    const set = fr.flows.prefetchPlan().list[0];
    // Both frames' other ways (the same set), then flow 1's session as a hit; flow 5 a new flow.
    assert.deepEqual(trace.filter(([t]) => t === T_FLOW6).map(([, x]) => x), [set + 32, set + 48, set + 32, set + 48]);
    assert.ok(trace.some(([t, x]) => t === T_LAST_USE && x === session[1]), 'the fourth way\'s session is named');
    assert.equal(trace.filter(([t]) => t === T_SESSION_ADDR_HEADS).length, 1, 'only flow 5 is a miss (a new flow)');
  });
});
