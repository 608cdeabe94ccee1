import { strict as assert } from 'node:assert';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pingCheck } from '../../src/demo/checks';
import { demoConfig } from '../../src/demo/run-demo';
import { createTopology, destroyTopology, startIpv4Services, type Topology } from '../../src/demo/topology';

const BIN = path.resolve(__dirname, '../../../bin/nat64');
const METRICS_PORT = 19464;

/**
 * The daemon as systemd runs it (2 shards on the user guide's network): the Prometheus endpoint
 * (scraped over loopback inside the translator's namespace), SIGHUP reloads (atomic: a broken file
 * keeps the running configuration and says why), and the control socket's permissions.
 */
describe('nat64 daemon: metrics, SIGHUP, socket permissions', function () {
  this.timeout(120000);
  let t: Topology;
  let services: ChildProcess[] = [];
  let daemon: ChildProcess;
  let output = '';
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nat64-daemon-'));
  // Reachable by anyone up to the socket itself: the socket's own mode must do the refusing.
  fs.chmodSync(dir, 0o755);
  const socket = path.join(dir, 'nat64.sock');
  const configPath = path.join(dir, 'nat64.json');

  const instance = (global: Record<string, unknown>) => ({
    instance: 'example', framework: 'netfilter', global: { pool6: '64:ff9b::/96', ...global },
    pool4: [{ protocol: 'ICMP', prefix: '203.0.113.1', 'port range': '0-65535' }, { protocol: 'UDP', prefix: '203.0.113.1', 'port range': '61001-65535' }],
  });
  const writeConfig = (global: Record<string, unknown>) =>
    fs.writeFileSync(configPath, JSON.stringify({ ...demoConfig(t, 2), instances: [instance(global)] }, null, 2));
  const cli = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 20000, env: { ...process.env, NAT64_SOCKET: socket } });
  const globals = () => JSON.parse(cli(['-i', 'example', 'global', 'display', '--json']).stdout) as Record<string, unknown>;
  const scrape = () => {
    const r = spawnSync('ip', ['netns', 'exec', t.ns.t, 'curl', '-sS', '-m', '5', `http://127.0.0.1:${METRICS_PORT}/metrics`], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout;
  };
  const sample = (text: string, name: string, labels: string) => {
    const m = new RegExp(`^${name}${labels.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(text);
    return m ? Number(m[1]) : NaN;
  };
  const waitFor = async (what: string, cond: () => boolean, ms = 10000) => {
    const end = Date.now() + ms;
    while (Date.now() < end) { if (cond()) return; await new Promise((r) => setTimeout(r, 200)); }
    assert.fail(`timed out waiting for ${what}:\n${output.slice(-3000)}`);
  };

  before(async () => {
    t = createTopology('n64dm');
    services = startIpv4Services(t);
    writeConfig({});
    daemon = spawn('ip', ['netns', 'exec', t.ns.t, process.execPath, BIN, 'daemon', '--config', configPath, '--socket', socket,
      '--metrics', `127.0.0.1:${METRICS_PORT}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    daemon.stdout!.on('data', (b: Buffer) => { output += b.toString(); });
    daemon.stderr!.on('data', (b: Buffer) => { output += b.toString(); });
    await waitFor('the control socket', () => fs.existsSync(socket) && cli(['instance', 'display']).status === 0, 30000);
  });

  after(async () => {
    if (daemon && daemon.exitCode === null) {
      daemon.kill('SIGTERM');
      await new Promise((r) => { daemon.once('exit', r); setTimeout(r, 15000); });
    }
    for (const s of services) s.kill('SIGKILL');
    if (t) destroyTopology(t);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('serves Prometheus metrics: counters per shard move after a ping; tables and ports', () => {
    assert.match(output, new RegExp(`metrics on http://127\\.0\\.0\\.1:${METRICS_PORT}/metrics`));
    const before = scrape();
    assert.match(before, /^# HELP nat64_translated_6to4_total IPv6 packet translated to IPv4\.$/m);
    assert.match(before, /^# TYPE nat64_translated_6to4_total counter$/m);
    const total = (text: string, name: string) => sample(text, name, '{shard="0"}') + sample(text, name, '{shard="1"}');
    const t0 = total(before, 'nat64_translated_6to4_total');
    assert.ok(Number.isFinite(t0), 'one series per shard');
    assert.equal(pingCheck(t, 0, 3).ok, true);
    const after = scrape();
    assert.ok(total(after, 'nat64_translated_6to4_total') >= t0 + 3, `${t0} -> ${total(after, 'nat64_translated_6to4_total')}`);
    assert.ok(total(after, 'nat64_translated_4to6_total') >= 3);
    const icmpSessions = sample(after, 'nat64_sessions', '{shard="0",protocol="ICMP"}') + sample(after, 'nat64_sessions', '{shard="1",protocol="ICMP"}');
    assert.ok(icmpSessions >= 1, after.split('\n').filter((l) => l.startsWith('nat64_sessions')).join('\n'));
    assert.ok(sample(after, 'nat64_bib_entries', '{shard="0",protocol="ICMP"}') + sample(after, 'nat64_bib_entries', '{shard="1",protocol="ICMP"}') >= 1);
    assert.ok(sample(after, 'nat64_port_rx_packets_total', '{port="v6"}') >= 3);
    for (const n of ['nat64_port_tx_packets_total', 'nat64_port_rx_missed_total', 'nat64_port_rx_errors_total', 'nat64_port_tx_errors_total']) {
      assert.ok(Number.isFinite(sample(after, n, '{port="v4"}')), n);
    }
    assert.ok(Number.isFinite(sample(after, 'nat64_log_dropped_total', '{shard="1"}')));
    const notFound = spawnSync('ip', ['netns', 'exec', t.ns.t, 'curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', `http://127.0.0.1:${METRICS_PORT}/`], { encoding: 'utf8' });
    assert.equal(notFound.stdout, '404');
  });

  it('SIGHUP re-reads the file and applies it', async () => {
    assert.equal(globals()['udp-timeout'], '0:05:00');
    writeConfig({ 'udp-timeout': '0:10:00', 'logging-bib': true });
    daemon.kill('SIGHUP');
    await waitFor('the reload', () => /reload applied/.test(output));
    assert.equal(globals()['udp-timeout'], '0:10:00');
    assert.equal(globals()['logging-bib'], true);
  });

  it('SIGHUP with a broken file keeps the running configuration and logs why', async () => {
    const before = cli(['-i', 'example', 'file', 'display']).stdout;
    fs.writeFileSync(configPath, '{ "dataplane": ');
    daemon.kill('SIGHUP');
    await waitFor('the rejection', () => /reload rejected, keeping the running configuration: .*not valid JSON/.test(output));
    writeConfig({ 'udp-timeout': '0:01:00' }); // below RFC 6146's 2 minutes
    const mark = output.length;
    daemon.kill('SIGHUP');
    await waitFor('the second rejection', () => /reload rejected.*udp-timeout/.test(output.slice(mark)));
    assert.equal(cli(['-i', 'example', 'file', 'display']).stdout, before);
    assert.equal(pingCheck(t, 0, 1).ok, true, 'still translating');
    assert.equal(daemon.exitCode, null, 'still running');
  });

  it('the control socket is 0600 and an unprivileged user is refused', () => {
    const st = fs.statSync(socket);
    assert.ok(st.isSocket());
    assert.equal(st.mode & 0o777, 0o600);
    assert.equal(st.uid, 0);
    const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, BIN, 'instance', 'display'],
      { encoding: 'utf8', timeout: 20000, env: { ...process.env, NAT64_SOCKET: socket } });
    assert.notEqual(r.status, 0, r.stdout);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /permission denied|EACCES/i);
    assert.equal(cli(['instance', 'display']).status, 0, 'root still gets in');
  });

  it('stops cleanly on SIGTERM and removes its socket', async () => {
    daemon.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => daemon.once('exit', (c) => r(c)));
    assert.equal(code, 0, output.slice(-2000));
    assert.equal(fs.existsSync(socket), false);
  });
});
