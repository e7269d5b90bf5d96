import io
import json
from typing import Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser as BaseJSONParser

from core.exceptions import PayloadTooLarge


class JSONParser(BaseJSONParser):
    """JSON parser that enforces the request body limit even without Content-Length.

    DRF reads the stream directly, which bypasses Django's DATA_UPLOAD_MAX_MEMORY_SIZE.
    """

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if stream is not None and limit:
            body = stream.read(limit + 1)
            if len(body) > limit:
                raise PayloadTooLarge()
            stream = io.BytesIO(body)
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError("JSON parse error - document nested too deeply.") from exc
        try:
            # Lone surrogates ("\ud800") are valid JSON escapes but not text: no database
            # or renderer can store them, so refuse them here, once for the whole body.
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ParseError("JSON parse error - invalid Unicode (lone surrogate).") from exc
        except RecursionError as exc:
            raise ParseError("JSON parse error - document nested too deeply.") from exc
        return data
