/**
 * The CI-sized fuzzing run of the translation core (the long one is test/fuzz/fuzz-core.ts, see
 * docs/fuzzing.md): about 280k mutated packets with fixed seeds, 1 and 2 shards, with Jool's
 * defaults and with icmp-admin-prohibited (RFC 7915 §4.4/§5.4) on, every invariant
 * of test/fuzz/engine.ts checked on every packet, each packet through the shard's flow cache first
 * (hits and fills as in shard.ts), and before that through the I/O layer's receive step for
 * partial TCP/UDP checksums (native.checksumFrame, as native/io.cc on a "detect" port). A failure
 * prints the input packet in hex, the seed and the iteration, which reproduce it (the run is
 * deterministic).
 */
import * as assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { loadNative, native } from '../../src/native';
import { partialTwin, type Seed } from '../fuzz/corpus';
import { ERROR_REASONS, checkIpv4, checkIpv6, checkQuoted, fuzz, l4ChecksumOk, type FuzzStats } from '../fuzz/engine';
import { isPartial, locatePartial, locateWhole, verifies } from '../fuzz/l4sum';
import { Prng } from '../fuzz/prng';
import { ipv4, ipv6, PROTO, tcp, udp } from '../rfc/vectors/build';

function gc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

function heapAfterGc(collect: () => void): number {
  collect();
  collect();
  return process.memoryUsage().heapUsed;
}

function explain(s: FuzzStats): string {
  const f = s.failure!;
  return `${f.detail}\n  process${f.direction}, seed packet ${f.seedName}, run seed ${f.seed}, ${f.shards} shard(s), ` +
    `iteration ${f.iteration}\n  input: ${f.hex}`;
}

