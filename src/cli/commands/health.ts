import { Command, Option, UsageError } from 'clipanion';
import { toErrorPayload } from '../../control/errors';
import type { HealthResult } from '../../control/ha';
import { socketPath } from '../../control/protocol';
import { ControlCommand, parseInteger } from '../base';
import { call } from '../client';
import { json } from '../format';

/**
 * `nat64 health`: an exit status for Keepalived's track_script and BGP watchers (docs/ha.md).
 * 0: healthy; 1: unhealthy, or the daemon does not answer (a dead daemon is the unhealthiest).
 */
export default class HealthCommand extends ControlCommand {
  static override paths = [['health']];
  static override usage = Command.Usage({
    description: 'Exit 0 if this translator should carry traffic: its instance runs, every shard loop is alive, every link is up',
    details: `
      Exit status 1 when a check fails, and also when the daemon is not running or does not answer within
      --timeout milliseconds. For Keepalived's \`vrrp_script\` (config/keepalived/) and for
      config/bird/nat64-health-watch.sh, which withdraws a translator's BGP routes while it fails.
    `,
    examples: [['As a track_script', 'nat64 health --quiet'], ['Every check', 'nat64 health --json']],
  });

  json = Option.Boolean('--json', false, { description: 'Print {"healthy","checks":[{"check","ok","detail"}]}' });
  quiet = Option.Boolean('-q,--quiet', false, { description: 'Print nothing; the exit status says it' });
  timeout = Option.String('--timeout', { description: 'Milliseconds to wait for the daemon (default 1000)' });

  override async execute(): Promise<number> {
    let timeoutMs: number;
    try {
      timeoutMs = parseInteger(this.timeout, '--timeout') ?? 1000;
      if (timeoutMs < 1) throw new UsageError('--timeout: must be at least 1 ms');
    } catch (e) {
      this.context.stderr.write(this.cli.error(e as Error, { command: this }).replace(/\x1b\[[0-9;]*m/g, ''));
      return 1;
    }
    let r: HealthResult;
    try {
      r = await call({ socket: socketPath(this.socket), timeoutMs }, ['health'], this.instance) as HealthResult;
    } catch (e) {
      if (!this.quiet) this.context.stderr.write(`nat64: unhealthy: ${toErrorPayload(e).message}\n`);
      return 1;
    }
    if (this.json) this.print(json(r));
    else if (!this.quiet) this.print(r.checks.map((c) => `${c.ok ? 'ok  ' : 'FAIL'}  ${c.check}: ${c.detail}\n`).join(''));
    return r.healthy ? 0 : 1;
  }

  /** Unused: execute() above decides the exit status itself. */
  protected async run(): Promise<void> { /* see execute() */ }
}
