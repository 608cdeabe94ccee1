/**
 * Jool's global source-icmpv6-errors-better (Jool 4 rfc7915/4to6.c, generate_saddr6_nat64): the
 * source address of an ICMPv6 error translated from an ICMPv4 error, through Nat64Core with a
 * real session, and through the control plane's globals (the key reaches the core).
 *
 * true (Jool's default, its issue #132): the ICMPv4 error's own source, the router that reported,
 * with pool6 prepended (RFC 6052). false: RFC 6146 §3.6.2 read literally, the outgoing tuple's
 * source: the quoted packet's destination (the IPv4 host the IPv6 node talked to) with pool6
 * prepended, whichever router sent the error.
 */
import * as assert from 'node:assert/strict';
import { Result } from '../../src/dataplane/core-api';
import { defaultGlobals as controlDefaults, parseGlobal, toCoreGlobals } from '../../src/control/globals';
import { a4, a6, icmp, ipv4, ipv6, PROTO, udp } from './vectors/build';
import { assertSamePacket, l4SumOk6 } from './vectors/check';
import { POOL4, makeConfig, makeCore, nonZero, run, u16At, u32At } from '../unit/helpers/core-harness';

const X = '2001:db8::8';
const Y4 = '198.51.100.7';
const Y6 = '64:ff9b::c633:6407';
const ROUTER4 = '192.0.2.254';
const ROUTER6 = '64:ff9b::c000:2fe';

/** An IPv6 UDP packet opens the session; a router on the IPv4 path answers its translation with 3/3. */
function errorFor(better: boolean): { pkt: Uint8Array; quoted4: Uint8Array; port4: number } {
  const { core, c } = makeCore(makeConfig({ sourceIcmpv6ErrorsBetter: better }));
  const q = run(core, 6, ipv6({ src: X, dst: Y6, nh: PROTO.UDP, l4: udp(5000, 53), hop: 64 }), 0);
  assert.equal(q.r, Result.EMIT4, JSON.stringify(nonZero(c)));
  const err = ipv4({ src: ROUTER4, dst: POOL4, proto: PROTO.ICMP, l4: icmp(3, 3, 0, q.pkt), ttl: 50 });
  const r = run(core, 4, err, 1);
  assert.equal(r.r, Result.EMIT6, JSON.stringify(nonZero(c)));
  assert.equal(u32At(q.pkt, 12), a4(POOL4));
  return { pkt: r.pkt, quoted4: q.pkt, port4: u16At(q.pkt, 20) };
}

/** The ICMPv6 Port Unreachable we expect, from `src`, quoting the packet as the IPv6 node sent it (hop 63). */
function expected(src: string): Uint8Array {
  const quoted = ipv6({ src: X, dst: Y6, nh: PROTO.UDP, l4: udp(5000, 53), hop: 63 });
  return ipv6({ src, dst: X, nh: PROTO.ICMPV6, l4: icmp(1, 4, 0, quoted), hop: 49 });
}

describe('Jool source-icmpv6-errors-better (ICMPv4 error -> ICMPv6 error, outer source)', () => {
  it('Jool default (true, issue #132): the outer source is the reporting router embedded in pool6', () => {
    const { pkt } = errorFor(true);
    assert.deepEqual(pkt.subarray(8, 24), a6(ROUTER6));
    assert.ok(l4SumOk6(pkt));
    assertSamePacket(pkt, expected(ROUTER6));
  });

  it('false (RFC 6146 §3.6.2): the outer source is the quoted packet\'s destination (the IPv4 host) embedded in pool6', () => {
    const { pkt } = errorFor(false);
    assert.deepEqual(pkt.subarray(8, 24), a6(Y6));
    assert.ok(l4SumOk6(pkt));
    assertSamePacket(pkt, expected(Y6));
  });

  it('the global is no longer stored-only: its value reaches the core (default true, "false" -> false)', () => {
    const values = controlDefaults('64:ff9b::/96');
    assert.equal(values['source-icmpv6-errors-better'], true);
    assert.equal(toCoreGlobals(values).sourceIcmpv6ErrorsBetter, true);
    const off = { ...values, 'source-icmpv6-errors-better': parseGlobal('source-icmpv6-errors-better', 'false', 'test') };
    assert.equal(toCoreGlobals(off).sourceIcmpv6ErrorsBetter, false);
  });
});
