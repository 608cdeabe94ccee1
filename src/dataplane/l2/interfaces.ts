import { get32, put32 } from '../packet/bytes';

/**
 * The translator's ports as a shard sees them: MAC, MTU, interface addresses and routes, in a form
 * that crosses postMessage (plain data) and is compiled once per shard into typed arrays for the
 * per-packet route lookup.
 */
export interface PortRuntime {
  /** DPDK port id. */
  id: number;
  name: string;
  mac: Uint8Array;
  mtu: number;
  /** Interface addresses; `slot` marks a virtual one (its claim word in virtual-addresses.ts). */
  v4: Array<{ addr: number; len: number; slot?: number }>;
  v6: Array<{ addr: Uint8Array; len: number; slot?: number }>;
  routes4: Array<{ prefix: number; len: number; via: number }>;
  routes6: Array<{ prefix: Uint8Array; len: number; via: Uint8Array }>;
}

/** Big-endian 32-bit word `i` (0..3) of the IPv6 address at buf[off]. */
export function word6(buf: Uint8Array, off: number, i: number): number {
  return get32(buf, off + i * 4) | 0;
}

function mask4(len: number): number {
  return len === 0 ? 0 : (0xffffffff << (32 - len)) | 0;
}

function mask6Word(len: number, i: number): number {
  const bits = Math.max(0, Math.min(32, len - i * 32));
  return mask4(bits);
}

function bytesToWords(b: Uint8Array): number[] {
  return [0, 1, 2, 3].map((i) => word6(b, 0, i));
}

const R4 = 4; // prefix, mask, port index, via (0: on-link)
const R6 = 13; // p0..p3, m0..m3, port index, via0..via3 (all zero: on-link)

/**
 * Longest-prefix-match over connected prefixes and static routes. Few routes per port (a
 * translator has an IPv6 side and an IPv4 side), so a linear scan of a sorted table beats a trie.
 */
export class RouteTable {
  private readonly t4: Int32Array;
  private readonly t6: Int32Array;
  /** Lookup results, valid until the next lookup. */
  port = -1;
  nh4 = 0;
  readonly nh6 = new Int32Array(4);

  constructor(ports: PortRuntime[]) {
    const r4: Array<{ len: number; row: number[] }> = [];
    const r6: Array<{ len: number; row: number[] }> = [];
    ports.forEach((p, idx) => {
      for (const a of p.v4) r4.push({ len: a.len, row: [a.addr & mask4(a.len), mask4(a.len), idx, 0] });
      for (const r of p.routes4) r4.push({ len: r.len, row: [r.prefix & mask4(r.len), mask4(r.len), idx, r.via | 0] });
      const add6 = (prefix: Uint8Array, len: number, via: number[]) => {
        const w = bytesToWords(prefix);
        const m = [0, 1, 2, 3].map((i) => mask6Word(len, i));
        r6.push({ len, row: [...w.map((x, i) => x & m[i]), ...m, idx, ...via] });
      };
      for (const a of p.v6) add6(a.addr, a.len, [0, 0, 0, 0]);
      for (const r of p.routes6) add6(r.prefix, r.len, bytesToWords(r.via));
    });
    r4.sort((a, b) => b.len - a.len);
    r6.sort((a, b) => b.len - a.len);
    this.t4 = Int32Array.from(r4.flatMap((r) => r.row));
    this.t6 = Int32Array.from(r6.flatMap((r) => r.row));
  }

  /** Sets port/nh4 for an IPv4 destination; false when nothing matches. */
  lookup4(dst: number): boolean {
    const t = this.t4;
    for (let i = 0; i < t.length; i += R4) {
      if ((dst & t[i + 1]) === t[i]) {
        this.port = t[i + 2];
        this.nh4 = t[i + 3] !== 0 ? t[i + 3] : dst | 0;
        return true;
      }
    }
    return false;
  }

  /** Sets port/nh6 for the IPv6 destination at buf[off]; false when nothing matches. */
  lookup6(buf: Uint8Array, off: number): boolean {
    const t = this.t6;
    const d0 = word6(buf, off, 0), d1 = word6(buf, off, 1), d2 = word6(buf, off, 2), d3 = word6(buf, off, 3);
    for (let i = 0; i < t.length; i += R6) {
      if ((d0 & t[i + 4]) === t[i] && (d1 & t[i + 5]) === t[i + 1] &&
        (d2 & t[i + 6]) === t[i + 2] && (d3 & t[i + 7]) === t[i + 3]) {
        this.port = t[i + 8];
        const onLink = (t[i + 9] | t[i + 10] | t[i + 11] | t[i + 12]) === 0;
        const nh = this.nh6;
        if (onLink) { nh[0] = d0; nh[1] = d1; nh[2] = d2; nh[3] = d3; } else {
          nh[0] = t[i + 9]; nh[1] = t[i + 10]; nh[2] = t[i + 11]; nh[3] = t[i + 12];
        }
        return true;
      }
    }
    return false;
  }
}

