/**
 * Issue 12 audit: no global is "accepted but ignored". Every key but the ss-* ones (session
 * synchronisation, issue 13, docs/design.md) changes what the shards receive (CoreGlobals);
 * the ss-* ones are the only stored-only keys.
 */
import * as assert from 'node:assert/strict';
import { GLOBALS, defaultGlobals, globalKeys, isStoredOnly, parseGlobal, toCoreGlobals } from '../../src/control/globals';

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

describe('globals audit (issue 12): every global works, or belongs to session synchronisation', () => {
  const base = defaultGlobals('64:ff9b::/96');
  const core0 = JSON.stringify(toCoreGlobals(base), (_k, v) => (v instanceof Uint8Array ? Array.from(v) : v));
  for (const key of globalKeys()) {
    if (key.startsWith('ss-')) {
      it(`${key}: stored only (session synchronisation, issue 13)`, () => assert.ok(isStoredOnly(key)));
      continue;
    }
    it(`${key}: a non-default value reaches the data plane (CoreGlobals)`, () => {
      assert.ok(!isStoredOnly(key));
      const values = { ...base, [key]: parseGlobal(key, other(key), key) };
      const core1 = JSON.stringify(toCoreGlobals(values), (_k, v) => (v instanceof Uint8Array ? Array.from(v) : v));
      assert.notEqual(core1, core0, `${key} changes nothing the shards see`);
    });
  }
});
