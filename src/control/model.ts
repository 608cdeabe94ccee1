/**
 * The control plane's own form of one instance: validated, binary where the data plane needs
 * binary, immutable (every operation builds a new object, so a failed operation cannot leave a
 * half-changed instance behind).
 */
import type { GlobalValues } from './globals';

export type Protocol = 'TCP' | 'UDP' | 'ICMP';
export const PROTOCOLS: readonly Protocol[] = ['TCP', 'UDP', 'ICMP'];
export type Framework = 'netfilter' | 'iptables';
export type MaxIterations = number | 'auto' | 'infinity';

/** One address of pool4 with one port range (Jool's pool4 "set" is all entries of a mark+protocol). */
export interface Pool4Entry {
  readonly mark: number;
  readonly protocol: Protocol;
  readonly address: number;
  readonly portMin: number;
  readonly portMax: number;
  readonly maxIterations: MaxIterations;
  /** A peer's partition kept for synced sessions, never allocated from (extension, docs/ha.md). Absent: false. */
  readonly standby?: true;
}

export interface StaticBib {
  readonly protocol: Protocol;
  readonly ipv6: Uint8Array;
  readonly ipv6Port: number;
  readonly ipv4: number;
  readonly ipv4Port: number;
}

export interface Instance {
  readonly name: string;
  readonly framework: Framework;
  readonly globals: GlobalValues;
  readonly pool4: readonly Pool4Entry[];
  readonly bib: readonly StaticBib[];
}

/** Jool's pool4 defaults: ports 61001-65535 stay clear of Linux's ephemeral range (32768-61000). */
export const DEFAULT_POOL4_PORTS = { min: 61001, max: 65535 } as const;

/**
 * A pool4 entry of an atomic-configuration file without "port range" covers every port: Jool's own
 * sample maps a static BIB entry to 192.0.2.2#80 from such an entry, and a static BIB entry must
 * lie inside pool4. ICMP identifiers include 0; ports do not.
 */
export function fileDefaultPorts(protocol: 'TCP' | 'UDP' | 'ICMP'): { min: number; max: number } {
  return protocol === 'ICMP' ? { min: 0, max: 65535 } : { min: 1, max: 65535 };
}
