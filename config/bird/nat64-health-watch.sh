#!/bin/sh
# Withdraw a translator's BGP routes while its daemon is unhealthy (docs/ha.md). Runs beside BIRD
# on each translator: every INTERVAL seconds it asks `nat64 health`; after FALL failures in a row it
# disables BIRD's static protocols (BIRD withdraws their routes at once), after RISE successes it
# enables them again. Nothing is announced until the daemon has been healthy RISE times.
#
# usage: nat64-health-watch.sh [--bin PATH] [--socket PATH] [--birdc-socket PATH]
#                              [--interval S] [--fall N] [--rise N] PROTOCOL...
#   e.g. nat64-health-watch.sh nat64_pool6 nat64_pool4 nat64_pool4_backup
set -u
bin=${NAT64_BIN:-nat64}
socket=${NAT64_SOCKET:-/run/nat64/nat64.sock}
bsock=/run/bird/bird.ctl
interval=1; fall=2; rise=2
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) bin=$2; shift 2 ;;
    --socket) socket=$2; shift 2 ;;
    --birdc-socket) bsock=$2; shift 2 ;;
    --interval) interval=$2; shift 2 ;;
    --fall) fall=$2; shift 2 ;;
    --rise) rise=$2; shift 2 ;;
    *) break ;;
  esac
done
[ $# -ge 1 ] || { echo "usage: $0 [options] PROTOCOL..." >&2; exit 2; }
state=disable; ok=0; bad=0
while :; do
  if "$bin" health --quiet --timeout 2000 --socket "$socket"; then ok=$((ok + 1)); bad=0; else bad=$((bad + 1)); ok=0; fi
  want=$state
  [ "$ok" -ge "$rise" ] && want=enable
  [ "$bad" -ge "$fall" ] && want=disable
  if [ "$want" != "$state" ]; then
    for p in "$@"; do birdc -s "$bsock" "$want" "$p" >/dev/null; done
    echo "nat64-health-watch: $want $* ($([ "$want" = enable ] && echo healthy || echo unhealthy))"
    logger -t nat64-health-watch "$want $*" 2>/dev/null || true
    state=$want
  fi
  sleep "$interval"
done
