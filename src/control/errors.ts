/**
 * Typed errors of the control path. Every user mistake becomes one Nat64Error with a stable `code`
 * (scripts match on it; the CLI prints only the message) and a one-line message naming the field
 * and the offending value. Anything that is not a Nat64Error is a bug and is reported as E_INTERNAL.
 */
export const ERROR_CODES = [
  'E_CONFIG_READ',        // the configuration file cannot be read
  'E_CONFIG_SYNTAX',      // not JSON
  'E_CONFIG_FIELD',       // missing, unknown or wrongly typed field
  'E_BAD_PREFIX',
  'E_BAD_ADDRESS',
  'E_BAD_PORT',
  'E_BAD_PORT_RANGE',
  'E_BAD_MAC',
  'E_UNKNOWN_GLOBAL',
  'E_BAD_VALUE',
  'E_TIMEOUT_TOO_SMALL',
  'E_POOL6_IMMUTABLE',
  'E_INSTANCE_EXISTS',
  'E_INSTANCE_NOT_FOUND',
  'E_BAD_INSTANCE_NAME',
  'E_PORTS_IN_USE',
  'E_PORT_NOT_FOUND',
  'E_NOT_VIRTUAL',        // port claim/release: the address is not one of the port's virtualAddresses
  'E_POOL4_NOT_FOUND',
  'E_POOL4_TOO_LARGE',
  'E_POOL4_STANDBY_CONFLICT',
  'E_BIB_NOT_IN_POOL4',
  'E_BIB_EXISTS',
  'E_BIB_NOT_FOUND',
  'E_DAEMON_UNREACHABLE',
  'E_DAEMON_RUNNING',
  'E_DATAPLANE',          // the data plane refused or failed to apply a change
  'E_SYNC_SOCKET',        // the session-sync socket cannot be bound or joined to its group
  'E_PROTOCOL',           // malformed control-socket message
  'E_UNKNOWN_COMMAND',
  'E_USAGE',
  'E_INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export class Nat64Error extends Error {
  override readonly name = 'Nat64Error';
  constructor(readonly code: ErrorCode, message: string) {
    super(message);
  }
}

export function isNat64Error(e: unknown): e is Nat64Error {
  return e instanceof Nat64Error;
}

/** Quote a user value for a one-line message (JSON-style, so odd characters stay visible). */
export function q(value: unknown): string {
  if (typeof value === 'string') return `'${value.replace(/[\r\n]/g, ' ')}'`;
  const s = JSON.stringify(value);
  return s === undefined ? String(value) : s.length > 80 ? s.slice(0, 77) + '...' : s;
}

/** Errors crossing the socket or reaching the CLI: anything unexpected becomes E_INTERNAL. */
export function toErrorPayload(e: unknown): { code: string; message: string } {
  if (isNat64Error(e)) return { code: e.code, message: e.message };
  const err = e as { code?: unknown; message?: unknown };
  if (err && typeof err.code === 'string' && typeof err.message === 'string') {
    // The data plane's own coded errors (NAT64_E...) keep their code and text.
    return { code: err.code, message: err.message.split('\n')[0] };
  }
  return { code: 'E_INTERNAL', message: `internal error: ${String(err?.message ?? e).split('\n')[0]}` };
}
