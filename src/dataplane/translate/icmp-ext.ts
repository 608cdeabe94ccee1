/**
 * RFC 4884 ICMP extensions in translated ICMP errors (RFC 7915 §4.2 / §5.2).
 *
 * An ICMPv4 Destination Unreachable / Time Exceeded / Parameter Problem carries the length of its
 * "original datagram" field in octet 5, in 32-bit words; an ICMPv6 Destination Unreachable / Time
 * Exceeded in octet 4, in 64-bit words. When it is non-zero an ICMP Extension Structure (version 2
 * header with its own checksum, then objects) follows the zero-padded field, which holds at least
 * 128 octets. The translator re-pads the translated field to the new family's unit (and to 128),
 * writes the length in the new family's field and unit, and copies the structure unchanged.
 * In place, no allocation, no throw.
 */

/** RFC 4884 §4.1/§4.2: the minimum "original datagram" field when an extension follows. */
export const EXT_MIN_FIELD = 128;
/** RFC 4884 §7: the extension header is 4 octets, version 2 in the high nibble. */
const EXT_HDR = 4;
const EXT_VERSION = 2;
const ICMP_HDR = 8;

/**
 * Where the extension structure of the ICMP error at buf[icmp, end) starts, or -1 for "no
 * extension": a zero length attribute, or one inconsistent with the message (field shorter than
 * 128 octets, no room for the extension header after it, or not a version 2 header).
 * `words` is the length attribute, `unit` 4 (ICMPv4) or 8 (ICMPv6).
 */
export function extensionStart(buf: Uint8Array, icmp: number, end: number, words: number, unit: number): number {
  if (words === 0) return -1;
  const field = words * unit;
  if (field < EXT_MIN_FIELD) return -1;
  const ext = icmp + ICMP_HDR + field;
  if (ext + EXT_HDR > end) return -1;
  if (buf[ext] >>> 4 !== EXT_VERSION) return -1;
  return ext;
}

/**
 * Re-attaches the extension structure buf[ext, end) after the translated "original datagram"
 * (dataLen octets from icmp + 8) of the new ICMP message at buf[icmp]. The field is zero-padded to
 * `unit` and to 128 octets; if the message would exceed maxMsg octets (576 or 1280 minus the outer
 * header) the datagram is cut, on a unit boundary and not below 128 octets, so that the extension
 * still fits. Returns the field length in octets, or -1 when the extension cannot be kept (no room
 * even with 128 octets, or past `limit`, the end of the writable buffer): the caller then sends
 * the datagram alone with a zero length attribute.
 */
export function placeExtension(
  buf: Uint8Array, icmp: number, dataLen: number, ext: number, end: number, unit: number, maxMsg: number, limit: number,
): number {
  const extLen = end - ext;
  let field = dataLen + ((unit - (dataLen % unit)) % unit);
  if (field < EXT_MIN_FIELD) field = EXT_MIN_FIELD;
  const room = maxMsg - ICMP_HDR - extLen;
  if (field > room) field = room - (room % unit);
  if (field > 255 * unit) field = 255 * unit;
  if (field < EXT_MIN_FIELD) return -1;
  const to = icmp + ICMP_HDR + field;
  if (to + extLen > limit) return -1;
  buf.copyWithin(to, ext, end);
  if (dataLen < field) buf.fill(0, icmp + ICMP_HDR + dataLen, to);
  return field;
}
