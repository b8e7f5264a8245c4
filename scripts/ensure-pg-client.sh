#!/usr/bin/env bash
# Makes sure pg_dump and pg_restore of the PostgreSQL server's major version (or newer) exist,
# as backups need them; installs Debian's postgresql-client-<major> when they are missing.
# Never fails the install: without a server to ask, or without apt, it says what to do.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
say() { echo "[pg-client] $*" >&2; }
url="${DATABASE_URL:-}"
[ -z "$url" ] && [ -f "$here/../.nomaly/stack.env" ] && url="$(. "$here/../.nomaly/stack.env"; echo "${DATABASE_URL:-}")"
url="${url:-postgres://postgres@127.0.0.1:5432/postgres}"

major=""
if command -v psql >/dev/null 2>&1; then
  major="$(psql "$url" -Atqc 'show server_version_num' 2>/dev/null | cut -c1-2 || true)"
fi
if [ -z "$major" ]; then
  say "PostgreSQL does not answer at DATABASE_URL (or psql is missing): cannot tell its version; skipping (backups check again when they run)."
  exit 0
fi
have() { # tool: prints its major version, if runnable
  local bin="$1"; "$bin" --version 2>/dev/null | sed -E 's/^[^)]*\) *([0-9]+).*/\1/'
}
ok=1
for tool in pg_dump pg_restore; do
  found=""
  for bin in "$tool" "/usr/lib/postgresql/$major/bin/$tool"; do
    v="$(have "$bin")"
    if [ -n "$v" ] && [ "$v" -ge "$major" ]; then found="$bin"; break; fi
  done
  [ -z "$found" ] && ok=0
done
if [ "$ok" = 1 ]; then
  say "pg_dump/pg_restore for PostgreSQL $major are present"
  exit 0
fi
package="postgresql-client-$major"
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  say "installing $package"
  if DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$package" >&2 \
    || { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$package" >&2; }; then
    exit 0
  fi
fi
say "pg_dump/pg_restore of PostgreSQL $major are missing and could not be installed here."
say "Install them (Debian/Ubuntu: sudo apt-get install $package; PGDG apt repository for newer majors),"
say "or point PG_DUMP_BIN and PG_RESTORE_BIN at binaries of version $major or newer. Backups fail until then."
exit 0
