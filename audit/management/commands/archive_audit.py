from typing import Any

from django.core.management.base import BaseCommand, CommandError

from audit.archive import ArchiveRefused, archivable_months, archive_month, parse_month


class Command(BaseCommand):
    help = (
        "Archive closed months older than AUDIT_ONLINE_MONTHS: export them with their seals, "
        "verify the archive by reading it back, then detach the month's partition. Runs as "
        "the owner of the tables (DATABASE_MIGRATE_URL)."
    )

    def add_arguments(self, parser: Any) -> None:
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--month", help="The month to archive, YYYY-MM (UTC).")
        which.add_argument(
            "--older-than-online",
            action="store_true",
            help="Every month older than AUDIT_ONLINE_MONTHS that still has records.",
        )
        parser.add_argument(
            "--to", required=True, help="A directory, or s3://bucket/prefix for S3 storage."
        )
        parser.add_argument(
            "--keep-attached",
            action="store_true",
            help="Archive and record the archive, but leave the records online.",
        )
        parser.add_argument(
            "--drop",
            action="store_true",
            help="Drop the detached partition once its archive verified (it is kept otherwise).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            months = (
                archivable_months()
                if options["older_than_online"]
                else [parse_month(options["month"])]
            )
            for month in months:
                entry = archive_month(
                    month=month,
                    to=options["to"],
                    detach=not options["keep_attached"],
                    drop=options["drop"],
                )
                state = "dropped" if entry.dropped else "detached" if entry.detached else "kept"
                self.stdout.write(
                    f"{month:%Y-%m}: {entry.records} record(s) -> {entry.location} "
                    f"sha256={entry.sha256} ({state})"
                )
        except ArchiveRefused as refused:
            raise CommandError(str(refused)) from None
        if not months:
            self.stdout.write("no month to archive")
