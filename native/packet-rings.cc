#include "packet-rings.h"

#include <dirent.h>
#include <net/if.h>
#include <sys/socket.h>
#include <linux/if_packet.h>

#include <cstdlib>

namespace nat64 {

namespace {

// An AF_PACKET socket bound to ifindex (the check is repeated at every read: a descriptor number
// can be reused once the PMD closes its socket).
bool isPacketSocketOn(int fd, unsigned ifindex) {
  int domain = 0;
  socklen_t len = sizeof domain;
  if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) != 0 || domain != AF_PACKET) return false;
  sockaddr_ll sll{};
  len = sizeof sll;
  if (getsockname(fd, reinterpret_cast<sockaddr *>(&sll), &len) != 0) return false;
  return sll.sll_family == AF_PACKET && static_cast<unsigned>(sll.sll_ifindex) == ifindex;
}

// tp_drops since the last read (the kernel resets both fields on read); -1: not readable.
int64_t readDrops(int fd) {
  tpacket_stats st{};
  socklen_t len = sizeof st;
  if (getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) != 0) return -1;
  return st.tp_drops;
}

}  // namespace

void packetRingsFind(PacketRings &r, const std::string &iface) {
  r.fds.clear();
  r.ifindex = if_nametoindex(iface.c_str());
  if (r.ifindex == 0) return;
  DIR *d = opendir("/proc/self/fd");
  if (!d) return;
  const int self = dirfd(d);
  while (dirent *e = readdir(d)) {
    char *end = nullptr;
    long fd = std::strtol(e->d_name, &end, 10);
    if (end == e->d_name || *end != '\0' || fd == self) continue;
    if (!isPacketSocketOn(static_cast<int>(fd), r.ifindex)) continue;
    readDrops(static_cast<int>(fd));  // what the kernel counted before the port started is not ours
    r.fds.push_back(static_cast<int>(fd));
  }
  closedir(d);
}

uint64_t packetRingsDrops(PacketRings &r) {
  for (size_t i = 0; i < r.fds.size();) {
    int64_t n = isPacketSocketOn(r.fds[i], r.ifindex) ? readDrops(r.fds[i]) : -1;
    if (n < 0) {
      r.fds.erase(r.fds.begin() + static_cast<std::ptrdiff_t>(i));
      continue;
    }
    r.drops += static_cast<uint64_t>(n);
    i++;
  }
  return r.drops;
}

void packetRingsForget(PacketRings &r) {
  packetRingsDrops(r);
  r.fds.clear();
}

}  // namespace nat64
