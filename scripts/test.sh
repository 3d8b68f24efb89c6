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

step "unit tests"
if has_tests dist/test/unit; then
  "$MOCHA" 'dist/test/unit/**/*.test.js'
else
  echo "no unit tests found (dist/test/unit/**/*.test.js)"
fi

step "integration tests (real PostgreSQL + Temporal, see test/support/servers.ts)"
if has_tests dist/test/integration; then
  # --exit: a worker or pool a test forgot to close must not hang the run (CI has a time limit).
  "$MOCHA" --timeout 600000 --exit 'dist/test/integration/**/*.test.js'
else
  echo "no integration tests found (dist/test/integration/**/*.test.js)"
fi
