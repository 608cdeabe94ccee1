/** Runs parse + translate on a vector placed in a buffer with headroom, as the core would. */
import { COUNTERS, COUNTER_COUNT, type CounterName } from '../../../src/dataplane/counters';
import type { CoreGlobals } from '../../../src/dataplane/core-config';
import { Result, type OutSpan } from '../../../src/dataplane/core-api';
import { Parsed, parse4, parse6 } from '../../../src/dataplane/packet/parse';
import { translate4to6 } from '../../../src/dataplane/translate/ipv4-to-ipv6';
import { translate6to4 } from '../../../src/dataplane/translate/ipv6-to-ipv4';
import { Self, Tuple } from '../../../src/dataplane/translate/tuple';
import { a4, a6 } from './build';

export const HEADROOM = 128 - 14;

/** Jool's defaults (RFC 1191 plateaus, lowest-ipv6-mtu 1280). */
export function defaultGlobals(over: Partial<CoreGlobals> = {}): CoreGlobals {
  return {
    pool6: a6('64:ff9b::'), pool6Len: 96, pool6Strict: false, manuallyEnabled: true,
    zeroizeTrafficClass: false, overrideTos: false, tos: 0, lowestIpv6Mtu: 1280,
    mtuPlateaus: [65535, 32000, 17914, 8166, 4352, 2002, 1492, 1006, 508, 296, 68],
    addressDependentFiltering: false, dropIcmpv6Info: false, dropExternallyInitiatedTcp: false,
    handleRstDuringFinRcv: false, icmpAdminProhibited: false, maximumSimultaneousOpens: 10, sourceIcmpv6ErrorsBetter: true, udpTimeout: 300000, icmpTimeout: 60000,
    tcpEstTimeout: 7200000, tcpTransTimeout: 240000, fArgs: 0b1011, logging: { bib: false, session: false },
    // Per-subscriber limits off here (RFC 6146 vectors exhaust pool4 from one host); their tests turn them on.
    subscriberPrefixLength: 128, subscriberPortLimit: 0, subscriberPortShare: 0, subscriberMappingRate: 0,
    ...over,
  };
}

export function makeSelf(): Self {
  const s = new Self();
  s.ipv6 = a6('2001:db8::1');
  s.ipv4 = a4('203.0.113.1');
  s.nextId = 0x1234;
  return s;
}

export function tuple4(src4: string, dst4: string, srcPort: number, dstPort: number, proto: number): Tuple {
  const t = new Tuple();
  t.src4 = a4(src4); t.dst4 = a4(dst4); t.srcPort = srcPort; t.dstPort = dstPort; t.proto = proto;
  return t;
}

export function tuple6(src6: string, dst6: string, srcPort: number, dstPort: number, proto: number): Tuple {
  const t = new Tuple();
  t.src6 = a6(src6); t.dst6 = a6(dst6); t.srcPort = srcPort; t.dstPort = dstPort; t.proto = proto;
  return t;
}

export interface RunResult {
  result: Result | -1;
  out: Uint8Array;
  counters: Float64Array;
  parsed: Parsed;
  count(name: CounterName): number;
}

export interface RunOpts { g?: CoreGlobals; self?: Self; decrementTtl?: boolean }

function run(family: 4 | 6, pkt: Uint8Array, t: Tuple, o: RunOpts): RunResult {
  const buf = new Uint8Array(HEADROOM + pkt.length + 64).fill(0xee);
  buf.set(pkt, HEADROOM);
  const counters = new Float64Array(COUNTER_COUNT);
  const p = new Parsed();
  const out: OutSpan = { off: 0, len: 0 };
  const g = o.g ?? defaultGlobals();
  const self = o.self ?? makeSelf();
  const dec = o.decrementTtl ?? true;
  const ok = family === 6 ? parse6(buf, HEADROOM, pkt.length, p, counters) : parse4(buf, HEADROOM, pkt.length, p, counters);
  let result: Result | -1 = -1;
  if (ok) {
    result = family === 6
      ? translate6to4(buf, HEADROOM, pkt.length, pkt.length + 64, p, t, g, self, out, counters, dec)
      : translate4to6(buf, HEADROOM, pkt.length, pkt.length + 64, p, t, g, self, out, counters, dec);
  }
  const bytes = result === -1 || result === Result.DROP ? new Uint8Array(0) : buf.slice(out.off, out.off + out.len);
  const count = (name: CounterName) => counters[COUNTERS.findIndex((c) => c.name === name)];
  return { result, out: bytes, counters, parsed: p, count };
}

export function run6to4(pkt: Uint8Array, t: Tuple, o: RunOpts = {}): RunResult { return run(6, pkt, t, o); }
export function run4to6(pkt: Uint8Array, t: Tuple, o: RunOpts = {}): RunResult { return run(4, pkt, t, o); }

/** Sum of every counter: each packet must touch exactly one. */
export function totalCount(c: Float64Array): number {
  let s = 0;
  for (const v of c) s += v;
  return s;
}
