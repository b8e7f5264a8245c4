#!/usr/bin/env bash
# Stops what stack-up.sh started (workers first, so they finish their activities), keeping all data.
# With --purge it also drops the platform database and deletes the data folder: a clean slate
# (the registry in PostgreSQL and the objects in MinIO must go together, or rows point at nothing).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/stack-env.sh"
data="$NOMALY_DATA_DIR"
purge=0
[ "${1:-}" = "--purge" ] && purge=1
# The URL the stack actually used (a private cluster changes it).
[ -f "$data/stack.env" ] && DATABASE_URL="$(source "$data/stack.env" && echo "$DATABASE_URL")"
if [ "$purge" = 1 ] && pg_isready -q -d "$DATABASE_URL" 2>/dev/null; then
  db="$(node -e 'console.log(decodeURIComponent(new URL(process.argv[1]).pathname.slice(1)))' "$DATABASE_URL")"
  admin="$(node -e 'const u = new URL(process.argv[1]); u.pathname = "/postgres"; console.log(u.toString())' "$DATABASE_URL")"
  echo "[stack] dropping database $db" >&2
  psql -q -d "$admin" -c "drop database if exists \"$db\" with (force)" >&2
fi
for name in scoring-worker control-worker minio temporal; do
  pid_file="$data/pids/$name.pid"
  [ -f "$pid_file" ] || continue
  pid="$(cat "$pid_file")"
  if kill -0 "$pid" 2>/dev/null; then
    echo "[stack] stopping $name (pid $pid)" >&2
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 160); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  rm -f "$pid_file"
done
if [ -f "$data/postgres/postmaster.pid" ]; then
  pg_bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
  pg_user=(); [ "$(id -u)" = 0 ] && pg_user=(runuser -u postgres --)
  echo "[stack] stopping the private PostgreSQL cluster" >&2
  "${pg_user[@]}" "$pg_bin/pg_ctl" -D "$data/postgres" -m fast stop >&2 || true
fi
if [ "$purge" = 1 ]; then
  rm -rf "$data"
  echo "[stack] stopped and purged: database dropped, $data deleted" >&2
else
  echo "[stack] stopped; data kept in $data (./scripts/stack-down.sh --purge for a clean slate)" >&2
fi
