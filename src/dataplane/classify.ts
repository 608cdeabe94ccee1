/**
 * Owner shard of a packet (DESIGN.md "Sharding"): both directions of a flow must meet in the
 * shard that holds its BIB entry and session.
 *
 *  - IPv6 -> IPv4: hash(IPv6 source address, source port or ICMP id, protocol) % shards, unless a
 *    static BIB entry names that IPv6 transport address: then the shard of its IPv4 port.
 *  - IPv4 -> IPv6: (destination port or ICMP id) % shards: every shard allocates only the pool4
 *    ports p with p % shards === shard (tables/pool4.ts), static entries included.
 *  - ICMP errors (RFC 6146 §3.4, the tuple of an error is the quoted packet's): the quoted packet
 *    is one the NAT64 sent the other way. ICMPv6 error: it went pool6 -> IPv6 node, so the IPv6
 *    node's transport address is its DESTINATION (address, port/id). ICMPv4 error: it went
 *    pool4 -> IPv4 node, so the pool4 port/id is its SOURCE port.
 *
 * Parsing reuses packet/parse.ts with a scratch counter array: a packet that does not parse goes
 * to this shard, which parses it again and counts the reason once.
 */
import { COUNTER_COUNT } from './counters';
import { Parsed, parse4, parse6, plainTcpUdp6 } from './packet/parse';
import type { StaticBibEntry } from './core-config';
import { finish, hashAddr6, mix, modU32, word } from './tables/hash';
import type { RedirectIndex } from './sync/redirect';

const ICMP6 = 58;
/** Words per static index slot: proto+1 (0 = empty), 4 address words, port, owner shard. */
const SLOT = 7;

export function protoNumber(name: 'TCP' | 'UDP' | 'ICMP'): number {
  return name === 'TCP' ? 6 : name === 'UDP' ? 17 : 1;
}

/** Shard of an IPv6 transport address without a static entry. Same value in every worker. */
export function hashOwner6(proto: number, a6: Uint8Array, o6: number, port: number, shards: number): number {
  return modU32(finish(mix(hashAddr6(proto, a6, o6), port)), shards);
}

export class Classifier {
  private readonly p = new Parsed();
  private readonly scratch = new Float64Array(COUNTER_COUNT);
  /** Open addressing (linear probing) over (proto, IPv6 address, port) -> shard; rebuilt by setStatic. */
  private index = new Int32Array(0);
  private mask = -1;
  /** Owners of IPv6 transport addresses whose mappings came from a peer (sync/redirect.ts), or null. */
  redirect: RedirectIndex | null = null;

  constructor(private readonly shard: number, private readonly shards: number) {}

  /** Control path: the static BIB of the whole instance (every shard's entries). */
  setStatic(bib: readonly StaticBibEntry[]): void {
    if (bib.length === 0) { this.index = new Int32Array(0); this.mask = -1; return; }
    let size = 4;
    while (size < bib.length * 2) size *= 2;
    const idx = new Int32Array(size * SLOT);
    this.index = idx;
    this.mask = size - 1;
    for (const e of bib) {
      const proto = protoNumber(e.protocol);
      let i = hashOwner6(proto, e.ipv6, 0, e.ipv6Port, 0x7fffffff) & this.mask;
      while (idx[i * SLOT] !== 0 && !this.slotIs(i, proto, e.ipv6, 0, e.ipv6Port)) i = (i + 1) & this.mask;
      const p = i * SLOT;
      idx[p] = proto + 1;
      for (let k = 0; k < 4; k++) idx[p + 1 + k] = word(e.ipv6, 4 * k);
      idx[p + 5] = e.ipv6Port;
      idx[p + 6] = e.ipv4Port % this.shards;
    }
  }

  /** Shard of the static entry for this IPv6 transport address, or -1. */
  staticOwner6(proto: number, a6: Uint8Array, o6: number, port: number): number {
    if (this.mask < 0) return -1;
    let i = hashOwner6(proto, a6, o6, port, 0x7fffffff) & this.mask;
    for (;;) {
      if (this.index[i * SLOT] === 0) return -1;
      if (this.slotIs(i, proto, a6, o6, port)) return this.index[i * SLOT + 6];
      i = (i + 1) & this.mask;
    }
  }

  ownerOf6(buf: Uint8Array, off: number, len: number): number {
    if (this.shards === 1) return 0;
    // A plain TCP/UDP packet (every new flow of a flood, most of the full path's packets): its key
    // sits at fixed offsets, and parse6 below would accept it (plainTcpUdp6) and find the same key.
    // It parsed every packet in full: ~19 % of a 2-shard shard refusing new 5-tuples (issue 11).
    if (plainTcpUdp6(buf, off, len)) return this.owner6(buf[off + 6], buf, off + 8, (buf[off + 40] << 8) | buf[off + 41]);
    const p = this.p;
    if (!parse6(buf, off, len, p, this.scratch)) return this.shard;
    const q = p.isIcmpError ? p.inner : p;
    const proto = q.proto === ICMP6 ? 1 : q.proto;
    return this.owner6(proto, buf, p.isIcmpError ? q.dst : q.src, p.isIcmpError ? q.dstPort : q.srcPort);
  }

  /** The shard of IPv6 transport address (proto, address at buf[a..], port): static, redirected or hashed. */
  private owner6(proto: number, buf: Uint8Array, a: number, port: number): number {
    const s = this.staticOwner6(proto, buf, a, port);
    if (s >= 0) return s;
    if (this.redirect !== null) {
      const r = this.redirect.owner(proto, buf, a, port);
      if (r >= 0 && r < this.shards) return r;
    }
    return hashOwner6(proto, buf, a, port, this.shards);
  }

  ownerOf4(buf: Uint8Array, off: number, len: number): number {
    if (this.shards === 1) return 0;
    const p = this.p;
    if (!parse4(buf, off, len, p, this.scratch)) return this.shard;
    return (p.isIcmpError ? p.inner.srcPort : p.dstPort) % this.shards;
  }

  private slotIs(i: number, proto: number, a6: Uint8Array, o6: number, port: number): boolean {
    const x = this.index, p = i * SLOT;
    return x[p] === proto + 1 && x[p + 5] === port && x[p + 1] === word(a6, o6) && x[p + 2] === word(a6, o6 + 4)
      && x[p + 3] === word(a6, o6 + 8) && x[p + 4] === word(a6, o6 + 12);
  }
}
