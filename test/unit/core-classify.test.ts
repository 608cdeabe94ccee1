/** Both directions of a flow meet in one shard: ownerOf6 on the request, ownerOf4 on the reply. */
import * as assert from 'node:assert/strict';
import { Result } from '../../src/dataplane/core-api';
import { allocateShardTables } from '../../src/dataplane/tables/shard-tables';
import { Classifier, hashOwner6 } from '../../src/dataplane/classify';
import { finish, hashAddr6, mix, modU32 } from '../../src/dataplane/tables/hash';
import { COUNTER_COUNT } from '../../src/dataplane/counters';
import { Parsed, parse6 } from '../../src/dataplane/packet/parse';
import { a4, ipv4, ipv6, PROTO, udp, echo, tcp } from '../rfc/vectors/build';
import { POOL4, makeConfig, makeCore, run, staticEntry, u16At, u32At, type CoreRig } from './helpers/core-harness';

const Y6 = '64:ff9b::c633:6407';

function shardSet(shards: number, cfg = makeConfig()): CoreRig[] {
  return Array.from({ length: shards }, (_, s) => makeCore(cfg, { shard: s, shards, buffers: allocateShardTables(256) }));
}

/** The reply to a translated IPv4 packet: swap addresses and ports. */
function reply4(out: Uint8Array): Uint8Array {
  const proto = out[9];
  const src = u32At(out, 16), dst = u32At(out, 12), sp = u16At(out, 22), dp = u16At(out, 20);
  if (proto === PROTO.ICMP) return ipv4({ src, dst, proto, l4: echo(0, u16At(out, 24), 1) });
  return ipv4({ src, dst, proto, l4: proto === PROTO.UDP ? udp(sp, dp) : tcp(sp, dp, [], 0x12) });
}

