# Pinned versions of the service binaries the project builds. Sourced by the other scripts.
# Change a pin here and the cache key changes with it, so the next run rebuilds once.
TEMPORAL_CLI_MODULE="github.com/temporalio/cli/cmd/temporal"
TEMPORAL_CLI_VERSION="v1.5.1"
MINIO_MODULE="github.com/minio/minio"
MINIO_VERSION="v0.0.0-20260212201848-7aac2a2c5b7c"
# The MinIO client, for users and bucket policies per role (scripts/provision-minio-users.sh).
MC_MODULE="github.com/minio/mc"
MC_VERSION="v0.0.0-20250313080218-cf909e1063a9"
NOMALY_CACHE_DIR="${NOMALY_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/nomaly}"
# The production topology (scripts/prod-stack-up.sh): the Temporal server on PostgreSQL, its
# schema tool and the Web UI server, at the versions the pinned CLI above is built from
# (its go.mod), so the Go module and build caches of the CLI build are reused.
TEMPORAL_SERVER_VERSION="v1.29.1"   # go.temporal.io/server: cmd/server and cmd/tools/sql
TEMPORAL_UI_SERVER_VERSION="v2.42.1" # github.com/temporalio/ui-server/v2: cmd/server (UI assets embedded)
