/** The HA tests use the demo's helpers (src/demo/ha-tools.ts, ha-pair.ts): one copy for both. */
export * from '../../../src/demo/ha-tools';
