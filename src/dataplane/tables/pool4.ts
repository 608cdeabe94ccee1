import type { Pool4Range } from '../core-config';
import { H_POOL4_CURSOR, NIL } from './layout';
import { finish, hashAddr6, mix } from './hash';
import type { Bib, BibOccupancy } from './bib';

/** Jool's default port range when pool4 is empty for a protocol (the port's own addresses are used). */
export const DEFAULT_PORT_MIN = 61001;
export const DEFAULT_PORT_MAX = 65535;
/** Jool's f-args bits: which fields feed the port-allocation hash F (RFC 6056 algorithm 3). */
export const FARG_SRC_ADDR = 8;
export const FARG_SRC_PORT = 4;
export const FARG_DST_ADDR = 2;
export const FARG_DST_PORT = 1;
/** Bounded work per allocation: candidates tried with the preferred range/parity, then in all. */
const PREFERRED_PROBES = 64;
const MAX_PROBES = 4096;
const PAIRING_SEED = 0x70a14;

/** Protocol number -> slot of per-protocol arrays (TCP 0, UDP 1, ICMP 2); -1 otherwise. */
export function protoSlot(proto: number): number {
  return proto === 6 ? 0 : proto === 17 ? 1 : proto === 1 ? 2 : -1;
}

/** Sub-slices of an address: every port, the well-known ones (< 1024), the others (RFC 6146 §3.5.1.1). */
const ALL = 0;
const LOW = 1;
const HIGH = 2;

/** One protocol's pool4, restricted to this shard's ports (p % shards === shard). */
class Slice {
  /** Distinct addresses, ascending: the same list, in the same order, in every shard. */
  readonly addrs: number[];
  /** [sub-slice][address]: [first port of the shard in a range, number of shard ports] per range. */
  readonly ranges: number[][][];
  readonly total: number[][];
  readonly all: Pool4Range[];
  /**
   * Candidates one allocation may try (Jool's max-iterations; the largest of the ranges', which
   * all belong to one set unless marks differ): Infinity for "infinity", -1 when no range says
   * (then at most MAX_PROBES per address, as before max-iterations was honoured).
   */
  readonly budget: number;

  constructor(src: Pool4Range[], shard: number, shards: number) {
    this.all = src;
    let budget = -1;
    for (const r of src) {
      if (r.maxIterations === undefined) continue;
      budget = r.maxIterations === 0 ? Infinity : Math.max(budget, r.maxIterations);
      if (budget === Infinity) break;
    }
    this.budget = budget;
    this.addrs = [...new Set(src.map((r) => r.address >>> 0))].sort((a, b) => a - b);
    this.ranges = [0, 1, 2].map(() => this.addrs.map(() => []));
    this.total = [0, 1, 2].map(() => this.addrs.map(() => 0));
    for (const r of src) {
      const a = this.addrs.indexOf(r.address >>> 0);
      this.add(ALL, a, r.portMin, r.portMax, shard, shards);
      this.add(LOW, a, r.portMin, Math.min(r.portMax, 1023), shard, shards);
      this.add(HIGH, a, Math.max(r.portMin, 1024), r.portMax, shard, shards);
    }
  }

  private add(sub: number, a: number, min: number, max: number, shard: number, shards: number): void {
    const first = min + ((shard - (min % shards)) % shards + shards) % shards;
    const n = first > max ? 0 : Math.floor((max - first) / shards) + 1;
    if (n === 0) return;
    this.ranges[sub][a].push(first, n);
    this.total[sub][a] += n;
  }

  /** Candidates of k's range from k on (k's port, k+1's, ... up to the range's last). */
  leftInRange(sub: number, a: number, k: number): number {
    const rs = this.ranges[sub][a];
    for (let j = 0; j < rs.length; j += 2) {
      if (k < rs[j + 1]) return rs[j + 1] - k;
      k -= rs[j + 1];
    }
    return 0;
  }

  /** k-th port (0 <= k < total[sub][a]) of address a's sub-slice. */
  portAt(sub: number, a: number, k: number, shards: number): number {
    const rs = this.ranges[sub][a];
    for (let j = 0; j < rs.length; j += 2) {
      if (k < rs[j + 1]) return rs[j] + k * shards;
      k -= rs[j + 1];
    }
    return -1;
  }
}

