"""Grant the application's database role what it needs, and nothing on the audit
tables beyond SELECT and INSERT (run as the owner of the tables)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import DEFAULT_DB_ALIAS

from audit.dbroles import grant_app_role


class Command(BaseCommand):
    help = "Grant the application's PostgreSQL role row access (audit tables: read, insert)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("role", help="the role the application connects as")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args: Any, role: str, database: str, **options: Any) -> None:
        grant_app_role(role, using=database)
        self.stdout.write(f"Granted {role}.")
