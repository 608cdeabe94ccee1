import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { HaPair, MAPPED } from './ha-pair';
import { background, killNamespace, parseReplies, UDP_PROBER, until } from './ha-tools';

export interface HaDemoOptions {
  prefix: string;
  shards: number;
  /** Keepalived's advert_int: "0.1" (VRRPv3 centiseconds) or "1" (the default). */
  advertInt: string;
  log: (line: string) => void;
}

/**
 * `nat64 demo --ha`: an active/passive pair (ha-pair.ts) with Keepalived and session sync, a UDP
 * exchange through J, then J's every process killed at once; prints who holds the virtual addresses
 * before and after, how long until traffic flows again through K, and K's sessions (from J).
 * Removes everything it created.
 */
export async function runHaDemo(opts: HaDemoOptions): Promise<number> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nat64-ha-demo-'));
  const pair = new HaPair(opts.prefix, opts.shards, opts.advertInt, dir);
  let cleaning = false;
  const cleanup = async () => { if (!cleaning) { cleaning = true; await pair.down(); fs.rmSync(dir, { recursive: true, force: true }); } };
  const onSignal = () => { opts.log('interrupted: cleaning up'); void cleanup().then(() => process.exit(130)); };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const show = (what: string) => {
    for (const node of ['j', 'k'] as const) {
      const held = pair.tr[node].claimed();
      opts.log(`  ${node.toUpperCase()} (${pair.N[node]}): ${held.length ? `holds ${held.join(', ')}` : 'holds nothing'}${what ? ` ${what}` : ''}`);
    }
  };
  try {
    opts.log(`building two translators J and K (namespaces ${opts.prefix}-*), Keepalived advert_int ${opts.advertInt} ...`);
    await pair.up();
    opts.log('$ nat64 port display   (both daemons start holding no virtual address)');
    show('');
    await pair.elect();
    opts.log('Keepalived elected J; its notify hook ran `nat64 port claim`; K is BACKUP:');
    show('');
    const seconds = opts.advertInt === '1' ? 12 : 7;
    opts.log(`UDP from ${pair.N.h6} to [${MAPPED}]:5353 every 20 ms for ${seconds} s ...`);
    const prober = background(pair.N.h6, ['python3', '-c', UDP_PROBER, MAPPED, '5353', '0.02', String(seconds)]);
    await until('UDP replies through J', () => parseReplies(prober.out()).length > 10, 15000, 50);
    const { at } = killNamespace(pair.N.j);
    opts.log('J fails: every process in its namespace (daemon, Keepalived) killed at once (SIGSTOP, SIGKILL)');
    await until('K to claim the virtual addresses', () => pair.tr.k.claimed().length === 2, 20000, 100);
    await prober.done;
    const replies = parseReplies(prober.out());
    const before = replies.filter((r) => r.recv <= at), after = replies.filter((r) => r.sent > at);
    const k = pair.tr.k.claimed();
    opts.log(`  K (${pair.N.k}): holds ${k.join(', ')} (Keepalived's notify hook ran \`nat64 port claim\`)`);
    if (after.length === 0) { opts.log('FAIL  no UDP reply through K'); return 1; }
    const ms = Math.round((after[0].recv - at) * 1000);
    opts.log(`PASS  traffic flows again through K ${ms} ms after J died (${before.length} replies before, ${after.length} after; ` +
      `pool4 transport address ${before[before.length - 1]?.peer ?? '?'} -> ${after[0].peer})`);
    const sessions = pair.tr.k.cli(['session', 'display', '--udp']);
    opts.log(`$ nat64 session display --udp   (on K: J's sessions came by session sync, Origin peer)\n${sessions.stdout}${sessions.stderr}`);
    return 0;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await cleanup();
  }
}