/**
 * pool4 of one shard (RFC 6146 §3.5.1.1). Derived from the configuration (rebuilt by
 * configure()); the only mutable state, the allocation cursors, lives in the shared header so a
 * restarted worker continues the same sequence.
 */
export class Pool4 implements BibOccupancy {
  private readonly slices: Slice[];
  /**
   * Per protocol slot: standby ranges. Ours for translation (their addresses are in `addresses`,
   * contains() is true, so session sync applies into them and sessions there translate) but never
   * allocated from: a peer owns them while it lives, this translator backs it up.
   */
  private readonly standby: Pool4Range[][];
  private readonly addresses: Set<number>;
  /**
   * Per protocol slot, per address of its slice (in `addrs` order), 65536 bits: port in use by a
   * BIB entry. Valid while this pool4 is the BIB's occupancy (track()); allocate() then tests a
   * bit per candidate port instead of looking the BIB up (a hash bucket and a record: two cache
   * misses at a large BIB). 8 KiB per address and protocol.
   */
  private readonly used: Int32Array[];
  /**
   * Per protocol slot, per address, 64 words: bit w is set when every port of this shard's slice
   * in `used` word w is taken. A refusal over a crowded pool passes 1 024 taken ports per summary
   * word instead of testing them one by one (allocate: takenRun).
   */
  private readonly full: Int32Array[];
  /** [b]: bits b, b + shards, b + 2 x shards, ... of a 32-bit word (a slice's ports from bit b on). */
  private readonly strideMask = new Int32Array(32);
  /**
   * Per protocol slot, per address: ports of this shard's slice not used by a BIB entry. An
   * exhausted address is skipped without probing (a flood of new flows against a full pool4 must
   * cost O(1) each, not thousands of probes, or it starves the flows that already have mappings).
   */
  private readonly free: Int32Array[];
  /** Per protocol slot: the sum of `free` over its addresses. */
  private readonly freeTotal = new Int32Array(3);
  /** Per protocol slot: the slice's addresses as int32, ascending as unsigned (binary search). */
  private readonly addrIndex: Uint32Array[];
  private tracking: Bib | null = null;
  /** Candidate steps allocate() took (diagnostics and tests: the cost of a refusal). */
  probes = 0;
  /** Result of allocate(): the chosen IPv4 transport address. */
  addr = 0;
  port = 0;

  constructor(pools: { TCP: Pool4Range[]; UDP: Pool4Range[]; ICMP: Pool4Range[] }, ownIpv4: number[],
    private readonly shard: number, private readonly shards: number, private readonly header: Int32Array) {
    const fallback = ownIpv4.map((address) => ({ address, portMin: DEFAULT_PORT_MIN, portMax: DEFAULT_PORT_MAX, mark: 0 }));
    const byProto = [pools.TCP, pools.UDP, pools.ICMP];
    // Standby ranges (a peer's partition, docs/ha.md) are kept out of the allocating slices: only
    // the protocol's own ranges are given to new mappings; with none, the port addresses as before.
    const pick = (p: Pool4Range[]) => { const own = p.filter((r) => r.standby !== true); return own.length > 0 ? own : fallback; };
    this.slices = byProto.map((p) => new Slice(pick(p), shard, shards));
    this.standby = byProto.map((p) => p.filter((r) => r.standby === true));
    this.addresses = new Set([...this.slices.flatMap((s) => s.addrs), ...this.standby.flatMap((p) => p.map((r) => r.address >>> 0))]);
    this.used = this.slices.map((s) => new Int32Array(s.addrs.length * 2048));
    this.full = this.slices.map((s) => new Int32Array(s.addrs.length * 64));
    for (let b = 0; b < 32; b++) for (let x = b; x < 32; x += shards) this.strideMask[b] |= 1 << x;
    this.free = this.slices.map((s) => Int32Array.from(s.total[ALL]));
    this.free.forEach((f, slot) => { this.freeTotal[slot] = f.reduce((x, y) => x + y, 0); });
    this.addrIndex = this.slices.map((s) => Uint32Array.from(s.addrs));
  }

  /**
   * Control path (configure()): from now on `bib` tells this pool4 of every entry it adds or
   * removes; the bitmap starts from the entries already there.
   */
  track(bib: Bib): void {
    for (const u of this.used) u.fill(0);
    for (const f of this.full) f.fill(0);
    this.slices.forEach((sl, slot) => this.free[slot].set(sl.total[ALL]));
    this.free.forEach((f, slot) => { this.freeTotal[slot] = f.reduce((x, y) => x + y, 0); });
    this.tracking = bib;
    bib.occupancy = this;
    for (let b = 0; b < bib.capacity; b++) if (bib.inUse(b)) this.mark(bib.proto(b), bib.addr4(b), bib.port4(b), true);
  }

