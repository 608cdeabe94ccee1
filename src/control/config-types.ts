import type { SyncConfig } from './sync/config';

/**
 * The daemon's configuration file, as parsed and validated (see config/nat64.example.json).
 * Field names in the file are the contract of DESIGN.md; these are their validated forms.
 */
export interface RouteConfig { prefix: string; via: string }
export interface NeighborConfig { address: string; mac: string }

export interface PortConfig {
  /** Operator's name for the port ("v6", "v4"): used by `nat64 port` and in stats. */
  name: string;
  /** DPDK device string: a PCI address or vdev args such as "net_af_packet0,iface=eth0". */
  device: string;
  /**
   * Fixed MAC ("02:00:00:00:00:01"), set before the port starts so that testers' files stay valid
   * across restarts; absent: the driver's (memif and tap make a random one at every start).
   */
  mac?: string;
  /** Interface addresses with prefix length ("2001:db8::1/96", "203.0.113.1/24"). */
  addresses: string[];
  /**
   * Addresses that move between translators (docs/ha.md): same form as `addresses`, but the port
   * answers ARP/ND and pings for them only while it holds them (`nat64 port claim`, from
   * Keepalived's notify hook). Released at start. A pool4 address listed here is answered likewise.
   */
  virtualAddresses?: string[];
  routes: RouteConfig[];
  mtu: number;
  neighbors: NeighborConfig[];
  /**
   * TCP/UDP checksums of received frames (docs/design.md "Checksum offloads"): "auto" (default: by
   * driver), "device" (the PMD's RX checksum offload flags), "detect" (partial sums recognised in
   * software) or "off" (frames carry complete checksums).
   */
  rxChecksum: RxChecksumMode;
  /** "auto" (default: the device's TX TCP/UDP checksum offload finishes partial frames when it has one) or "off". */
  txChecksum: TxChecksumMode;
}

export const RX_CHECKSUM_MODES = ['auto', 'device', 'detect', 'off'] as const;
export type RxChecksumMode = (typeof RX_CHECKSUM_MODES)[number];
export const TX_CHECKSUM_MODES = ['auto', 'off'] as const;
export type TxChecksumMode = (typeof TX_CHECKSUM_MODES)[number];

/**
 * Default bytes per packet buffer: a 4096-byte EDNS DNS answer that arrives fragmented still
 * reassembles into one buffer with its headers (the arena view needs single-segment packets).
 * 16383 buffers use ~88 MB.
 */
export const DEFAULT_MBUF_DATA_ROOM = 5120;

export interface DataplaneConfig {
  eal: string[];
  shards: number;
  ports: PortConfig[];
  /** mbufs in the single packet pool (default 16383). */
  mbufs: number;
  /**
   * Bytes of packet per buffer (default 5120, 1024-16384). A packet always fits one buffer, so this
   * bounds the port MTU and the largest datagram reassembled from fragments.
   */
  mbufDataRoom?: number;
  /** Per-shard table capacity (sessions; BIB entries likewise). */
  sessionsPerShard: number;
  /**
   * Flow-cache entries per shard and direction (64 bytes each), rounded up to a power of two;
   * 0 turns the cache off. Default: 4 per session slot, at most 2^21 (flow-cache.ts).
   */
  flowCacheEntries?: number;
  /** ICMP errors the translator originates, per shard and second (RFC 4443 §2.4(f)); 0: no limit. Default 1000. */
  icmpErrorsPerSecond?: number;
  /** Token bucket size of that limit (errors sent back to back). Default 50. */
  icmpErrorBurst?: number;
  /** Datagrams being reassembled at once, per shard (each up to 8 fragments). Default 256. */
  reassemblyDatagrams?: number;
  /** Time a fragmented datagram may take to complete, in ms. Default 2000. */
  reassemblyTimeoutMs?: number;
}

/** One instance as written in Jool's atomic configuration format (validated, still textual). */
export interface InstanceFileConfig {
  instance: string;
  framework: 'netfilter' | 'iptables';
  global: Record<string, unknown>;
  pool4: Array<{ mark?: number; protocol: 'TCP' | 'UDP' | 'ICMP'; prefix: string; 'port range'?: string; 'max-iterations'?: number | 'auto' | 'infinity'; standby?: boolean }>;
  bib: Array<{ protocol: 'TCP' | 'UDP' | 'ICMP'; 'ipv6 address': string; 'ipv4 address': string }>;
}

/** Control socket settings (optional section; added by the control plane, additive). */
export interface ControlConfig {
  /** Socket path (default /run/nat64/nat64.sock; --socket and NAT64_SOCKET take precedence). */
  socket?: string;
  /** Group allowed to use the socket (mode 0660 instead of 0600): name or gid. */
  group?: string | number;
  /** Prometheus endpoint listen address ("127.0.0.1:9464"); none: no metrics (--metrics overrides). */
  metrics?: string;
}

export interface DaemonConfig {
  dataplane: DataplaneConfig;
  instances: InstanceFileConfig[];
  control?: ControlConfig;
  /** Session synchronisation link (docs/session-sync.md); absent: no sync socket. */
  sync?: SyncConfig;
}
