"""Report usernames that differ only in case or look-alike characters; with
``--add-constraints`` and none left, create the unique constraints migration 0004 had to
leave out."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from accounts import usernames
from accounts.models import User


class Command(BaseCommand):
    help = "Report username collisions (case, look-alikes); optionally add the constraints."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--add-constraints",
            action="store_true",
            help="create the missing unique constraints when there is no collision",
        )

    def handle(self, *args: Any, add_constraints: bool = False, **options: Any) -> None:
        usernames.backfill_skeletons(User)
        found = usernames.collisions(User._base_manager.values_list("username", flat=True))
        for group in found:
            self.stdout.write(", ".join(repr(name) for name in group))
        missing = [c.name for c in usernames.missing_constraints(User, connection)]
        if found:
            raise CommandError(f"{len(found)} group(s) of colliding usernames; rename them first.")
        if missing and add_constraints:
            with connection.schema_editor() as schema_editor:
                usernames.constrain(User, schema_editor, report=self.stdout.write)
            missing = []
        if missing:
            raise CommandError(f"No collision, but constraints missing: {', '.join(missing)}.")
        self.stdout.write("No username collisions; the unique constraints are in place.")
