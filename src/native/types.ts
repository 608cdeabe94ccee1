/**
 * Type of the native addon (build/Release/nat64_native.node). Every function validates its
 * arguments and throws a NativeError-shaped Error (`code` = 'NAT64_E...' string, `errno` where DPDK
 * gave one) instead of crashing or calling rte_exit.
 *
 * Threads: ealInit, the port functions, mempoolCreate and shardCreate run on the main thread (control path).
 * threadRegister/shardAttach/rx/tx/send/alloc/free run on the shard's own worker thread.
 */
export interface PortInfo {
  portId: number;
  name: string;
  driver: string;
  mac: string;            // "02:00:00:00:00:01"
  maxRxQueues: number;
  maxTxQueues: number;
  rxQueues: number;       // configured
  txQueues: number;       // configured
  mtu: number;
  /** What the receive path does about TCP/UDP checksums (native/checksum.h): the mode in force. */
  rxChecksum: 'device' | 'detect' | 'off';
  /** Offloads enabled on the port, by DPDK's names (e.g. "TCP_CKSUM", "UDP_CKSUM"). */
  rxOffloads: string[];
  txOffloads: string[];
  /** net_af_packet: what the daemon did to its Linux interface so frames arrive wire-sized (native/kernel-iface.h). */
  kernel: string[];
  /** Link status as the driver reports it (rte_eth_link_get_nowait); speed 0 when unknown. */
  link: 'up' | 'down';
  linkSpeedMbps: number;
}

export interface PortStats {
  ipackets: number; opackets: number; ibytes: number; obytes: number;
  imissed: number; ierrors: number; oerrors: number; rxNombuf: number;
}

export interface ShardIoStats {
  rxPackets: number;      // descriptors handed to JS (from queues and hand-off ring)
  txPackets: number;      // accepted by tx_burst
  txDropped: number;      // tx_burst did not take them (queue full), freed
  handoffOut: number;     // enqueued to another shard
  handoffDropped: number; // hand-off ring full, freed
  allocFailed: number;
  /** A received mbuf chain (should not happen: scatter off, MTU fits one mbuf), freed. */
  rxMultiSegDropped: number;
  /** A verdict that could not be applied (unknown action, port not started, unknown shard, V_DATA/V_LEN
   *  outside the mbuf's buffer) or a burst rx() handed out that got no verdict before the next rx(): freed. */
  txInvalid: number;
  /** TCP/UDP frames whose checksum held only the pseudo-header sum, as the device said (RX_L4_CKSUM_NONE). */
  checksumPartialFlagged: number;
  /** The same, recognised in software (drivers that lose the kernel's mark: af_packet, AF_XDP). */
  checksumPartialDetected: number;
  /** Dropped: the device said the TCP/UDP checksum is wrong (RX_L4_CKSUM_BAD). */
  checksumBadDropped: number;
  /** Partial checksums finished in software (on receive when the packet may be fragmented, else on transmit). */
  checksumCompleted: number;
  /** Partial checksums left to the egress device's TX checksum offload. */
  checksumOffloaded: number;
}

export interface ShardViews {
  /** The whole mbuf mempool, zero copy (external ArrayBuffer over hugepage memory). */
  arena: ArrayBuffer;
  /** Uint32Array(BURST*RX_STRIDE) living in native memory. */
  rxDesc: Uint32Array;
  /** Int32Array(BURST*VERDICT_STRIDE) living in native memory. */
  verdict: Int32Array;
  /** Arena offset from an mbuf handle (RX_MBUF) to the first byte of its data room + headroom. */
  mbufDataStart: number;
  /** Usable bytes from the start of the data room (headroom included). */
  mbufBufLen: number;
  /** EAL lcore id given to this thread by rte_thread_register, or -1 if that failed (then the
   *  thread allocates without the per-lcore mempool cache: slower, still correct). */
  lcore: number;
}

/** Benchmark traffic generator (native/gen.cc), for bench/ only: see bench/README.md. */
export interface GenSpec {
  /** A gen port (genPortCreate): its rx rings receive the frames. */
  portId: number;
  /** The frame without FCS, varied fields zero and checksums valid for those zeros. */
  template: Uint8Array;
  /** Offsets in the frame of the big-endian u32 and u16 varied per flow (within the first 128 bytes). */
  addrOff: number;
  portOff: number;
  /** Checksums adjusted incrementally (RFC 1624): L4 (address, port, stamp), IPv4 header (address). 0: none. */
  l4CsumOff?: number;
  ipCsumOff?: number;
  udp: boolean;
  /** Write the TSC (48 bits) into the last 6 bytes of every frame; the sink builds a latency histogram. */
  stamp?: boolean;
  /** Per flow: the u32, the u16, and the rx queue (ring) of the gen port. Same length. */
  addr: Uint32Array;
  port: Uint16Array;
  queue: Uint8Array;
  /** Frames to send (0 or absent: until genStop). */
  count?: number;
  /** Frames per second; 0 or absent: as fast as the rings take them (back-pressure, no ring loss). */
  pps?: number;
  /** Pseudorandom flow order (RFC 9693 phase 2); otherwise flows 0..N-1 in turn (phase 1). */
  random?: boolean;
  seed?: number;
  /** Pin the generator thread to this CPU. */
  cpu?: number;
}

