#!/usr/bin/env bash
# Prints the path of a binary of the production Temporal topology, obtaining it if needed:
#   temporal-server     go.temporal.io/server/cmd/server                @ $TEMPORAL_SERVER_VERSION
#   temporal-sql-tool   go.temporal.io/server/cmd/tools/sql             @ $TEMPORAL_SERVER_VERSION
#   temporal-ui-server  github.com/temporalio/ui-server/v2/cmd/server   @ $TEMPORAL_UI_SERVER_VERSION
# Resolution order, as in ensure-binary.sh: $TEMPORAL_SERVER_BIN / $TEMPORAL_SQL_TOOL_BIN /
# $TEMPORAL_UI_SERVER_BIN, then PATH, then the version-keyed cache
# ($NOMALY_CACHE_DIR/bin/<name>-<version>), then a build into that cache.
#
# The build runs in a scratch Go module that requires the pinned Temporal CLI as well, so the
# dependency versions are exactly the CLI's (the CLI embeds this server and this UI): the
# packages the CLI build already compiled come out of Go's build cache, and only what the CLI
# does not contain is compiled. The first build takes minutes on 2 cores, later calls are free.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/versions.sh"

name="${1:?usage: ensure-temporal-server.sh temporal-server|temporal-sql-tool|temporal-ui-server}"
case "$name" in
  temporal-server)    env_path="${TEMPORAL_SERVER_BIN:-}";    pkg="go.temporal.io/server/cmd/server";              version="$TEMPORAL_SERVER_VERSION" ;;
  temporal-sql-tool)  env_path="${TEMPORAL_SQL_TOOL_BIN:-}";  pkg="go.temporal.io/server/cmd/tools/sql";           version="$TEMPORAL_SERVER_VERSION" ;;
  temporal-ui-server) env_path="${TEMPORAL_UI_SERVER_BIN:-}"; pkg="github.com/temporalio/ui-server/v2/cmd/server"; version="$TEMPORAL_UI_SERVER_VERSION" ;;
  *) echo "ensure-temporal-server.sh: unknown binary '$name' (expected temporal-server, temporal-sql-tool or temporal-ui-server)" >&2; exit 2 ;;
esac
var="$(echo "${name}_BIN" | tr 'a-z-' 'A-Z_')"

if [ -n "$env_path" ]; then
  [ -x "$env_path" ] || { echo "ensure-temporal-server.sh: $var=$env_path is not an executable file" >&2; exit 1; }
  echo "$env_path"; exit 0
fi
if [ "${NOMALY_IGNORE_PATH_BINARIES:-0}" != 1 ] && command -v "$name" >/dev/null 2>&1; then
  command -v "$name"; exit 0
fi

cached="$NOMALY_CACHE_DIR/bin/$name-$version"
if [ -x "$cached" ]; then echo "$cached"; exit 0; fi

command -v go >/dev/null 2>&1 || {
  echo "ensure-temporal-server.sh: no '$name' binary found and Go is not installed to build it." >&2
  echo "  Install Go (https://go.dev/dl/), or set $var to a $name binary (see docs/operations.md: 'The production topology')." >&2
  exit 1
}
mkdir -p "$NOMALY_CACHE_DIR/bin"
# One build at a time (a test run and prod-stack-up.sh may ask at once); the loser finds the binary.
if command -v flock >/dev/null 2>&1; then # util-linux; without it (macOS) builds may just overlap
  exec 9>"$NOMALY_CACHE_DIR/build-temporal-server.lock"
  flock 9
fi
if [ -x "$cached" ]; then echo "$cached"; exit 0; fi

build_dir="$(mktemp -d "$NOMALY_CACHE_DIR/build-$name.XXXXXX")"
trap 'rm -rf "$build_dir"' EXIT
echo "building $name $version ($pkg, dependencies as in Temporal CLI $TEMPORAL_CLI_VERSION; first run only, this takes a few minutes)..." >&2
start=$(date +%s)
mkdir "$build_dir/mod"
(
  cd "$build_dir/mod"
  export CGO_ENABLED=0 GOFLAGS="${GOFLAGS:--buildvcs=false}"
  go mod init nomaly.local/temporal-build >/dev/null 2>&1
  go get "$pkg@$version" "$TEMPORAL_CLI_MODULE@$TEMPORAL_CLI_VERSION" >&2
  module="${pkg%/cmd/*}"
  resolved="$(go list -m -f '{{.Version}}' "$module")"
  if [ "$resolved" != "$version" ]; then
    echo "ensure-temporal-server.sh: $module resolved to $resolved next to Temporal CLI $TEMPORAL_CLI_VERSION, not the pinned $version; pin the version the CLI uses (scripts/versions.sh)" >&2
    exit 1
  fi
  go build -o "$build_dir/$name" "$pkg" >&2
)
# Publish atomically so a concurrent or interrupted build never leaves a half-written binary.
mv "$build_dir/$name" "$cached.tmp.$$" && mv "$cached.tmp.$$" "$cached"
echo "built $cached in $(( $(date +%s) - start ))s" >&2
echo "$cached"
