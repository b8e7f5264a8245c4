#!/usr/bin/env bash
# Brings up the production topology on this machine, in the background:
#   - the Temporal server (go.temporal.io/server, all four services in one process) on
#     PostgreSQL: its own two databases on DATABASE_URL's server, schema set up or upgraded by
#     temporal-sql-tool, namespace `default` and Nomaly's search attributes registered;
#   - the Temporal Web UI server (github.com/temporalio/ui-server/v2);
#   - MinIO (a local data folder);
#   - unless --services-only: NOMALY_CONTROL_WORKERS control and NOMALY_SCORING_WORKERS scoring
#     worker processes (default 1 and 1).
# Safe to run again: what runs is left alone, schema updates are applied only when the pinned
# server version brings new ones. Writes $NOMALY_DATA_DIR/stack.env for clients and workers.
#
# Settings (environment): NOMALY_DATA_DIR (default ./.nomaly-prod), DATABASE_URL (the platform's
# database; Temporal's databases go on the same server), TEMPORAL_DB (nomaly_temporal),
# TEMPORAL_VISIBILITY_DB (nomaly_temporal_visibility), TEMPORAL_HISTORY_SHARDS (8; fixed when
# the databases are first set up), TEMPORAL_SQL_MAX_CONNS (5 per service and store),
# TEMPORAL_PORT, TEMPORAL_UI_PORT, MINIO_PORT, MINIO_CONSOLE_PORT (free ports when unset; the
# choice is kept in $NOMALY_DATA_DIR/ports.env for the next start).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
services_only=0
[ "${1:-}" = "--services-only" ] && services_only=1

data="${NOMALY_DATA_DIR:-$root/.nomaly-prod}"
mkdir -p "$data/pids" "$data/logs" "$data/minio" "$data/temporal/config/dynamicconfig" "$data/ui/config"
data="$(cd "$data" && pwd)"
export NOMALY_DATA_DIR="$data"
DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/nomaly}"
TEMPORAL_DB="${TEMPORAL_DB:-nomaly_temporal}"
TEMPORAL_VISIBILITY_DB="${TEMPORAL_VISIBILITY_DB:-nomaly_temporal_visibility}"
TEMPORAL_HISTORY_SHARDS="${TEMPORAL_HISTORY_SHARDS:-8}"
TEMPORAL_SQL_MAX_CONNS="${TEMPORAL_SQL_MAX_CONNS:-5}"
TEMPORAL_NAMESPACE="${TEMPORAL_NAMESPACE:-default}"
MINIO_ROOT_USER="${MINIO_ROOT_USER:-nomaly}"
MINIO_ROOT_PASSWORD="${MINIO_ROOT_PASSWORD:-nomaly-dev-secret}"

