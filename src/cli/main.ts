/**
 * `nat64`: the daemon and the Jool-shaped management commands, one clipanion class per file.
 */
import { Builtins, Cli, type BaseContext } from 'clipanion';
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
import PortDisplayCommand from './commands/port/display';
import PortUpdateCommand from './commands/port/update';
import Pool4AddCommand from './commands/pool4/add';
import Pool4DisplayCommand from './commands/pool4/display';
import Pool4FlushCommand from './commands/pool4/flush';
import Pool4RemoveCommand from './commands/pool4/remove';
import SessionDisplayCommand from './commands/session/display';
import StatsDisplayCommand from './commands/stats/display';

export const COMMANDS = [
  DaemonCommand, DemoCommand,
  InstanceAddCommand, InstanceRemoveCommand, InstanceFlushCommand, InstanceDisplayCommand, InstanceStatusCommand,
  Pool4AddCommand, Pool4RemoveCommand, Pool4FlushCommand, Pool4DisplayCommand,
  BibAddCommand, BibRemoveCommand, BibDisplayCommand,
  SessionDisplayCommand, StatsDisplayCommand,
  GlobalDisplayCommand, GlobalUpdateCommand,
  FileHandleCommand, FileDisplayCommand,
  PortDisplayCommand, PortUpdateCommand,
];

export function buildCli(): Cli {
  const { version } = require('../../../package.json') as { version: string };
  const cli = new Cli({ binaryLabel: 'nat64 - stateful NAT64 over DPDK', binaryName: 'nat64', binaryVersion: version });
  for (const c of COMMANDS) cli.register(c);
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

export async function main(argv: string[], context: Partial<BaseContext> = {}): Promise<number> {
  const cli = buildCli();
  const ctx = { ...Cli.defaultContext, ...context };
  let code: number;
  try {
    // Parsed here rather than in run(), which prints a usage mistake on stdout: errors go to stderr.
    const command = cli.process(hoistInstance(argv), ctx);
    code = await cli.run(command, ctx);
  } catch (e) {
    ctx.stderr.write(cli.error(e, { colored: false }));
    code = 1;
  }
  process.exitCode = code;
  return code;
}