  /**
   * Does no BIB entry hold (proto, addr4, port4), for certain? While tracking the shard's BIB, the
   * bitmap of a pool4 address has a bit for every port with an entry (dynamic, static, synchronised,
   * any range); false when unsure (not tracking, or not a pool4 address). One binary search over
   * the addresses and one word, instead of the BIB's hash head and records (filter4).
   */
  unmapped(proto: number, addr4: number, port4: number): boolean {
    const slot = protoSlot(proto);
    if (slot < 0 || this.tracking === null) return false;
    const a = this.indexOf(slot, addr4 >>> 0);
    return a >= 0 && !this.held(slot, a, port4);
  }

  /** Does a BIB entry hold port `port` of address index a (the tracked bitmap)? */
  private held(slot: number, a: number, port: number): boolean {
    return (this.used[slot][a * 2048 + (port >>> 5)] & (1 << (port & 31))) !== 0;
  }

  mark(proto: number, addr4: number, port4: number, inUse: boolean): void {
    const slot = protoSlot(proto);
    if (slot < 0) return;
    const a = this.indexOf(slot, addr4 >>> 0);
    if (a < 0) return;
    const w = a * 2048 + (port4 >>> 5), bit = 1 << (port4 & 31), u = this.used[slot];
    if (((u[w] & bit) !== 0) === inUse) return;
    u[w] = inUse ? u[w] | bit : u[w] & ~bit;
    const f = this.full[slot], fw = a * 64 + ((port4 >>> 5) >>> 5), fb = 1 << ((port4 >>> 5) & 31);
    f[fw] = (u[w] | ~this.sliceBits(port4 >>> 5)) === -1 ? f[fw] | fb : f[fw] & ~fb;
    if (this.inSlice(slot, a, port4)) { this.free[slot][a] += inUse ? -1 : 1; this.freeTotal[slot] += inUse ? -1 : 1; }
  }

  /** Is any port of this shard's slice free for `proto` (while tracking a BIB; else assumed so)? O(1). */
  anyFree(proto: number): boolean {
    const slot = protoSlot(proto);
    return slot >= 0 && (this.tracking === null || this.freeTotal[slot] > 0);
  }

  /** The bits of bitmap word `w` whose ports are this shard's (p % shards === shard). */
  private sliceBits(w: number): number {
    const n = this.shards;
    return this.strideMask[((this.shard - ((w * 32) % n)) % n + n) % n];
  }

  /**
   * Candidate k of address a's sub-slice, port `port`: 0 when the port is free, else how many
   * candidates from k on are known taken (at least 1, at most `left`, never past k's range):
   * up to the next free port of the slice in the port's bitmap word, or, when the rest of the
   * word is taken, over the following words the summary says are full. Probing them one by one
   * would pass the same candidates: the choice and the max-iterations budget are unchanged.
   */
  private takenRun(s: Slice, slot: number, sub: number, a: number, k: number, port: number, left: number): number {
    const used = this.used[slot], n = this.shards;
    const w = port >>> 5, b = port & 31, u = used[a * 2048 + w];
    if ((u & (1 << b)) === 0) return 0;
    const inRange = s.leftInRange(sub, a, k);
    const max = inRange < left ? inRange : left;
    const free = ~u & this.strideMask[b];
    if (free !== 0) {
      const run = (31 - Math.clz32(free & -free) - b) / n;
      return run < max ? run : max;
    }
    // The rest of this word is taken: whole words from the summary, up to the range's last port.
    const full = this.full[slot], last = (port + (inRange - 1) * n) >>> 5;
    let next = w + 1;
    while (next <= last) {
      const notFull = ~full[a * 64 + (next >>> 5)] & (-1 << (next & 31));
      if (notFull !== 0) { next = (next & ~31) + (31 - Math.clz32(notFull & -notFull)); break; }
      next = (next | 31) + 1;
    }
    const run = Math.ceil((next * 32 - port) / n);
    return run < max ? run : max;
  }

