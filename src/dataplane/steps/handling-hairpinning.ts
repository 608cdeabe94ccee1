/**
 * RFC 6146 §3.8 Handling Hairpinning: an IPv6 node talking to another IPv6 node through its pool6
 * address of a pool4 transport address (e.g. two hosts behind the NAT64, one of them reachable
 * through a static BIB entry). The packet translated to IPv4 is addressed to ourselves: instead
 * of leaving, it comes back in as an incoming IPv4 packet (the worker hands it to the shard that
 * owns its destination, ownerOf4, which may be another shard).
 *
 * The worker counts 'hairpin' when it feeds the packet back; this step only changes the verdict.
 * On the way back the packet's IPv4 source is one of our pool4 addresses, which no packet from
 * the IPv4 network can legitimately carry: that is how process4 recognises the second pass and
 * skips a second TTL decrement (isHairpinned4).
 */
import { Result } from '../core-api';
import type { Tuple } from '../translate/tuple';

/** The outgoing IPv4 destination of a 6->4 translation: the tuple's, or for an error its quoted source. */
export function handlingHairpinning(r: Result, t: Tuple, isError: boolean, isPool4Address: (a: number) => boolean): Result {
  if (r !== Result.EMIT4) return r;
  return willHairpin(t, isError, isPool4Address) ? Result.HAIRPIN : r;
}

/** Known from the outgoing tuple before translating: will the IPv4 packet be addressed to our pool4? */
export function willHairpin(t: Tuple, isError: boolean, isPool4Address: (a: number) => boolean): boolean {
  return isPool4Address(isError ? t.src4 : t.dst4);
}

/** Is this incoming IPv4 packet (source address src4) the second pass of a hairpinned one? */
export function isHairpinned4(src4: number, isPool4Address: (a: number) => boolean): boolean {
  return isPool4Address(src4);
}
