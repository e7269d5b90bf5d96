"""The Content-Security-Policy header built once (``core.csp``): the same text django-csp
builds, and django-csp itself for every response that changes its policy or uses a
nonce."""

from __future__ import annotations

from typing import Any

import pytest
from csp.middleware import CSPMiddleware
from csp.utils import build_policy
from django.http import HttpResponse
from django.test import RequestFactory, override_settings

from core.csp import ContentSecurityPolicyMiddleware, policies

HEADER = "Content-Security-Policy"


def respond(response: HttpResponse, *, use_nonce: bool = False) -> tuple[Any, HttpResponse]:
    request = RequestFactory().get("/api/sites/")

    def view(request: Any) -> HttpResponse:
        if use_nonce:
            str(request.csp_nonce)
        return response

    return request, ContentSecurityPolicyMiddleware(view)(request)


def test_a_plain_response_carries_django_csps_own_header():
    _, response = respond(HttpResponse())

    assert response[HEADER] == build_policy()
    assert "script-src 'self'" in response[HEADER]
    assert "Content-Security-Policy-Report-Only" not in response


def test_the_header_follows_the_settings():
    policy = {"DIRECTIVES": {"default-src": ["'none'"]}}
    with override_settings(CONTENT_SECURITY_POLICY=policy):
        _, changed = respond(HttpResponse())
    _, back = respond(HttpResponse())

    assert changed[HEADER] == "default-src 'none'"
    assert back[HEADER] == build_policy()


@pytest.mark.parametrize(
    ("attribute", "value", "expected"),
    [
        ("_csp_update", {"img-src": ["https://images.example"]}, "https://images.example"),
        ("_csp_replace", {"script-src": ["'none'"]}, "script-src 'none'"),
        ("_csp_config", {"default-src": ["'self'"]}, "default-src 'self'"),
    ],
)
def test_a_response_that_changes_its_policy_goes_through_django_csp(attribute, value, expected):
    response = HttpResponse()
    setattr(response, attribute, value)
    reference = HttpResponse()
    setattr(reference, attribute, value)
    request = RequestFactory().get("/")

    _, kept = respond(response)
    CSPMiddleware(lambda r: reference)(request)

    assert expected in kept[HEADER]
    assert kept[HEADER] == reference[HEADER]


def test_an_exempt_response_has_no_header():
    response = HttpResponse()
    response._csp_exempt = True  # type: ignore[attr-defined]

    _, answered = respond(response)

    assert HEADER not in answered


def test_a_nonce_used_by_the_page_is_in_its_header():
    from csp.constants import NONCE, SELF

    policy = {"DIRECTIVES": {"default-src": [SELF], "script-src": [SELF, NONCE]}}
    with override_settings(CONTENT_SECURITY_POLICY=policy):
        request, response = respond(HttpResponse(), use_nonce=True)
        _, without = respond(HttpResponse())

    assert f"'nonce-{request._csp_nonce}'" in response[HEADER]
    # (django-csp's directive order follows a set's, per process.)
    assert sorted(without[HEADER].split("; ")) == ["default-src 'self'", "script-src 'self'"]


def test_a_nonce_asked_for_after_the_header_is_written_is_an_error():
    from csp.exceptions import CSPNonceError

    request, _ = respond(HttpResponse())

    with pytest.raises(CSPNonceError):
        str(request.csp_nonce)


@override_settings(DEBUG=True)
def test_debug_leaves_the_decision_to_django_csp():
    assert policies() is None
    _, response = respond(HttpResponse(status=404))

    assert HEADER not in response  # django-csp's debug exemption for error pages
