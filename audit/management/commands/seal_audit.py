from typing import Any

from django.core.management.base import BaseCommand

from audit.sealing import backlog, seal


class Command(BaseCommand):
    help = "Seal the audit records not sealed yet into the hash chain."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--all",
            action="store_true",
            help="Also records stamped before the lookback (AUDIT_SEAL_LOOKBACK_SECONDS) of "
            "the newest sealed one: a transaction open that long, or records loaded with "
            "old timestamps. Reads the whole trail.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        sealed = seal(everything=options["all"])
        self.stdout.write(f"sealed {sealed} record(s); waiting: {backlog()['unsealed']}")
