#!/usr/bin/env bash
# The main job on the embedded default: local Temporal + embedded PostgreSQL + synthetic data.
# Sets up what is missing, brings the stack up, seeds DEMO_ROWS rows, runs a worker and a full
# migration with live progress, prints the reconciliation and the Temporal UI link.
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS="${DEMO_ROWS:-100000}"

bash scripts/setup-tools.sh
npm run -s build
node dist/stack/cli.js up
node dist/stack/seed-cli.js --rows "$ROWS" --seed 42

mkdir -p .data/logs
: >.data/logs/worker.log
# shellcheck disable=SC2046 # the Node options are several words on purpose
node $(node -p "require('./package.json').config.workerNodeOptions") dist/worker/main.js >>.data/logs/worker.log 2>&1 &
WORKER_PID=$!
trap 'kill -TERM $WORKER_PID 2>/dev/null || true; wait $WORKER_PID 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
  grep -q '"worker started"' .data/logs/worker.log 2>/dev/null && break
  kill -0 "$WORKER_PID" 2>/dev/null || { echo "the worker did not start; see .data/logs/worker.log:" >&2; tail -n 5 .data/logs/worker.log >&2; exit 1; }
  sleep 0.5
done
echo "worker running (pid $WORKER_PID, log .data/logs/worker.log)"

status=0
node dist/client/main.js full --wait || status=$?
echo
# The UI's address follows LOCAL_TEMPORAL_UI_PORT (config/env.ts), so ask the configuration for it.
UI="$(node -e 'process.stdout.write(require("./dist/config/env").loadConfig().TEMPORAL_UI_URL)')"
echo "The stack keeps running so you can explore: Temporal UI $UI ; stop it with: npm run stack -- down"
exit $status
