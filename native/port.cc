#include "port.h"

#include <cstdio>

#include <unistd.h>

#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_errno.h>
#include <rte_ether.h>

#include "errors.h"
#include "state.h"

namespace nat64 {

namespace {

std::string portLabel(uint32_t portId) { return "port " + std::to_string(portId); }

rte_eth_dev_info devInfo(uint16_t portId) {
  rte_eth_dev_info info;
  int ret = rte_eth_dev_info_get(portId, &info);
  if (ret != 0) failDpdk(code::kPortConfig, "rte_eth_dev_info_get", ret, portLabel(portId));
  return info;
}

// The largest MTU whose frame (with one VLAN tag) fits one mbuf's data room after the headroom:
// rx offloads are off, so a bigger frame would arrive as a chain the shards cannot see.
uint32_t maxMtuForPool() {
  const Arena &a = state().arena;
  return a.bufLen - RTE_PKTMBUF_HEADROOM - RTE_ETHER_HDR_LEN - RTE_ETHER_CRC_LEN - 4;
}

void checkMtu(uint16_t portId, uint32_t mtu, const rte_eth_dev_info &info) {
  if (mtu < RTE_ETHER_MIN_MTU || mtu > maxMtuForPool())
    fail(code::kArg, portLabel(portId) + ": MTU " + std::to_string(mtu) + " outside " +
                         std::to_string(RTE_ETHER_MIN_MTU) + ".." + std::to_string(maxMtuForPool()) +
                         " (one mbuf per frame)");
  if (mtu < info.min_mtu || mtu > info.max_mtu)
    fail(code::kArg, portLabel(portId) + ": MTU " + std::to_string(mtu) + " outside the device's " +
                         std::to_string(info.min_mtu) + ".." + std::to_string(info.max_mtu));
}

// Sets the MTU; a driver without mtu_set (-ENOTSUP, most vdevs) keeps what configure gave it.
// Returns false in that case so the caller can decide whether that is acceptable.
bool applyMtu(uint16_t portId, uint16_t mtu) {
  int ret = rte_eth_dev_set_mtu(portId, mtu);
  if (ret == -ENOTSUP) return false;
  if (ret != 0) failDpdk(code::kPortConfig, "rte_eth_dev_set_mtu", ret, portLabel(portId) + ", mtu " + std::to_string(mtu));
  return true;
}

// Drivers whose receive path loses the kernel's CHECKSUM_PARTIAL mark (read in DPDK 22.11's
// sources: af_packet never looks at TP_STATUS_CSUMNOTREADY, AF_XDP has no checksum metadata).
bool dropsPartialMark(const std::string &driver) {
  return driver == "net_af_packet" || driver == "net_af_xdp";
}

// Drivers whose "RX checksum offload" is a full software verification in the PMD, for frames
// whose checksums are already complete (the tun kernel side finishes partial sums for a device
// without TUNSETOFFLOAD, which net_tap never sets): it would only cost time.
bool emulatesRxChecksum(const std::string &driver) { return driver == "net_tap"; }

constexpr uint64_t kRxL4 = RTE_ETH_RX_OFFLOAD_TCP_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM;
constexpr uint64_t kTxL4 = RTE_ETH_TX_OFFLOAD_TCP_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM;

RxChecksum rxChecksumMode(uint16_t portId, const std::string &want, const rte_eth_dev_info &info) {
  const std::string driver = info.driver_name ? info.driver_name : "";
  bool device = (info.rx_offload_capa & kRxL4) == kRxL4;
  if (want == "off") return RxChecksum::kOff;
  if (want == "detect") return RxChecksum::kDetect;
  if (want == "device") {
    if (!device)
      fail(code::kArg, portLabel(portId) + " (" + driver + "): rxChecksum \"device\" needs TCP and UDP receive checksum offload, which the driver does not offer (use \"auto\" or \"detect\")");
    return RxChecksum::kDevice;
  }
  if (want != "auto") fail(code::kArg, portLabel(portId) + ": rxChecksum must be auto, device, detect or off, not \"" + want + "\"");
  if (device && !emulatesRxChecksum(driver)) return RxChecksum::kDevice;
  return dropsPartialMark(driver) ? RxChecksum::kDetect : RxChecksum::kOff;
}

bool txL4Mode(uint16_t portId, const std::string &want, const rte_eth_dev_info &info) {
  if (want == "off") return false;
  if (want != "auto") fail(code::kArg, portLabel(portId) + ": txChecksum must be auto or off, not \"" + want + "\"");
  return (info.tx_offload_capa & kTxL4) == kTxL4;
}

// A fixed MAC (dataplane.ports[].mac) keeps testers' files valid across restarts. DPDK 22.11:
// null, tap, virtio_user and af_packet (which sets the kernel interface's MAC) have mac_addr_set;
// memif has none but takes a "mac=" device argument (src/control/config.ts adds it); pcap and ring
// have neither, and are refused by name.
void applyMac(uint16_t portId, const std::string &text, const std::string &driver) {
  rte_ether_addr mac, now{};
  if (rte_ether_unformat_addr(text.c_str(), &mac) != 0 || !rte_is_unicast_ether_addr(&mac) || rte_is_zero_ether_addr(&mac))
    fail(code::kArg, portLabel(portId) + " (" + driver + "): mac \"" + text + "\" is not a unicast MAC address");
  if (rte_eth_macaddr_get(portId, &now) == 0 && rte_is_same_ether_addr(&now, &mac)) return;
  int ret = rte_eth_dev_default_mac_addr_set(portId, &mac);
  if (ret != 0)
    failDpdk(code::kPortConfig, "rte_eth_dev_default_mac_addr_set", ret,
             portLabel(portId) + " (" + driver + ") refuses the configured mac " + text + ": remove dataplane.ports[].mac for this driver");
}

void refreshMinMtu() {
  State &s = state();
  uint32_t m = UINT32_MAX;
  for (uint16_t id = 0; id < RTE_MAX_ETHPORTS; id++)
    if (s.ports[id].started.load() && s.ports[id].mtu < m) m = s.ports[id].mtu;
  s.minMtu.store(m == UINT32_MAX ? 0 : m);
}

template <typename NameOf>
std::vector<std::string> offloadNames(uint64_t mask, NameOf nameOf) {
  std::vector<std::string> names;
  for (int bit = 0; bit < 64; bit++)
    if (mask & (1ULL << bit)) names.emplace_back(nameOf(1ULL << bit));
  return names;
}

}  // namespace

Port &requirePort(uint32_t portId) {
  requireReady();
  if (portId >= RTE_MAX_ETHPORTS || !rte_eth_dev_is_valid_port(static_cast<uint16_t>(portId)))
    fail(code::kArg, "no DPDK port " + std::to_string(portId));
  return state().ports[portId];
}

uint16_t portProbe(const std::string &devargs) {
  requireReady();
  if (devargs.empty()) fail(code::kArg, "portProbe: empty device string");
  // The ethdev is named after the device: the text before the first comma of the devargs.
  std::string name = devargs.substr(0, devargs.find(','));
  uint16_t portId;
  // Already created by an EAL --vdev/-a argument, or probed before: find it instead of failing.
  if (rte_eth_dev_get_port_by_name(name.c_str(), &portId) != 0) {
    int ret = rte_dev_probe(devargs.c_str());
    if (ret != 0) failDpdk(code::kPortProbe, "rte_dev_probe", ret, devargs);
    ret = rte_eth_dev_get_port_by_name(name.c_str(), &portId);
    if (ret != 0) failDpdk(code::kPortProbe, "rte_eth_dev_get_port_by_name", ret, name + " (probed, but no ethdev of that name)");
  }
  state().ports[portId].probed = true;
  return portId;
}

void portStart(uint32_t portId, const PortStartOptions &o) {
  Port &p = requirePort(portId);
  requireArena();
  if (p.started.load()) fail(code::kState, portLabel(portId) + " is already started");
  uint16_t id = static_cast<uint16_t>(portId);
  rte_eth_dev_info info = devInfo(id);
  if (o.rxQueues == 0 || o.rxQueues > info.max_rx_queues)
    fail(code::kArg, portLabel(portId) + ": rxQueues " + std::to_string(o.rxQueues) + " outside 1.." + std::to_string(info.max_rx_queues));
  if (o.txQueues == 0 || o.txQueues > info.max_tx_queues)
    fail(code::kArg, portLabel(portId) + ": txQueues " + std::to_string(o.txQueues) + " outside 1.." + std::to_string(info.max_tx_queues));
  checkMtu(id, o.mtu, info);

  // AF_XDP's umem is the mbuf pool itself, one chunk per mbuf, and the kernel takes chunks of at
  // most a page (xdp_umem_reg): the PMD's own error is only "Failed to create umem".
  const std::string driver = info.driver_name ? info.driver_name : "";
  if (driver == "net_af_xdp" && state().arena.stride > static_cast<size_t>(sysconf(_SC_PAGESIZE)))
    fail(code::kArg, portLabel(portId) + " (net_af_xdp): packet buffers of " + std::to_string(state().arena.stride) +
                         " bytes do not fit the kernel's AF_XDP chunks of " + std::to_string(sysconf(_SC_PAGESIZE)) +
                         " bytes: set dataplane.mbufDataRoom to 2048");
  RxChecksum rxMode = rxChecksumMode(id, o.rxChecksum, info);
  bool txL4 = txL4Mode(id, o.txChecksum, info);

  rte_eth_conf conf{};
  conf.rxmode.mtu = o.mtu;
  if (rxMode == RxChecksum::kDevice) conf.rxmode.offloads |= kRxL4;
  if (txL4) conf.txmode.offloads |= kTxL4;
  // RSS spreads flows over the queues; shards hand packets to their owner when the hash disagrees.
  uint64_t rss = (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP) & info.flow_type_rss_offloads;
  if (o.rxQueues > 1 && rss != 0) {
    conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
    conf.rx_adv_conf.rss_conf.rss_hf = rss;
  }
  int ret = rte_eth_dev_configure(id, o.rxQueues, o.txQueues, &conf);
  if (ret != 0) failDpdk(code::kPortConfig, "rte_eth_dev_configure", ret, portLabel(portId));
  // Tolerated when unsupported: portInfo().mtu then reports what the device really has.
  applyMtu(id, o.mtu);

  uint16_t nrx = o.rxDescs ? o.rxDescs : 1024, ntx = o.txDescs ? o.txDescs : 1024;
  ret = rte_eth_dev_adjust_nb_rx_tx_desc(id, &nrx, &ntx);
  if (ret != 0) failDpdk(code::kPortConfig, "rte_eth_dev_adjust_nb_rx_tx_desc", ret, portLabel(portId));
  int socket = rte_eth_dev_socket_id(id);
  if (socket < 0) socket = SOCKET_ID_ANY;
  for (uint16_t q = 0; q < o.rxQueues; q++) {
    ret = rte_eth_rx_queue_setup(id, q, nrx, socket, nullptr, state().arena.pool);
    if (ret != 0) failDpdk(code::kPortConfig, "rte_eth_rx_queue_setup", ret, portLabel(portId) + " queue " + std::to_string(q));
  }
  for (uint16_t q = 0; q < o.txQueues; q++) {
    ret = rte_eth_tx_queue_setup(id, q, ntx, socket, nullptr);
    if (ret != 0) failDpdk(code::kPortConfig, "rte_eth_tx_queue_setup", ret, portLabel(portId) + " queue " + std::to_string(q));
  }
  p.txLocks.reset(new rte_spinlock_t[o.txQueues]);
  for (uint16_t q = 0; q < o.txQueues; q++) rte_spinlock_init(&p.txLocks[q]);
  p.rxQueues = o.rxQueues;
  p.txQueues = o.txQueues;
  p.mtu = o.mtu;
  p.rxChecksum = rxMode;
  p.txL4Offload = txL4;
  p.rxOffloads = conf.rxmode.offloads;
  p.txOffloads = conf.txmode.offloads;

  if (!o.mac.empty()) applyMac(id, o.mac, driver);

  ret = rte_eth_dev_start(id);
  if (ret != 0) failDpdk(code::kPortConfig, "rte_eth_dev_start", ret, portLabel(portId));
  // The translator owns the link's addresses (ARP/ND for pool4): it must see every frame.
  ret = rte_eth_promiscuous_enable(id);
  if (ret != 0 && ret != -ENOTSUP) {
    rte_eth_dev_stop(id);
    failDpdk(code::kPortConfig, "rte_eth_promiscuous_enable", ret, portLabel(portId));
  }
  p.probed = true;
  p.started.store(true);
  refreshMinMtu();
  if (driver == "net_af_packet" && !o.iface.empty()) {
    p.kernel.name = o.iface;
    kernelIfacePrepare(p.kernel);
    packetRingsFind(p.rings, o.iface);
  }
}

PortInfoNative portInfo(uint32_t portId) {
  Port &p = requirePort(portId);
  uint16_t id = static_cast<uint16_t>(portId);
  rte_eth_dev_info info = devInfo(id);
  PortInfoNative r;
  r.portId = id;
  char name[RTE_ETH_NAME_MAX_LEN];
  r.name = rte_eth_dev_get_name_by_port(id, name) == 0 ? name : "";
  r.driver = info.driver_name ? info.driver_name : "";
  rte_ether_addr mac{};
  rte_eth_macaddr_get(id, &mac);
  char macText[RTE_ETHER_ADDR_FMT_SIZE];
  std::snprintf(macText, sizeof macText, "%02x:%02x:%02x:%02x:%02x:%02x", mac.addr_bytes[0], mac.addr_bytes[1],
                mac.addr_bytes[2], mac.addr_bytes[3], mac.addr_bytes[4], mac.addr_bytes[5]);
  r.mac = macText;
  r.maxRxQueues = info.max_rx_queues;
  r.maxTxQueues = info.max_tx_queues;
  r.rxQueues = p.rxQueues;
  r.txQueues = p.txQueues;
  uint16_t mtu = 0;
  int ret = rte_eth_dev_get_mtu(id, &mtu);
  if (ret != 0) failDpdk(code::kPortConfig, "rte_eth_dev_get_mtu", ret, portLabel(portId));
  r.mtu = mtu;
  r.rxChecksum = p.rxChecksum == RxChecksum::kDevice ? "device" : p.rxChecksum == RxChecksum::kDetect ? "detect" : "off";
  r.rxOffloads = offloadNames(p.rxOffloads, rte_eth_dev_rx_offload_name);
  r.txOffloads = offloadNames(p.txOffloads, rte_eth_dev_tx_offload_name);
  r.kernel = p.kernel.notes;
  // A device can start and still be down: net_virtio_user whose vhost-user back end refused it
  // (e.g. too many memory regions) starts "successfully"; the link says the truth.
  rte_eth_link link{};
  if (p.started.load() && rte_eth_link_get_nowait(id, &link) == 0) {
    r.linkUp = link.link_status == RTE_ETH_LINK_UP;
    r.linkSpeedMbps = link.link_speed == RTE_ETH_SPEED_NUM_UNKNOWN ? 0 : link.link_speed;
  }
  return r;
}

rte_eth_stats portStats(uint32_t portId) {
  Port &p = requirePort(portId);
  rte_eth_stats st{};
  int ret = rte_eth_stats_get(static_cast<uint16_t>(portId), &st);
  if (ret != 0) failDpdk(code::kPortConfig, "rte_eth_stats_get", ret, portLabel(portId));
  // net_af_packet: frames its kernel rings dropped, which the PMD does not count (packet-rings.h).
  st.imissed += packetRingsDrops(p.rings);
  return st;
}

void portSetMtu(uint32_t portId, uint32_t mtu) {
  requirePort(portId);
  requireArena();
  uint16_t id = static_cast<uint16_t>(portId);
  checkMtu(id, mtu, devInfo(id));
  if (!applyMtu(id, static_cast<uint16_t>(mtu))) {
    // An explicit change the device cannot make is the operator's business, unless it is a no-op.
    uint16_t now = 0;
    if (rte_eth_dev_get_mtu(id, &now) != 0 || now != mtu)
      failDpdk(code::kPortConfig, "rte_eth_dev_set_mtu", -ENOTSUP, portLabel(portId) + ", mtu " + std::to_string(mtu));
  }
  state().ports[id].mtu = static_cast<uint16_t>(mtu);
  refreshMinMtu();
}

void portStop(uint32_t portId) {
  Port &p = requirePort(portId);
  if (!p.started.load()) return;
  // Shards check `started` before every rx/tx burst; clear it first so they leave the port alone.
  p.started.store(false);
  refreshMinMtu();
  packetRingsForget(p.rings);  // the PMD closes its sockets on stop; their drops stay counted
  int ret = rte_eth_dev_stop(static_cast<uint16_t>(portId));
  if (ret != 0) failDpdk(code::kPortConfig, "rte_eth_dev_stop", ret, portLabel(portId));
}

void portClose(uint32_t portId) {
  Port &p = requirePort(portId);
  if (p.started.load()) portStop(portId);
  uint16_t id = static_cast<uint16_t>(portId);
  rte_eth_dev_info info{};
  rte_device *dev = rte_eth_dev_info_get(id, &info) == 0 ? info.device : nullptr;
  int ret = rte_eth_dev_close(id);
  if (ret != 0) failDpdk(code::kPortConfig, "rte_eth_dev_close", ret, portLabel(portId));
  // Closing frees the ethdev but the vdev stays probed; removing it lets the same devargs be
  // probed again (a port re-added by configuration). A bus that cannot unplug keeps it: harmless.
  if (dev) rte_dev_remove(dev);
  p.probed = false;
  p.rxQueues = p.txQueues = 0;
  p.txLocks.reset();
  kernelIfaceRelease(p.kernel);
}

void portsShutdown() {
  State &s = state();
  for (uint16_t id = 0; id < RTE_MAX_ETHPORTS; id++) {
    // Every port of the process, also those an EAL --vdev argument created: nothing else owns them.
    Port &p = s.ports[id];
    if (!rte_eth_dev_is_valid_port(id)) continue;
    p.started.store(false);
    packetRingsForget(p.rings);
    rte_eth_dev_stop(id);
    rte_eth_dev_info info{};
    rte_device *dev = rte_eth_dev_info_get(id, &info) == 0 ? info.device : nullptr;
    rte_eth_dev_close(id);
    // Removing the device frees what its driver allocated (net_ring's rings): memory still in use
    // at rte_eal_cleanup keeps its hugepage file on hugetlbfs.
    if (dev) rte_dev_remove(dev);
    p.probed = false;
    p.rxQueues = p.txQueues = 0;
    p.txLocks.reset();
    kernelIfaceRelease(p.kernel);
  }
}

}  // namespace nat64
