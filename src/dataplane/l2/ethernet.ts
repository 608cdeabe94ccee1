/** Ethernet II framing (IEEE 802.3): the only L2 the translator speaks on its ports. */
export const ETH_HLEN = 14;
export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_IPV6 = 0x86dd;

/** Writes dst MAC (from `dst` at dstOff), our MAC and the ethertype in front of an L3 packet. */
export function writeEthernet(buf: Uint8Array, frame: number, dst: Uint8Array, dstOff: number,
  src: Uint8Array, type: number): void {
  for (let i = 0; i < 6; i++) buf[frame + i] = dst[dstOff + i];
  for (let i = 0; i < 6; i++) buf[frame + 6 + i] = src[i];
  buf[frame + 12] = type >>> 8;
  buf[frame + 13] = type & 0xff;
}

/** Unicast to `mac`, broadcast, or IPv6 multicast (33:33:...) — everything else is someone else's. */
export function isForUs(buf: Uint8Array, frame: number, mac: Uint8Array): boolean {
  if (buf[frame] === 0x33 && buf[frame + 1] === 0x33) return true;
  let bcast = true;
  let ours = true;
  for (let i = 0; i < 6; i++) {
    const b = buf[frame + i];
    if (b !== 0xff) bcast = false;
    if (b !== mac[i]) ours = false;
  }
  return ours || bcast;
}

export function formatMac(mac: ArrayLike<number>): string {
  return Array.from(mac, (b) => b.toString(16).padStart(2, '0')).join(':');
}

export function parseMac(text: string): Uint8Array | null {
  const m = /^([0-9a-f]{2})(?::([0-9a-f]{2})){5}$/i.exec(text);
  if (!m) return null;
  return Uint8Array.from(text.split(':').map((h) => parseInt(h, 16)));
}
