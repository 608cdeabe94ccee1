import { existsSync } from 'fs';
import { join } from 'path';
import type { NativeAddon } from './types';

export type { FragLimits, GenSpec, GenStats, NativeAddon, PortInfo, PortStats, ShardIoStats, ShardViews } from './types';
export { GEN_HIST_BUCKETS, GEN_HIST_NS } from './types';
export { FragResult } from './types';
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

/**
 * dist/src/native/index.js -> <repo>/build/Release/nat64_native.node, unless NAT64_ADDON names
 * another build of the addon (scripts/asan.sh: the AddressSanitizer build, outside build/).
 */
export const ADDON_PATH = process.env.NAT64_ADDON || join(__dirname, '..', '..', '..', 'build', 'Release', 'nat64_native.node');

let loaded: NativeAddon | undefined;

/** The addon object itself (loaded once; a clear NAT64_E_ADDON error when the build is missing). */
export function loadNative(): NativeAddon {
  if (loaded) return loaded;
  if (!existsSync(ADDON_PATH)) {
    const e = new Error(`native addon not built (${ADDON_PATH} is missing): run npm run build:native`) as NativeError;
    e.code = 'NAT64_E_ADDON';
    throw e;
  }
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  loaded = require(ADDON_PATH) as NativeAddon;
  // From now on `native.x` is the addon's own function: no indirection left on the fast path.
  Object.assign(native, loaded);
  return loaded;
}

// Every function of NativeAddon; `satisfies` makes the compiler flag one added to types.ts only.
const FUNCTIONS = {
  ealInit: 1, ealInitialized: 1, mempoolCreate: 1, portProbe: 1, portStart: 1, portInfo: 1, portStats: 1,
  portSetMtu: 1, portStop: 1, portClose: 1, shardCreate: 1, shardAttach: 1, rx: 1, tx: 1, send: 1,
  alloc: 1, free: 1, shardStats: 1, shutdown: 1, checksumFrame: 1,
  fragConfigure: 1, fragReassemble: 1, fragExpire: 1, adviseHugePages: 1, pageOffset: 1, flowPrefetchRegister: 1, flowPrefetch: 1,
  missPrefetchRegister: 1, missPrefetchList: 1, missPrefetch: 1,
  genPortCreate: 1, genAttach: 1, genZeroPool: 1, genStart: 1, genStop: 1, genPause: 1, genStats: 1, genHistogram: 1,
} satisfies Record<keyof NativeAddon, 1>;

/**
 * The addon, loaded on first use: importing this module never needs the build. Until then each
 * function is a stub that loads the addon and forwards; loading replaces the stubs.
 */
export const native = {} as NativeAddon;
for (const name of Object.keys(FUNCTIONS) as Array<keyof NativeAddon>) {
  (native as unknown as Record<string, unknown>)[name] = (...args: unknown[]) =>
    (loadNative()[name] as (...a: unknown[]) => unknown)(...args);
}