describe('fuzz: the translation core under hostile input', function () {
  this.timeout(60000);
  const runs = [
    { seed: 0x5eed0001, shards: 1, packets: 70000 },
    { seed: 0x5eed0002, shards: 2, packets: 70000 },
    { seed: 0x5eed0003, shards: 1, packets: 30000, capacity: 64 },
    { seed: 0x5eed0004, shards: 2, packets: 30000, capacity: 64 },
  ];
  for (const o of runs) {
    it(`${o.packets} mutated packets, ${o.shards} shard(s)${o.capacity ? `, tables of ${o.capacity}` : ''}, seed ${o.seed.toString(16)}: every invariant holds`, () => {
      const s = fuzz(o);
      assert.equal(s.failure, null, s.failure ? explain(s) : '');
      assert.equal(s.packets, o.packets);
      // The corpus reaches every verdict, including the quoted-packet paths and hairpinning.
      for (const v of ['DROP', 'EMIT4', 'EMIT6', 'HAIRPIN'] as const) assert.ok(s.verdicts[v] > 0, `no ${v}`);
      for (const k of ['translated-6to4', 'translated-4to6', 'icmp-error-sent', 'icmp-error-inner-bad', 'mtu-fragmented']) {
        assert.ok((s.counters[k] ?? 0) > 0, `${k} never counted: ${JSON.stringify(s.counters)}`);
      }
      // Packets go through the flow cache first (as in the shard worker), and it translates some.
      assert.ok(s.cacheHits > 0, 'the flow cache never hit');
      // Issue 10: partial checksums were recognised and finished on both paths, deferred frames
      // that became ICMP errors (or were dropped) had nothing to finish, and corrupt checksums
      // were translated without being repaired.
      const c = s.checksum;
      for (const k of ['partial', 'finishedRx', 'deferred', 'finishedTx', 'unfinished', 'complete', 'none', 'corruptTranslated'] as const) {
        assert.ok(c[k] > 0, `checksum.${k} is 0: ${JSON.stringify(c)}`);
      }
      assert.equal(c.partial, c.finishedRx + c.deferred);
      assert.equal(c.deferred, c.finishedTx + c.unfinished);
      if (o.capacity) {
        assert.ok((s.counters['session-table-full'] ?? 0) + (s.counters['bib-table-full'] ?? 0) > 0, 'tables never filled');
        // RFC 6146 §3.5.1.1: IPv6 packets that found no room are answered with Address Unreachable.
        const answered = (s.errorsByReason['session-table-full'] ?? 0) + (s.errorsByReason['bib-table-full'] ?? 0);
        assert.ok(answered > 0, `no full table answered: ${JSON.stringify(s.errorsByReason)}`);
      }
      // RFC 7915 §4.1: the LSRR seed is answered with Source Route Failed (3/5) on the default switches.
      assert.ok((s.errorsByReason['ipv4-source-route'] ?? 0) > 0, `no source route answered: ${JSON.stringify(s.errorsByReason)}`);
      // Switch off: no refusal ever produced an ICMP error (the invariant would have failed too).
      assert.deepEqual(Object.keys(s.errorsByReason).filter((k) => !(ERROR_REASONS as readonly string[]).includes(k)), []);
    });
  }

  // RFC 7915 §4.4/§5.4 with icmp-admin-prohibited on: refusals may be answered (and counted with the
  // error's fate); with address-dependent filtering, or drop-externally-initiated-tcp, so those
  // refusals are reached too.
  const adminRuns = [
    { seed: 0x5eed0005, shards: 1, packets: 40000, globals: { icmpAdminProhibited: true, addressDependentFiltering: true },
      answered: ['bib4-not-found', 'tcp-syn-needed', 'adf-filtered'] },
    { seed: 0x5eed0006, shards: 2, packets: 40000, globals: { icmpAdminProhibited: true, dropExternallyInitiatedTcp: true },
      answered: ['bib4-not-found', 'tcp-syn-needed', 'tcp-v4-syn-dropped'] },
  ];
  for (const o of adminRuns) {
    it(`RFC 7915 §4.4/§5.4: ${o.packets} mutated packets, ${o.shards} shard(s), ${Object.keys(o.globals).join(' + ')}, seed ${o.seed.toString(16)}: every invariant holds`, () => {
      const s = fuzz(o);
      assert.equal(s.failure, null, s.failure ? explain(s) : '');
      for (const k of o.answered) {
        assert.ok((s.errorsByReason[k] ?? 0) > 0, `${k} never answered: ${JSON.stringify(s.errorsByReason)}`);
      }
    });
  }

  // Issue 15: per-subscriber limits on (small, so the fuzzer's few sources reach them; /120 so
  // neighbouring sources share one): refusals answered with Address Unreachable, and the subscriber
  // table always agrees with the BIB (invariant "subscribers").
  const subscriberRuns = [
    { seed: 0x5eed0015, shards: 1, packets: 40000, globals: { subscriberPortLimit: 6, subscriberPrefixLength: 120 } },
    { seed: 0x5eed0016, shards: 2, packets: 40000, globals: { subscriberPortLimit: 8, subscriberMappingRate: 40, subscriberPrefixLength: 128 } },
  ];
  for (const o of subscriberRuns) {
    it(`RFC 6888 REQ-4: ${o.packets} mutated packets, ${o.shards} shard(s), ${JSON.stringify(o.globals)}, seed ${o.seed.toString(16)}: every invariant holds and subscribers are refused`, () => {
      const s = fuzz(o);
      assert.equal(s.failure, null, s.failure ? explain(s) : '');
      const refused = (s.counters['subscriber-port-limit'] ?? 0) + (s.counters['subscriber-rate-limit'] ?? 0);
      assert.ok(refused > 0, `no subscriber was ever at a limit: ${JSON.stringify(s.counters)}`);
    });
  }

  it('the same seed gives the same run', () => {
    const a = fuzz({ seed: 7, shards: 2, packets: 3000 });
    const b = fuzz({ seed: 7, shards: 2, packets: 3000 });
    assert.deepEqual(a.counters, b.counters);
    assert.deepEqual(a.verdicts, b.verdicts);
    assert.deepEqual(a.checksum, b.checksum);
  });

  it('the heap does not grow with the number of packets', () => {
    const collect = gc();
    fuzz({ seed: 11, shards: 2, packets: 2000 }); // warm-up: code, corpus and tables allocated once
    const before = heapAfterGc(collect);
    const s = fuzz({ seed: 12, shards: 2, packets: 40000 });
    const after = heapAfterGc(collect);
    assert.equal(s.failure, null, s.failure ? explain(s) : '');
    assert.ok(after - before < 4 * 1048576, `heap grew by ${((after - before) / 1048576).toFixed(1)} MiB`);
  });
});

