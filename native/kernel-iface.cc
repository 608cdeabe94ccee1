#include "kernel-iface.h"

#include <linux/bpf.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace nat64 {

namespace {

// RAII for the ethtool control socket.
struct Fd {
  int fd;
  explicit Fd(int f) : fd(f) {}
  ~Fd() {
    if (fd >= 0) close(fd);
  }
};

bool ethtool(int sock, const std::string &iface, void *cmd) {
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, iface.c_str(), IFNAMSIZ - 1);
  ifr.ifr_data = static_cast<char *>(cmd);
  return ioctl(sock, SIOCETHTOOL, &ifr) == 0;
}

std::string driverOf(int sock, const std::string &iface) {
  ethtool_drvinfo d{};
  d.cmd = ETHTOOL_GDRVINFO;
  return ethtool(sock, iface, &d) ? std::string(d.driver) : "";
}

// XDP_PASS for every frame: two instructions, r0 = XDP_PASS; exit.
int loadPassProgram() {
  bpf_insn insns[2]{};
  insns[0].code = BPF_ALU64 | BPF_MOV | BPF_K;
  insns[0].dst_reg = BPF_REG_0;
  insns[0].imm = XDP_PASS;
  insns[1].code = BPF_JMP | BPF_EXIT;
  static const char license[] = "GPL";
  bpf_attr a{};
  a.prog_type = BPF_PROG_TYPE_XDP;
  a.insn_cnt = 2;
  a.insns = reinterpret_cast<uint64_t>(insns);
  a.license = reinterpret_cast<uint64_t>(license);
  std::snprintf(a.prog_name, sizeof a.prog_name, "%s", "nat64_veth_pass");
  return static_cast<int>(syscall(SYS_bpf, BPF_PROG_LOAD, &a, sizeof a));
}

int attachXdpLink(int prog, unsigned ifindex) {
  bpf_attr a{};
  a.link_create.prog_fd = static_cast<uint32_t>(prog);
  a.link_create.target_ifindex = ifindex;
  a.link_create.attach_type = BPF_XDP;
  a.link_create.flags = XDP_FLAGS_DRV_MODE;
  return static_cast<int>(syscall(SYS_bpf, BPF_LINK_CREATE, &a, sizeof a));
}

std::string why(const char *what) { return std::string(what) + ": " + std::strerror(errno); }

void groOff(int sock, KernelIface &k) {
  ethtool_value v{};
  v.cmd = ETHTOOL_GGRO;
  if (!ethtool(sock, k.name, &v)) {
    k.notes.push_back(why("gro unknown"));
    return;
  }
  if (v.data == 0) {
    k.notes.push_back("gro off");
    return;
  }
  ethtool_value set{};
  set.cmd = ETHTOOL_SGRO;
  set.data = 0;
  if (!ethtool(sock, k.name, &set)) {
    k.notes.push_back(why("gro still on"));
    return;
  }
  k.groChanged = true;
  k.notes.push_back("gro off (was on)");
}

void lroOff(int sock, KernelIface &k) {
  ethtool_value v{};
  v.cmd = ETHTOOL_GFLAGS;
  if (!ethtool(sock, k.name, &v) || !(v.data & ETH_FLAG_LRO)) return;
  ethtool_value set{};
  set.cmd = ETHTOOL_SFLAGS;
  set.data = v.data & ~static_cast<uint32_t>(ETH_FLAG_LRO);
  if (!ethtool(sock, k.name, &set)) {
    k.notes.push_back(why("lro still on"));
    return;
  }
  k.lroChanged = true;
  k.notes.push_back("lro off (was on)");
}

void vethPeerSegments(KernelIface &k) {
  unsigned ifindex = if_nametoindex(k.name.c_str());
  if (ifindex == 0) {
    k.notes.push_back(why("veth peer may send TSO aggregates (no ifindex)"));
    return;
  }
  int prog = loadPassProgram();
  if (prog < 0) {
    k.notes.push_back(why("veth peer may send TSO aggregates (bpf load)"));
    return;
  }
  k.xdpLink = attachXdpLink(prog, ifindex);
  int err = errno;
  close(prog);  // the link holds the program
  errno = err;
  if (k.xdpLink < 0) {
    k.notes.push_back(why("veth peer may send TSO aggregates (xdp attach)"));
    return;
  }
  k.notes.push_back("veth peer segments (xdp pass)");
}

std::string ipv6Knob(const std::string &iface) { return "/proc/sys/net/ipv6/conf/" + iface + "/disable_ipv6"; }

bool writeKnob(const std::string &path, const char *value) {
  FILE *f = std::fopen(path.c_str(), "w");
  if (!f) return false;
  bool ok = std::fputs(value, f) >= 0;
  return std::fclose(f) == 0 && ok;
}

void kernelIpv6Off(KernelIface &k) {
  FILE *f = std::fopen(ipv6Knob(k.name).c_str(), "r");
  if (!f) return;  // no IPv6 in this kernel or namespace: nothing to turn off
  int c = std::fgetc(f);
  std::fclose(f);
  if (c != '0') return;
  if (!writeKnob(ipv6Knob(k.name), "1")) {
    k.notes.push_back(why("kernel ipv6 still on"));
    return;
  }
  k.ipv6Changed = true;
  k.notes.push_back("kernel ipv6 off");
}

}  // namespace

void kernelIfacePrepare(KernelIface &k) {
  Fd sock(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (sock.fd < 0) {
    k.notes.push_back(why("no ethtool socket"));
    return;
  }
  groOff(sock.fd, k);
  lroOff(sock.fd, k);
  kernelIpv6Off(k);
  if (driverOf(sock.fd, k.name) == "veth") vethPeerSegments(k);
}

void kernelIfaceRelease(KernelIface &k) {
  if (k.xdpLink >= 0) close(k.xdpLink);  // detaches the program
  k.xdpLink = -1;
  Fd sock(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (sock.fd >= 0 && k.groChanged) {
    ethtool_value set{};
    set.cmd = ETHTOOL_SGRO;
    set.data = 1;
    ethtool(sock.fd, k.name, &set);
  }
  if (sock.fd >= 0 && k.lroChanged) {
    ethtool_value v{};
    v.cmd = ETHTOOL_GFLAGS;
    if (ethtool(sock.fd, k.name, &v)) {
      v.cmd = ETHTOOL_SFLAGS;
      v.data |= ETH_FLAG_LRO;
      ethtool(sock.fd, k.name, &v);
    }
  }
  if (k.ipv6Changed) writeKnob(ipv6Knob(k.name), "0");
  k.groChanged = false;
  k.lroChanged = false;
  k.ipv6Changed = false;
  k.notes.clear();
}

}  // namespace nat64
