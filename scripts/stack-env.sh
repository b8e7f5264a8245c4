# Shared defaults for the local stack. Sourced by stack-up.sh, stack-down.sh and quickstart.sh;
# every value can be overridden from the environment.
NOMALY_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export NOMALY_DATA_DIR="${NOMALY_DATA_DIR:-$NOMALY_ROOT/.nomaly}"
export TEMPORAL_PORT="${TEMPORAL_PORT:-7233}"
export TEMPORAL_UI_PORT="${TEMPORAL_UI_PORT:-8233}"
export TEMPORAL_ADDRESS="${TEMPORAL_ADDRESS:-127.0.0.1:$TEMPORAL_PORT}"
export TEMPORAL_UI_URL="${TEMPORAL_UI_URL:-http://127.0.0.1:$TEMPORAL_UI_PORT}"
export MINIO_PORT="${MINIO_PORT:-9000}"
export MINIO_CONSOLE_PORT="${MINIO_CONSOLE_PORT:-9001}"
export MINIO_ENDPOINT="${MINIO_ENDPOINT:-http://127.0.0.1:$MINIO_PORT}"
export MINIO_ROOT_USER="${MINIO_ROOT_USER:-nomaly}"
export MINIO_ROOT_PASSWORD="${MINIO_ROOT_PASSWORD:-nomaly-dev-secret}"
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/nomaly}"
export CONTROL_HTTP_PORT="${CONTROL_HTTP_PORT:-9464}"
export SCORING_HTTP_PORT="${SCORING_HTTP_PORT:-9465}"
# Only a private cluster (started when no server answers at DATABASE_URL) uses this port.
export NOMALY_PRIVATE_PG_PORT="${NOMALY_PRIVATE_PG_PORT:-5433}"
