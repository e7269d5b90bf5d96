"""``manage.py epcis_capture <file> --actor <username>``: a partner's EPCIS document from
a file (a contract manufacturer's drop, a 3PL's export), applied as the API's capture
applies it: the same schema, rules, all or nothing, idempotent by eventID."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from core.exceptions import error_messages
from core.management.base import ActorCommand
from serializations import capture


class Command(ActorCommand):
    help = "Apply an EPCIS 2.0 document (JSON or JSON-LD) from a file, as --actor."

    def add_arguments(self, parser: Any) -> None:
        super().add_arguments(parser)
        parser.add_argument("path", help="the EPCISDocument, a JSON file")

    def handle_as(self, actor: Any, *args: Any, **options: Any) -> None:
        path = Path(options["path"])
        try:
            if path.stat().st_size > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
                raise CommandError(
                    f"{path}: larger than MAX_REQUEST_BODY_BYTES "
                    f"({settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes)."
                )
            document = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise CommandError(f"{path}: {exc.strerror}.") from exc
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
            raise CommandError(f"{path}: not a JSON document ({exc}).") from exc
        try:
            result = capture.epcis_capture(actor=actor, document=document)
        except ValidationError as exc:
            lines = error_messages(exc)
            raise CommandError("The document was not applied:\n" + "\n".join(lines)) from exc
        self.stdout.write(
            f"Captured {result['captured']} events; {result['duplicates']} stored before."
        )
