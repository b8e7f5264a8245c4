#!/usr/bin/env bash
# Least-privilege PostgreSQL roles for Nomaly. Idempotent: run it again at any time (it also
# resets the passwords to the ones given). Needs a superuser (or CREATEROLE + database owner)
# connection in PROVISION_ADMIN_URL.
#
#   nomaly_app      workers and CLI (DATABASE_URL). LOGIN, not superuser, no CREATEDB/CREATEROLE.
#                   Owns the platform database and its public schema, so it runs the migrations
#                   and owns every table; it can touch no other database's objects.
#   nomaly_backup   the backup step (BACKUP_DATABASE_URL): pg_dump and row counts need USAGE on
#                   the schema and SELECT on its tables and sequences (granted now and, through
#                   default privileges, on every table nomaly_app creates later). CREATEDB, for
#                   the scratch database each backup is verified in (it owns and drops it).
#                   It cannot write the platform's data.
#   nomaly_restore  disaster recovery (RESTORE_DATABASE_URL): CREATEDB and membership in
#                   nomaly_app, because a restore creates the staging database owned by
#                   nomaly_app, runs pg_restore --role=nomaly_app, closes nomaly_app's sessions
#                   and renames the databases. Use it only for recoveries.
#
# Environment:
#   PROVISION_ADMIN_URL   superuser connection (default postgres://postgres@127.0.0.1:5432/postgres)
#   NOMALY_DB_NAME        platform database (default nomaly); created owned by nomaly_app if missing
#   NOMALY_APP_PASSWORD, NOMALY_BACKUP_PASSWORD, NOMALY_RESTORE_PASSWORD (or each _FILE):
#                         the roles' passwords; a role without one is created without a password
#                         (set one before you allow password logins)
# Passwords go to psql on stdin, never on a command line, and with log_statement off.
set -euo pipefail

admin_url="${PROVISION_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
db="${NOMALY_DB_NAME:-nomaly}"
[[ "$db" =~ ^[a-z_][a-z0-9_]{0,62}$ ]] || { echo "provision-roles.sh: NOMALY_DB_NAME=$db must be a lowercase identifier" >&2; exit 2; }

# NAME or the content of NAME_FILE (trailing newlines dropped); both set is an error.
secret() {
  local name="$1" file_var="${1}_FILE"
  if [ -n "${!name:-}" ] && [ -n "${!file_var:-}" ]; then
    echo "provision-roles.sh: both $name and $file_var are set: set only one" >&2; return 1
  fi
  if [ -n "${!file_var:-}" ]; then
    [ -r "${!file_var}" ] || { echo "provision-roles.sh: $file_var=${!file_var} cannot be read" >&2; return 1; }
    local value; value="$(cat "${!file_var}")"; printf '%s' "$value"
  else
    printf '%s' "${!name:-}"
  fi
}
app_pw="$(secret NOMALY_APP_PASSWORD)"
backup_pw="$(secret NOMALY_BACKUP_PASSWORD)"
restore_pw="$(secret NOMALY_RESTORE_PASSWORD)"

# psql variables are set from stdin (\set), so the passwords never appear in argv or ps.
psql_vars() {
  printf '\\set ON_ERROR_STOP on\n\\set QUIET on\n'
  printf '\\set db %s\n' "$db"
  local name value
  for name in app_pw backup_pw restore_pw; do
    value="${!name}"
    printf '\\set %s %s\n' "$name" "'${value//\'/\'\'}'"
  done
}

{
  psql_vars
  cat <<'SQL'
set log_statement = 'none';
set client_min_messages = warning;
select format('create role %I', r) from unnest(array['nomaly_app', 'nomaly_backup', 'nomaly_restore']) as r
 where not exists (select 1 from pg_roles where rolname = r) \gexec
alter role nomaly_app     with login nosuperuser nocreatedb nocreaterole noreplication nobypassrls inherit;
alter role nomaly_backup  with login nosuperuser createdb   nocreaterole noreplication nobypassrls inherit;
alter role nomaly_restore with login nosuperuser createdb   nocreaterole noreplication nobypassrls inherit;
select case when :'app_pw' = '' then 'alter role nomaly_app password null' else format('alter role nomaly_app password %L', :'app_pw') end \gexec
select case when :'backup_pw' = '' then 'alter role nomaly_backup password null' else format('alter role nomaly_backup password %L', :'backup_pw') end \gexec
select case when :'restore_pw' = '' then 'alter role nomaly_restore password null' else format('alter role nomaly_restore password %L', :'restore_pw') end \gexec
grant nomaly_app to nomaly_restore;
select format('create database %I owner nomaly_app', :'db') where not exists (select 1 from pg_database where datname = :'db') \gexec
select format('alter database %I owner to nomaly_app', :'db') \gexec
select format('revoke all on database %I from public', :'db') \gexec
select format('grant connect, temporary on database %I to nomaly_app, nomaly_backup, nomaly_restore', :'db') \gexec
\connect :db
set log_statement = 'none';
set client_min_messages = warning;
-- PostgreSQL 15+: public belongs to the database owner. Older servers: make it so.
alter schema public owner to nomaly_app;
revoke create on schema public from public;
-- Tables created before the roles existed (an existing installation) move to nomaly_app.
select format('alter table %I.%I owner to nomaly_app', schemaname, tablename) from pg_tables
 where schemaname = 'public' and tableowner <> 'nomaly_app' \gexec
select format('alter sequence %I.%I owner to nomaly_app', schemaname, sequencename) from pg_sequences
 where schemaname = 'public' and sequenceowner <> 'nomaly_app' \gexec
grant usage on schema public to nomaly_backup;
grant select on all tables in schema public to nomaly_backup;
grant select on all sequences in schema public to nomaly_backup;
alter default privileges for role nomaly_app in schema public grant select on tables to nomaly_backup;
alter default privileges for role nomaly_app in schema public grant select on sequences to nomaly_backup;
SQL
} | psql --no-psqlrc -X -q "$admin_url" >/dev/null

echo "provisioned roles nomaly_app, nomaly_backup, nomaly_restore on database $db"