describe('fuzz: the checks themselves catch broken output', () => {
  const u4 = ipv4({ src: '198.51.100.7', dst: '203.0.113.1', proto: PROTO.UDP, l4: udp(53, 61001) });
  const u6 = ipv6({ src: '2001:db8::8', dst: '64:ff9b::c633:6407', nh: PROTO.UDP, l4: udp(5000, 53) });

  it('IPv4: length field, IHL, version, header checksum, fragment past 65535', () => {
    assert.equal(checkIpv4(u4, 0, u4.length), null);
    assert.match(checkIpv4(u4, 0, u4.length - 1)!, /Total Length/);
    const bad = Uint8Array.from(u4);
    bad[10] ^= 1;
    assert.match(checkIpv4(bad, 0, bad.length)!, /checksum/);
    const frag = ipv4({ src: 1, dst: 2, proto: PROTO.UDP, l4: new Uint8Array(100), l4sum: 'keep', fragOffset: 8180 });
    assert.match(checkIpv4(frag, 0, frag.length)!, /fragment ends/);
    assert.match(checkIpv4(u6, 0, u6.length)!, /version|IHL|Length/);
  });

  it('IPv6: length field and version', () => {
    assert.equal(checkIpv6(u6, 0, u6.length), null);
    assert.match(checkIpv6(u6, 0, u6.length + 2)!, /Payload Length/);
    assert.match(checkIpv6(u4, 0, u4.length)!, /version|bytes/);
  });

  it('quoted packets and transport checksums', () => {
    const wrapped = Uint8Array.from(u4);
    wrapped[3] = 19;
    assert.match(checkQuoted(wrapped, 0, wrapped.length, 4)!, /Total Length/);
    assert.equal(checkQuoted(u4, 0, u4.length, 4), null);
    assert.ok(l4ChecksumOk(u4, 0, u4.length, 4) && l4ChecksumOk(u6, 0, u6.length, 6));
    const bad = Uint8Array.from(u6);
    bad[45] ^= 1;
    assert.ok(!l4ChecksumOk(bad, 0, bad.length, 6));
  });

  it('partial checksums: the seeds\' twins, by l4sum.ts and by the classifier; corrupt and fragment checksums are not partial', () => {
    loadNative();
    const eth = (b: Uint8Array, family: 4 | 6): Uint8Array => {
      const f = new Uint8Array(14 + b.length);
      f[12] = family === 6 ? 0x86 : 0x08;
      f[13] = family === 6 ? 0xdd : 0x00;
      f.set(b, 14);
      return f;
    };
    const seeds: Seed[] = [
      { name: 'u6', family: 6, bytes: u6 },
      { name: 'u4', family: 4, bytes: u4 },
      { name: 't6', family: 6, bytes: ipv6({ src: '2001:db8::8', dst: '64:ff9b::c633:6407', nh: PROTO.TCP, l4: tcp(5001, 80, [1, 2, 3], 0x18),
        ext: [[PROTO.HOPOPTS, [1, 4, 0, 0, 0, 0]]] }) },
    ];
    for (const s of seeds) {
      const w = locatePartial(s.bytes, 0, s.bytes.length, s.family)!;
      assert.ok(w !== null && verifies(s.bytes, w) && !isPartial(s.bytes, w), s.name);
      assert.equal(native.checksumFrame(eth(s.bytes, s.family), 'classify'), 'complete');
      const p = partialTwin(s).bytes;
      assert.ok(isPartial(p, w), `${s.name}-partial`);
      const f = eth(p, s.family);
      assert.equal(native.checksumFrame(f, 'classify'), 'partial');
      assert.equal(native.checksumFrame(f, 'complete'), 'complete');
      assert.deepEqual(f.subarray(14), s.bytes, `${s.name}: finished is the original`);
      const bad = Uint8Array.from(s.bytes);
      bad[w.sum + 1] ^= 0x10;
      assert.ok(!verifies(bad, w) && !isPartial(bad, w));
      assert.equal(native.checksumFrame(eth(bad, s.family), 'classify'), 'complete');
    }
    // A fragment has no partial sum: neither locates it; an atomic fragment is whole (locateWhole).
    const mf = ipv4({ src: '198.51.100.7', dst: '203.0.113.1', proto: PROTO.UDP, l4: udp(53, 61001), mf: true });
    assert.equal(locatePartial(mf, 0, mf.length, 4), null);
    assert.equal(native.checksumFrame(eth(mf, 4), 'classify'), 'none');
    const atomic = ipv6({ src: '2001:db8::8', dst: '64:ff9b::c633:6407', nh: PROTO.UDP, l4: udp(5000, 53),
      ext: [[PROTO.FRAGMENT, [0, 0, 0, 0, 0x12, 0x34]]] });
    assert.equal(locatePartial(atomic, 0, atomic.length, 6), null);
    const w = locateWhole(atomic, 0, atomic.length, 6);
    assert.ok(w !== null && verifies(atomic, w));
  });

  it('the PRNG is deterministic and spread', () => {
    const a = new Prng(1), b = new Prng(1);
    const seen = new Set<number>();
    for (let i = 0; i < 1000; i++) { const x = a.next(); assert.equal(x, b.next()); seen.add(x & 0xff); }
    assert.ok(seen.size > 250);
  });
});
