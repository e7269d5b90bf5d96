import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from audit.sealing import verify


class Command(BaseCommand):
    help = "Verify the audit seal chain and every record's MAC; exit 1 naming every problem."

    def handle(self, *args: Any, **options: Any) -> None:
        result = verify()
        self.stdout.write(json.dumps(result.as_dict(), indent=2))
        if not result.ok:
            raise CommandError(
                f"audit trail broken: {result.problem_count} problem(s), the first "
                f"{result.problem} at {result.row_id}"
            )
