import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from audit.sealing import verify


class Command(BaseCommand):
    help = (
        "Verify the audit seal chain, the records' MACs and the witnesses; exit 1 naming "
        "every problem. Incremental from the latest checkpoint unless --full; --archive "
        "checks an archive file instead."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--full",
            action="store_true",
            help="Check from the first seal: records sealed before the latest checkpoint too.",
        )
        parser.add_argument(
            "--archive",
            metavar="PATH_OR_URL",
            help="Verify this archive (a file or s3://bucket/key) instead of the tables.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["archive"]:
            self.verify_archive(options["archive"])
            return
        result = verify(full=options["full"])
        self.stdout.write(json.dumps(result.as_dict(), indent=2))
        if not result.ok:
            raise CommandError(
                f"audit trail broken: {result.problem_count} problem(s), the first "
                f"{result.problem} at {result.row_id or f'seal #{result.seq}'}"
            )

    def verify_archive(self, location: str) -> None:
        from audit.archive import ArchiveRefused, verify_archive

        try:
            result = verify_archive(location)
        except ArchiveRefused as refused:
            raise CommandError(str(refused)) from None
        self.stdout.write(json.dumps(result.as_dict(), indent=2))
        if not result.ok:
            first = result.problems[0]
            raise CommandError(
                f"audit archive broken: {result.problem_count} problem(s), the first "
                f"{first['problem']} at seal #{first['seq']}"
            )
