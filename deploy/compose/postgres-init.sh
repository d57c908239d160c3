#!/usr/bin/env bash
# PostgreSQL init script of docker-compose.yml, mounted into /docker-entrypoint-initdb.d/:
# the postgres image runs it once, when the data volume is new. Each service gets its own
# login role with its own password (CATALOG_DB_PASSWORD, FILES_DB_PASSWORD,
# JOBS_DB_PASSWORD, STATUS_DB_PASSWORD) and owns a schema of its name in the simforge
# database; no role can read another's schema. The services create their tables there at
# start (their migrations), as they do under deploy/run-local.sh.
#
# Idempotent: after changing passwords in .env, recreate the db container and run it again
#   docker compose up -d db && docker compose exec db bash /docker-entrypoint-initdb.d/10-simforge-roles.sh
set -euo pipefail

database=${POSTGRES_DB:-simforge}
admin=${POSTGRES_USER:-postgres}

for role in catalog files jobs status; do
    variable="$(printf '%s' "$role" | tr '[:lower:]' '[:upper:]')_DB_PASSWORD"
    password=${!variable:-}
    if [ -z "$password" ]; then
        echo "postgres-init: $variable is not set (see deploy/compose/generate-env.sh)" >&2
        exit 1
    fi
    psql -X -q -v ON_ERROR_STOP=1 --username "$admin" --dbname "$database" \
        -v role="$role" -v password="$password" -v database="$database" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN', :'role') WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role') \gexec
ALTER ROLE :"role" WITH LOGIN PASSWORD :'password';
GRANT CONNECT, CREATE ON DATABASE :"database" TO :"role";
CREATE SCHEMA IF NOT EXISTS :"role" AUTHORIZATION :"role";
SQL
done

# Only the service roles (and the superuser) may connect to the database.
psql -X -q -v ON_ERROR_STOP=1 --username "$admin" --dbname "$database" -v database="$database" <<'SQL'
REVOKE CONNECT ON DATABASE :"database" FROM PUBLIC;
SQL
echo "postgres-init: roles and schemas catalog, files, jobs, status ready in $database"
