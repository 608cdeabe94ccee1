import { Nat64Error, q } from './errors';
import type { Framework, Protocol } from './model';

/** Jool: "up to 15 printable ASCII characters" (space included: its own sample is "instance name"). */
export function checkInstanceName(name: unknown, field = 'instance'): string {
  if (typeof name !== 'string' || !/^[\x20-\x7e]{1,15}$/.test(name) || name.trim() !== name) {
    throw new Nat64Error('E_BAD_INSTANCE_NAME', `${field}: ${q(name)} is not an instance name (1-15 printable ASCII characters, no leading or trailing space)`);
  }
  return name;
}

export function parseProtocol(value: unknown, field = 'protocol'): Protocol {
  const s = typeof value === 'string' ? value.toUpperCase() : '';
  if (s === 'TCP' || s === 'UDP' || s === 'ICMP') return s;
  throw new Nat64Error('E_BAD_VALUE', `${field}: ${q(value)} is not a protocol (TCP, UDP or ICMP)`);
}

export function parseFramework(value: unknown, field = 'framework'): Framework {
  if (value === 'netfilter' || value === 'iptables') return value;
  throw new Nat64Error('E_CONFIG_FIELD', `${field}: ${q(value)} is not a framework (netfilter or iptables)`);
}
