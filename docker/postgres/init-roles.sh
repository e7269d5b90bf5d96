#!/bin/sh
# First start of the PostgreSQL container (docker-entrypoint-initdb.d): the two roles.
#   pharma_owner  owns the database and every table; only migrations connect as it.
#   pharma_app    what the service connects as: owns nothing, not a superuser, so it can
#                 neither alter a table (nor disable its triggers) nor set
#                 session_replication_role. Its row access is granted by `migrate`.
set -eu

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -v owner_password="$PHARMA_OWNER_PASSWORD" -v app_password="$PHARMA_APP_PASSWORD" <<'SQL'
CREATE ROLE pharma_owner LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'owner_password';
CREATE ROLE pharma_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'app_password';
ALTER DATABASE pharma OWNER TO pharma_owner;
REVOKE ALL ON DATABASE pharma FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE pharma TO pharma_app;
SQL
