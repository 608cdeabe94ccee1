import { existsSync } from 'fs';
import { join } from 'path';
import type { NativeAddon } from './types';

export type { NativeAddon, PortInfo, PortStats, ShardIoStats, ShardViews } from './types';
export { memoryArgs, testEalArgs } from './eal-args';

/** Every `code` the addon (and this loader) can put on an Error. */
export type NativeErrorCode =
  | 'NAT64_E_ADDON'
  | 'NAT64_E_EAL_INIT'
  | 'NAT64_E_PORT_PROBE'
  | 'NAT64_E_PORT_CONFIG'
  | 'NAT64_E_MEMPOOL'
  | 'NAT64_E_RING'
  | 'NAT64_E_ARG'
  | 'NAT64_E_STATE';

export interface NativeError extends Error {
  code: NativeErrorCode;
  /** Positive errno from DPDK (rte_errno or a negated return value), when DPDK gave one. */
  errno?: number;
}

export function isNativeError(e: unknown): e is NativeError {
  if (!(e instanceof Error)) return false;
  const code = (e as Error & { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('NAT64_E_');
}

/** dist/src/native/index.js -> <repo>/build/Release/nat64_native.node */
export const ADDON_PATH = join(__dirname, '..', '..', '..', 'build', 'Release', 'nat64_native.node');

let loaded: NativeAddon | undefined;

/**
 * The addon object itself. Hot loops (a shard's rx/tx) should keep this reference rather than go
 * through `native`, whose Proxy costs a trap per call.
 */
export function loadNative(): NativeAddon {
  if (loaded) return loaded;
  if (!existsSync(ADDON_PATH)) {
    const e = new Error(`native addon not built (${ADDON_PATH} is missing): run npm run build:native`) as NativeError;
    e.code = 'NAT64_E_ADDON';
    throw e;
  }
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  loaded = require(ADDON_PATH) as NativeAddon;
  return loaded;
}

/** The addon, loaded on first use (importing this module never needs the build). */
export const native: NativeAddon = new Proxy({} as NativeAddon, {
  get(_target, prop) {
    return (loadNative() as unknown as Record<PropertyKey, unknown>)[prop];
  },
});
