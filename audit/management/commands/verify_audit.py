import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from audit.sealing import verify


class Command(BaseCommand):
    help = (
        "Verify the audit seal chain, the records' MACs and the witnesses; exit 1 naming "
        "every problem. Incremental from the latest checkpoint unless --full."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--full",
            action="store_true",
            help="Check from the first seal: records sealed before the latest checkpoint too.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        result = verify(full=options["full"])
        self.stdout.write(json.dumps(result.as_dict(), indent=2))
        if not result.ok:
            raise CommandError(
                f"audit trail broken: {result.problem_count} problem(s), the first "
                f"{result.problem} at {result.row_id or f'seal #{result.seq}'}"
            )
