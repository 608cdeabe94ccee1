import { TimerClass } from './expiry';

/** RFC 6146 §3.5.2.2 states (names as in the RFC's state machine and Jool's session display). */
export const enum TcpState {
  CLOSED = 0, V4_INIT = 1, V6_INIT = 2, ESTABLISHED = 3, V4_FIN_RCV = 4, V6_FIN_RCV = 5,
  V4_FIN_V6_FIN_RCV = 6, TRANS = 7,
}
export const TCP_STATE_NAMES = [
  'CLOSED', 'V4_INIT', 'V6_INIT', 'ESTABLISHED', 'V4_FIN_RCV', 'V6_FIN_RCV', 'V4_FIN_V6_FIN_RCV', 'TRANS',
];

/** TCP flag bits (byte 13 of the TCP header). */
export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;

/** Timer action of a transition: keep the session's lifetime, or restart it in a class. */
export const TCP_KEEP = 0xff;
/** No transition: in CLOSED only a SYN opens a session (the packet is dropped, 'tcp-syn-needed'). */
export const TCP_NO_SESSION = -1;

function to(state: number, timer: number): number { return state | (timer << 8); }
export function nextState(t: number): number { return t & 0xff; }
export function nextTimer(t: number): number { return (t >> 8) & 0xff; }

/**
 * One step of the RFC 6146 §3.5.2.2 state machine: the packet (from the IPv6 side when from6,
 * with `flags`) seen in `state`. Returns to(newState, timer) or TCP_NO_SESSION. Pure and
 * allocation-free, so the table-driven test can walk every edge.
 *
 * handleRstDuringFinRcv is Jool's handle-rst-during-fin-rcv: a RST in V4 FIN RCV / V6 FIN RCV
 * moves to TRANS (the RFC only names RST in ESTABLISHED, which leaves half-closed connections
 * that were reset to live for TCP_EST).
 */
export function tcpTransition(state: number, from6: boolean, flags: number, handleRstDuringFinRcv: boolean): number {
  const syn = (flags & TCP_SYN) !== 0;
  const fin = (flags & TCP_FIN) !== 0;
  const rst = (flags & TCP_RST) !== 0;
  switch (state) {
    case TcpState.CLOSED:
      // §3.5.2.2 CLOSED: an IPv6 SYN -> V6 INIT (TCP_TRANS); an IPv4 SYN -> V4 INIT (TCP_INCOMING_SYN).
      if (!syn || rst) return TCP_NO_SESSION;
      return from6 ? to(TcpState.V6_INIT, TimerClass.TCP_TRANS) : to(TcpState.V4_INIT, TimerClass.TCP_SYN4);
    case TcpState.V4_INIT:
      // An IPv6 SYN completes the (possibly simultaneous) open.
      if (from6 && syn) return to(TcpState.ESTABLISHED, TimerClass.TCP_EST);
      return to(state, TCP_KEEP);
    case TcpState.V6_INIT:
      if (!from6 && syn) return to(TcpState.ESTABLISHED, TimerClass.TCP_EST);
      if (from6 && syn) return to(state, TimerClass.TCP_TRANS);
      return to(state, TCP_KEEP);
    case TcpState.ESTABLISHED:
      if (rst) return to(TcpState.TRANS, TimerClass.TCP_TRANS);
      if (fin) return to(from6 ? TcpState.V6_FIN_RCV : TcpState.V4_FIN_RCV, TimerClass.TCP_EST);
      return to(state, TimerClass.TCP_EST);
    case TcpState.V4_FIN_RCV:
    case TcpState.V6_FIN_RCV: {
      if (rst && handleRstDuringFinRcv) return to(TcpState.TRANS, TimerClass.TCP_TRANS);
      // The FIN of the other side closes both halves: lifetime TCP_TRANS, not refreshed again.
      const otherSide = state === TcpState.V4_FIN_RCV ? from6 : !from6;
      if (fin && otherSide) return to(TcpState.V4_FIN_V6_FIN_RCV, TimerClass.TCP_TRANS);
      return to(state, TimerClass.TCP_EST);
    }
    case TcpState.V4_FIN_V6_FIN_RCV:
      return to(state, TCP_KEEP);
    case TcpState.TRANS:
      // Any packet but a RST revives the connection.
      if (rst) return to(state, TCP_KEEP);
      return to(TcpState.ESTABLISHED, TimerClass.TCP_EST);
    default:
      return TCP_NO_SESSION;
  }
}
