/**
 * Session synchronisation records (docs/session-sync.md): one fixed-size record per session event,
 * the same Int32 layout in the shard's sync ring (shard -> main thread), in the mailbox message that
 * applies a peer's records to a shard (main thread -> shard) and, byte-encoded, on the wire
 * (control/sync/wire.ts). A record carries the session AND its BIB entry, so a peer never learns one
 * without the other.
 *
 *   [SR_KIND]   kind | protocol << 8 | TCP state << 16
 *   [SR_V6..+3] IPv6 node's address, four big-endian words (the BIB entry's IPv6 side)
 *   [SR_PORTS]  IPv6 port (or ICMP identifier) << 16 | pool4 port (or identifier)
 *   [SR_V4]     pool4 address
 *   [SR_R4]     IPv4 node's address (the IPv6 remote is pool6 + this, RFC 6052)
 *   [SR_RPORT]  IPv4 node's port (ICMP: the pool4 identifier, as the session table stores it)
 *   [SR_TIME_HI/LO] ms since the epoch on this host's clock: when the shard wrote it (ring), when
 *               the peer sent the datagram (apply: control/sync/peers.ts toLocal); not on the wire
 *   [SR_AGE]    ms between the session's last use and that time (the peer's last use is TIME - AGE,
 *               so a record waiting for its shard does not look fresher than it is)
 */
export const enum SyncKind { UPSERT = 1, REMOVE = 2 }

export const SR_KIND = 0;
export const SR_V6 = 1;
export const SR_PORTS = 5;
export const SR_V4 = 6;
export const SR_R4 = 7;
export const SR_RPORT = 8;
export const SR_TIME_HI = 9;
export const SR_TIME_LO = 10;
export const SR_AGE = 11;
export const SR_STRIDE = 12;

export function recordKind(w: Int32Array, o: number): number { return w[o + SR_KIND] & 0xff; }
export function recordProto(w: Int32Array, o: number): number { return (w[o + SR_KIND] >>> 8) & 0xff; }
export function recordState(w: Int32Array, o: number): number { return (w[o + SR_KIND] >>> 16) & 0xff; }
export function recordTime(w: Int32Array, o: number): number {
  return w[o + SR_TIME_HI] * 4294967296 + (w[o + SR_TIME_LO] >>> 0);
}
