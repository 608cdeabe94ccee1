/**
 * The contract between the native I/O layer (native/) and a shard worker.
 *
 * A shard worker never sees an rte_mbuf as an object: it sees one ArrayBuffer over the whole mbuf
 * mempool (the "arena", one virtually contiguous block) and, per burst, two small typed arrays that
 * live in native memory:
 *
 *   rx descriptors  Uint32Array(BURST * RX_STRIDE)
 *     [i*4+0] RX_DATA   arena offset of the first byte of the frame (Ethernet header)
 *     [i*4+1] RX_LEN    frame length in bytes
 *     [i*4+2] RX_PORT   DPDK port id the frame came in on
 *     [i*4+3] RX_MBUF   arena offset of the rte_mbuf itself (the handle for hold/send/free)
 *
 *   verdicts        Int32Array(BURST * VERDICT_STRIDE), written by JS for every rx descriptor
 *     [i*4+0] V_ACTION  one of Action
 *     [i*4+1] V_PARAM   TX: output port id; HANDOFF: shard index; otherwise 0
 *     [i*4+2] V_DATA    TX: arena offset of the first byte of the frame to send (may move into the
 *                       headroom or further into the buffer, never outside the mbuf's buffer)
 *     [i*4+3] V_LEN     TX: frame length
 *
 * Free-running indices and fixed strides keep the fast path allocation-free on both sides.
 */
export const BURST = 32;
export const RX_STRIDE = 4;
export const RX_DATA = 0;
export const RX_LEN = 1;
export const RX_PORT = 2;
export const RX_MBUF = 3;

export const VERDICT_STRIDE = 4;
export const V_ACTION = 0;
export const V_PARAM = 1;
export const V_DATA = 2;
export const V_LEN = 3;

export const enum Action {
  /** Free the mbuf. The JS side has already counted why. */
  DROP = 0,
  /** Transmit [V_DATA, V_DATA+V_LEN) on port V_PARAM (queue = this shard's tx queue). */
  TX = 1,
  /**
   * Enqueue the mbuf on shard V_PARAM's hand-off ring: unchanged when V_LEN is 0, else with its
   * frame moved to [V_DATA, V_DATA+V_LEN) first (hairpinned packets cross shards after translation).
   */
  HANDOFF = 2,
  /** Keep the mbuf alive; JS owns it now (e.g. waiting for ARP/ND) and later calls send() or free(). */
  HOLD = 3,
}

/**
 * Bytes the native layer guarantees to be writable before the Ethernet header of a received frame
 * (RTE_PKTMBUF_HEADROOM). Translation grows packets into it (IPv4 -> IPv6 adds 20 bytes, an ICMP
 * error wraps the offending packet in up to 48 bytes of new headers).
 */
export const MIN_HEADROOM = 128;
