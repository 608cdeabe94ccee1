/**
 * RFC 6146 §3.7 Translating the Packet: the stateless header translation of RFC 7915 with the
 * addresses and ports of the outgoing tuple (§3.6). The xlat layer counts its own outcome
 * (translated-6to4/4to6, ttl-expired, or one drop reason).
 *
 * decrementTtl is false only for a hairpinned packet on its second pass (§3.8): the IPv6 hop
 * limit was already decremented when it was translated to IPv4 the first time. A packet that will
 * be hairpinned never meets the IPv4 egress MTU (`hairpin`): only its second pass is checked.
 */
import type { CoreGlobals } from '../core-config';
import type { OutSpan, Result } from '../core-api';
import type { Parsed } from '../packet/parse';
import { translate4to6 } from '../translate/ipv4-to-ipv6';
import { translate6to4 } from '../translate/ipv6-to-ipv4';
import type { Self, Tuple } from '../translate/tuple';

/** Larger than any IPv4 packet: no egress MTU applies. */
const NO_MTU = 0x10000;

export function translatingThePacket6(buf: Uint8Array, off: number, len: number, cap: number, p: Parsed, t: Tuple,
  g: CoreGlobals, self: Self, out: OutSpan, counters: Float64Array, hairpin = false): Result {
  return translate6to4(buf, off, len, cap, p, t, g, self, out, counters, true, hairpin ? NO_MTU : self.mtu4);
}

export function translatingThePacket4(buf: Uint8Array, off: number, len: number, cap: number, p: Parsed, t: Tuple,
  g: CoreGlobals, self: Self, out: OutSpan, counters: Float64Array, hairpinned: boolean): Result {
  return translate4to6(buf, off, len, cap, p, t, g, self, out, counters, !hairpinned);
}
