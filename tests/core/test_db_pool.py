import time

import psycopg
import pytest
from django.db import connection

from accounts.models import User


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_terminated_pooled_connection_is_replaced_without_error():
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    params = connection.get_connection_params()
    connection.close()  # back into the pool, still open
    with psycopg.connect(
        **{k: v for k, v in params.items() if k in ("host", "port", "user", "dbname", "password")},
        autocommit=True,
    ) as admin:
        # Every pooled connection of this database dies, as in a failover or restart.
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    time.sleep(0.2)

    count = User.objects.count()  # would raise if the pool handed out the dead connection

    assert count >= 0
    assert connection.connection.info.backend_pid != pid
