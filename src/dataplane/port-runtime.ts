import type { PortConfig } from '../control/config-types';
import { parseIPv4, parseIPv6, parsePrefix4, parsePrefix6, tryParseIPv4 } from '../control/inet';
import type { PortInfo } from '../native/types';
import { parseMac } from './l2/ethernet';
import type { PortRuntime } from './l2/interfaces';

/**
 * Turn a validated port configuration and what DPDK says of the device into what shards use.
 * Virtual addresses get claim slots numbered from `firstSlot` (virtual-addresses.ts).
 */
export function portRuntime(cfg: PortConfig, info: PortInfo, field: string, firstSlot = 0): PortRuntime {
  const rt: PortRuntime = {
    id: info.portId, name: cfg.name, mac: parseMac(info.mac) ?? new Uint8Array(6), mtu: cfg.mtu,
    v4: [], v6: [], routes4: [], routes6: [],
  };
  cfg.addresses.forEach((a, i) => {
    const f = `${field}.addresses[${i}]`;
    if (isV4(a)) rt.v4.push(parsePrefix4(a, f, { defaultLen: null, allowHostBits: true }));
    else rt.v6.push(parsePrefix6(a, f, { defaultLen: null, allowHostBits: true }));
  });
  let slot = firstSlot;
  (cfg.virtualAddresses ?? []).forEach((a, i) => {
    const f = `${field}.virtualAddresses[${i}]`;
    if (isV4(a)) rt.v4.push({ ...parsePrefix4(a, f, { defaultLen: null, allowHostBits: true }), slot: slot++ });
    else rt.v6.push({ ...parsePrefix6(a, f, { defaultLen: null, allowHostBits: true }), slot: slot++ });
  });
  cfg.routes.forEach((r, i) => {
    const f = `${field}.routes[${i}]`;
    if (isV4(r.prefix)) {
      const p = parsePrefix4(r.prefix, `${f}.prefix`, { defaultLen: null });
      rt.routes4.push({ prefix: p.addr, len: p.len, via: parseIPv4(r.via, `${f}.via`) });
    } else {
      const p = parsePrefix6(r.prefix, `${f}.prefix`, { defaultLen: null });
      rt.routes6.push({ prefix: p.addr, len: p.len, via: parseIPv6(r.via, `${f}.via`) });
    }
  });
  return rt;
}

export function isV4(text: string): boolean {
  return tryParseIPv4(text.split('/')[0]) !== null;
}