export interface GenStats {
  /** Frames enqueued to the gen port's rx rings / drained from every gen port's tx rings. */
  sent: number; received: number;
  /** Fixed-rate mode: frames the full rx ring refused (loss, like a NIC's imissed). */
  missed: number; allocFailed: number; ringFull: number;
  /** Since genStart, in ns: first frame generated, last generated, last drained, now. */
  firstTxNs: number; lastTxNs: number; lastRxNs: number; nowNs: number;
  /** Inline mode (net_null gen ports): ns spent making frames inside the shards' rx_burst, all queues, ever. */
  genNs: number;
  generating: boolean;
}

/** Latency histogram buckets (genHistogram) and their width. */
export const GEN_HIST_BUCKETS = 1 << 17;
export const GEN_HIST_NS = 10;

/** Per-shard IP reassembly (native/frag.cc). */
export interface FragLimits {
  /** Datagrams being reassembled at once per shard (default 256; each holds up to 8 fragments). */
  maxFlows: number;
  /** Time a datagram may take from its first fragment to its last, in ms (default 2000). */
  timeoutMs: number;
}

/** fragReassemble's answer (native/frag.h). */
export const enum FragResult {
  HELD = 0,
  REASSEMBLED = 1,
  TABLE_FULL = -1,
  INVALID = -2,
  TOO_BIG = -3,
  NO_BUFFER = -4,
  UNSUPPORTED = -5,
  RING_FULL = -6,
}

