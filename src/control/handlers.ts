/**
 * What each control-socket command does: check its `args` (they come from any process that can
 * open the socket, so nothing is trusted) and call the state. The argument names are the contract
 * documented in docs/control-protocol.md.
 */
import { Nat64Error, q } from './errors';
import { parsePortRange, parsePrefix4, parsePrefix6, parseTransport4, parseTransport6, type Prefix6 } from './inet';
import { DEFAULT_POOL4_PORTS, type Protocol } from './model';
import { checkInstanceName, parseFramework, parseProtocol } from './names';
import { parseMark, parseMaxIterations } from './pool4';
import { DEFAULT_INSTANCE, type ControlState } from './state';

type Args = Record<string, unknown>;
interface Ctx { state: ControlState; instance: string | undefined; args: Args }
type Handler = (c: Ctx) => unknown;

class ArgReader {
  private used = new Set<string>();
  constructor(private readonly cmd: string, private readonly args: Args) {}

  raw(key: string): unknown { this.used.add(key); return this.args[key]; }

  str(key: string, required: true): string;
  str(key: string, required?: false): string | undefined;
  str(key: string, required = false): string | undefined {
    const v = this.raw(key);
    if (v === undefined && !required) return undefined;
    if (typeof v !== 'string') throw new Nat64Error('E_PROTOCOL', `${this.cmd}: args.${key} must be a string${required ? ' (required)' : ''}`);
    return v;
  }

  bool(key: string): boolean {
    const v = this.raw(key);
    if (v === undefined) return false;
    if (typeof v !== 'boolean') throw new Nat64Error('E_PROTOCOL', `${this.cmd}: args.${key} must be true or false`);
    return v;
  }

  protocol(): Protocol | undefined {
    const v = this.raw('protocol');
    return v === undefined ? undefined : parseProtocol(v, `${this.cmd} protocol`);
  }

  /** `subscriber`: an IPv6 prefix (an address is its /128; host bits after the length are ignored). */
  subscriber(): Prefix6 | undefined {
    const v = this.str('subscriber');
    if (v === undefined) return undefined;
    const p = parsePrefix6(v, `${this.cmd} subscriber`, { allowHostBits: true });
    for (let bit = p.len; bit < 128; bit++) p.addr[bit >> 3] &= ~(0x80 >> (bit & 7));
    return p;
  }

  /** Unknown arguments are refused: a typo must not silently fall back to a default. */
  done(): void {
    const extra = Object.keys(this.args).filter((k) => !this.used.has(k));
    if (extra.length) throw new Nat64Error('E_PROTOCOL', `${this.cmd}: unknown argument ${q(extra[0])}`);
  }
}

function read<T>(cmd: string, args: Args, fn: (r: ArgReader) => T): T {
  const r = new ArgReader(cmd, args);
  const out = fn(r);
  r.done();
  return out;
}

const name = (c: Ctx) => checkInstanceName(c.instance ?? DEFAULT_INSTANCE, '-i');

