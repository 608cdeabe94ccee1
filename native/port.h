#pragma once

#include <cstdint>
#include <string>

#include <rte_ethdev.h>

namespace nat64 {

struct PortStartOptions {
  uint16_t rxQueues;
  uint16_t txQueues;
  uint16_t mtu;
  uint16_t rxDescs;  // 0: driver default
  uint16_t txDescs;
};

struct PortInfoNative {
  uint16_t portId;
  std::string name, driver, mac;
  uint16_t maxRxQueues, maxTxQueues, rxQueues, txQueues, mtu;
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
