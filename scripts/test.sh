#!/usr/bin/env bash
# `npm test`: tools (idempotent) → build → unit tests → integration tests on real servers.
# The integration tests start their own isolated PostgreSQL and Temporal dev server
# (test/support/servers.ts); set TEMPORAL_ADDRESS to run them against an existing cluster instead.
# Exits non-zero as soon as a step fails.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

step() { printf '\n==> %s\n' "$*"; }

step "tools (scripts/setup-tools.sh)"
bash scripts/setup-tools.sh

step "build (tsc -p tsconfig.json)"
npx tsc -p tsconfig.json
# Compiled tests whose TypeScript source is gone (renamed, deleted) must not run.
if [ -d dist/test ]; then
  find dist/test -name '*.test.js' | while read -r compiled; do
    source="${compiled#dist/}"
    [ -f "${source%.js}.ts" ] || { echo "removing stale $compiled"; rm -f "$compiled" "$compiled.map"; }
  done
fi

MOCHA="$ROOT/node_modules/.bin/mocha"
has_tests() { [ -n "$(find "$1" -name '*.test.js' 2>/dev/null | head -n 1)" ]; }
LOGS="$(mktemp -d)"
trap 'rm -rf "$LOGS"' EXIT
status=0

# Runs mocha, keeps its output for the closing tally, and remembers a failure without stopping,
# so that one summary line counts every test.
run_mocha() {
  local name="$1"; shift
  set +e
  "$MOCHA" "$@" 2>&1 | tee "$LOGS/$name.log"
  local rc=${PIPESTATUS[0]}
  set -e
  [ "$rc" -eq 0 ] || status=1
}

step "unit tests"
if has_tests dist/test/unit; then
  run_mocha unit 'dist/test/unit/**/*.test.js'
else
  echo "no unit tests found (dist/test/unit/**/*.test.js)"
fi

step "integration tests (real PostgreSQL + Temporal, see test/support/servers.ts)"
if has_tests dist/test/integration; then
  # --exit: a worker or pool a test forgot to close must not hang the run (CI has a time limit).
  run_mocha integration --timeout 600000 --exit 'dist/test/integration/**/*.test.js'
else
  echo "no integration tests found (dist/test/integration/**/*.test.js)"
fi

count() { cat "$LOGS"/*.log 2>/dev/null | sed -E 's/\x1b\[[0-9;]*m//g' | awk -v word="$1" '$2 == word && $1 ~ /^[0-9]+$/ { n += $1 } END { print n + 0 }'; }
passed=$(count passing); failed=$(count failing); skipped=$(count pending)
echo
echo "tests: $passed passed, $failed failed, $skipped skipped"
if [ "$passed" -eq 0 ]; then echo "no test ran" >&2; status=1; fi
exit $status
