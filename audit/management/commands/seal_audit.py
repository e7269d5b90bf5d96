from typing import Any

from django.core.management.base import BaseCommand

from audit.sealing import backlog, seal


class Command(BaseCommand):
    help = "Seal every audit record not sealed yet into the hash chain."

    def handle(self, *args: Any, **options: Any) -> None:
        sealed = seal()
        self.stdout.write(f"sealed {sealed} record(s); waiting: {backlog()['unsealed']}")
