#!/usr/bin/env bash
# Writes the secret files infra/compose.yaml mounts (compose `secrets:`), once: existing files
# are kept. Each value is random; DATABASE_URL is built from the PostgreSQL password so the two
# always agree. The folder is mode 700 and git-ignored (infra/secrets/.gitignore); the files are
# 644 because compose bind-mounts them as they are and the containers' non-root users
# (nomaly 1000, grafana 472) must read them.
set -euo pipefail
dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/secrets"
mkdir -p "$dir"
chmod 700 "$dir"
random() { head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c "$1"; }
write() { [ -s "$dir/$1" ] || { printf '%s' "$2" > "$dir/$1"; echo "wrote infra/secrets/$1"; }; }
write postgres_password "$(random 32)"
write database_url "postgres://postgres:$(cat "$dir/postgres_password")@postgres:5432/nomaly"
write minio_root_user "nomaly"
write minio_root_password "$(random 40)"
write grafana_admin_password "$(random 24)"
# AES-256-GCM key for backups: 32 random bytes, hex.
[ -s "$dir/backup_key" ] || { head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$dir/backup_key"; echo "wrote infra/secrets/backup_key"; }
chmod 644 "$dir"/postgres_password "$dir"/database_url "$dir"/minio_root_user "$dir"/minio_root_password "$dir"/grafana_admin_password "$dir"/backup_key