say() { echo "[prod-stack] $*" >&2; }
running() { local f="$data/pids/$1.pid"; [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null; }
start_bg() { # name, command...: detached from this shell so it outlives the script
  local name="$1"; shift
  setsid "$@" >"$data/logs/$name.log" 2>&1 < /dev/null &
  echo $! >"$data/pids/$name.pid"
}
wait_for() { # name (its pid file), seconds, command...: fails fast if the process died
  local name="$1" seconds="$2" log="$data/logs/$1.log"; shift 2
  for _ in $(seq 1 $((seconds * 4))); do
    "$@" >/dev/null 2>&1 && return 0
    running "$name" || { say "$name exited; last lines of $log:"; tail -n 8 "$log" | cut -c1-600 >&2; exit 1; }
    sleep 0.25
  done
  say "$name did not become ready within ${seconds}s; last lines of $log:"; tail -n 8 "$log" | cut -c1-600 >&2 || true
  exit 1
}

temporal_cli="$("$here/ensure-binary.sh" temporal)"
minio_bin="$("$here/ensure-binary.sh" minio)"
server_bin="$("$here/ensure-temporal-server.sh" temporal-server)"
sql_tool="$("$here/ensure-temporal-server.sh" temporal-sql-tool)"
ui_bin="$("$here/ensure-temporal-server.sh" temporal-ui-server)"

# --- Ports: given ones win, then the ones chosen at the first start, then free ones ---------
[ -f "$data/ports.env" ] && source "$data/ports.env"
port_names=(TEMPORAL_PORT TEMPORAL_HTTP_PORT TEMPORAL_UI_PORT TEMPORAL_METRICS_PORT
  TEMPORAL_FRONTEND_MEMBERSHIP_PORT TEMPORAL_HISTORY_PORT TEMPORAL_HISTORY_MEMBERSHIP_PORT
  TEMPORAL_MATCHING_PORT TEMPORAL_MATCHING_MEMBERSHIP_PORT TEMPORAL_WORKER_PORT
  TEMPORAL_WORKER_MEMBERSHIP_PORT MINIO_PORT MINIO_CONSOLE_PORT)
# Temporal stores membership ports in a smallint column: all picked below 32768 (the kernel's
# ephemeral range starts there, so these do not collide with outgoing connections either).
read -r -a free <<<"$(node -e '
  const net = require("net");
  const bindable = (port) => new Promise((resolve) => {
    const s = net.createServer().once("error", () => resolve(false)).listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
  });
  (async () => {
    const ports = new Set();
    while (ports.size < Number(process.argv[1])) {
      const port = 20000 + Math.floor(Math.random() * 12000);
      if (!ports.has(port) && (await bindable(port))) ports.add(port);
    }
    console.log([...ports].join(" "));
  })();
' "${#port_names[@]}")"
: >"$data/ports.env.tmp"
for i in "${!port_names[@]}"; do
  n="${port_names[$i]}"
  [ -n "${!n:-}" ] || printf -v "$n" '%s' "${free[$i]}"
  echo "$n=${!n}" >>"$data/ports.env.tmp"
done
mv "$data/ports.env.tmp" "$data/ports.env"
TEMPORAL_ADDRESS="127.0.0.1:$TEMPORAL_PORT"
TEMPORAL_UI_URL="http://127.0.0.1:$TEMPORAL_UI_PORT"
MINIO_ENDPOINT="http://127.0.0.1:$MINIO_PORT"

# --- PostgreSQL: Temporal's two databases, schema set up or upgraded ------------------------
pg_part() { node -e '
  const u = new URL(process.argv[1]); const d = decodeURIComponent;
  const v = { host: u.hostname || "127.0.0.1", port: u.port || "5432", user: d(u.username) || "postgres", password: d(u.password) }[process.argv[2]];
  console.log(v);' "$DATABASE_URL" "$1"; }
pg_host="$(pg_part host)"; pg_port="$(pg_part port)"; pg_user="$(pg_part user)"; pg_password="$(pg_part password)"
admin_url="$(node -e 'const u = new URL(process.argv[1]); u.pathname = "/postgres"; console.log(u.toString())' "$DATABASE_URL")"
pg_isready -q -d "$admin_url" || { say "PostgreSQL does not answer at $DATABASE_URL (start it, or set DATABASE_URL)"; exit 1; }
sql() { SQL_PASSWORD="$pg_password" "$sql_tool" --plugin postgres12 --ep "$pg_host" -p "$pg_port" -u "$pg_user" "$@"; }
for pair in "$TEMPORAL_DB:temporal" "$TEMPORAL_VISIBILITY_DB:visibility"; do
  db="${pair%%:*}"; schema="postgresql/v12/${pair##*:}"
  if [ -z "$(psql -Atq -d "$admin_url" -c "select 1 from pg_database where datname = '$db'")" ]; then
    say "creating database $db"
    sql --db "$db" create-database >>"$data/logs/schema.log" 2>&1
  fi
  # setup-schema -v 0.0 only creates the version tables (a no-op once they exist); update-schema
  # applies the versions above the recorded one from the schema embedded in the pinned tool.
  sql --db "$db" setup-schema -v 0.0 >>"$data/logs/schema.log" 2>&1 \
    || { say "setup-schema of $db failed; see $data/logs/schema.log"; tail -n 5 "$data/logs/schema.log" >&2; exit 1; }
  sql --db "$db" update-schema --schema-name "$schema" >>"$data/logs/schema.log" 2>&1 \
    || { say "update-schema of $db failed; see $data/logs/schema.log"; tail -n 5 "$data/logs/schema.log" >&2; exit 1; }
  version="$(psql -Atq -d "$(node -e 'const u = new URL(process.argv[1]); u.pathname = "/" + process.argv[2]; console.log(u.toString())' "$DATABASE_URL" "$db")" -c 'select curr_version from schema_version')"
  say "database $db: schema $schema at version $version"
done

# --- Temporal server configuration (development-sql style, postgres12 persistence) ---------
datastore() { # name, database, max connections
  cat <<YAML
    $1:
      sql:
        pluginName: "postgres12"
        databaseName: "$2"
        connectAddr: "$pg_host:$pg_port"
        connectProtocol: "tcp"
        user: "$pg_user"
        password: "$pg_password"
        maxConns: $3
        maxIdleConns: $3
        maxConnLifetime: "1h"
YAML
}
service() { # name, grpc port, membership port, [http port]
  echo "  $1:"; echo "    rpc:"; echo "      grpcPort: $2"; echo "      membershipPort: $3"
  echo "      bindOnLocalHost: true"; [ -n "${4:-}" ] && echo "      httpPort: $4"; return 0
}
{
  echo "log:"; echo "  stdout: true"; echo "  level: warn"; echo "  format: json"
  echo "persistence:"
  echo "  defaultStore: postgres-default"; echo "  visibilityStore: postgres-visibility"
  echo "  numHistoryShards: $TEMPORAL_HISTORY_SHARDS"
  echo "  datastores:"
  datastore postgres-default "$TEMPORAL_DB" "$TEMPORAL_SQL_MAX_CONNS"
  datastore postgres-visibility "$TEMPORAL_VISIBILITY_DB" 2
  cat <<YAML
global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: "127.0.0.1"
  metrics:
    prometheus:
      framework: "tally"
      timerType: "histogram"
      listenAddress: "127.0.0.1:$TEMPORAL_METRICS_PORT"
services:
YAML
  service frontend "$TEMPORAL_PORT" "$TEMPORAL_FRONTEND_MEMBERSHIP_PORT" "$TEMPORAL_HTTP_PORT"
  service matching "$TEMPORAL_MATCHING_PORT" "$TEMPORAL_MATCHING_MEMBERSHIP_PORT"
  service history "$TEMPORAL_HISTORY_PORT" "$TEMPORAL_HISTORY_MEMBERSHIP_PORT"
  service worker "$TEMPORAL_WORKER_PORT" "$TEMPORAL_WORKER_MEMBERSHIP_PORT"
  cat <<YAML
clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: "active"
  currentClusterName: "active"
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: "frontend"
      rpcAddress: "127.0.0.1:$TEMPORAL_PORT"
      httpAddress: "127.0.0.1:$TEMPORAL_HTTP_PORT"
dcRedirectionPolicy:
  policy: "noop"
dynamicConfigClient:
  filepath: "$data/temporal/config/dynamicconfig/production.yaml"
  pollInterval: "10s"
YAML
} >"$data/temporal/config/production.yaml"
cat >"$data/temporal/config/dynamicconfig/production.yaml" <<'YAML'
# Nomaly's workflow ids (detect-<model>-<dataset>-<time>) and memo fit the defaults; these
# match the CLI's dev server so that behaviour is the same on both topologies.
limit.maxIDLength:
  - value: 255
history.hostLevelCacheMaxSize:
  - value: 8192
frontend.namespaceRPS.visibility:
  - value: 100
YAML

if running temporal-server; then
  say "temporal server already running (pid $(cat "$data/pids/temporal-server.pid"))"
else
  say "starting temporal server $(basename "$server_bin") on $TEMPORAL_ADDRESS (PostgreSQL $pg_host:$pg_port: $TEMPORAL_DB, $TEMPORAL_VISIBILITY_DB; $TEMPORAL_HISTORY_SHARDS history shards)"
  start_bg temporal-server "$server_bin" --root "$data/temporal" --config config --env production --allow-no-auth start
fi

# --- Temporal Web UI -------------------------------------------------------------------------
cat >"$data/ui/config/production.yaml" <<YAML
temporalGrpcAddress: 127.0.0.1:$TEMPORAL_PORT
host: 127.0.0.1
port: $TEMPORAL_UI_PORT
enableUi: true
defaultNamespace: $TEMPORAL_NAMESPACE
notifyOnNewVersion: false
refreshInterval: 0s
cors:
  cookieInsecure: true
  allowOrigins:
    - "http://127.0.0.1:$TEMPORAL_UI_PORT"
    - "http://localhost:$TEMPORAL_UI_PORT"
auth:
  enabled: false
YAML
if running temporal-ui; then
  say "temporal ui already running (pid $(cat "$data/pids/temporal-ui.pid"))"
else
  say "starting temporal ui $(basename "$ui_bin") on $TEMPORAL_UI_URL"
  start_bg temporal-ui "$ui_bin" --root "$data/ui" --config config --env production start
fi

# --- MinIO -----------------------------------------------------------------------------------
if running minio; then
  say "minio already running (pid $(cat "$data/pids/minio.pid"))"
else
  say "starting minio on $MINIO_ENDPOINT (data in $data/minio)"
  MINIO_ROOT_USER="$MINIO_ROOT_USER" MINIO_ROOT_PASSWORD="$MINIO_ROOT_PASSWORD" MINIO_BROWSER=on \
    start_bg minio "$minio_bin" server "$data/minio" \
    --address "127.0.0.1:$MINIO_PORT" --console-address "127.0.0.1:$MINIO_CONSOLE_PORT" --quiet
fi

# --- Namespace and search attributes -----------------------------------------------------------
t() { "$temporal_cli" "$@" --address "$TEMPORAL_ADDRESS"; }
wait_for temporal-server 120 t operator cluster health
if ! t operator namespace describe --namespace "$TEMPORAL_NAMESPACE" >/dev/null 2>&1; then
  say "registering namespace $TEMPORAL_NAMESPACE (retention 7 days)"
  t operator namespace create --namespace "$TEMPORAL_NAMESPACE" --retention 168h >&2
fi
# The frontend learns a new namespace from its cache (refreshed every 2 s): wait until a
# namespace-scoped call answers, so that the next calls and the first worker poll do not fail.
wait_for temporal-server 60 t operator search-attribute list --namespace "$TEMPORAL_NAMESPACE"
existing="$(t operator search-attribute list --namespace "$TEMPORAL_NAMESPACE")"
for attribute in NomalyModel NomalyDataset NomalyJobStatus; do
  grep -qw "$attribute" <<<"$existing" && continue
  say "registering search attribute $attribute (Keyword)"
  t operator search-attribute create --namespace "$TEMPORAL_NAMESPACE" --name "$attribute" --type Keyword >&2
done
wait_for temporal-server 60 t workflow list --namespace "$TEMPORAL_NAMESPACE" --limit 1
wait_for temporal-ui 60 curl -fsS "$TEMPORAL_UI_URL/"
wait_for minio 60 curl -fsS "$MINIO_ENDPOINT/minio/health/live"

cat >"$data/stack.env" <<ENV
export NOMALY_DATA_DIR='$data'
export TEMPORAL_ADDRESS='$TEMPORAL_ADDRESS'
export TEMPORAL_NAMESPACE='$TEMPORAL_NAMESPACE'
export TEMPORAL_UI_URL='$TEMPORAL_UI_URL'
export TEMPORAL_METRICS_URL='http://127.0.0.1:$TEMPORAL_METRICS_PORT/metrics'
export MINIO_ENDPOINT='$MINIO_ENDPOINT'
export MINIO_ROOT_USER='$MINIO_ROOT_USER'
export MINIO_ROOT_PASSWORD='$MINIO_ROOT_PASSWORD'
export DATABASE_URL='$DATABASE_URL'
ENV

# --- Workers ---------------------------------------------------------------------------------
if [ "$services_only" = 0 ]; then
  [ -f "$root/dist/workers/control.js" ] || { say "dist/ is missing: run 'npm run build' first"; exit 1; }
  workers=()
  for kind in control scoring; do
    count_var="NOMALY_$(echo "$kind" | tr a-z A-Z)_WORKERS"
    for i in $(seq 1 "${!count_var:-1}"); do
      name="$kind-worker-$i"; workers+=("$name")
      if running "$name"; then say "$name already running"; continue; fi
      port="$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')"
      say "starting $name (health, readiness and metrics on :$port)"
      (source "$data/stack.env"; NOMALY_HTTP_PORT="$port" start_bg "$name" node "$root/dist/workers/$kind.js")
      echo "$port" >"$data/pids/$name.port"
    done
  done
  for name in "${workers[@]}"; do
    wait_for "$name" 90 curl -fsS "http://127.0.0.1:$(cat "$data/pids/$name.port")/ready"
  done
fi
say "production topology is up: Temporal $TEMPORAL_ADDRESS, UI $TEMPORAL_UI_URL, MinIO $MINIO_ENDPOINT, logs in $data/logs"
say "use it with: source $data/stack.env"