/**
 * Our own interface addresses, for local delivery (ARP, ND, echo) on the fast path. A virtual
 * address (docs/ha.md) counts as ours only while its claim word is set: the backup of an
 * active/passive pair must stay silent about the addresses its peer holds.
 */
export class OwnAddresses {
  private readonly a4: Int32Array;   // addr, port index, claim slot (-1: fixed)
  private readonly a6: Int32Array;   // w0..w3, port index, claim slot (-1: fixed)

  /** `claimed`: one word per virtual address, non-zero while this node holds it (shared memory). */
  constructor(ports: PortRuntime[], private readonly claimed: Int32Array = new Int32Array(0)) {
    const r4: number[] = [];
    const r6: number[] = [];
    ports.forEach((p, idx) => {
      for (const a of p.v4) r4.push(a.addr | 0, idx, a.slot ?? -1);
      for (const a of p.v6) r6.push(...bytesToWords(a.addr), idx, a.slot ?? -1);
    });
    this.a4 = Int32Array.from(r4);
    this.a6 = Int32Array.from(r6);
  }

  /** Held: a fixed address, or a virtual one claimed now (read across threads, hence Atomics). */
  private held(slot: number): boolean {
    return slot < 0 || Atomics.load(this.claimed, slot) !== 0;
  }

  /** Port index owning the IPv4 address, or -1 (also for a virtual address we do not hold). */
  port4(addr: number): number {
    const t = this.a4;
    for (let i = 0; i < t.length; i += 3) if (t[i] === (addr | 0)) return this.held(t[i + 2]) ? t[i + 1] : -1;
    return -1;
  }

  /** Port index owning the IPv6 address at buf[off], or -1 (also for a virtual address we do not hold). */
  port6(buf: Uint8Array, off: number): number {
    const t = this.a6;
    for (let i = 0; i < t.length; i += 6) {
      if (t[i] === word6(buf, off, 0) && t[i + 1] === word6(buf, off, 1) &&
        t[i + 2] === word6(buf, off, 2) && t[i + 3] === word6(buf, off, 3)) return this.held(t[i + 5]) ? t[i + 4] : -1;
    }
    return -1;
  }

  /**
   * A virtual IPv4 address this node does not hold now? A pool4 address that is also virtual is
   * answered (ARP) only by the node holding it, so both members of a pair can share one pool4.
   */
  released4(addr: number): boolean {
    const t = this.a4;
    for (let i = 0; i < t.length; i += 3) if (t[i] === (addr | 0)) return !this.held(t[i + 2]);
    return false;
  }

  /** A virtual IPv6 address (at buf[off]) this node does not hold now? */
  released6(buf: Uint8Array, off: number): boolean {
    const t = this.a6;
    for (let i = 0; i < t.length; i += 6) {
      if (t[i] === word6(buf, off, 0) && t[i + 1] === word6(buf, off, 1) &&
        t[i + 2] === word6(buf, off, 2) && t[i + 3] === word6(buf, off, 3)) return !this.held(t[i + 5]);
    }
    return false;
  }

  /**
   * First IPv4 address of the port we hold (source of our ARP requests and ICMPv4 errors), 0 if
   * none: fixed addresses first, so that a backup never names its peer's address in an ARP request
   * (RFC 826's merge would move the neighbours' entry for it to us).
   */
  first4(portIdx: number): number {
    const t = this.a4;
    for (const virtual of [false, true]) {
      for (let i = 0; i < t.length; i += 3) {
        if (t[i + 1] === portIdx && (t[i + 2] >= 0) === virtual && this.held(t[i + 2])) return t[i] >>> 0;
      }
    }
    return 0;
  }

  /** Writes the port's first IPv6 address we hold (fixed ones first, as first4) at buf[off]; false if none. */
  first6(portIdx: number, buf: Uint8Array, off: number): boolean {
    const t = this.a6;
    for (const virtual of [false, true]) {
      for (let i = 0; i < t.length; i += 6) {
        if (t[i + 4] !== portIdx || (t[i + 5] >= 0) !== virtual || !this.held(t[i + 5])) continue;
        for (let w = 0; w < 4; w++) put32(buf, off + w * 4, t[i + w]);
        return true;
      }
    }
    return false;
  }

  /**
   * Every IPv4 interface address, virtual ones included (pool4 defaults to these, as Jool uses the
   * node's own addresses; in a pair the virtual address is the pool4 both share).
   */
  all4(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.a4.length; i += 3) out.push(this.a4[i] >>> 0);
    return out;
  }
}
