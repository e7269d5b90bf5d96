"""Announcing that an endpoint of the v1 contract will go: ``Deprecation`` (RFC 9745)
and ``Sunset`` (RFC 8594) headers, a ``Link`` to what replaces it, and ``deprecated``
in the OpenAPI schema.

A view declares ``deprecations = {action: Deprecation(...)}`` (``"*"`` for all of its
actions). Its answers then carry the headers, clients that generate code from the
schema see the operation marked, and the contract check (``tools.contract``) still
refuses to let it disappear from v1: removing it needs a new major version.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from email.utils import format_datetime
from typing import Any


@dataclass(frozen=True)
class Deprecation:
    since: dt.datetime  # when it was deprecated (UTC)
    sunset: dt.datetime  # from when it may stop answering (UTC)
    link: str = ""  # the documentation of what replaces it

    def headers(self) -> dict[str, str]:
        found = {
            "Deprecation": f"@{int(self.since.timestamp())}",
            "Sunset": format_datetime(self.sunset.astimezone(dt.UTC), usegmt=True),
        }
        if self.link:
            found["Link"] = f'<{self.link}>; rel="deprecation"'
        return found


def of(view: Any) -> Deprecation | None:
    """The deprecation of the view's current action, if any."""
    declared: dict[str, Deprecation] = getattr(view, "deprecations", {}) or {}
    if not declared:
        return None
    return declared.get(str(getattr(view, "action", "")), declared.get("*"))


class DeprecationHeadersMixin:
    """For API views: the answers of a deprecated action carry its headers."""

    deprecations: dict[str, Deprecation] = {}

    def finalize_response(self, request: Any, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        found = of(self)
        if found is not None:
            for name, value in found.headers().items():
                response[name] = value
        return response
