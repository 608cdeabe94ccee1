#!/usr/bin/env bash
# The native addon under AddressSanitizer (issue 6): build a copy of the addon with
# -fsanitize=address outside build/ (others' runs keep using build/), then run the native e2e
# scenarios (test/e2e/native.test.ts: every fixture is a child process that loads the addon)
# with libasan preloaded into node and NAT64_ADDON pointing at the ASan build.
#
#   scripts/asan.sh            build (if needed) and run; exit status = mocha's (ASan aborts a fixture on error)
#   scripts/asan.sh --build    build only
#   NAT64_ASAN_DIR=...         where the copy is built (default /tmp/nat64-asan)
#   NAT64_ASAN_TESTS="..."     test files to run (default: the native e2e scenarios and the checksum vectors)
#
# Leak checking is off: node and V8 keep memory until exit by design, and LeakSanitizer would
# report it. Needs root (hugepages, namespaces) like the e2e tests.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DIR="${NAT64_ASAN_DIR:-/tmp/nat64-asan}"
LIBASAN="$(gcc -print-file-name=libasan.so)"
ADDON="$DIR/build/Release/nat64_native.node"

build() {
  mkdir -p "$DIR"
  rm -rf "$DIR/native"
  cp -r "$ROOT/native" "$DIR/native"
  ln -sfn "$ROOT/node_modules" "$DIR/node_modules"
  # The same target as binding.gyp, plus the sanitizer (frame pointers for readable reports).
  node -e '
    const fs = require("fs");
    const g = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
    const t = g.targets[0];
    t.cflags_cc = [...t.cflags_cc.filter((f) => f !== "-O2"), "-O1", "-g", "-fsanitize=address", "-fno-omit-frame-pointer"];
    t.cflags = [...(t.cflags || []), "-fsanitize=address", "-fno-omit-frame-pointer"];
    t.ldflags = [...(t.ldflags || []), "-fsanitize=address"];
    fs.writeFileSync(process.argv[2], JSON.stringify(g, null, 2));
  ' "$ROOT/binding.gyp" "$DIR/binding.gyp"
  (cd "$DIR" && "$ROOT/node_modules/.bin/node-gyp" rebuild --nodedir="${NAT64_NODEDIR:-/usr}" >"$DIR/build.log" 2>&1) || { tail -30 "$DIR/build.log"; exit 1; }
  echo "asan: built $ADDON"
}

if [[ "${1:-}" == "--build" ]]; then build; exit 0; fi
if [[ ! -f "$ADDON" || -n "$(find "$ROOT/native" "$ROOT/binding.gyp" -newer "$ADDON" -print -quit)" ]]; then build; fi
[[ -f "$ROOT/dist/test/e2e/native.test.js" ]] || (cd "$ROOT" && npx tsc -p tsconfig.json >/dev/null || true)

cd "$ROOT"
# abort_on_error: a finding kills the fixture, which then reports no result and fails its test.
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:halt_on_error=1:print_summary=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export NAT64_ADDON="$ADDON"
# (grep -q would quit at the first match and, with pipefail, ldd's SIGPIPE would fail the check.)
# The loader test checks the message of a missing build/, which NAT64_ADDON deliberately bypasses.
ldd "$ADDON" | grep libasan >/dev/null || { echo "asan: $ADDON is not linked with libasan"; exit 1; }
LD_PRELOAD="$LIBASAN" npx mocha --timeout 180000 --grep 'a missing build is a NAT64_E_ADDON' --invert \
  ${NAT64_ASAN_TESTS:-dist/test/e2e/native.test.js dist/test/rfc/checksum-partial.test.js}
