/**
 * ICMP errors the translator originates (Time Exceeded, Port/Address Unreachable, Parameter
 * Problem): the offending packet stays where it is and new IP + ICMP headers are written in front
 * of it, in the headroom (48 bytes for IPv6, 28 for IPv4), so nothing is copied.
 */
import { C } from '../counters';
import { Result, type OutSpan } from '../core-api';
import { get32, put16, put32, copy16 } from '../packet/bytes';
import { finish, sumAddr6, sumBytes, sumPseudoTail } from '../packet/checksum';
import { IPPROTO_ICMP, IPV4_HDR_LEN, IPV4_ICMP_ERROR_MAX, isMulticastOrBroadcast4, writeIpv4Header } from '../packet/ipv4';
import { IPPROTO_ICMPV6, IPV6_HDR_LEN, IPV6_MIN_MTU, isMulticastOrUnspecified6, writeIpv6Fixed } from '../packet/ipv6';
import { isErrorOrLaterFragment4, isErrorOrLaterFragment6 } from '../packet/parse';
import type { Self } from './tuple';
import { icmpErrorBucket } from './icmp-rate-limit';

const K_SUPPRESSED = C['icmp-error-suppressed'];
/** RFC 4443 §2.4(f): over the shard's rate, the error is not built (icmp-rate-limit.ts). */
const K_RATE_LIMITED = C['icmp-error-rate-limited'];
const K_SENT = C['icmp-error-sent'];
const ICMP_HDR = 8;
/** Hop limit / TTL of the errors we originate (RFC 1700's recommended 64). */
const OWN_HOP_LIMIT = 64;
/** ICMPv6 Packet Too Big and Parameter Problem code 2 may answer a multicast (RFC 4443 §2.4(e.3)). */
const ICMP6_PTB = 2;
const ICMP6_PARAM_PROB = 4;

/**
 * Wraps the IPv6 packet buf[off, off+len) in an ICMPv6 error (RFC 4443) from self.ipv6 back to its
 * source; `param` is the 32-bit MTU or pointer word. Counts icmp-error-sent; DROP + icmp-error-suppressed
 * when RFC 4443 §2.4(e) forbids an answer.
 */
export function buildIcmp6Error(
  buf: Uint8Array, off: number, len: number, type: number, code: number, param: number,
  self: Self, out: OutSpan, counters: Float64Array,
): Result {
  const dstMulticast = buf[off + 24] === 0xff && !(type === ICMP6_PTB || (type === ICMP6_PARAM_PROB && code === 2));
  if (len < IPV6_HDR_LEN || isMulticastOrUnspecified6(buf, off + 8) || dstMulticast ||
      isErrorOrLaterFragment6(buf, off, len)) {
    counters[K_SUPPRESSED]++;
    return Result.DROP;
  }
  // Rate limit last: a suppressed error must not spend a token.
  if (!icmpErrorBucket.take()) {
    counters[K_RATE_LIMITED]++;
    return Result.DROP;
  }
  // RFC 4443 §2.4(c): as much of the offending packet as fits in the minimum MTU.
  const quoted = len < IPV6_MIN_MTU - IPV6_HDR_LEN - ICMP_HDR ? len : IPV6_MIN_MTU - IPV6_HDR_LEN - ICMP_HDR;
  const o = off - IPV6_HDR_LEN - ICMP_HDR;
  const icmp = off - ICMP_HDR;
  const plen = ICMP_HDR + quoted;
  writeIpv6Fixed(buf, o, 0, plen, IPPROTO_ICMPV6, OWN_HOP_LIMIT);
  copy16(buf, o + 8, self.ipv6, 0);
  copy16(buf, o + 24, buf, off + 8);
  buf[icmp] = type;
  buf[icmp + 1] = code;
  put16(buf, icmp + 2, 0);
  put32(buf, icmp + 4, param);
  const acc = sumAddr6(buf, o + 8) + sumAddr6(buf, o + 24) + sumPseudoTail(plen, IPPROTO_ICMPV6);
  put16(buf, icmp + 2, finish(sumBytes(buf, icmp, plen, acc)));
  out.off = o;
  out.len = IPV6_HDR_LEN + plen;
  counters[K_SENT]++;
  return Result.EMIT6;
}

/**
 * Wraps the IPv4 packet buf[off, off+len) in an ICMPv4 error from self.ipv4 back to its source;
 * `param` is the second 32-bit word (pointer << 24, or the next-hop MTU). RFC 1812 §4.3.2.7 decides
 * when not to answer.
 */
export function buildIcmp4Error(
  buf: Uint8Array, off: number, len: number, type: number, code: number, param: number,
  self: Self, out: OutSpan, counters: Float64Array,
): Result {
  const src = len >= IPV4_HDR_LEN ? get32(buf, off + 12) : 0;
  const dst = len >= IPV4_HDR_LEN ? get32(buf, off + 16) : 0;
  if (isMulticastOrBroadcast4(src) || isMulticastOrBroadcast4(dst) || (src >>> 24) === 127 ||
      isErrorOrLaterFragment4(buf, off, len)) {
    counters[K_SUPPRESSED]++;
    return Result.DROP;
  }
  if (!icmpErrorBucket.take()) {
    counters[K_RATE_LIMITED]++;
    return Result.DROP;
  }
  const max = IPV4_ICMP_ERROR_MAX - IPV4_HDR_LEN - ICMP_HDR;
  const quoted = len < max ? len : max;
  const o = off - IPV4_HDR_LEN - ICMP_HDR;
  const icmp = off - ICMP_HDR;
  buf[icmp] = type;
  buf[icmp + 1] = code;
  put16(buf, icmp + 2, 0);
  put32(buf, icmp + 4, param);
  put16(buf, icmp + 2, finish(sumBytes(buf, icmp, ICMP_HDR + quoted, 0)));
  const id = self.nextId;
  self.nextId = (id + 1) & 0xffff;
  writeIpv4Header(buf, o, 0, IPV4_HDR_LEN + ICMP_HDR + quoted, id, 0, OWN_HOP_LIMIT, IPPROTO_ICMP, self.ipv4, src);
  out.off = o;
  out.len = IPV4_HDR_LEN + ICMP_HDR + quoted;
  counters[K_SENT]++;
  return Result.EMIT4;
}