  /** Is `port` one of the ports this shard may allocate on address a (its slice of the ranges)? */
  private inSlice(slot: number, a: number, port: number): boolean {
    const rs = this.slices[slot].ranges[ALL][a], shards = this.shards;
    for (let j = 0; j < rs.length; j += 2) {
      const first = rs[j], last = first + (rs[j + 1] - 1) * shards;
      if (port >= first && port <= last && (port - first) % shards === 0) return true;
    }
    return false;
  }

  /** Free ports of this shard's slice on `addr` for `proto` (tests, diagnostics). */
  freePorts(proto: number, addr: number): number {
    const slot = protoSlot(proto);
    const a = slot < 0 ? -1 : this.indexOf(slot, addr >>> 0);
    return a < 0 ? 0 : this.free[slot][a];
  }

  /**
   * Ports (identifiers) of this shard's slice per pool4 address of `proto`, averaged over the
   * protocol's addresses: what a subscriber-port-limit share is a share of (per shard).
   */
  averageSlicePorts(proto: number): number {
    const s = this.slices[protoSlot(proto)];
    if (s.addrs.length === 0) return 0;
    let sum = 0;
    for (const n of s.total[ALL]) sum += n;
    return sum / s.addrs.length;
  }

  private indexOf(slot: number, addr: number): number {
    const xs = this.addrIndex[slot];
    let lo = 0, hi = xs.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1, x = xs[mid];
      if (x === addr) return mid;
      if (x < addr) lo = mid + 1; else hi = mid - 1;
    }
    return -1;
  }

  hasAddress(addr: number): boolean { return this.addresses.has(addr >>> 0); }
  allAddresses(): number[] { return [...this.addresses]; }

  /** Is (addr, port) inside the protocol's pool4 (any shard's part), standby ranges included? */
  contains(proto: number, addr: number, port: number): boolean {
    const slot = protoSlot(proto);
    if (slot < 0) return false;
    for (const rs of [this.slices[slot].all, this.standby[slot]]) {
      for (const r of rs) if (r.address >>> 0 === addr >>> 0 && port >= r.portMin && port <= r.portMax) return true;
    }
    return false;
  }

  /** Ports of address `addr` this shard may allocate for `proto` (tests, diagnostics). */
  slicePorts(proto: number, addr: number): number[] {
    const s = this.slices[protoSlot(proto)];
    const a = s.addrs.indexOf(addr >>> 0);
    const out: number[] = [];
    if (a < 0) return out;
    for (let k = 0; k < s.total[ALL][a]; k++) out.push(s.portAt(ALL, a, k, this.shards));
    return out;
  }

  /**
   * Paired address pooling (RFC 4787 REQ-2, RFC 6146 §3.5.1.1): the IPv4 address of an IPv6
   * host depends on the host's address only, so every shard picks the same one. Index into the
   * protocol's address list, or -1 when it is empty.
   */
  pairedAddressIndex(proto: number, src6: Uint8Array, o6: number): number {
    const s = this.slices[protoSlot(proto)];
    if (s.addrs.length === 0) return -1;
    return finish(hashAddr6(PAIRING_SEED, src6, o6)) % s.addrs.length;
  }

  pairedAddress(proto: number, src6: Uint8Array, o6: number): number {
    const a = this.pairedAddressIndex(proto, src6, o6);
    return a < 0 ? -1 : this.slices[protoSlot(proto)].addrs[a];
  }

  /**
   * Is (addr, port) free for a new BIB entry of `proto` and this shard's to give (inside its slice
   * of pool4: port % shards === shard)? If so, it becomes this.addr/this.port.
   */
  take(proto: number, bib: Bib, addr: number, port: number): boolean {
    const slot = protoSlot(proto);
    const a = slot < 0 ? -1 : this.indexOf(slot, addr >>> 0);
    if (a < 0 || !this.freeInSlice(slot, a, proto, bib, port)) return false;
    this.addr = this.slices[slot].addrs[a];
    this.port = port;
    return true;
  }

  private freeInSlice(slot: number, a: number, proto: number, bib: Bib, port: number): boolean {
    if (port < 0 || port > 0xffff || !this.inSlice(slot, a, port)) return false;
    if (this.tracking === bib) return !this.held(slot, a, port);
    return bib.lookup4(proto, this.slices[slot].addrs[a], port) === NIL;
  }

  /**
   * Choose a free IPv4 transport address for a new BIB entry of (src6, srcPort) talking to
   * (dst4, dstPort): into this.addr/this.port. On the paired address, the source port itself
   * when it is free and this shard's (RFC 4787 REQ-1 port preservation, which RFC 6146 §3.5.1.1
   * leaves open; see below). Otherwise ports follow RFC 6056 algorithm 3 as Jool does (offset
   * F(f-args) + a cursor), keeping the source port's range (well-known or not, §3.5.1.1) and,
   * where the shard's slice has both, its parity, for the first candidates. The paired address
   * first; the next addresses only when its slice is exhausted. False: none free.
   *
   * Port preservation and shard ownership: a shard gives only ports p with p % shards === shard
   * (docs/design.md "Which shard owns a flow"), and the IPv6 flow's shard is a hash of its source.
   * So the source port is preserved when it lies in pool4 and the flow hashes to the shard that
   * owns it: always with one shard, for 1 flow in `shards` with more. Elsewhere the flow gets a
   * randomised port of its own shard as before; preserving across shards would need the owner of
   * the port to allocate, i.e. a hand-off per new flow.
   */
  allocate(proto: number, bib: Bib, src6: Uint8Array, o6: number, srcPort: number, dst4: number,
    dstPort: number, fArgs: number): boolean {
    const slot = protoSlot(proto);
    const s = this.slices[slot];
    const nAddr = s.addrs.length;
    // No free port in the slice (tracked: O(1)): what the search below would conclude, without
    // its hashing (a flood of new 5-tuples against a full pool4 pays this for every packet).
    if (nAddr === 0 || !this.anyFree(proto)) return false;
    let f = 0;
    if (fArgs & FARG_SRC_ADDR) f = hashAddr6(f, src6, o6);
    if (fArgs & FARG_SRC_PORT) f = mix(f, srcPort);
    if (fArgs & FARG_DST_ADDR) f = mix(f, dst4);
    if (fArgs & FARG_DST_PORT) f = mix(f, dstPort);
    const offset = finish(f);
    const cursor = this.header[H_POOL4_CURSOR + slot] >>> 0;
    const wantLow = srcPort < 1024;
    // With an even shard count every port of the slice has the shard's parity: nothing to prefer.
    const parity = this.shards % 2 === 1 ? srcPort & 1 : -1;
    const first = this.pairedAddressIndex(proto, src6, o6);
    if (this.freeInSlice(slot, first, proto, bib, srcPort)) {
      this.addr = s.addrs[first];
      this.port = srcPort;
      return true;
    }
    const used = this.tracking === bib ? this.used[slot] : null;
    const free = used !== null ? this.free[slot] : null;
    // max-iterations (Jool): candidates of pass 2 tried over all addresses; a full address costs
    // none, nor the bounded preference pass (at most PREFERRED_PROBES) before it.
    let left = s.budget < 0 ? Infinity : s.budget;
    for (let j = 0; j < nAddr && left > 0; j++) {
      const a = (first + j) % nAddr;
      if (free !== null && free[a] <= 0) continue;
      // Pass 1: the source port's range (and parity); pass 2: any port of the address.
      for (let pass = 0; pass < 2; pass++) {
        const sub = pass === 0 ? (wantLow ? LOW : HIGH) : ALL;
        const n = s.total[sub][a];
        const limit = pass === 0 ? Math.min(n, PREFERRED_PROBES) : Math.min(n, s.budget < 0 ? MAX_PROBES : left);
        if (pass === 1) left -= limit;
        // k = (offset + cursor + i) % n, kept in int range (a double modulo per candidate was a
        // third of a refusal's cost).
        let k = ((offset % n) + (cursor % n)) % n;
        for (let i = 0; i < limit;) {
          const port = s.portAt(sub, a, k, this.shards);
          this.probes++;
          let step = 1;
          if (used !== null) step = this.takenRun(s, slot, sub, a, k, port, limit - i);
          else if (bib.lookup4(proto, s.addrs[a], port) === NIL) step = 0;
          if (step === 0 && pass === 0 && parity >= 0 && (port & 1) !== parity) step = 1;
          if (step > 0) {
            i += step;
            k += step;
            if (k >= n) k -= n;
            continue;
          }
          this.header[H_POOL4_CURSOR + slot] = (cursor + i + 1) | 0;
          this.addr = s.addrs[a];
          this.port = port;
          return true;
        }
      }
    }
    return false;
  }
}
