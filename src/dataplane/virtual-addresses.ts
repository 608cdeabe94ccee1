import { parseIPv4, parseIPv6, tryParseIPv4 } from '../control/inet';
import type { PortRuntime } from './l2/interfaces';
import type { VirtualRow } from './manager-api';

/**
 * Virtual addresses (docs/ha.md): interface or pool4 addresses that move between the members of an
 * active/passive pair. Keepalived elects the holder (VRRP on a management link: it cannot put
 * addresses on DPDK ports) and its notify hook runs `nat64 port claim` or `nat64 port release`.
 *
 * One Int32 word per address in shared memory, non-zero while this node holds it: every shard reads
 * it when an ARP request, a Neighbour Solicitation or an echo names the address (OwnAddresses), so
 * a claim takes effect in every shard at once, survives a shard restart, and costs the fast path
 * nothing for other packets. A daemon starts holding none: its peer may hold them.
 */
export interface VirtualAddress {
  /** Port name and index (in the data plane's port list). */
  port: string;
  portIndex: number;
  /** As configured ("203.0.113.1/24"). */
  text: string;
  family: 4 | 6;
  /** IPv4 host-order number, or the 16 bytes of the IPv6 address. */
  addr4: number;
  addr6: Uint8Array;
  slot: number;
}

export class VirtualAddressError extends Error {
  constructor(readonly code: 'E_PORT_NOT_FOUND' | 'E_NOT_VIRTUAL' | 'E_BAD_ADDRESS', message: string) { super(message); }
}

export class VirtualAddresses {
  readonly buffer: SharedArrayBuffer;
  private readonly words: Int32Array;
  readonly list: VirtualAddress[] = [];

  /** Slots are numbered in configuration order, port by port (port-runtime.ts). */
  constructor(ports: Array<{ name: string; rt: PortRuntime; virtualAddresses: string[] }>) {
    const texts = ports.flatMap((p) => p.virtualAddresses);
    ports.forEach((p, portIndex) => {
      for (const a of p.rt.v4) {
        if (a.slot !== undefined) this.list.push({ port: p.name, portIndex, text: texts[a.slot], family: 4, addr4: a.addr >>> 0, addr6: new Uint8Array(16), slot: a.slot });
      }
      for (const a of p.rt.v6) {
        if (a.slot !== undefined) this.list.push({ port: p.name, portIndex, text: texts[a.slot], family: 6, addr4: 0, addr6: a.addr, slot: a.slot });
      }
    });
    this.list.sort((x, y) => x.slot - y.slot);
    this.buffer = new SharedArrayBuffer(Math.max(1, this.list.length) * 4);
    this.words = new Int32Array(this.buffer);
  }

  isClaimed(v: VirtualAddress): boolean { return Atomics.load(this.words, v.slot) !== 0; }

  /**
   * The addresses a claim or release names: every virtual address (of `port` if given), or the
   * listed ones, each of which must be virtual (on `port` if given). Throws before changing anything.
   */
  select(port: string | undefined, addresses: string[] | undefined, portNames: string[]): VirtualAddress[] {
    if (port !== undefined && !portNames.includes(port)) {
      throw new VirtualAddressError('E_PORT_NOT_FOUND', `no port named '${port}' (ports: ${portNames.join(', ') || 'none'})`);
    }
    const pool = this.list.filter((v) => port === undefined || v.port === port);
    if (!addresses || addresses.length === 0) return pool;
    return addresses.map((text) => {
      const host = text.split('/')[0];
      let found: VirtualAddress | undefined;
      if (tryParseIPv4(host) !== null) {
        const a = parseIPv4(host, 'address') >>> 0;
        found = pool.find((v) => v.family === 4 && v.addr4 === a);
      } else {
        let a: Uint8Array;
        try { a = parseIPv6(host, 'address'); } catch { throw new VirtualAddressError('E_BAD_ADDRESS', `'${text}' is not an IPv4 or IPv6 address`); }
        found = pool.find((v) => v.family === 6 && v.addr6.every((b, i) => b === a[i]));
      }
      if (!found) {
        const known = pool.map((v) => `${v.port} ${v.text}`).join(', ') || 'none';
        throw new VirtualAddressError('E_NOT_VIRTUAL', `'${text}' is not a virtual address${port ? ` of port '${port}'` : ''} (dataplane.ports[].virtualAddresses: ${known})`);
      }
      return found;
    });
  }

  /** Set or clear the words; returns the addresses whose state changed. */
  set(selected: VirtualAddress[], claim: boolean): VirtualAddress[] {
    const changed: VirtualAddress[] = [];
    for (const v of selected) {
      if (Atomics.exchange(this.words, v.slot, claim ? 1 : 0) !== (claim ? 1 : 0)) changed.push(v);
    }
    return changed;
  }

  rows(port?: string): VirtualRow[] {
    return this.list.filter((v) => port === undefined || v.port === port)
      .map((v) => ({ port: v.port, address: v.text, claimed: this.isClaimed(v) }));
  }
}
