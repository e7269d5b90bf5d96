"""The Content-Security-Policy header, built once per process.

django-csp builds the header from the settings on every response, twice (the policy and
its report-only twin), although it is the same text for every response that neither
changes its policy (``csp_update``, ``csp_replace``, ``csp``, ``csp_exempt``, and their
report-only forms) nor asks for a nonce. ``ContentSecurityPolicyMiddleware`` keeps that
text; any other response goes through django-csp unchanged.
"""

from __future__ import annotations

import functools
from typing import Any

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject, CSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponseBase

SETTINGS = ("CONTENT_SECURITY_POLICY", "CONTENT_SECURITY_POLICY_REPORT_ONLY", "DEBUG")
# What django-csp's decorators leave on a response that changes its policy.
OVERRIDES = tuple(
    f"_csp_{kind}{suffix}"
    for kind in ("config", "update", "replace", "exempt")
    for suffix in ("", "_ro")
)


@functools.cache
def policies() -> tuple[str, str] | None:
    """The header and its report-only twin as django-csp builds them for a plain
    response; None when the settings exclude paths or DEBUG exempts error pages, where
    django-csp decides per request."""
    configured = [getattr(settings, name, None) or {} for name in SETTINGS[:2]]
    if settings.DEBUG or any(policy.get("EXCLUDE_URL_PREFIXES") for policy in configured):
        return None
    return build_policy(), build_policy(report_only=True)


@receiver(setting_changed)
def _forget(*, setting: str, **kwargs: Any) -> None:
    if setting in SETTINGS:
        policies.cache_clear()


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware; the header of a plain response is the kept text."""

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        kept = policies()
        plain = getattr(request, "_csp_nonce", None) is None and not any(
            hasattr(response, name) for name in OVERRIDES
        )
        if kept is None or not plain:
            return super().process_response(request, response)
        header, report_only = kept
        if header and HEADER not in response:
            response[HEADER] = header
        if report_only and HEADER_REPORT_ONLY not in response:
            response[HEADER_REPORT_ONLY] = report_only
        # As django-csp does: a nonce asked for once the header is written is an error.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)  # type: ignore[attr-defined]
        return response
