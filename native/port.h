#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <rte_ethdev.h>

namespace nat64 {

struct PortStartOptions {
  uint16_t rxQueues;
  uint16_t txQueues;
  uint16_t mtu;
  uint16_t rxDescs;  // 0: driver default
  uint16_t txDescs;
  // "auto" (by driver, docs/design.md "Checksum offloads"), "device", "detect" or "off".
  std::string rxChecksum = "auto";
  // "auto" (the TX TCP/UDP checksum offloads when the device has both) or "off".
  std::string txChecksum = "auto";
  // "xx:xx:xx:xx:xx:xx" set with rte_eth_dev_default_mac_addr_set before start; "": the driver's own.
  std::string mac;
  // The Linux interface behind the device ("iface=" of its string), "" for none: net_af_packet's
  // is prepared for wire-sized frames (kernel-iface.h).
  std::string iface;
};

struct PortInfoNative {
  uint16_t portId;
  std::string name, driver, mac;
  uint16_t maxRxQueues, maxTxQueues, rxQueues, txQueues, mtu;
  std::string rxChecksum;                          // "device", "detect" or "off": what is in force
  std::vector<std::string> rxOffloads, txOffloads;  // enabled offloads by DPDK's names
  std::vector<std::string> kernel;                  // kernel-iface.h notes (net_af_packet)
  bool linkUp = false;                              // rte_eth_link_get_nowait
  uint32_t linkSpeedMbps = 0;
};

uint16_t portProbe(const std::string &devargs);
void portStart(uint32_t portId, const PortStartOptions &opts);
PortInfoNative portInfo(uint32_t portId);
rte_eth_stats portStats(uint32_t portId);
void portSetMtu(uint32_t portId, uint32_t mtu);
void portStop(uint32_t portId);
void portClose(uint32_t portId);
// shutdown(): stop and close every port this process probed or started.
void portsShutdown();

}  // namespace nat64
