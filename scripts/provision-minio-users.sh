#!/usr/bin/env bash
# Least-privilege MinIO keys for Nomaly, through MinIO's admin API with the pinned `mc`
# (scripts/ensure-binary.sh mc; built once from its Go module like temporal and minio).
# Idempotent: policies are (re)written, users (re)created with the given secret, attachments kept.
#
#   nomaly-control  policy for the control worker and the CLI: every action on the four buckets
#                   <prefix>-datasets, -models, -results, -backups (incl. creating them and
#                   their lifecycle rule). Backups and recoveries run here.
#   nomaly-scoring  policy for scoring workers: list, read, write and delete objects in
#                   <prefix>-datasets, -models and -results only. Nothing on <prefix>-backups:
#                   a scoring key can neither read nor delete a backup.
#
# Environment:
#   MINIO_ENDPOINT                       default http://127.0.0.1:9000
#   MINIO_ROOT_USER, MINIO_ROOT_PASSWORD (or _FILE)   the admin credentials
#   NOMALY_BUCKET_PREFIX                 default nomaly
#   NOMALY_CONTROL_ACCESS_KEY, NOMALY_CONTROL_SECRET_KEY (or _FILE)   the control key pair
#   NOMALY_SCORING_ACCESS_KEY, NOMALY_SCORING_SECRET_KEY (or _FILE)   the scoring key pair
# Give the workers their pair as MINIO_ACCESS_KEY(_FILE) / MINIO_SECRET_KEY(_FILE).
# Secrets reach mc through its environment and stdin, never its command line.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

secret() {
  local name="$1" file_var="${1}_FILE"
  if [ -n "${!name:-}" ] && [ -n "${!file_var:-}" ]; then
    echo "provision-minio-users.sh: both $name and $file_var are set: set only one" >&2; return 1
  fi
  if [ -n "${!file_var:-}" ]; then
    [ -r "${!file_var}" ] || { echo "provision-minio-users.sh: $file_var=${!file_var} cannot be read" >&2; return 1; }
    local value; value="$(cat "${!file_var}")"; printf '%s' "$value"
  else
    printf '%s' "${!name:-}"
  fi
}
need() { [ -n "$2" ] || { echo "provision-minio-users.sh: set $1 (or ${1}_FILE)" >&2; exit 2; }; }

endpoint="${MINIO_ENDPOINT:-http://127.0.0.1:9000}"
prefix="${NOMALY_BUCKET_PREFIX:-nomaly}"
root_user="$(secret MINIO_ROOT_USER)"; root_user="${root_user:-nomaly}"
root_password="$(secret MINIO_ROOT_PASSWORD)"; root_password="${root_password:-nomaly-dev-secret}"
control_access="$(secret NOMALY_CONTROL_ACCESS_KEY)"; need NOMALY_CONTROL_ACCESS_KEY "$control_access"
control_secret="$(secret NOMALY_CONTROL_SECRET_KEY)"; need NOMALY_CONTROL_SECRET_KEY "$control_secret"
scoring_access="$(secret NOMALY_SCORING_ACCESS_KEY)"; need NOMALY_SCORING_ACCESS_KEY "$scoring_access"
scoring_secret="$(secret NOMALY_SCORING_SECRET_KEY)"; need NOMALY_SCORING_SECRET_KEY "$scoring_secret"

mc="$("$here/ensure-binary.sh" mc)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
chmod 700 "$work"
# mc reads the alias from MC_HOST_<alias>: scheme://ACCESS:SECRET@host (percent-encoded).
urlencode() { node -e 'process.stdout.write(encodeURIComponent(process.argv[1]))' "$1"; }
scheme="${endpoint%%://*}"; hostport="${endpoint#*://}"; hostport="${hostport%/}"
export MC_HOST_nomalyadmin="$scheme://$(urlencode "$root_user"):$(urlencode "$root_password")@$hostport"
export MC_CONFIG_DIR="$work/mc"
run_mc() { "$mc" --quiet --no-color "$@" >"$work/out" 2>&1 || { sed 's/^/mc: /' "$work/out" >&2; return 1; }; }

cat >"$work/control.json" <<JSON
{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "Action": ["s3:*"],
     "Resource": ["arn:aws:s3:::$prefix-datasets", "arn:aws:s3:::$prefix-datasets/*",
                  "arn:aws:s3:::$prefix-models", "arn:aws:s3:::$prefix-models/*",
                  "arn:aws:s3:::$prefix-results", "arn:aws:s3:::$prefix-results/*",
                  "arn:aws:s3:::$prefix-backups", "arn:aws:s3:::$prefix-backups/*"]}
  ]
}
JSON
cat >"$work/scoring.json" <<JSON
{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow",
     "Action": ["s3:ListBucket", "s3:GetBucketLocation", "s3:ListBucketMultipartUploads"],
     "Resource": ["arn:aws:s3:::$prefix-datasets", "arn:aws:s3:::$prefix-models", "arn:aws:s3:::$prefix-results"]},
    {"Effect": "Allow",
     "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
     "Resource": ["arn:aws:s3:::$prefix-datasets/*", "arn:aws:s3:::$prefix-models/*", "arn:aws:s3:::$prefix-results/*"]},
    {"Effect": "Deny", "Action": ["s3:*"],
     "Resource": ["arn:aws:s3:::$prefix-backups", "arn:aws:s3:::$prefix-backups/*"]}
  ]
}
JSON

for role in control scoring; do
  run_mc admin policy create nomalyadmin "$prefix-$role" "$work/$role.json"
done
add_user() { # access key as argument (it is an identifier), secret on stdin
  printf '%s\n' "$2" | "$mc" --quiet --no-color admin user add nomalyadmin "$1" >"$work/out" 2>&1 \
    || { sed 's/^/mc: /' "$work/out" >&2; return 1; }
}
add_user "$control_access" "$control_secret"
add_user "$scoring_access" "$scoring_secret"
run_mc admin policy attach nomalyadmin "$prefix-control" --user "$control_access"
run_mc admin policy attach nomalyadmin "$prefix-scoring" --user "$scoring_access"
echo "provisioned MinIO users: $control_access (policy $prefix-control), $scoring_access (policy $prefix-scoring)"
