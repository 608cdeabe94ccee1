/**
 * Issue 12 audit: no global is "accepted but ignored". Every key changes what the data plane
 * receives (CoreGlobals); since issue 13 that includes the ss-* keys (session synchronisation:
 * ss-enabled reaches the shards, the batching keys the main thread's sender).
 */
import * as assert from 'node:assert/strict';
import { GLOBALS, defaultGlobals, globalKeys, parseGlobal, toCoreGlobals } from '../../src/control/globals';

/** A valid value different from the default, per kind. */
function other(key: string): unknown {
  const d = GLOBALS[key];
  switch (d.kind) {
    case 'bool': return !d.default;
    case 'int': return (d.default as number) === (d.max ?? 0xffffffff) ? (d.default as number) - 1 : (d.default as number) + 1;
    case 'time': return `${Math.floor((d.default as number) / 1000) + 60}`;
    case 'plateaus': return '1500, 1280';
    case 'pool6': return '2001:db8:64::/96';
    case 'share': return '50%';
  }
}

describe('globals audit (issues 12, 13): every global works', () => {
  const base = defaultGlobals('64:ff9b::/96');
  const core0 = JSON.stringify(toCoreGlobals(base), (_k, v) => (v instanceof Uint8Array ? Array.from(v) : v));
  for (const key of globalKeys()) {
    it(`${key}: a non-default value reaches the data plane (CoreGlobals)`, () => {
      const values = { ...base, [key]: parseGlobal(key, other(key), key) };
      const core1 = JSON.stringify(toCoreGlobals(values), (_k, v) => (v instanceof Uint8Array ? Array.from(v) : v));
      assert.notEqual(core1, core0, `${key} changes nothing the shards see`);
    });
  }
});
