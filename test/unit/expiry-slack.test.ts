/**
 * Lazy expiry (src/dataplane/tables/expiry.ts): a refresh only rewrites lastUse unless the session
 * crosses into a new slot of `slack` ms, so the lists are ordered by the time a session was queued,
 * not by its last use. The promise: a session is never removed before its timeout after its last
 * packet, and at most slack (+ the expire() period) after it, for UDP, ICMP and TCP, with many
 * interleaved flows whose heads block each other.
 */
import { strict as assert } from 'node:assert';
import { Result } from '../../src/dataplane/core-api';
import type { CoreGlobals } from '../../src/dataplane/core-config';
import { NIL } from '../../src/dataplane/tables/layout';
import { TimerClass, expirySlack, EXPIRY_SLACK_MAX_MS } from '../../src/dataplane/tables/expiry';
import { PROTO, a4, a6, echo, ipv4, ipv6, tcp, udp } from '../rfc/vectors/build';
import { Prng } from '../fuzz/prng';
import { makeConfig, makeCore, run, u16At, type CoreRig } from './helpers/core-harness';

const SERVER = '198.51.100.7';
const STEP = 10; // ms between expire() calls, as the shard's housekeeping (100 ms there)
const ACK = 0x10, SYN = 0x02;
const G: Partial<CoreGlobals> = { udpTimeout: 2000, icmpTimeout: 1600, tcpEstTimeout: 4000, tcpTransTimeout: 1000 };

interface Flow { proto: number; client: string; port: number; lastSent: number; activeUntil: number; removed: number; port4: number }

function alive(rig: CoreRig, f: Flow): boolean {
  const t = rig.core.tables;
  const bib = t.bib.lookup6(f.proto, a6(f.client), 0, f.port);
  if (bib === NIL) return false;
  const rport = f.proto === PROTO.ICMP ? t.bib.port4(bib) : f.proto === PROTO.TCP ? 80 : 53;
  return t.sessions.lookup(bib, a4(SERVER), rport) !== NIL;
}

function send(rig: CoreRig, f: Flow, now: number, flags = ACK): void {
  const dst = a6('64:ff9b::c633:6407'); // SERVER under pool6
  const l4 = f.proto === PROTO.UDP ? udp(f.port, 53) : f.proto === PROTO.TCP ? tcp(f.port, 80, [], flags) : echo(128, f.port, 1);
  const nh = f.proto === PROTO.ICMP ? PROTO.ICMPV6 : f.proto;
  const r = run(rig.core, 6, ipv6({ src: f.client, dst, nh, l4 }), now);
  assert.equal(r.r, Result.EMIT4);
  if (f.port4 < 0) f.port4 = u16At(r.pkt, f.proto === PROTO.ICMP ? 24 : 20);
  f.lastSent = now;
}

describe('lazy expiry: timeouts hold within the documented slack', () => {
  it('slack is timeout/16, at most 10 s', () => {
    assert.equal(expirySlack(2000), 125);
    assert.equal(expirySlack(300_000), EXPIRY_SLACK_MAX_MS);
    assert.equal(expirySlack(7_200_000), EXPIRY_SLACK_MAX_MS);
  });

  for (const [name, proto, timeout] of [['UDP', PROTO.UDP, G.udpTimeout!], ['ICMP', PROTO.ICMP, G.icmpTimeout!]] as const) {
    it(`${name}: 60 interleaved flows, each removed in [last packet + timeout, + slack + one period]`, () => {
      const rig = makeCore(makeConfig(G));
      const cls = proto === PROTO.UDP ? TimerClass.UDP : TimerClass.ICMP;
      const slack = rig.core.tables.expiry.slack[cls];
      assert.equal(slack, timeout / 16);
      const r = new Prng(proto);
      let now = 1_000_000;
      const flows: Flow[] = Array.from({ length: 60 }, (_, k) => ({
        proto, client: `2001:db8:1::${(k % 7) + 1}`, port: 3000 + k, lastSent: -1, removed: -1, port4: -1,
        activeUntil: now + r.int(3 * timeout),
      }));
      let relinkFree = 0, touches = 0;
      for (; now < 1_000_000 + 6 * timeout; now += STEP) {
        for (const f of flows) {
          if (now <= f.activeUntil && f.removed < 0 && (f.lastSent < 0 || r.chance(0.15))) {
            const existing = f.lastSent >= 0, before = new Int32Array(rig.buffers.session).slice();
            send(rig, f, now);
            touches++;
            // A refresh in the same slot leaves the session records (and so every list) as they were.
            if (existing && Buffer.from(before.buffer).equals(Buffer.from(new Int32Array(rig.buffers.session).buffer))) relinkFree++;
          }
        }
        rig.core.expire(now);
        for (const f of flows) {
          if (f.lastSent >= 0 && f.removed < 0 && !alive(rig, f)) f.removed = now;
        }
      }
      assert.ok(touches > 1000 && relinkFree > touches / 3, `${relinkFree} of ${touches} refreshes without a relink`);
      for (const f of flows) {
        assert.ok(f.removed > 0, `flow ${f.port} never removed`);
        const late = f.removed - (f.lastSent + timeout);
        assert.ok(late >= 0, `flow ${f.port} removed ${-late} ms early`);
        assert.ok(late <= slack + STEP, `flow ${f.port} removed ${late} ms late (slack ${slack})`);
      }
    });
  }

  it('TCP: established connections idle for tcp-est move to TRANS and go after tcp-trans, within the slack of both', () => {
    const rig = makeCore(makeConfig(G));
    const est = G.tcpEstTimeout!, trans = G.tcpTransTimeout!;
    const slack = expirySlack(est) + expirySlack(trans);
    const r = new Prng(9);
    let now = 1_000_000;
    const flows: Flow[] = Array.from({ length: 40 }, (_, k) => ({
      proto: PROTO.TCP, client: `2001:db8:2::${(k % 5) + 1}`, port: 4000 + k, lastSent: -1, removed: -1, port4: -1,
      activeUntil: now + 100 + r.int(2 * est),
    }));
    for (const f of flows) {
      send(rig, f, now, SYN);
      const synAck = ipv4({ src: SERVER, dst: a4('203.0.113.1'), proto: PROTO.TCP, l4: tcp(80, f.port4, [], SYN | ACK) });
      assert.equal(run(rig.core, 4, synAck, now).r, Result.EMIT6);
    }
    for (; now < 1_000_000 + 4 * est + 2 * trans; now += STEP) {
      for (const f of flows) if (now <= f.activeUntil && f.removed < 0 && r.chance(0.1)) send(rig, f, now);
      rig.core.expire(now);
      for (const f of flows) if (f.removed < 0 && !alive(rig, f)) f.removed = now;
    }
    for (const f of flows) {
      assert.ok(f.removed > 0, `flow ${f.port} never removed`);
      const late = f.removed - (f.lastSent + est + trans);
      assert.ok(late >= 0, `flow ${f.port} removed ${-late} ms early`);
      assert.ok(late <= slack + 2 * STEP, `flow ${f.port} removed ${late} ms late (slack ${slack})`);
    }
  });
});
