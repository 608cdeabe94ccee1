/** Independent checks on translated packets, and a comparison that names the bytes allowed to differ. */
import * as assert from 'node:assert/strict';
import { inetChecksum, PROTO } from './build';

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex').replace(/(.{8})/g, '$1 ');
}

/** Equal except at the listed byte offsets. */
export function assertSamePacket(actual: Uint8Array, expected: Uint8Array, allowDiff: number[] = []): void {
  const a = Uint8Array.from(actual);
  const e = Uint8Array.from(expected);
  for (const i of allowDiff) if (i < a.length && i < e.length) a[i] = e[i];
  assert.equal(hex(a), hex(e));
}

/** The IPv4 header checksum of the packet verifies. */
export function ipv4HeaderOk(p: Uint8Array): boolean {
  return inetChecksum(p.subarray(0, (p[0] & 15) * 4)) === 0;
}

/** The transport checksum of an unfragmented IPv4 packet verifies (0 for a checksum-less UDP). */
export function l4SumOk4(p: Uint8Array): boolean {
  const ihl = (p[0] & 15) * 4;
  const l4 = p.subarray(ihl);
  if (p[9] === PROTO.ICMP) return inetChecksum(l4) === 0;
  const pseudo = Uint8Array.from([...p.subarray(12, 20), 0, p[9], l4.length >> 8, l4.length & 0xff]);
  return inetChecksum(pseudo, l4) === 0;
}

/** The transport checksum of an IPv6 packet without extension headers verifies. */
export function l4SumOk6(p: Uint8Array): boolean {
  const l4 = p.subarray(40);
  const pseudo = Uint8Array.from([...p.subarray(8, 40), 0, 0, l4.length >> 8, l4.length & 0xff, 0, 0, 0, p[6]]);
  return inetChecksum(pseudo, l4) === 0;
}
