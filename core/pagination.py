from __future__ import annotations

import base64
import datetime as dt
from typing import Any
from urllib import parse

from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connections, models, router
from django.utils import timezone
from rest_framework import exceptions, pagination, status

INVALID_CURSOR = "Invalid cursor: pass back the cursor of a page's next or previous link unchanged."


class InvalidCursor(exceptions.APIException):
    """A cursor the paginator did not issue: 400, never a query with its contents."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = INVALID_CURSOR
    default_code = "invalid_cursor"


class PageNumberPagination(pagination.PageNumberPagination):
    """``page`` and ``page_size`` (default 20, at most 100; nonsense falls back to 20)."""

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100


class CursorPagination(pagination.CursorPagination):
    """For very large collections (serials, audit): stable, no COUNT(*).

    A cursor is client input: DRF decodes it leniently and hands its position straight
    to a ``filter()``, so a position that is no value of the ordering field (``p=abc``
    for an integer id, a NUL byte, ``1e400``) failed inside the query as a 500. Here a
    cursor is decoded strictly and its position checked against the field first; any
    malformed cursor is a 400 ``invalid_cursor``.
    """

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    ordering = "-created_at"

    def paginate_queryset(self, queryset: Any, request: Any, view: Any = None) -> Any:
        self._queryset = queryset
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request: Any) -> pagination.Cursor | None:
        """DRF's decoding, made strict: base64 with its padding, only the keys
        ``encode_cursor`` writes, each once, so nothing but an issued cursor passes."""
        encoded = request.query_params.get(self.cursor_query_param)
        if encoded is None:
            return None
        try:
            querystring = base64.b64decode(encoded.encode("ascii"), validate=True).decode("ascii")
            pairs = parse.parse_qsl(querystring, keep_blank_values=True, strict_parsing=True)
        except ValueError:  # also binascii.Error and UnicodeError
            raise InvalidCursor() from None
        tokens = dict(pairs)
        if len(tokens) != len(pairs) or not set(tokens) <= {"o", "r", "p"}:
            raise InvalidCursor()
        try:
            offset = pagination._positive_int(tokens.get("o", "0"), cutoff=self.offset_cutoff)
        except ValueError:
            raise InvalidCursor() from None
        if tokens.get("r", "0") not in ("0", "1"):
            raise InvalidCursor()
        position = tokens.get("p")
        if position is not None:
            self._check_position(position)
        # DRF's Cursor carries the position as the string it encodes.
        return pagination.Cursor(offset=offset, reverse=tokens.get("r") == "1", position=position)  # type: ignore[arg-type]

    def _check_position(self, position: str) -> None:
        if "\x00" in position:
            raise InvalidCursor()
        queryset = self._queryset
        try:
            field = queryset.model._meta.get_field(self.ordering[0].lstrip("-"))
        except FieldDoesNotExist:
            # An annotation or a related path: no field to check the value against; the
            # NUL check above still keeps the query valid for text.
            return
        try:
            value = field.to_python(position)
        except (DjangoValidationError, TypeError, ValueError, OverflowError):
            raise InvalidCursor() from None
        if isinstance(value, dt.datetime) and timezone.is_naive(value):
            raise InvalidCursor()
        if isinstance(field, models.IntegerField | models.AutoField) and isinstance(value, int):
            connection = connections[router.db_for_read(queryset.model)]
            low, high = connection.ops.integer_field_range(field.get_internal_type())
            if (low is not None and value < low) or (high is not None and value > high):
                raise InvalidCursor()
