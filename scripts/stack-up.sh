#!/usr/bin/env bash
# Brings the local stack up in the background: Temporal dev server (SQLite file, Web UI),
# MinIO (local data folder), PostgreSQL (the server at DATABASE_URL, or a private cluster),
# and, unless --services-only, the control and scoring workers. Safe to run again: whatever
# is already running is left alone. Writes $NOMALY_DATA_DIR/stack.env for clients to source.
# Logs go to $NOMALY_DATA_DIR/logs/NAME.log, appended across restarts.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/stack-env.sh"
services_only=0
[ "${1:-}" = "--services-only" ] && services_only=1

data="$NOMALY_DATA_DIR"
mkdir -p "$data/pids" "$data/logs" "$data/temporal" "$data/minio"

say() { echo "[stack] $*" >&2; }
source "$here/stack-processes.sh"
wait_for() { # name (its pid file), seconds, command...: fails fast if the process died
  local name="$1" seconds="$2" log="$data/logs/$1.log"; shift 2
  for _ in $(seq 1 $((seconds * 4))); do
    "$@" >/dev/null 2>&1 && return 0
    running "$name" || { say "$name exited; last lines of $log:"; tail -n 20 "$log" >&2; exit 1; }
    sleep 0.25
  done
  say "$name did not become ready within ${seconds}s; last lines of $log:"; tail -n 20 "$log" >&2 || true
  exit 1
}

temporal_bin="$("$here/ensure-binary.sh" temporal)"
minio_bin="$("$here/ensure-binary.sh" minio)"

# --- Temporal -----------------------------------------------------------------------------
if running temporal; then
  say "temporal already running (pid $(cat "$data/pids/temporal.pid"))"
else
  say "starting temporal dev server on $TEMPORAL_ADDRESS (UI $TEMPORAL_UI_URL, state in $data/temporal/temporal.db, log $data/logs/temporal.log)"
  start_bg temporal "$temporal_bin" server start-dev \
    --ip 127.0.0.1 --port "$TEMPORAL_PORT" --ui-port "$TEMPORAL_UI_PORT" \
    --db-filename "$data/temporal/temporal.db" \
    --search-attribute NomalyModel=Keyword --search-attribute NomalyDataset=Keyword \
    --search-attribute NomalyJobStatus=Keyword \
    --log-format json --log-level warn
fi

# --- MinIO --------------------------------------------------------------------------------
if running minio; then
  say "minio already running (pid $(cat "$data/pids/minio.pid"))"
else
  say "starting minio on $MINIO_ENDPOINT (data in $data/minio, log $data/logs/minio.log)"
  MINIO_BROWSER=on start_bg minio "$minio_bin" server "$data/minio" \
    --address "127.0.0.1:$MINIO_PORT" --console-address "127.0.0.1:$MINIO_CONSOLE_PORT" --quiet
fi

# --- PostgreSQL ---------------------------------------------------------------------------
pg_answers() { pg_isready -q -d "$1"; }
if ! command -v pg_isready >/dev/null 2>&1; then
  say "note: pg_isready not found; assuming PostgreSQL answers at DATABASE_URL"
elif ! pg_answers "$DATABASE_URL"; then
  pg_bin="$(command -v initdb >/dev/null 2>&1 && dirname "$(command -v initdb)" || ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
  if [ -z "$pg_bin" ] || [ ! -x "$pg_bin/initdb" ]; then
    say "PostgreSQL does not answer at DATABASE_URL=$DATABASE_URL and no PostgreSQL binaries (initdb) are installed."
    say "Start a PostgreSQL server, or set DATABASE_URL=postgres://USER[:PASSWORD]@HOST:PORT/DATABASE, or install PostgreSQL (apt-get install postgresql)."
    exit 1
  fi
  cluster="$data/postgres"
  export DATABASE_URL="postgres://postgres@127.0.0.1:$NOMALY_PRIVATE_PG_PORT/nomaly"
  if ! pg_answers "$DATABASE_URL"; then
    say "no PostgreSQL at the configured URL: starting a private cluster in $cluster on port $NOMALY_PRIVATE_PG_PORT"
    pg_user=(); [ "$(id -u)" = 0 ] && { id postgres >/dev/null 2>&1 || { say "running as root needs a 'postgres' user for a private cluster"; exit 1; }; pg_user=(runuser -u postgres --); chown postgres "$data"; }
    if [ ! -f "$cluster/PG_VERSION" ]; then
      mkdir -p "$cluster"; [ ${#pg_user[@]} -gt 0 ] && chown postgres "$cluster"
      "${pg_user[@]}" "$pg_bin/initdb" -D "$cluster" -U postgres --auth=trust >"$data/logs/initdb.log" 2>&1
    fi
    "${pg_user[@]}" "$pg_bin/pg_ctl" -D "$cluster" -l "$cluster/server.log" -w \
      -o "-p $NOMALY_PRIVATE_PG_PORT -k /tmp -c listen_addresses=127.0.0.1" start >&2
  fi
fi

wait_for temporal 90 "$temporal_bin" operator cluster health --address "$TEMPORAL_ADDRESS"
wait_for minio 60 curl -fsS "$MINIO_ENDPOINT/minio/health/live"

cat >"$data/stack.env" <<ENV
export NOMALY_DATA_DIR='$data'
export TEMPORAL_ADDRESS='$TEMPORAL_ADDRESS'
export TEMPORAL_UI_URL='$TEMPORAL_UI_URL'
export MINIO_ENDPOINT='$MINIO_ENDPOINT'
export MINIO_ROOT_USER='$MINIO_ROOT_USER'
export MINIO_ROOT_PASSWORD='$MINIO_ROOT_PASSWORD'
export DATABASE_URL='$DATABASE_URL'
ENV

# --- Workers ------------------------------------------------------------------------------
if [ "$services_only" = 0 ]; then
  [ -f "$NOMALY_ROOT/dist/workers/control.js" ] || { say "dist/ is missing: run 'npm run build' first"; exit 1; }
  for kind in control scoring; do
    if running "$kind-worker"; then say "$kind worker already running"; continue; fi
    port_var="$(echo "$kind" | tr a-z A-Z)_HTTP_PORT"
    say "starting $kind worker (health, readiness and metrics on 127.0.0.1:${!port_var}, log $data/logs/$kind-worker.log)"
    NOMALY_HTTP_PORT="${!port_var}" start_bg "$kind-worker" node "$NOMALY_ROOT/dist/workers/$kind.js"
  done
  wait_for control-worker 90 curl -fsS "http://127.0.0.1:$CONTROL_HTTP_PORT/ready"
  wait_for scoring-worker 90 curl -fsS "http://127.0.0.1:$SCORING_HTTP_PORT/ready"
fi
say "stack is up: Temporal UI $TEMPORAL_UI_URL, MinIO console http://127.0.0.1:$MINIO_CONSOLE_PORT"
say "logs (kept across restarts; the previous 10 MiB in NAME.log.1): $data/logs/*.log${cluster:+, PostgreSQL $cluster/server.log}"
