#!/bin/sh
# Keepalived notify hook for nat64 (docs/ha.md): VRRP runs on a management link, but the addresses
# that move live on DPDK ports that the kernel (and so Keepalived) cannot touch. This script tells
# the daemon instead: MASTER claims every virtual address of dataplane.ports[].virtualAddresses
# (the daemon answers ARP/ND for them and sends gratuitous ARP / unsolicited NA at once); BACKUP,
# FAULT and STOP release them. It records the state for nat64-vrrp-check.sh, which re-claims the
# addresses if the daemon restarts while this node stays MASTER; both hold a lock on the state file
# so that a check never acts on a state this hook is changing.
#
# keepalived.conf:   notify "/etc/nat64/keepalived/nat64-notify.sh [--socket PATH] [--bin PATH] [--state-file PATH]"
# Keepalived appends: TYPE NAME STATE PRIORITY  (e.g. INSTANCE nat64 MASTER 150)
set -u
bin=${NAT64_BIN:-nat64}
socket=${NAT64_SOCKET:-/run/nat64/nat64.sock}
state_file=/run/nat64/vrrp-state
while [ $# -gt 0 ]; do
  case "$1" in
    --socket) socket=$2; shift 2 ;;
    --bin) bin=$2; shift 2 ;;
    --state-file) state_file=$2; shift 2 ;;
    *) break ;;
  esac
done
[ $# -ge 3 ] || { echo "usage: $0 [--socket PATH] [--bin PATH] [--state-file PATH] TYPE NAME STATE [PRIORITY]" >&2; exit 2; }
state=$3
case "$state" in
  MASTER) verb=claim ;;
  BACKUP|FAULT|STOP) verb=release ;;
  *) exit 0 ;;   # DELETED and anything newer: nothing to do
esac
exec 9>>"$state_file.lock"
flock 9
echo "$state" > "$state_file"
# One line in the journal per transition, whatever the outcome (Keepalived ignores our status).
out=$("$bin" port "$verb" --socket "$socket" 2>&1); rc=$?
logger -t nat64-notify "$1 $2 $state: nat64 port $verb: rc=$rc $(echo "$out" | tr '\n' ' ')" 2>/dev/null || true
exit $rc
