"""Domain exceptions and the one exception handler that maps them to HTTP.

Every error under ``/api/`` leaves as JSON in DRF's shape: ``{"field": ["message"]}``
for validation errors, ``{"detail": "...", "code": "..."}`` otherwise.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError, IntegrityError, InterfaceError, OperationalError
from django.db.models import ProtectedError, RestrictedError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error

logger = logging.getLogger(__name__)


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "Request body too large."
    default_code = "payload_too_large"


class ServiceUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "A backing service is unavailable; try again shortly."
    default_code = "service_unavailable"


class DomainError(Exception):
    """Base of errors raised by services; mapped to an HTTP status by the handler."""

    status_code: int = status.HTTP_400_BAD_REQUEST
    code = "invalid"

    def __init__(
        self, message: str, *, code: str | None = None, extra: dict[str, Any] | None = None
    ):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.extra = extra or {}


class StateConflict(DomainError):
    status_code: int = status.HTTP_409_CONFLICT
    code = "conflict"


class Forbidden(DomainError):
    status_code: int = status.HTTP_403_FORBIDDEN
    code = "permission_denied"


def error_messages(exc: Exception) -> list[str]:
    """What a refusal says, one line a message: as the admin shows it, and as a door
    that is not the API (a capture's event, a command) reports it."""
    if isinstance(exc, DomainError):
        return [exc.message]
    if isinstance(exc, exceptions.APIException):
        return [str(exc.detail)]
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            return [
                f"{field}: {message}" if field != "__all__" else message
                for field, errors in exc.message_dict.items()
                for message in errors
            ]
        return list(exc.messages)
    return [str(exc)]


def _error(detail: str, code: str, http_status: int, **extra: Any) -> Response:
    return Response({"detail": detail, "code": code, **extra}, status=http_status)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        return _error(exc.message, exc.code, exc.status_code, **exc.extra)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, ProtectedError | RestrictedError):
        return _error(
            "This record is referenced by other records and cannot be deleted.",
            "protected",
            status.HTTP_409_CONFLICT,
        )
    elif isinstance(exc, IntegrityError):
        logger.warning("integrity_error", exc_info=exc)
        return _error(
            "The change conflicts with existing data.", "conflict", status.HTTP_409_CONFLICT
        )
    elif isinstance(exc, OperationalError | InterfaceError):
        logger.error("database_unavailable", exc_info=exc)
        return _error(
            ServiceUnavailable.default_detail,
            ServiceUnavailable.default_code,
            status.HTTP_503_SERVICE_UNAVAILABLE,
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    # Imported here: rest_framework.views loads the parser classes, which import this module.
    from rest_framework.views import exception_handler as drf_exception_handler

    response = drf_exception_handler(exc, context)
    if response is None:
        # Anything unexpected is a server error; it is logged with its traceback and
        # answered in the same JSON shape, never with an HTML page.
        if isinstance(exc, DatabaseError):
            logger.error("database_error", exc_info=exc)
        else:
            logger.error("unhandled_exception", exc_info=exc)
        return _error(
            "Internal server error.", "server_error", status.HTTP_500_INTERNAL_SERVER_ERROR
        )
    if isinstance(response.data, dict) and "detail" in response.data:
        detail = response.data["detail"]
        response.data["code"] = getattr(detail, "code", None) or getattr(
            exc, "default_code", "error"
        )
    elif isinstance(response.data, list):
        response.data = {"non_field_errors": response.data}
    return response
