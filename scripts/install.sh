#!/usr/bin/env bash
# Installs the Node dependencies (when the lockfile changed), compiles TypeScript and makes
# sure the Temporal and MinIO binaries exist (built once from pinned Go modules, then cached).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here/.."
command -v node >/dev/null || { echo "Node.js 20+ is required (https://nodejs.org)" >&2; exit 1; }
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "[install] npm ci" >&2
  # npm 11 can write a lockfile without other platforms' optional packages (@swc/core-*),
  # which `npm ci` then rejects; `npm install` still installs the locked versions.
  npm ci --no-audit --no-fund --loglevel=error >&2 2>/dev/null \
    || npm install --no-audit --no-fund --loglevel=error >&2
fi
echo "[install] compiling TypeScript" >&2
npm run --silent build >&2
# The scripts tree (benchmarks, smoke) too: the suite runs the compiled smoke, and a benchmark
# that no longer compiles fails here rather than on the day someone measures.
npm run --silent build:scripts >&2
# Both builds run at once on a cold cache; each prints where its binary is. The production
# topology's Temporal server, schema tool and UI (scripts/prod-stack-up.sh, tests/production)
# follow the CLI, whose compiled packages they reuse.
( "$here/ensure-binary.sh" temporal >/dev/null &&
  for b in temporal-server temporal-sql-tool temporal-ui-server; do "$here/ensure-temporal-server.sh" "$b" >/dev/null || exit 1; done ) &
t=$!
# mc (MinIO's admin client, for scripts/provision-minio-users.sh) shares MinIO's Go modules.
( "$here/ensure-binary.sh" minio >/dev/null && "$here/ensure-binary.sh" mc >/dev/null ) &
m=$!
wait "$t" && wait "$m"
# Backups need pg_dump/pg_restore of the server's major version (installs them when it can).
"$here/ensure-pg-client.sh"
