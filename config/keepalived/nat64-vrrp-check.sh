#!/bin/sh
# Keepalived track script for nat64 (docs/ha.md). Healthy = `nat64 health` passes: the daemon
# answers, its instance runs, its shard loops are alive and its links are up. While this node is
# MASTER (as nat64-notify.sh recorded), it also makes sure the daemon holds the virtual addresses:
# a daemon restarted under a MASTER Keepalived (systemd Restart=) comes back holding none, and
# Keepalived sends no new notification while its own state does not change. The claim is a no-op
# (nothing announced) while they are held.
#
# keepalived.conf:   vrrp_script nat64_health { script "/etc/nat64/keepalived/nat64-vrrp-check.sh [--socket PATH] [--bin PATH] [--state-file PATH]" ... }
set -u
bin=${NAT64_BIN:-nat64}
socket=${NAT64_SOCKET:-/run/nat64/nat64.sock}
state_file=/run/nat64/vrrp-state
while [ $# -gt 0 ]; do
  case "$1" in
    --socket) socket=$2; shift 2 ;;
    --bin) bin=$2; shift 2 ;;
    --state-file) state_file=$2; shift 2 ;;
    *) echo "usage: $0 [--socket PATH] [--bin PATH] [--state-file PATH]" >&2; exit 2 ;;
  esac
done
"$bin" health --quiet --timeout 2000 --socket "$socket" || exit 1
exec 9>>"$state_file.lock"
flock 9
if [ "$(cat "$state_file" 2>/dev/null)" = MASTER ]; then
  "$bin" port claim --socket "$socket" >/dev/null 2>&1 || true
fi
exit 0
