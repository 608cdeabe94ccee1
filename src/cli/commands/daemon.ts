import { Command, Option } from 'clipanion';
// The daemon (data plane, piscina, prom-client) is loaded when this command runs, not by every
// `nat64` invocation: it is over half of the CLI's start-up (~80 ms of ~140 ms), paid by each
// management command a script or a test runs.

export default class DaemonCommand extends Command {
  static override paths = [['daemon']];
  static override usage = Command.Usage({
    description: 'Run the translator in the foreground (systemd Type=simple)',
    details: 'Reads and validates the configuration, starts the data plane, applies the instances, then opens the control socket. SIGINT/SIGTERM stop it cleanly (forced after 10 s); SIGHUP re-reads the file and applies its instances atomically, keeping the running ones on error.',
    examples: [
      ['Run with the packaged configuration', 'nat64 daemon --config /etc/nat64/nat64.json'],
      ['Another socket', 'nat64 daemon --config nat64.json --socket /tmp/nat64.sock'],
      ['With a Prometheus endpoint', 'nat64 daemon --config nat64.json --metrics 127.0.0.1:9464'],
    ],
  });

  config = Option.String('-c,--config', { required: true, description: 'Configuration file (JSON, see config/README.md)' });
  metrics = Option.String('--metrics', { description: 'Serve Prometheus metrics on this address (such as 127.0.0.1:9464; default: control.metrics, else none)' });
  socket = Option.String('--socket', { description: 'Control socket (default: $NAT64_SOCKET, control.socket, /run/nat64/nat64.sock)' });

  async execute(): Promise<number> {
    const { runDaemon } = await import('../../control/daemon');
    await runDaemon({ configPath: this.config, socketPath: this.socket, metrics: this.metrics });
    // Runs until a signal handler exits the process.
    return new Promise<number>(() => undefined);
  }
}
