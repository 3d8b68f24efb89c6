#!/bin/sh
# Runs once, when the app-postgres volume is first initialised (/docker-entrypoint-initdb.d).
# Creates the service's three databases and applies the source and destination DDL of db/sql
# (mounted at /sql). The staging schema is NOT applied here: the worker migrates it at start-up
# (db/migrate.ts migrateStaging: versioned files, under an advisory lock).
set -eu

psql_app() { psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" "$@"; }

for db in efz_source migration_staging corebank; do
  echo "app-postgres-init: creating database $db"
  psql_app --dbname postgres -c "CREATE DATABASE $db"
done

for file in /sql/source/[0-9][0-9][0-9]_*.sql; do
  echo "app-postgres-init: efz_source <- $file"
  psql_app --dbname efz_source -f "$file"
done

for file in /sql/destination/[0-9][0-9][0-9]_*.sql; do
  echo "app-postgres-init: corebank <- $file"
  psql_app --dbname corebank -f "$file"
done
