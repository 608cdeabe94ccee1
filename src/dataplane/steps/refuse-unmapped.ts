/**
 * Issue 11: the first packet of a never-seen 5-tuple while pool4 is exhausted, refused before the
 * full path. A flood of new 5-tuples against a full pool4 (RFC 6146 §3.5.1.1: no BIB entry, no
 * free transport address: "the packet is discarded", ICMPv6 Address Unreachable) made every packet
 * parse again, walk determine-incoming-tuple and filtering and build its refusal: ~2x a
 * translation once the BIB lookup was gone (bench/PROFILE.md). Here the shard, after its own
 * checks (not our address, in pool6, this shard's flow), decides from the few bytes that matter,
 * with exactly the full path's outcome: the same counters, the same verdict (dropped), and the
 * flow remembered as refused.
 *
 * Only when nothing else about the packet could change that outcome; otherwise false and the full
 * path decides (nothing counted here):
 *   - the error would be answered (the shard's ICMP error bucket has a token): the full path builds it;
 *   - parse6 would drop it (packet/parse.ts plainTcpUdp6): transport header truncated, UDP checksum zero;
 *   - a TCP packet without SYN (tcp-syn-needed, remembered on its own: flow-cache.ts filtered6);
 *   - its error would be suppressed, not rate-limited (RFC 4443 §2.4(e): multicast or unspecified source);
 *   - pool6-strict refuses its destination (RFC 6052 §3.1);
 *   - pool4 has a free port for it, or its source may hold a mapping (filtering-and-updating.ts knownUnmapped).
 * The caller guarantees a plain IPv6 TCP/UDP packet (next header TCP or UDP, payload within the frame).
 */
import { C } from '../counters';
import { get32 } from '../packet/bytes';
import { isMulticastOrUnspecified6 } from '../packet/ipv6';
import { plainTcpUdp4, plainTcpUdp6 } from '../packet/parse';
import { extract, wkpForbids } from '../rfc6052';
import { icmpErrorBucket } from '../translate/icmp-rate-limit';
import { TCP_RST, TCP_SYN } from '../tables/tcp-state';
import { PROTO_TCP } from './determine-incoming-tuple';
import type { FilteringAndUpdating } from './filtering-and-updating';

const K_RATE_LIMITED = C['icmp-error-rate-limited'];

/** The IPv6 packet at buf[ip] with `payload` bytes after its 40-byte header: refused and counted? */
export function refuseUnmapped6(buf: Uint8Array, ip: number, payload: number, pool6: Uint8Array, pool6Len: number,
  pool6Strict: boolean, filtering: FilteringAndUpdating, counters: Float64Array, now: number): boolean {
  if (icmpErrorBucket.ready()) return false;
  if (!plainTcpUdp6(buf, ip, 40 + payload)) return false;
  const proto = buf[ip + 6], l4 = ip + 40;
  if (proto === PROTO_TCP && (buf[l4 + 13] & (TCP_SYN | TCP_RST)) !== TCP_SYN) return false;
  if (isMulticastOrUnspecified6(buf, ip + 8)) return false;
  if (pool6Strict && wkpForbids(pool6, pool6Len, extract(buf, ip + 24, pool6Len))) return false;
  if (!filtering.refuseUnmapped6(proto, buf, ip + 8, (buf[l4] << 8) | buf[l4 + 1], now)) return false;
  // The full path's answer (or the subscriber's paced one), with no token: icmp-error-rate-limited.
  if (filtering.addressUnreachable) counters[K_RATE_LIMITED]++;
  return true;
}

/**
 * The same on the IPv4 side: a TCP/UDP packet (option-less header, not a fragment, within the
 * frame: the caller's checks) to a pool4 transport address no BIB entry holds, a scan's or a late
 * reply's, refused as filter4 refuses it (bib4-not-found; tcp-v4-syn-dropped for a SYN under
 * drop-externally-initiated-tcp) without parsing again. Not when parse4 would drop it (plainTcpUdp4:
 * a fragment, transport header truncated, header checksum wrong), when the refusal is answered (icmp-admin-prohibited:
 * the full path), or for a SYN that is to be stored. Returns the refusal's counter, or -1 (nothing
 * counted: the full path decides).
 */
export function refuseUnmapped4(buf: Uint8Array, ip: number, total: number, answered: boolean,
  filtering: FilteringAndUpdating): number {
  if (answered || !plainTcpUdp4(buf, ip, total)) return -1;
  const proto = buf[ip + 9], l4 = ip + 20;
  if (!filtering.refuseUnmapped4(proto, get32(buf, ip + 16), (buf[l4 + 2] << 8) | buf[l4 + 3], proto === PROTO_TCP ? buf[l4 + 13] : 0)) return -1;
  return filtering.refusal;
}
