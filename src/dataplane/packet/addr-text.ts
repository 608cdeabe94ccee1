/** Text forms of addresses, for the control path and tests (never per packet). */

/** "2001:db8::1" (RFC 4291 §2.2, including the dotted-quad tail) -> 16 bytes, or null. */
export function parseIpv6Text(text: string): Uint8Array | null {
  let s = text;
  const lastColon = s.lastIndexOf(':');
  if (s.indexOf('.', lastColon) > 0) {
    // Dotted-quad tail ("::ffff:192.0.2.1"): rewrite it as two hex groups.
    const v4 = parseIpv4Text(s.slice(lastColon + 1));
    if (v4 === null) return null;
    s = `${s.slice(0, lastColon + 1)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const words = (h: string): number[] | null => {
    if (h === '') return [];
    const out: number[] = [];
    for (const g of h.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const head = words(halves[0]);
  const rest = halves.length === 2 ? words(halves[1]) : [];
  if (head === null || rest === null) return null;
  const given = head.length + rest.length;
  if (halves.length === 1 ? given !== 8 : given > 7) return null;
  const all = [...head, ...new Array<number>(8 - given).fill(0), ...rest];
  const out = new Uint8Array(16);
  all.forEach((w, i) => { out[2 * i] = w >>> 8; out[2 * i + 1] = w & 0xff; });
  return out;
}

/** "192.0.2.1" -> u32, or null. */
export function parseIpv4Text(text: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (m === null) return null;
  let v = 0;
  for (let i = 1; i <= 4; i++) {
    const b = Number(m[i]);
    if (b > 255) return null;
    v = v * 256 + b;
  }
  return v;
}

export function formatIpv4(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 0xff}.${(a >>> 8) & 0xff}.${a & 0xff}`;
}
