#!/usr/bin/env bash
# The whole test suite: unit and RFC packet vectors (no root, no DPDK), then end-to-end tests
# through real DPDK ports between network namespaces (root). Sets the machine up first, so a
# missing install step cannot hide behind what a developer's machine already has.
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh || { echo "test: setup failed"; exit 1; }

out=$(mktemp)
status=0
npx mocha --timeout 20000 'dist/test/unit/**/*.test.js' 'dist/test/rfc/**/*.test.js' 2>&1 | tee "$out" || status=1
if [[ $(id -u) -eq 0 ]]; then
  npx mocha --timeout 120000 'dist/test/e2e/**/*.test.js' 2>&1 | tee -a "$out" || status=1
  # The addon under AddressSanitizer (a separate build; about 30 s): the native e2e scenarios.
  scripts/asan.sh 2>&1 | tee -a "$out" || status=1
  # A 30 s soak (session churn, memory, counter consistency); NAT64_SOAK_SECONDS=600 for a long one.
  NAT64_SOAK_SECONDS="${NAT64_SOAK_SECONDS:-30}" npx mocha --timeout 0 dist/test/soak/soak.test.js 2>&1 | tee -a "$out" || status=1
else
  echo "test: end-to-end tests need root (network namespaces, DPDK)"; status=1
fi
passed=$(grep -Eo '^ +[0-9]+ passing' "$out" | awk '{s+=$1} END {print s+0}')
failed=$(grep -Eo '^ +[0-9]+ failing' "$out" | awk '{s+=$1} END {print s+0}')
rm -f "$out"
echo "${passed} passed, ${failed} failed"
exit $status