describe('classify: ownerOf6 / ownerOf4 agree on both directions of a flow', () => {
  for (const shards of [2, 4]) {
    it(`${shards} shards: UDP, TCP and ICMP flows from 40 hosts come back to the shard that created them`, () => {
      const rig = shardSet(shards);
      const used = new Set<number>();
      for (let h = 1; h <= 40; h++) {
        const src = `2001:db8::${h.toString(16)}`;
        for (const pkt of [
          ipv6({ src, dst: Y6, nh: PROTO.UDP, l4: udp(4000 + h, 53) }),
          ipv6({ src, dst: Y6, nh: PROTO.TCP, l4: tcp(4000 + h, 80, [], 0x02) }),
          ipv6({ src, dst: Y6, nh: PROTO.ICMPV6, l4: echo(128, h, 1) }),
        ]) {
          const owner = rig[0].core.ownerOf6(pkt, 0, pkt.length);
          used.add(owner);
          // Every shard computes the same owner.
          for (const r of rig) assert.equal(r.core.ownerOf6(pkt, 0, pkt.length), owner);
          const out = run(rig[owner].core, 6, pkt, 0);
          assert.equal(out.r, Result.EMIT4);
          const back = reply4(out.pkt);
          assert.equal(rig[0].core.ownerOf4(back, 0, back.length), owner);
          assert.equal(run(rig[owner].core, 4, back, 1).r, Result.EMIT6);
        }
      }
      assert.equal(used.size, shards, 'flows spread over every shard');
    });
  }

  it('a static BIB entry lives in the shard of its IPv4 port, and ownerOf6 sends its IPv6 side there', () => {
    const cfg = makeConfig({}, [staticEntry('UDP', '2001:db8::80', 7777, POOL4, 7777), staticEntry('TCP', '2001:db8::80', 80, POOL4, 80)]);
    const rig = shardSet(4, cfg);
    assert.equal(rig[7777 % 4].core.tables.bib.count + rig[80 % 4].core.tables.bib.count, 2);
    assert.equal(rig.reduce((k, r) => k + r.core.tables.bib.count, 0), 2);
    const fromServer = ipv6({ src: '2001:db8::80', dst: Y6, nh: PROTO.UDP, l4: udp(7777, 5353) });
    const owner = rig[2].core.ownerOf6(fromServer, 0, fromServer.length);
    assert.equal(owner, 7777 % 4);
    const out = run(rig[owner].core, 6, fromServer, 0);
    assert.equal(out.r, Result.EMIT4);
    assert.equal(u16At(out.pkt, 20), 7777);
    const tcpSyn = ipv6({ src: '2001:db8::80', dst: Y6, nh: PROTO.TCP, l4: tcp(80, 5353, [], 0x02) });
    assert.equal(rig[1].core.ownerOf6(tcpSyn, 0, tcpSyn.length), 0);
  });

  it('ICMP errors are classified by their quoted packet (ICMPv6: its destination, ICMPv4: its source port)', () => {
    const rig = shardSet(4);
    const pkt = ipv6({ src: '2001:db8::42', dst: Y6, nh: PROTO.UDP, l4: udp(5000, 53) });
    const owner = rig[0].core.ownerOf6(pkt, 0, pkt.length);
    const out = run(rig[owner].core, 6, pkt, 0);
    const err4 = ipv4({ src: '198.51.100.254', dst: POOL4, proto: PROTO.ICMP,
      l4: Uint8Array.from([3, 3, 0, 0, 0, 0, 0, 0, ...out.pkt.subarray(0, 28)]) });
    assert.equal(rig[0].core.ownerOf4(err4, 0, err4.length), owner);
    // An ICMPv6 error from the IPv6 side quoting a packet we sent to 2001:db8::42.
    const sentTo6 = ipv6({ src: Y6, dst: '2001:db8::42', nh: PROTO.UDP, l4: udp(53, 5000) });
    const err6 = ipv6({ src: '2001:db8::fe', dst: Y6, nh: PROTO.ICMPV6, l4: Uint8Array.from([1, 4, 0, 0, 0, 0, 0, 0, ...sentTo6]) });
    assert.equal(rig[0].core.ownerOf6(err6, 0, err6.length), owner);
  });

  it('an unparseable packet stays in the shard that looks at it', () => {
    const rig = shardSet(4);
    const junk = new Uint8Array(10);
    for (let s = 0; s < 4; s++) {
      assert.equal(rig[s].core.ownerOf6(junk, 0, junk.length), s);
      assert.equal(rig[s].core.ownerOf4(junk, 0, junk.length), s);
    }
  });

  it('a TCP/UDP packet the parser would drop (transport header truncated, UDP checksum zero: RFC 8200 §8.1) stays in the shard that looks at it too; a whole one goes to its owner', () => {
    const rig = shardSet(4);
    const whole = ipv6({ src: '2001:db8::77', dst: Y6, nh: PROTO.UDP, l4: udp(4077, 53) });
    const owner = hashOwner6(PROTO.UDP, whole, 8, 4077, 4);
    const zero = whole.slice(); zero[46] = 0; zero[47] = 0;
    const short = whole.slice(); short[5] = 4; // Payload Length 4: half a UDP header
    const shortTcp = ipv6({ src: '2001:db8::77', dst: Y6, nh: PROTO.TCP, l4: tcp(4077, 80, [], 0x02) }); shortTcp[5] = 16;
    for (let s = 0; s < 4; s++) {
      assert.equal(rig[s].core.ownerOf6(whole, 0, whole.length), owner);
      for (const [what, pkt] of [['zero checksum', zero], ['UDP truncated', short], ['TCP truncated', shortTcp]] as const) {
        assert.equal(rig[s].core.ownerOf6(pkt, 0, pkt.length), s, what);
      }
    }
  });

  it('ownerOf6 of random TCP/UDP/ICMPv6 packets (any length, extension headers, zero checksums, statics) equals the parse6 reference', () => {
    const statics = [staticEntry('UDP', '2001:db8::5', 5005, POOL4, 62003), staticEntry('TCP', '2001:db8::6', 6006, POOL4, 62002)];
    const cfg = makeConfig({}, statics), rig = shardSet(4, cfg);
    const ref = new Classifier(0, 4);
    ref.setStatic(cfg.bib);
    const p = new Parsed(), scratch = new Float64Array(COUNTER_COUNT);
    let x = 0x2545f491;
    const rnd = (k: number): number => { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; return (x >>> 0) % k; };
    for (let i = 0; i < 3000; i++) {
      const src = `2001:db8::${(1 + rnd(8)).toString(16)}`, port = [5005, 6006, 1000 + rnd(50)][rnd(3)];
      const kind = rnd(3), data = Array.from({ length: rnd(20) }, () => rnd(256));
      const pkt = kind === 0 ? ipv6({ src, dst: Y6, nh: PROTO.UDP, l4: udp(port, 53, data) })
        : kind === 1 ? ipv6({ src, dst: Y6, nh: PROTO.TCP, l4: tcp(port, 80, data, 0x02), ext: rnd(4) === 0 ? [[PROTO.DSTOPTS, [1, 4, 0, 0, 0, 0]]] : undefined })
          : ipv6({ src, dst: Y6, nh: PROTO.ICMPV6, l4: echo(128, port, 1) });
      if (kind === 0 && rnd(4) === 0) { pkt[46] = 0; pkt[47] = 0; }
      if (rnd(4) === 0) { const pl = rnd(((pkt[4] << 8) | pkt[5]) + 1); pkt[4] = pl >>> 8; pkt[5] = pl & 0xff; }
      const len = rnd(5) === 0 ? rnd(pkt.length + 1) : pkt.length;
      for (let s = 0; s < 4; s++) {
        // The reference: what ownerOf6 computed before its fixed-offset path (parse6, then static or hash).
        let want = s;
        if (parse6(pkt, 0, len, p, scratch)) {
          const q = p.isIcmpError ? p.inner : p, proto = q.proto === 58 ? 1 : q.proto;
          const a = p.isIcmpError ? q.dst : q.src, qp = p.isIcmpError ? q.dstPort : q.srcPort;
          const st = ref.staticOwner6(proto, pkt, a, qp);
          want = st >= 0 ? st : hashOwner6(proto, pkt, a, qp, 4);
        }
        assert.equal(rig[s].core.ownerOf6(pkt, 0, len), want, `packet ${i} shard ${s}`);
      }
    }
  });

  it('hashOwner6 is the 32-bit hash modulo shards, 1 to 64 shards (the same value in every worker and in the bench generator)', () => {
    const a = new Uint8Array(16);
    let x = 0x1234567;
    for (let i = 0; i < 20000; i++) {
      x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
      for (let k = 0; k < 16; k++) a[k] = (x >>> ((k % 4) * 8)) + k;
      const port = (x >>> 7) & 0xffff, proto = [1, 6, 17][i % 3], shards = 1 + (i % 64);
      assert.equal(hashOwner6(proto, a, 0, port, shards), finish(mix(hashAddr6(proto, a, 0), port)) % shards);
    }
  });

  it('modU32 is the remainder of an unsigned 32-bit value, for every divisor size', () => {
    let x = 0x7654321;
    for (let i = 0; i < 50000; i++) {
      x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
      const h = i % 7 === 0 ? 0xffffffff - (i % 5) : x >>> 0;
      const n = [1 + (i % 64), 1 + ((x >>> 3) & 0x7fff), 0x8000 + ((x >>> 5) & 0x7fffff), 0x800001 + (x & 0xffffff), 65535, 65536, 0x800000][i % 7];
      assert.equal(modU32(h, n), h % n, `${h} % ${n}`);
    }
  });

  it('dynamic ports of shard s satisfy port % shards === s', () => {
    const rig = shardSet(4);
    for (let s = 0; s < 4; s++) {
      for (let h = 0; h < 5; h++) {
        const pkt = ipv6({ src: `2001:db8::${s}:${h}`, dst: Y6, nh: PROTO.UDP, l4: udp(1000 + h, 53) });
        const out = run(rig[s].core, 6, pkt, 0);
        assert.equal(u16At(out.pkt, 20) % 4, s);
        assert.equal(u32At(out.pkt, 12), a4(POOL4));
      }
    }
  });
});
