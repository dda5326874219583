#!/usr/bin/env bash
# `make ui`: Dagster's UI on this project with a persistent DAGSTER_HOME. Without a configured API
# (CALL_LOGS_API_URL unset) the bundled simulator runs alongside (port $CALL_LOGS_SIM_PORT, default
# 8787) on the demo's data dir (./demo-data), so materialising and backfilling work out of the box.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
if [[ -f .env ]]; then set -a; source .env; set +a; fi
# With the bundled simulator the UI shows the demo's data dir (`make demo`), never a real one.
if [[ -z "${CALL_LOGS_API_URL:-}" ]]; then DEFAULT_DATA="$PWD/demo-data"; else DEFAULT_DATA="$PWD/data"; fi
export CALL_LOGS_DATA_DIR="${CALL_LOGS_DATA_DIR:-$DEFAULT_DATA}"
export DAGSTER_HOME="${DAGSTER_HOME:-$CALL_LOGS_DATA_DIR/dagster_home}"
mkdir -p -m 700 "$CALL_LOGS_DATA_DIR" "$DAGSTER_HOME"
# The project's instance settings (a new or never-edited dagster.yaml gets the current ones).
"$BIN/python" -m dagster_project.instance_home "$DAGSTER_HOME"
# Run workers hand their events to the event log in batches (see dagster_project/event_log.py).
export DAGSTER_EVENT_BATCH_SIZE="${DAGSTER_EVENT_BATCH_SIZE:-10000}"

SIM_PID=""
cleanup() { [[ -n "$SIM_PID" ]] && kill "$SIM_PID" 2>/dev/null || true; }
trap cleanup EXIT INT TERM

if [[ -z "${CALL_LOGS_API_URL:-}" ]]; then
  PORT="${CALL_LOGS_SIM_PORT:-8787}"
  "$BIN/calllogs" simulate --port "$PORT" > "$CALL_LOGS_DATA_DIR/simulator.log" 2>&1 &
  SIM_PID=$!
  for _ in $(seq 1 50); do
    grep -q "CALL_LOGS_API_KEY" "$CALL_LOGS_DATA_DIR/simulator.log" 2>/dev/null && break
    kill -0 "$SIM_PID" 2>/dev/null || break
    sleep 0.2
  done
  if ! grep -q '^export CALL_LOGS_API_URL=' "$CALL_LOGS_DATA_DIR/simulator.log" 2>/dev/null; then
    # `calllogs simulate` explains itself in one line (a busy port, a bad setting).
    reason="$(grep 'calllogs: error' "$CALL_LOGS_DATA_DIR/simulator.log" | tail -n 1)"
    echo "${reason:-calllogs: error: the bundled simulator did not start; see $CALL_LOGS_DATA_DIR/simulator.log}" >&2
    exit 1
  fi
  # The simulator prints ready-to-use `export` lines (its demo key is not a secret).
  eval "$(grep '^export ' "$CALL_LOGS_DATA_DIR/simulator.log")"
  export CALL_LOGS_ASSISTANT_IDS=""
  echo "No CALL_LOGS_API_URL set: using the bundled simulator at $CALL_LOGS_API_URL"
fi
# A bad CALL_LOGS_* value is one line here, not a code location that fails to load in the UI.
"$BIN/calllogs" settings > /dev/null || exit 1
echo "Dagster UI: http://127.0.0.1:3000  (DAGSTER_HOME=$DAGSTER_HOME)"
"$BIN/dagster" dev -w workspace.yaml -h 127.0.0.1 -p "${DAGSTER_PORT:-3000}"