export const HANDLERS: Readonly<Record<string, Handler>> = {
  'instance add': async (c) => {
    const a = read('instance add', c.args, (r) => ({
      pool6: r.str('pool6', true),
      framework: r.raw('framework') === undefined ? 'netfilter' as const : parseFramework(r.raw('framework'), 'instance add framework'),
    }));
    await c.state.instanceAdd(name(c), a.pool6, a.framework);
    return c.state.instanceDisplay();
  },
  'instance remove': async (c) => { read('instance remove', c.args, () => 0); await c.state.instanceRemove(name(c)); return null; },
  'instance flush': async (c) => { read('instance flush', c.args, () => 0); await c.state.instanceFlush(); return null; },
  'instance display': (c) => { read('instance display', c.args, () => 0); return c.state.instanceDisplay(); },
  'instance status': (c) => { read('instance status', c.args, () => 0); return c.state.instanceStatus(name(c)); },

  'pool4 add': async (c) => {
    const a = read('pool4 add', c.args, (r) => {
      const ports = r.str('ports');
      const range = ports === undefined ? DEFAULT_POOL4_PORTS : parsePortRange(ports, 'pool4 add port range');
      const mark = r.raw('mark'), iters = r.raw('maxIterations');
      return {
        // Jool 4: the protocol flags are exclusive and default to --tcp.
        protocol: r.protocol() ?? 'TCP',
        prefix: parsePrefix4(r.str('prefix', true), 'pool4 add prefix'),
        portMin: range.min, portMax: range.max,
        mark: mark === undefined ? 0 : parseMark(mark, 'pool4 add --mark'),
        maxIterations: iters === undefined ? undefined : parseMaxIterations(iters, 'pool4 add --max-iterations'),
        standby: r.bool('standby'),
        force: r.bool('force'),
      };
    });
    await c.state.pool4Add(name(c), a);
    return null;
  },
  'pool4 remove': async (c) => {
    const a = read('pool4 remove', c.args, (r) => {
      const ports = r.str('ports');
      // Without a range, the whole address goes (every port and ICMP id).
      const range = ports === undefined ? { min: 0, max: 65535 } : parsePortRange(ports, 'pool4 remove port range');
      const mark = r.raw('mark');
      return {
        protocol: r.protocol(),
        prefix: parsePrefix4(r.str('prefix', true), 'pool4 remove prefix'),
        portMin: range.min, portMax: range.max,
        mark: mark === undefined ? undefined : parseMark(mark, 'pool4 remove --mark'),
        quick: r.bool('quick'),
      };
    });
    await c.state.pool4Remove(name(c), a);
    return null;
  },
  'pool4 flush': async (c) => {
    const quick = read('pool4 flush', c.args, (r) => r.bool('quick'));
    await c.state.pool4Flush(name(c), quick);
    return null;
  },
  'pool4 display': (c) => c.state.pool4Display(name(c), read('pool4 display', c.args, (r) => r.protocol())),

  'bib add': async (c) => {
    const a = read('bib add', c.args, (r) => ({
      protocol: r.protocol() ?? 'TCP',
      v6: parseTransport6(r.str('ipv6', true), 'bib add IPv6 transport address'),
      v4: parseTransport4(r.str('ipv4', true), 'bib add IPv4 transport address'),
    }));
    await c.state.bibAdd(name(c), a.protocol, a.v6, a.v4);
    return null;
  },
  'bib remove': async (c) => {
    const a = read('bib remove', c.args, (r) => {
      const v6 = r.str('ipv6'), v4 = r.str('ipv4');
      return {
        protocol: r.protocol() ?? 'TCP',
        v6: v6 === undefined ? undefined : parseTransport6(v6, 'bib remove IPv6 transport address'),
        v4: v4 === undefined ? undefined : parseTransport4(v4, 'bib remove IPv4 transport address'),
      };
    });
    await c.state.bibRemove(name(c), a.protocol, a.v6, a.v4);
    return null;
  },
  'bib display': (c) => {
    const a = read('bib display', c.args, (r) => ({ protocol: r.protocol(), subscriber: r.subscriber() }));
    return c.state.bibDisplay(name(c), a.protocol, a.subscriber);
  },
  'session display': (c) => {
    const a = read('session display', c.args, (r) => ({ protocol: r.protocol(), subscriber: r.subscriber() }));
    return c.state.sessionDisplay(name(c), a.protocol, a.subscriber);
  },
  'subscriber display': (c) => {
    const top = read('subscriber display', c.args, (r) => r.raw('top'));
    if (top !== undefined && (!Number.isInteger(top) || (top as number) < 1 || (top as number) > 100000)) {
      throw new Nat64Error('E_PROTOCOL', 'subscriber display: args.top must be an integer in 1..100000');
    }
    return c.state.subscriberDisplay(name(c), (top as number | undefined) ?? 20);
  },
  'stats display': (c) => c.state.statsDisplay(read('stats display', c.args, (r) => r.bool('all'))),

  'global display': (c) => { read('global display', c.args, () => 0); return c.state.globalDisplay(name(c)); },
  'global update': async (c) => {
    const a = read('global update', c.args, (r) => ({ key: r.str('key', true), value: r.raw('value') }));
    if (a.value === undefined) throw new Nat64Error('E_PROTOCOL', 'global update: args.value is required');
    await c.state.globalUpdate(name(c), a.key, a.value);
    return c.state.globalDisplay(name(c));
  },

  'file handle': async (c) => {
    const config = read('file handle', c.args, (r) => r.raw('config'));
    if (config === undefined) throw new Nat64Error('E_PROTOCOL', 'file handle: args.config (the parsed JSON file) is required');
    const cli = c.instance === undefined ? undefined : checkInstanceName(c.instance, '-i');
    return { instance: await c.state.fileHandle(cli, config) };
  },
  'file display': (c) => { read('file display', c.args, () => 0); return c.state.exportInstance(name(c)); },

  'port display': (c) => { read('port display', c.args, () => 0); return c.state.portDisplay(); },
  'port update': async (c) => {
    const a = read('port update', c.args, (r) => ({ port: r.str('name', true), mtu: r.raw('mtu') }));
    if (typeof a.mtu !== 'number') throw new Nat64Error('E_PROTOCOL', 'port update: args.mtu must be a number');
    await c.state.portUpdateMtu(a.port, a.mtu);
    return null;
  },
  'port claim': (c) => portVirtual(c, true),
  'port release': (c) => portVirtual(c, false),

  'health': (c) => { read('health', c.args, () => 0); return c.state.health(name(c)); },
};

/** args: { name?: port name, addresses?: ["203.0.113.1", ...] } (none: every virtual address). */
function portVirtual(c: Ctx, claim: boolean): Promise<unknown> {
  const cmd = claim ? 'port claim' : 'port release';
  const a = read(cmd, c.args, (r) => {
    const list = r.raw('addresses') ?? [];
    if (!Array.isArray(list) || !list.every((x) => typeof x === 'string')) {
      throw new Nat64Error('E_PROTOCOL', `${cmd}: args.addresses must be an array of strings`);
    }
    return { port: r.str('name'), addresses: list as string[] };
  });
  return c.state.portVirtual(claim, a.port, a.addresses);
}

export async function dispatch(state: ControlState, command: string[], instance: string | undefined, args: Args): Promise<unknown> {
  const key = command.join(' ');
  const h = Object.prototype.hasOwnProperty.call(HANDLERS, key) ? HANDLERS[key] : undefined;
  if (!h) throw new Nat64Error('E_UNKNOWN_COMMAND', `unknown command ${q(key)}`);
  return h({ state, instance, args });
}