export interface NativeAddon {
  /** rte_eal_init once per process; restores the caller's CPU affinity afterwards. */
  ealInit(args: string[]): void;
  ealInitialized(): boolean;
  /** Creates the single-arena mbuf pool used by every port and shard. */
  /** dataRoom: bytes per buffer after the headroom (default RTE_MBUF_DEFAULT_DATAROOM, 2048; 1024-16384). */
  mempoolCreate(nbMbufs: number, dataRoom?: number): void;
  /** rte_dev_probe of a device string (vdev args or PCI address); returns the DPDK port id. */
  portProbe(devargs: string): number;
  /** Configure queues (rx queues may be fewer than shards), MTU, promiscuous; then start. */
  portStart(portId: number, opts: {
    rxQueues: number; txQueues: number; mtu: number; rxDescs?: number; txDescs?: number;
    rxChecksum?: 'auto' | 'device' | 'detect' | 'off'; txChecksum?: 'auto' | 'off';
    /** The kernel interface behind the device ("iface=" of its string): net_af_packet's is prepared (native/kernel-iface.h). */
    iface?: string;
    /** Fixed unicast MAC, set before the port starts (a driver that cannot: NAT64_E_PORT_CONFIG). */
    mac?: string;
  }): void;
  portInfo(portId: number): PortInfo;
  portStats(portId: number): PortStats;
  portSetMtu(portId: number, mtu: number): void;
  portStop(portId: number): void;
  portClose(portId: number): void;
  /**
   * Declare shard `shard` of `shards`: its hand-off ring and the (port, queue) pairs it polls.
   * tx queue used by a shard on a port = shard % txQueues (spinlock when shared).
   */
  shardCreate(shard: number, shards: number, rxQueues: Array<{ portId: number; queue: number }>): void;
  /** Worker side: rte_thread_register, then views over the arena and this shard's burst arrays. */
  shardAttach(shard: number): ShardViews;
  /** Poll the hand-off ring then the shard's rx queues; fills rxDesc; returns the count (<= BURST). */
  rx(shard: number): number;
  /** Apply verdicts[0..n) to the mbufs of the last rx(); transmits, hands off, frees. */
  tx(shard: number, n: number): void;
  /** Send one mbuf (a held one or a fresh one from alloc) now. Returns false if the NIC refused it (freed anyway). */
  send(shard: number, portId: number, mbuf: number, data: number, len: number): boolean;
  /** A fresh mbuf handle (arena offset), or -1 when the pool is empty (counted). */
  alloc(shard: number): number;
  free(shard: number, mbuf: number): void;
  shardStats(shard: number): ShardIoStats;
  /**
   * native/checksum.h over one frame (Ethernet header first), for tests and the fuzzer; no EAL
   * needed. "classify" tells whether the TCP/UDP checksum field holds only the pseudo-header sum;
   * "complete" writes the full checksum, "offload" the pseudo-header sum a TX offload expects; both
   * then classify the result. "none": not a TCP/UDP frame the receive path would look at.
   */
  checksumFrame(frame: Uint8Array, mode: 'classify' | 'complete' | 'offload'): 'partial' | 'complete' | 'none';
  /** Reassembly limits for shard tables created from now on (each shard creates its table on its first fragment). */
  fragConfigure(limits: Partial<FragLimits>): void;
  /**
   * Worker side: hand an IPv4 (family 4) or IPv6 (6) fragment, received by this shard and not yet
   * given a verdict, to the shard's reassembly table. The addon owns the mbuf from now on (give it
   * the HOLD verdict). A completed datagram, copied into one fresh mbuf, comes back through this
   * shard's hand-off ring on a later rx(); an IPv6 one carries an atomic Fragment Header (offset 0,
   * M 0) with the original Identification. Returns a FragResult.
   */
  fragReassemble(shard: number, mbuf: number, family: number): FragResult;
  /** Drops timed-out datagrams; returns how many fragments timeouts freed since the last call. */
  fragExpire(shard: number): number;
  /**
   * madvise(MADV_HUGEPAGE) over the 2 MB-aligned part of a typed array's memory (its own buffer or
   * a SharedArrayBuffer): big randomly-accessed tables then stop missing the TLB. Returns the bytes
   * advised; 0 when nothing could be (never throws for that). Any thread.
   */
  adviseHugePages(view: ArrayBufferView): number;
  /**
   * The flow cache's entry tables and per-burst set list of this shard (flow-cache.ts), for
   * flowPrefetch(). Worker thread of the shard; again after a restart (the new worker's memory).
   */
  flowPrefetchRegister(shard: number, table6: Int32Array, table4: Int32Array, list: Int32Array, ways: number): void;
  /**
   * Non-blocking prefetch (rte_prefetch0) of the `ways` lines of each set list[0..n) names. Fast path:
   * never throws; an unregistered shard or an out-of-range offset is skipped.
   */
  flowPrefetch(shard: number, n: number): void;
  /**
   * The miss path's prefetch (src/dataplane/miss-prefetch.ts): table `table` (< 12) of this shard is
   * `view` (its element size is the unit of the indexes), and the per-burst list of (table, index)
   * pairs. Worker thread of the shard; again after a restart.
   */
  missPrefetchRegister(shard: number, table: number, view: ArrayBufferView): void;
  missPrefetchList(shard: number, list: Int32Array): void;
  /** Non-blocking prefetch of the line of each of the first n listed elements. Fast path: never throws. */
  missPrefetch(shard: number, n: number): void;
  /** Offset of a typed array's first element within its 4 KB page (to align tables on cache lines). */
  pageOffset(view: ArrayBufferView): number;
  /** Stop every port, free rings, rte_eal_cleanup (releases hugepages). Idempotent. */
  shutdown(): void;

  // ---- bench/ only: the traffic generator (native/gen.cc). Stop it (genStop) before shutdown. ----
  /** A ring-backed ethdev named `name` (probe it by that name) with `queues` rx and tx rings. Needs EAL only. */
  genPortCreate(name: string, queues: number, ringSize: number): number;
  /**
   * Inline mode: rx/tx callbacks on every queue of a started port (net_null, rx enabled). A genStart
   * on it makes the shard's own rx() generate (frames of other ports are freed at once); everything
   * the shards transmit on an attached port is counted (and its stamps read) before net_null frees it.
   */
  genAttach(portId: number, queues: number): void;
  /** Zero every mbuf's data room (the generator writes only the first 128 bytes of a frame). */
  genZeroPool(): void;
  /** Start the generator+sink thread. */
  genStart(spec: GenSpec): void;
  /** Stop it and free what waits in the gen ports' tx rings. Idempotent. */
  genStop(): void;
  /** Stop generating; the thread keeps draining (then sent - received is the exact loss). */
  genPause(): void;
  genStats(): GenStats;
  /** Latency histogram since the last call (GEN_HIST_BUCKETS buckets of GEN_HIST_NS ns), then reset. */
  genHistogram(): Uint32Array;
}
