#!/usr/bin/env bash
# Prints the path of a service binary (temporal | minio | mc), obtaining it if needed.
# Resolution order: $TEMPORAL_BIN / $MINIO_BIN, then PATH, then the version-keyed cache,
# then a build of the pinned Go module into that cache (minutes the first time, then free).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/versions.sh"

name="${1:?usage: ensure-binary.sh temporal|minio|mc}"
case "$name" in
  temporal) env_path="${TEMPORAL_BIN:-}"; module="$TEMPORAL_CLI_MODULE"; version="$TEMPORAL_CLI_VERSION" ;;
  minio)    env_path="${MINIO_BIN:-}";    module="$MINIO_MODULE";        version="$MINIO_VERSION" ;;
  mc)       env_path="${MC_BIN:-}";       module="$MC_MODULE";           version="$MC_VERSION" ;;
  *) echo "ensure-binary.sh: unknown binary '$name' (expected temporal, minio or mc)" >&2; exit 2 ;;
esac

if [ -n "$env_path" ]; then
  [ -x "$env_path" ] || { echo "ensure-binary.sh: ${name^^}_BIN=$env_path is not an executable file" >&2; exit 1; }
  echo "$env_path"; exit 0
fi
if [ "${NOMALY_IGNORE_PATH_BINARIES:-0}" != 1 ] && command -v "$name" >/dev/null 2>&1; then
  command -v "$name"; exit 0
fi

cached="$NOMALY_CACHE_DIR/bin/$name-$version"
if [ -x "$cached" ]; then echo "$cached"; exit 0; fi

command -v go >/dev/null 2>&1 || {
  echo "ensure-binary.sh: no '$name' binary found and Go is not installed to build it." >&2
  echo "  Install Go (https://go.dev/dl/), or set ${name^^}_BIN to a $name binary (see docs/operations.md: 'Getting the binaries without Go')." >&2
  exit 1
}
mkdir -p "$NOMALY_CACHE_DIR/bin"
build_dir="$(mktemp -d "$NOMALY_CACHE_DIR/build-$name.XXXXXX")"
trap 'rm -rf "$build_dir"' EXIT
echo "building $name $version from $module (first run only; this takes a few minutes)..." >&2
start=$(date +%s)
GOBIN="$build_dir" CGO_ENABLED=0 go install "$module@$version" >&2
# Publish atomically so a concurrent or interrupted build never leaves a half-written binary.
mv "$build_dir/$name" "$cached.tmp.$$" && mv "$cached.tmp.$$" "$cached"
echo "built $cached in $(( $(date +%s) - start ))s" >&2
echo "$cached"
