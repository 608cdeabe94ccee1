/**
 * The session-sync datagram (docs/session-sync.md "Wire format"). Big-endian, versioned, one UDP
 * datagram never fragmented by us (ss-max-payload bounds it):
 *
 *   0  magic "N6SY"         4  version (1)   5  type   6  flags   7  0
 *   8  sender id (8: the sender's start time in ms << 16 | 16 random bits; a restart is a new id)
 *   16 sequence (4)         20 send time, ms since the epoch (8)
 *   28 record count (2)     30 0 (2)
 *   32 target sender id (8): DUMP_REQUEST only (0: every peer); absent otherwise
 *   records: RECORD_BYTES each (below)
 *   HMAC-SHA256 of every byte before it (32), when flag MAC is set
 *
 * Record: kind, protocol, TCP state, 0; IPv6 address (16); IPv6 port, pool4 port; pool4 address;
 * IPv4 remote; IPv4 remote port (2); age in ms (4).
 *
 * decode() validates everything a hostile datagram could get wrong and never throws.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { SR_AGE, SR_KIND, SR_PORTS, SR_R4, SR_RPORT, SR_V4, SR_V6 } from '../../dataplane/sync/record';

export const MAGIC = 0x4e365359; // "N6SY"
export const VERSION = 1;
export const HEADER_BYTES = 32;
export const TARGET_BYTES = 8;
export const RECORD_BYTES = 38;
/** Where a record's age (u32, ms) sits in its bytes. */
export const AGE_OFFSET = 34;
export const MAC_BYTES = 32;
/** Largest datagram we ever build or accept (a UDP payload over IPv4 without fragmentation on a 9000-byte link). */
export const MAX_DATAGRAM = 8972;

export const enum MsgType { RECORDS = 1, DUMP_REQUEST = 2 }
export const FLAG_MAC = 1;
/** The sender lost records before this datagram (ring or queue full): the receiver should ask for a dump. */
export const FLAG_LOSS = 2;
/** Part of a dump answering a DUMP_REQUEST (its own sequence space, unicast to the requester). */
export const FLAG_DUMP = 4;
/** The last datagram of a dump (the receiver may ask again, for what a gap lost meanwhile). */
export const FLAG_DUMP_END = 8;

export interface Header {
  type: number;
  flags: number;
  /** Sender id as two 32-bit halves (exact, comparable). */
  idHi: number; idLo: number;
  seq: number;
  time: number;
  count: number;
  /** DUMP_REQUEST: the peer asked to answer (0/0: all). */
  targetHi: number; targetLo: number;
}

export function newSenderId(now = Date.now()): { hi: number; lo: number } {
  // 48 bits of start time, 16 random bits: a later start is a larger id (replays of an older run are refused).
  const rnd = Math.floor(Math.random() * 65536);
  return { hi: Math.floor(now / 65536) >>> 0, lo: (((now % 65536) << 16) | rnd) >>> 0 };
}

/** Records that fit a datagram of at most maxPayload bytes (at least 1), capped by maxRecords. */
export function recordsPerDatagram(maxPayload: number, maxRecords: number, mac: boolean): number {
  const room = Math.min(maxPayload, MAX_DATAGRAM) - HEADER_BYTES - (mac ? MAC_BYTES : 0);
  return Math.max(1, Math.min(maxRecords, Math.floor(room / RECORD_BYTES)));
}

export function writeHeader(b: Buffer, type: number, flags: number, id: { hi: number; lo: number }, seq: number, time: number, count: number): void {
  b.writeUInt32BE(MAGIC, 0);
  b[4] = VERSION; b[5] = type; b[6] = flags; b[7] = 0;
  b.writeUInt32BE(id.hi >>> 0, 8);
  b.writeUInt32BE(id.lo >>> 0, 12);
  b.writeUInt32BE(seq >>> 0, 16);
  b.writeUInt32BE(Math.floor(time / 4294967296) >>> 0, 20);
  b.writeUInt32BE(time >>> 0, 24);
  b.writeUInt16BE(count, 28);
  b.writeUInt16BE(0, 30);
}

