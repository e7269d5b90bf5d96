#!/bin/sh
# Image entry point. With MIGRATE_ON_START=1, `manage.py migrate` runs first, connected
# as the owner of the tables (DATABASE_MIGRATE_URL; it then grants the service's role
# its row access). The command itself runs without the owner's credentials.
set -eu

if [ "${MIGRATE_ON_START:-0}" = "1" ]; then
    python manage.py migrate --noinput
fi
unset DATABASE_MIGRATE_URL DATABASE_MIGRATE_URL_FILE MIGRATE_ON_START

exec "$@"
