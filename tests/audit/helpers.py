"""What the audit tests share."""

from django.db import connection


def behind_the_applications_back(sql, params=()):
    """As a database superuser with the append-only triggers off for this session."""
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        try:
            cursor.execute(sql, params)
        finally:
            cursor.execute("SET session_replication_role = origin")
