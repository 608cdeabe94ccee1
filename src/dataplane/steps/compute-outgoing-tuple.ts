/**
 * RFC 6146 §3.6 Computation of the Outgoing Tuple: from the session (and its BIB entry) the
 * addresses and ports the translated packet will carry. For an ICMP error the tuple describes
 * the quoted packet after translation (the xlat layer derives the outer header from it, see
 * translate/tuple.ts); the quoted packet travels in the opposite direction of the error.
 */
import { embed } from '../rfc6052';
import type { Tuple } from '../translate/tuple';
import type { ShardTables } from '../tables/shard-tables';
import type { IncomingTuple } from './determine-incoming-tuple';

/** IPv6 -> IPv4: source = the BIB's IPv4 transport address, destination = the session's remote (§3.6.1). */
export function outgoing6to4(tables: ShardTables, s: number, t: IncomingTuple, out: Tuple): void {
  const bibs = tables.bib, sessions = tables.sessions;
  const bib = sessions.bibOf(s);
  const local4 = bibs.addr4(bib), localPort = bibs.port4(bib);
  const remote4 = sessions.remote4(s), remotePort = sessions.remotePort(s);
  out.proto = t.proto;
  if (!t.isError) {
    out.src4 = local4; out.srcPort = localPort;
    out.dst4 = remote4; out.dstPort = remotePort;
  } else {
    // The quoted packet went remote -> local (IPv4 view).
    out.src4 = remote4; out.srcPort = remotePort;
    out.dst4 = local4; out.dstPort = localPort;
  }
}

/** IPv4 -> IPv6: source = pool6 + remote IPv4 (RFC 6052), destination = the BIB's IPv6 transport address (§3.6.2). */
export function outgoing4to6(tables: ShardTables, s: number, t: IncomingTuple, pool6: Uint8Array, pool6Len: number,
  out: Tuple): void {
  const bibs = tables.bib, sessions = tables.sessions;
  const bib = sessions.bibOf(s);
  const remote4 = sessions.remote4(s);
  const port6 = bibs.port6(bib);
  // ICMP: the identifier on the IPv6 side is the BIB's IPv6 one (§3.6.2, 3-tuple).
  const remotePort = t.proto === 1 ? port6 : sessions.remotePort(s);
  out.proto = t.proto;
  if (!t.isError) {
    embed(pool6, pool6Len, remote4, out.src6, 0); out.srcPort = remotePort;
    bibs.copyAddr6(bib, out.dst6, 0); out.dstPort = port6;
  } else {
    // The quoted packet went IPv6 node -> remote.
    bibs.copyAddr6(bib, out.src6, 0); out.srcPort = port6;
    embed(pool6, pool6Len, remote4, out.dst6, 0); out.dstPort = remotePort;
  }
  out.src4 = t.local4;
  out.dst4 = remote4;
}