/** Record words (record.ts layout) -> RECORD_BYTES at b[off]. */
export function encodeRecord(w: Int32Array, o: number, age: number, b: Buffer, off: number): void {
  const k = w[o + SR_KIND];
  b[off] = k & 0xff; b[off + 1] = (k >>> 8) & 0xff; b[off + 2] = (k >>> 16) & 0xff; b[off + 3] = 0;
  for (let i = 0; i < 4; i++) b.writeInt32BE(w[o + SR_V6 + i], off + 4 + 4 * i);
  b.writeInt32BE(w[o + SR_PORTS], off + 20);
  b.writeInt32BE(w[o + SR_V4], off + 24);
  b.writeInt32BE(w[o + SR_R4], off + 28);
  b.writeUInt16BE(w[o + SR_RPORT] & 0xffff, off + 32);
  b.writeUInt32BE(Math.min(Math.max(0, Math.floor(age)), 0xffffffff), off + AGE_OFFSET);
}

/** RECORD_BYTES at b[off] -> record words at w[o] (SR_AGE holds the age; the time words are 0). */
export function decodeRecord(b: Buffer, off: number, w: Int32Array, o: number): void {
  w[o + SR_KIND] = b[off] | (b[off + 1] << 8) | (b[off + 2] << 16);
  for (let i = 0; i < 4; i++) w[o + SR_V6 + i] = b.readInt32BE(off + 4 + 4 * i);
  w[o + SR_PORTS] = b.readInt32BE(off + 20);
  w[o + SR_V4] = b.readInt32BE(off + 24);
  w[o + SR_R4] = b.readInt32BE(off + 28);
  w[o + SR_RPORT] = b.readUInt16BE(off + 32);
  w[o + SR_AGE] = Math.min(b.readUInt32BE(off + AGE_OFFSET), 0x7fffffff);
  w[o + 9] = 0; w[o + 10] = 0;
}

/** Append the MAC over b[0..len) at b[len]; returns the new length. */
export function sign(b: Buffer, len: number, key: Buffer): number {
  createHmac('sha256', key).update(b.subarray(0, len)).digest().copy(b, len);
  return len + MAC_BYTES;
}

export type DecodeError = 'short' | 'magic' | 'version' | 'type' | 'length' | 'mac-missing' | 'mac-bad';

/**
 * Check a received datagram: header, length for its type and count, and (with a key) the MAC.
 * Returns the header, or the reason it is refused. Records start at recordOffset(header).
 */
export function decodeHeader(b: Buffer, key: Buffer | null): Header | DecodeError {
  if (b.length < HEADER_BYTES) return 'short';
  if (b.readUInt32BE(0) !== MAGIC) return 'magic';
  if (b[4] !== VERSION) return 'version';
  const type = b[5], flags = b[6];
  if (type !== MsgType.RECORDS && type !== MsgType.DUMP_REQUEST) return 'type';
  if (b[7] !== 0 || (flags & ~(FLAG_MAC | FLAG_LOSS | FLAG_DUMP | FLAG_DUMP_END)) !== 0) return 'type';
  const count = b.readUInt16BE(28);
  const hasMac = (flags & FLAG_MAC) !== 0;
  const body = type === MsgType.DUMP_REQUEST ? TARGET_BYTES : count * RECORD_BYTES;
  if ((type === MsgType.DUMP_REQUEST && count !== 0) || b.length !== HEADER_BYTES + body + (hasMac ? MAC_BYTES : 0)) return 'length';
  if (key !== null) {
    if (!hasMac) return 'mac-missing';
    const want = createHmac('sha256', key).update(b.subarray(0, b.length - MAC_BYTES)).digest();
    if (!timingSafeEqual(want, b.subarray(b.length - MAC_BYTES))) return 'mac-bad';
  }
  const time = b.readUInt32BE(20) * 4294967296 + b.readUInt32BE(24);
  return {
    type, flags, idHi: b.readUInt32BE(8), idLo: b.readUInt32BE(12), seq: b.readUInt32BE(16), time, count,
    targetHi: type === MsgType.DUMP_REQUEST ? b.readUInt32BE(HEADER_BYTES) : 0,
    targetLo: type === MsgType.DUMP_REQUEST ? b.readUInt32BE(HEADER_BYTES + 4) : 0,
  };
}

export const RECORDS_OFFSET = HEADER_BYTES;

/** Compare two sender ids: <0, 0, >0. */
export function compareId(aHi: number, aLo: number, bHi: number, bLo: number): number {
  return aHi !== bHi ? aHi - bHi : aLo - bLo;
}
