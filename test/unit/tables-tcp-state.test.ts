import * as assert from 'node:assert/strict';
import {
  TCP_FIN, TCP_KEEP, TCP_NO_SESSION, TCP_RST, TCP_STATE_NAMES, TCP_SYN, TcpState, nextState, nextTimer, tcpTransition,
} from '../../src/dataplane/tables/tcp-state';
import { TimerClass, TIMER_CLASS_NAMES } from '../../src/dataplane/tables/expiry';


const ACK = 0x10;
type Row = [state: number, from: 'v6' | 'v4', flags: number, next: number | 'none', timer: number | 'keep', why: string];

// RFC 6146 §3.5.2.2, the state machine edges (plus Jool's handle-rst-during-fin-rcv, off here).
const rows: Row[] = [
  [TcpState.CLOSED, 'v6', TCP_SYN, TcpState.V6_INIT, TimerClass.TCP_TRANS, 'IPv6 SYN opens, lifetime TCP_TRANS'],
  [TcpState.CLOSED, 'v4', TCP_SYN, TcpState.V4_INIT, TimerClass.TCP_SYN4, 'IPv4 SYN opens, lifetime TCP_INCOMING_SYN'],
  [TcpState.CLOSED, 'v6', ACK, 'none', 'keep', 'no SYN, no session'],
  [TcpState.CLOSED, 'v4', TCP_RST | TCP_SYN, 'none', 'keep', 'SYN+RST opens nothing'],
  [TcpState.V4_INIT, 'v6', TCP_SYN | ACK, TcpState.ESTABLISHED, TimerClass.TCP_EST, 'IPv6 SYN completes the open'],
  [TcpState.V4_INIT, 'v4', TCP_SYN, TcpState.V4_INIT, 'keep', 'retransmitted IPv4 SYN'],
  [TcpState.V4_INIT, 'v6', ACK, TcpState.V4_INIT, 'keep', 'other packets leave the state'],
  [TcpState.V6_INIT, 'v4', TCP_SYN | ACK, TcpState.ESTABLISHED, TimerClass.TCP_EST, 'IPv4 SYN(+ACK) completes the open'],
  [TcpState.V6_INIT, 'v6', TCP_SYN, TcpState.V6_INIT, TimerClass.TCP_TRANS, 'IPv6 SYN retransmission refreshes TCP_TRANS'],
  [TcpState.V6_INIT, 'v4', ACK, TcpState.V6_INIT, 'keep', 'other packets leave the state'],
  [TcpState.ESTABLISHED, 'v4', TCP_FIN | ACK, TcpState.V4_FIN_RCV, TimerClass.TCP_EST, 'IPv4 FIN'],
  [TcpState.ESTABLISHED, 'v6', TCP_FIN | ACK, TcpState.V6_FIN_RCV, TimerClass.TCP_EST, 'IPv6 FIN'],
  [TcpState.ESTABLISHED, 'v6', TCP_RST, TcpState.TRANS, TimerClass.TCP_TRANS, 'RST from IPv6'],
  [TcpState.ESTABLISHED, 'v4', TCP_RST, TcpState.TRANS, TimerClass.TCP_TRANS, 'RST from IPv4'],
  [TcpState.ESTABLISHED, 'v4', ACK, TcpState.ESTABLISHED, TimerClass.TCP_EST, 'data refreshes TCP_EST'],
  [TcpState.V4_FIN_RCV, 'v6', TCP_FIN | ACK, TcpState.V4_FIN_V6_FIN_RCV, TimerClass.TCP_TRANS, 'FIN from the other side'],
  [TcpState.V4_FIN_RCV, 'v4', TCP_FIN | ACK, TcpState.V4_FIN_RCV, TimerClass.TCP_EST, 'FIN again from the same side'],
  [TcpState.V4_FIN_RCV, 'v6', ACK, TcpState.V4_FIN_RCV, TimerClass.TCP_EST, 'half-closed traffic refreshes TCP_EST'],
  [TcpState.V4_FIN_RCV, 'v6', TCP_RST, TcpState.V4_FIN_RCV, TimerClass.TCP_EST, 'RST ignored without handle-rst-during-fin-rcv'],
  [TcpState.V6_FIN_RCV, 'v4', TCP_FIN | ACK, TcpState.V4_FIN_V6_FIN_RCV, TimerClass.TCP_TRANS, 'FIN from the other side'],
  [TcpState.V6_FIN_RCV, 'v6', ACK, TcpState.V6_FIN_RCV, TimerClass.TCP_EST, 'half-closed traffic'],
  [TcpState.V4_FIN_V6_FIN_RCV, 'v4', ACK, TcpState.V4_FIN_V6_FIN_RCV, 'keep', 'lifetime not refreshed any more'],
  [TcpState.V4_FIN_V6_FIN_RCV, 'v6', TCP_RST, TcpState.V4_FIN_V6_FIN_RCV, 'keep', 'RST changes nothing'],
  [TcpState.TRANS, 'v6', ACK, TcpState.ESTABLISHED, TimerClass.TCP_EST, 'traffic revives the connection'],
  [TcpState.TRANS, 'v4', ACK, TcpState.ESTABLISHED, TimerClass.TCP_EST, 'traffic revives the connection'],
  [TcpState.TRANS, 'v4', TCP_RST, TcpState.TRANS, 'keep', 'RST keeps TRANS, no refresh'],
];

describe('tables: TCP state machine (RFC 6146 §3.5.2.2)', () => {
  for (const [state, from, flags, next, timer, why] of rows) {
    const name = `${TCP_STATE_NAMES[state]} + ${from} flags 0x${flags.toString(16)} -> ` +
      `${next === 'none' ? 'no session' : TCP_STATE_NAMES[next]} (${timer === 'keep' ? 'keep' : TIMER_CLASS_NAMES[timer]}): ${why}`;
    it(name, () => {
      const tr = tcpTransition(state, from === 'v6', flags, false);
      if (next === 'none') { assert.equal(tr, TCP_NO_SESSION); return; }
      assert.equal(nextState(tr), next);
      assert.equal(nextTimer(tr), timer === 'keep' ? TCP_KEEP : timer);
    });
  }

  it('handle-rst-during-fin-rcv moves V4 FIN RCV and V6 FIN RCV to TRANS on a RST', () => {
    for (const st of [TcpState.V4_FIN_RCV, TcpState.V6_FIN_RCV]) {
      const tr = tcpTransition(st, true, TCP_RST, true);
      assert.equal(nextState(tr), TcpState.TRANS);
      assert.equal(nextTimer(tr), TimerClass.TCP_TRANS);
    }
  });
});
