#!/usr/bin/env bash
# Set up a fresh Debian 12 machine for nat64: system packages (DPDK and the tools the demo and the
# tests use), 2 MB hugepages, npm dependencies, and the native + TypeScript build. Idempotent.
# Needs root (apt, hugepages, namespaces). Usage: scripts/setup.sh [--no-apt]
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(libdpdk-dev dpdk dpdk-dev pkg-config build-essential python3 iproute2 iputils-ping curl procps ethtool librsvg2-bin keepalived bird2)

if [[ "${1:-}" != "--no-apt" ]]; then
  missing=()
  for p in "${PACKAGES[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p"); done
  if ((${#missing[@]})); then
    echo "setup: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

# Hugepages: DPDK runs without them (--no-huge, chosen automatically), but faster with them.
want=256
hp=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
if [[ -w $hp ]] && (( $(cat $hp) < want )); then echo $want > $hp || true; fi
if ! grep -qs 'hugetlbfs /dev/hugepages' /proc/mounts; then
  mkdir -p /dev/hugepages && mount -t hugetlbfs nodev /dev/hugepages 2>/dev/null || echo "setup: hugetlbfs not mounted; DPDK will use --no-huge"
fi
echo "setup: hugepages $(cat $hp 2>/dev/null || echo 0) x 2 MB"

if [[ -f package-lock.json ]]; then npm ci --no-audit --no-fund --loglevel=error; else npm install --no-audit --no-fund --loglevel=error; fi
npm run --silent build
echo "setup: done (try: bin/nat64 demo)"
