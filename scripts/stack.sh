#!/usr/bin/env bash
# `npm run stack -- up|down|status [--json]`: sets up what is missing first, as `npm run demo` does
# (scripts/setup-tools.sh: node_modules, and for `up` the pinned Temporal CLI), builds, then runs
# stack/cli.ts. Setup and build lines go to stderr, so that --json leaves one JSON object on stdout.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

case " $* " in
  *" up "*) bash scripts/setup-tools.sh >&2 ;;
  *) bash scripts/setup-tools.sh --npm-only >&2 ;; # down/status need no Temporal CLI
esac
npm run -s build >&2
exec node dist/stack/cli.js "$@"
