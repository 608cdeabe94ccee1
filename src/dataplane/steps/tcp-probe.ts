import { put16, put32 } from '../packet/bytes';
import { finish, sumAddr6, sumBytes, sumPseudoTail } from '../packet/checksum';
import { embed } from '../rfc6052';
import type { PacketSink } from '../translate/fragment';
import type { ShardTables } from '../tables/shard-tables';

/**
 * RFC 6146 §3.5.2.2, ESTABLISHED: when the session lifetime (tcp-est-timeout) expires, "the NAT64
 * SHOULD send a probe packet ... to at least one of the endpoints of the TCP connection. The probe
 * packet is a TCP segment for the connection with no data. The sequence number and acknowledgment
 * number are set to zero. All flags but the ACK flag are set to zero." A live endpoint answers
 * with an ACK carrying the right sequence numbers, which brings the session (meanwhile in TRANS)
 * back to ESTABLISHED; a dead one does not, and the session expires after tcp-trans-timeout.
 *
 * We probe the IPv6 endpoint: the packet is built directly as IPv6 (from the pool6 address of the
 * IPv4 peer), in a fresh buffer from the shard's sink. Control-rate work (at most one per expiring
 * session), so a full checksum.
 */
const IP6_HLEN = 40;
const TCP_HLEN = 20;
const TCP_ACK = 0x10;

/** Sends the probe for session s; false when no buffer was available. */
export function sendTcpProbe(tables: ShardTables, s: number, pool6: Uint8Array, pool6Len: number,
  sink: PacketSink, buf: Uint8Array): boolean {
  const off = sink.alloc();
  if (off < 0) return false;
  const sessions = tables.sessions, bibs = tables.bib;
  const b = sessions.bibOf(s);
  // IPv6 header: version 6, no traffic class or flow label, TCP, hop limit 64.
  put32(buf, off, 0x60000000);
  put16(buf, off + 4, TCP_HLEN);
  buf[off + 6] = 6;
  buf[off + 7] = 64;
  embed(pool6, pool6Len, sessions.remote4(s), buf, off + 8); // the IPv4 peer, as the node sees it
  bibs.copyAddr6(b, buf, off + 24);                            // the IPv6 node
  const t = off + IP6_HLEN;
  put16(buf, t, sessions.remotePort(s));
  put16(buf, t + 2, bibs.port6(b));
  put32(buf, t + 4, 0);          // sequence number 0
  put32(buf, t + 8, 0);          // acknowledgment number 0
  buf[t + 12] = (TCP_HLEN / 4) << 4;
  buf[t + 13] = TCP_ACK;
  put16(buf, t + 14, 0);         // window
  put16(buf, t + 16, 0);         // checksum, below
  put16(buf, t + 18, 0);         // urgent pointer
  const sum = sumAddr6(buf, off + 8) + sumAddr6(buf, off + 24) + sumPseudoTail(TCP_HLEN, 6) + sumBytes(buf, t, TCP_HLEN, 0);
  put16(buf, t + 16, finish(sum));
  sink.send(6, off, IP6_HLEN + TCP_HLEN);
  return true;
}
