#!/usr/bin/env bash
# Stops what prod-stack-up.sh started (workers first, so they finish their activities, then the
# UI, the Temporal server and MinIO), keeping all data. With --purge it also drops Temporal's two
# databases and the platform database and deletes the data folder: a clean slate.
# Reads the same settings as prod-stack-up.sh (NOMALY_DATA_DIR, DATABASE_URL, TEMPORAL_DB,
# TEMPORAL_VISIBILITY_DB).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
data="${NOMALY_DATA_DIR:-$root/.nomaly-prod}"
purge=0
[ "${1:-}" = "--purge" ] && purge=1
[ -d "$data" ] || { echo "[prod-stack] nothing at $data" >&2; exit 0; }
[ -f "$data/stack.env" ] && DATABASE_URL="$(source "$data/stack.env" && echo "$DATABASE_URL")"
DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/nomaly}"
TEMPORAL_DB="${TEMPORAL_DB:-nomaly_temporal}"
TEMPORAL_VISIBILITY_DB="${TEMPORAL_VISIBILITY_DB:-nomaly_temporal_visibility}"

stop() { # name: TERM its process group, wait up to 40 s, then KILL
  local pid_file="$data/pids/$1.pid" pid
  [ -f "$pid_file" ] || return 0
  pid="$(cat "$pid_file")"
  if kill -0 "$pid" 2>/dev/null; then
    echo "[prod-stack] stopping $1 (pid $pid)" >&2
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 160); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  rm -f "$pid_file" "$data/pids/$1.port"
}
for f in "$data"/pids/*-worker-*.pid; do [ -e "$f" ] && stop "$(basename "$f" .pid)"; done
for name in temporal-ui temporal-server minio; do stop "$name"; done

if [ "$purge" = 1 ]; then
  app_db="$(node -e 'console.log(decodeURIComponent(new URL(process.argv[1]).pathname.slice(1)))' "$DATABASE_URL")"
  admin="$(node -e 'const u = new URL(process.argv[1]); u.pathname = "/postgres"; console.log(u.toString())' "$DATABASE_URL")"
  if pg_isready -q -d "$admin" 2>/dev/null; then
    for db in "$TEMPORAL_DB" "$TEMPORAL_VISIBILITY_DB" "$app_db"; do
      echo "[prod-stack] dropping database $db" >&2
      psql -q -d "$admin" -c "drop database if exists \"$db\" with (force)" >&2
    done
  fi
  rm -rf "$data"
  echo "[prod-stack] stopped and purged" >&2
else
  echo "[prod-stack] stopped; data kept in $data and PostgreSQL (prod-stack-down.sh --purge for a clean slate)" >&2
fi
