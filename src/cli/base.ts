/**
 * What every management command shares: -i/--instance (as jool), --socket, one request to the
 * daemon, one-line errors on stderr with a non-zero exit and never a stack trace for a mistake.
 */
import { Command, Option, UsageError } from 'clipanion';
import { isNat64Error, toErrorPayload } from '../control/errors';
import { socketPath } from '../control/protocol';
import type { Protocol } from '../control/model';
import { call } from './client';
import { render, type Column, type OutputMode } from './format';

export abstract class ControlCommand extends Command {
  instance = Option.String('-i,--instance', { description: 'Instance to operate on (default: "default")' });
  socket = Option.String('--socket', { description: 'Control socket (default: $NAT64_SOCKET or /run/nat64/nat64.sock)' });

  /** Sends the request and prints the result. */
  protected abstract run(): Promise<void>;

  async execute(): Promise<number> {
    try {
      await this.run();
      return 0;
    } catch (e) {
      if (e instanceof UsageError) {
        // clipanion's own rendering (message + usage line), but on stderr: stdout is for results.
        this.context.stderr.write(this.cli.error(e, { command: this }).replace(/\x1b\[[0-9;]*m/g, ''));
        return 1;
      }
      const p = toErrorPayload(e);
      this.context.stderr.write(`nat64: ${p.message}${isNat64Error(e) ? '' : ` [${p.code}]`}\n`);
      return 1;
    }
  }

  protected request(command: string[], args: Record<string, unknown> = {}): Promise<unknown> {
    return call({ socket: socketPath(this.socket) }, command, this.instance, args);
  }

  protected print(text: string): void { this.context.stdout.write(text); }
}

export abstract class DisplayCommand extends ControlCommand {
  csv = Option.Boolean('--csv', false, { description: 'Print comma-separated values' });
  json = Option.Boolean('--json', false, { description: 'Print JSON (field names: see docs/cli.md)' });
  noHeaders = Option.Boolean('--no-headers', false, { description: 'Omit the header line (table and CSV)' });

  protected get mode(): OutputMode {
    if (this.csv && this.json) throw new UsageError('--csv and --json cannot be used together');
    return this.json ? 'json' : this.csv ? 'csv' : 'table';
  }

  protected show<R>(columns: Column<R>[], rows: R[]): void {
    this.print(render(this.mode, columns, rows, !this.noHeaders));
  }
}

/** Jool's exclusive protocol flags (clipanion options must be fields of the command itself). */
export abstract class ProtocolCommand extends ControlCommand {
  tcp = Option.Boolean('--tcp', false, { description: 'TCP entries' });
  udp = Option.Boolean('--udp', false, { description: 'UDP entries' });
  icmp = Option.Boolean('--icmp', false, { description: 'ICMP entries' });
  protected get protocol(): Protocol | undefined { return pickProtocol(this); }
}

export abstract class ProtocolDisplayCommand extends DisplayCommand {
  // jool's --numeric skips reverse DNS; we never resolve names, so it is accepted and changes nothing.
  numeric = Option.Boolean('-n,--numeric', false, { description: 'Accepted as in jool: addresses are always shown numerically' });
  tcp = Option.Boolean('--tcp', false, { description: 'TCP entries' });
  udp = Option.Boolean('--udp', false, { description: 'UDP entries' });
  icmp = Option.Boolean('--icmp', false, { description: 'ICMP entries' });
  protected get protocol(): Protocol | undefined { return pickProtocol(this); }
}

function pickProtocol(f: { tcp: boolean; udp: boolean; icmp: boolean }): Protocol | undefined {
  const set = (['tcp', 'udp', 'icmp'] as const).filter((k) => f[k]);
  if (set.length > 1) throw new UsageError('--tcp, --udp and --icmp are mutually exclusive');
  return set.length ? (set[0].toUpperCase() as Protocol) : undefined;
}

export function parseInteger(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[0-9]+$/.test(text)) throw new UsageError(`${flag}: '${text}' is not a non-negative integer`);
  return Number(text);
}
