/**
 * `nat64`: the daemon and the Jool-shaped management commands, one clipanion class per file.
 */
import { Builtins, Cli, type BaseContext } from 'clipanion';
import type { Writable } from 'node:stream';
import BibAddCommand from './commands/bib/add';
import BibDisplayCommand from './commands/bib/display';
import BibRemoveCommand from './commands/bib/remove';
import DaemonCommand from './commands/daemon';
import DemoCommand from './commands/demo';
import FileDisplayCommand from './commands/file/display';
import FileHandleCommand from './commands/file/handle';
import GlobalDisplayCommand from './commands/global/display';
import GlobalUpdateCommand from './commands/global/update';
import InstanceAddCommand from './commands/instance/add';
import InstanceDisplayCommand from './commands/instance/display';
import InstanceFlushCommand from './commands/instance/flush';
import InstanceRemoveCommand from './commands/instance/remove';
import InstanceStatusCommand from './commands/instance/status';
import HealthCommand from './commands/health';
import PortClaimCommand from './commands/port/claim';
import PortDisplayCommand from './commands/port/display';
import PortReleaseCommand from './commands/port/release';
import PortUpdateCommand from './commands/port/update';
import Pool4AddCommand from './commands/pool4/add';
import Pool4DisplayCommand from './commands/pool4/display';
import Pool4FlushCommand from './commands/pool4/flush';
import Pool4RemoveCommand from './commands/pool4/remove';
import SessionDisplayCommand from './commands/session/display';
import SubscriberDisplayCommand from './commands/subscriber/display';
import StatsDisplayCommand from './commands/stats/display';
import TesterPcapCommand from './commands/tester/pcap';
import TesterPktgenCommand from './commands/tester/pktgen';
import TesterSiitperfCommand from './commands/tester/siitperf';

export const COMMANDS = [
  DaemonCommand, DemoCommand,
  InstanceAddCommand, InstanceRemoveCommand, InstanceFlushCommand, InstanceDisplayCommand, InstanceStatusCommand,
  Pool4AddCommand, Pool4RemoveCommand, Pool4FlushCommand, Pool4DisplayCommand,
  BibAddCommand, BibRemoveCommand, BibDisplayCommand,
  SessionDisplayCommand, StatsDisplayCommand, SubscriberDisplayCommand,
  GlobalDisplayCommand, GlobalUpdateCommand,
  FileHandleCommand, FileDisplayCommand,
  PortDisplayCommand, PortUpdateCommand, PortClaimCommand, PortReleaseCommand, HealthCommand,
  TesterPcapCommand, TesterPktgenCommand, TesterSiitperfCommand,
];

/**
 * `argv` (after hoistInstance) narrows the commands registered to those of its first word ("global"
 * -> global display / update): clipanion matches argv against a state machine of every registered
 * command on each run, ~50 ms for all of them, paid by every call a script or a test makes. No
 * command of that word (or none given: --help, a typo): all of them, so help and "did you mean"
 * stay complete.
 */
export function buildCli(colors = false, argv?: readonly string[]): Cli {
  const { version } = require('../../../package.json') as { version: string };
  const cli = new Cli({ binaryLabel: 'nat64 - stateful NAT64 over DPDK', binaryName: 'nat64', binaryVersion: version, enableColors: colors });
  const word = argv?.[0];
  const mine = word === undefined ? [] : COMMANDS.filter((c) => (c.paths ?? []).some((p) => p[0] === word));
  for (const c of mine.length > 0 ? mine : COMMANDS) cli.register(c);
  cli.register(Builtins.HelpCommand);
  cli.register(Builtins.VersionCommand);
  return cli;
}

/**
 * Jool puts -i before the mode ("jool -i alpha pool4 display"); clipanion wants options after the
 * command path, so a leading -i/--instance NAME is moved behind it.
 */
export function hoistInstance(argv: string[]): string[] {
  const m = argv[0] === '-i' || argv[0] === '--instance' ? 2 : /^(-i|--instance=).+/.test(argv[0] ?? '') ? 1 : 0;
  if (m === 0 || argv.length <= m) return argv;
  return [...argv.slice(m), ...argv.slice(0, m)];
}

/**
 * Colours only for a person at a terminal (https://no-color.org): clipanion's own default asks the
 * terminal type, not whether stdout is one, and so wrote escape codes into pipes and files.
 */
export function wantsColors(stdout: Writable, env: NodeJS.ProcessEnv = process.env): boolean {
  return (stdout as { isTTY?: boolean }).isTTY === true && !env.NO_COLOR;
}

/** EPIPE: the reader went away (`nat64 session display | head -1`). */
const isClosedPipe = (e: unknown): boolean => (e as NodeJS.ErrnoException | null)?.code === 'EPIPE';

export async function main(argv: string[], context: Partial<BaseContext> = {}): Promise<number> {
  const ctx = { ...Cli.defaultContext, ...context };
  const args = hoistInstance(argv);
  const cli = buildCli(wantsColors(ctx.stdout), args);
  // A closed pipe ends the output quietly with status 0, as Unix tools do; Node would otherwise
  // throw the stream's 'error' event as an uncaught exception with its stack trace.
  let pipeClosed = false;
  ctx.stdout.on('error', (e: unknown) => {
    if (!isClosedPipe(e)) throw e;
    pipeClosed = true;
    process.exitCode = 0;
  });
  let code: number;
  try {
    // Parsed here rather than in run(), which prints a usage mistake on stdout: errors go to stderr.
    const command = cli.process(args, ctx);
    code = await cli.run(command, ctx);
  } catch (e) {
    ctx.stderr.write(cli.error(e, { colored: false }));
    code = 1;
  }
  if (pipeClosed || isClosedPipe(ctx.stdout.errored)) code = 0;
  process.exitCode = code;
  return code;
}
