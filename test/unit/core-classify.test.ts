/** Both directions of a flow meet in one shard: ownerOf6 on the request, ownerOf4 on the reply. */
import * as assert from 'node:assert/strict';
import { Result } from '../../src/dataplane/core-api';
import { allocateShardTables } from '../../src/dataplane/tables/shard-tables';
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
