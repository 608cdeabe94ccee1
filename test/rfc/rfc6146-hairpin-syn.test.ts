/**
 * RFC 6146 §3.8 + §3.5.2.2, Jool's behaviour: a TCP SYN from an IPv6 node to our own pool4
 * address (through pool6) and a port no BIB entry maps is, on its hairpinned second pass, an IPv4
 * SYN without a BIB entry like any other: stored for 6 s, then answered with ICMP Port
 * Unreachable, which is itself addressed to our pool4 (the stored SYN's source) and so hairpinned
 * back: the IPv6 node gets ICMPv6 Destination Unreachable / Port Unreachable quoting its SYN.
 * Driven packet by packet as the shard does (egress.ts emit / store / heldSynEnded).
 */
import * as assert from 'node:assert/strict';
import { Result } from '../../src/dataplane/core-api';
import { a4, a6, icmp, ipv6, PROTO, tcp } from './vectors/build';
import { assertSamePacket, l4SumOk6 } from './vectors/check';
import { HEADROOM } from './vectors/harness';
import { POOL4, makeConfig, makeCore, n, nonZero, u16At, u32At } from '../unit/helpers/core-harness';

const X = '2001:db8::8';
/** Our own pool4 address (203.0.113.1) under the well-known prefix. */
const P6 = '64:ff9b::cb00:7101';
const SYN = 0x02;

/** One shard's packet arena: the packet at HEADROOM, room to grow, as the shard's mbuf. */
function arena(pkt: Uint8Array): Uint8Array {
  const buf = new Uint8Array(HEADROOM + pkt.length + 512);
  buf.set(pkt, HEADROOM);
  return buf;
}

describe('RFC 6146 §3.8 / §3.5.2.2 (Jool): a hairpinned SYN to an unmapped pool4 port', () => {
  for (const own of [true, false]) {
    it(`is stored on its second pass and answered after 6 s with ICMPv6 Port Unreachable quoting it (translator address ${own ? 'in' : 'outside'} pool4)`, () => {
      const { core, c } = makeCore(makeConfig(), own ? { own: [a4(POOL4)] } : {});
      if (own) core.setSelf(a6('2001:db8::1'), a4(POOL4));
      const syn = ipv6({ src: X, dst: P6, nh: PROTO.TCP, l4: tcp(40000, 5555, [], SYN), hop: 64 });
      const buf = arena(syn);
      const r1 = core.process6(buf, HEADROOM, syn.length, buf.length - HEADROOM, 0);
      assert.equal(r1, Result.HAIRPIN, JSON.stringify(nonZero(c)));
      const off = core.out.off, len = core.out.len;
      const port4 = u16At(buf, off + 20);
      assert.equal(u32At(buf, off + 12), a4(POOL4));
      assert.equal(u32At(buf, off + 16), a4(POOL4));
      // Second pass: an IPv4 SYN to pool4#5555, which no BIB entry maps.
      const r2 = core.process4(buf, off, len, buf.length - off, 10);
      assert.equal(r2, Result.STORE, JSON.stringify(nonZero(c)));
      assert.equal(n(c, 'tcp-v4-syn-stored'), 1);
      assert.equal(core.storedOff, off, 'the core says where the stored packet is (not where the frame came in)');
      // The shard keeps the packet; after 6 s the core ends the slot and the shard answers it.
      let ended = -1;
      core.setHeldSynListener({ heldSynEnded: (slot, expired) => { if (expired) ended = slot; } });
      core.expire(6009);
      assert.equal(ended, -1, 'not before 6 s');
      core.expire(6011);
      assert.equal(ended, core.storedSlot);
      const r3 = core.portUnreachable4(buf, off, len);
      assert.equal(r3, Result.HAIRPIN, 'the ICMPv4 error is addressed to our own pool4: it goes back in');
      const r4 = core.process4(buf, core.out.off, core.out.len, buf.length - core.out.off, 6011);
      assert.equal(r4, Result.EMIT6, JSON.stringify(nonZero(c)));
      const got = buf.slice(core.out.off, core.out.off + core.out.len);
      assert.ok(l4SumOk6(got));
      // Outer source (source-icmpv6-errors-better): pool6 + the ICMPv4 error's source, the translator.
      const quoted = ipv6({ src: X, dst: P6, nh: PROTO.TCP, l4: tcp(40000, 5555, [], SYN), hop: 63 });
      const src = own ? P6 : '64:ff9b::c000:201';
      assertSamePacket(got, ipv6({ src, dst: X, nh: PROTO.ICMPV6, l4: icmp(1, 4, 0, quoted), hop: own ? 64 : 63 }));
      assert.equal(u16At(got, 48 + 40), 40000);
      assert.ok(port4 >= 61001);
      assert.equal(n(c, 'tcp-v4-syn-expired'), 1);
    });
  }
});
