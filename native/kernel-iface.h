// The Linux side of a kernel-backed port (net_af_packet on an interface the daemon owns).
//
// A packet socket sees what the kernel hands to the interface's taps, and that is not always a
// wire frame: GRO/LRO merge received TCP segments into one "super-packet", and a veth peer whose
// sender uses TSO/GSO passes segments of up to 64 KB unsplit. DPDK's af_packet PMD copies at most
// `framesz` bytes of such a frame, so the translator would see a truncated packet (or one larger
// than any MTU) and TCP downloads would stall. The daemon therefore makes its own interface
// deliver wire-sized frames, and undoes it when the port closes:
// - GRO and LRO off on the interface (ethtool), restored on close;
// - on a veth, a native XDP program that passes every frame, attached through a BPF link: a veth
//   whose peer has an XDP program stops offering TSO/GSO (drivers/net/veth.c, veth_fix_features),
//   so the peer's stack segments before sending. The link is owned by a file descriptor: it goes
//   away with the port, or with the process if it dies;
// - the kernel's IPv6 off on the interface (restored on close): the translator owns the link's
//   addresses and answers Neighbour Discovery itself; the kernel would otherwise run DAD, send
//   Router and Multicast Listener messages and answer for a link-local address from the same MAC.
#pragma once

#include <string>
#include <vector>

namespace nat64 {

struct KernelIface {
  std::string name;
  int xdpLink = -1;
  // What prepare() turned off and release() turns back on.
  bool groChanged = false;
  bool lroChanged = false;
  bool ipv6Changed = false;
  // What was done, or why it could not be ("gro off", "veth peer segments (xdp)", ...): port display.
  std::vector<std::string> notes;
};

// Never throws: a step that fails is recorded in notes (the port still works, with aggregates
// counted as truncated frames).
void kernelIfacePrepare(KernelIface &k);
void kernelIfaceRelease(KernelIface &k);

}  // namespace nat64
