"""What every request passes: one access log line, the request metrics, and the admin's
middleware run for the admin's pages only (``core.middleware``)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
from django.core import checks
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.test import Client

from core.checks import check_admin_middleware, check_csrf_cookie_secure
from core.logging import AccessJSONFormatter, RequestContextFilter, json_formatter
from core.middleware import AdminMiddleware
from tests.accounts.factories import DEFAULT_PASSWORD, UserFactory
from tests.conftest import assign
from tests.core.admin_helpers import admin_client

pytestmark = pytest.mark.django_db


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []
        self.addFilter(RequestContextFilter())

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def access_lines() -> Iterator[list[logging.LogRecord]]:
    logger = logging.getLogger("core.access")
    handler = _Records()
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        yield handler.records
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def test_one_access_line_per_request_with_the_requests_own_context(access_lines, auth_client):
    user = UserFactory()
    assign(user, "admin")
    api = auth_client(user)
    access_lines.clear()

    response = api.get("/api/sites/?page_size=5", HTTP_X_REQUEST_ID="trace-7")

    assert response.status_code == 200
    [line] = access_lines
    assert line.getMessage() == "request_finished"
    assert line.levelno == logging.INFO
    assert line.request == "GET /api/sites/?page_size=5"  # type: ignore[attr-defined]
    assert line.code == 200  # type: ignore[attr-defined]
    assert line.duration_ms >= 0  # type: ignore[attr-defined]
    assert line.request_id == "trace-7" == response["X-Request-ID"]  # type: ignore[attr-defined]
    assert line.user_id == str(user.pk)  # type: ignore[attr-defined]
    assert line.client_ip == "127.0.0.1"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("path", "status", "level"),
    [
        ("/health/live/", 200, logging.INFO),
        ("/api/no-such-thing/", 404, logging.WARNING),
        ("/api/sites/", 401, logging.WARNING),
    ],
)
def test_the_lines_level_follows_the_status(access_lines, client, path, status, level):
    response = client.get(path)

    assert response.status_code == status
    [line] = access_lines
    assert (line.code, line.levelno) == (status, level)  # type: ignore[attr-defined]


def test_a_refused_oversized_body_is_logged_too(access_lines, client):
    response = client.post(
        "/api/sites/", b"{}", content_type="application/json", CONTENT_LENGTH="999999999"
    )

    assert response.status_code == 413
    assert [line.code for line in access_lines] == [413]  # type: ignore[attr-defined]


def test_the_access_formatter_writes_what_the_json_formatter_writes(access_lines, client):
    client.get("/health/live/?probe=1", HTTP_USER_AGENT="kube-probe/1.30")
    [record] = access_lines
    record.__dict__.pop("message", None)  # set by pytest's own capture, which ran first

    fast = json.loads(AccessJSONFormatter().format(record))
    full = json.loads(json_formatter().format(record))

    assert fast.pop("timestamp").endswith("Z")
    full.pop("timestamp")
    assert fast == full
    assert list(fast) == [
        "event",
        "level",
        "logger",
        "request_id",
        "client_ip",
        "request",
        "code",
        "duration_ms",
        "user_id",
    ]


def test_request_metrics_count_each_view_method_and_status(client):
    client.get("/health/live/")
    client.get("/api/sites/")  # 401

    text = client.get("/metrics", REMOTE_ADDR="127.0.0.1").content.decode()

    assert (
        'django_http_responses_total_by_status_view_method_total{method="GET",status="200",'
        'view="health-live"}' in text
    )
    assert (
        'django_http_responses_total_by_status_view_method_total{method="GET",status="401",'
        'view="site-list"}' in text
    )
    assert (
        'django_http_requests_latency_seconds_by_view_method_count{method="GET",'
        'view="health-live"}' in text
    )


def test_a_made_up_method_is_one_series(client):
    client.generic("BREW", "/health/live/")
    client.generic("WHEN", "/health/live/")

    text = client.get("/metrics", REMOTE_ADDR="127.0.0.1").content.decode()

    assert 'method="<invalid method>"' in text
    assert "BREW" not in text and "WHEN" not in text


# --- the admin's middleware, for the admin only ------------------------------------


def test_api_and_health_requests_carry_no_session_or_csrf(client, auth_client):
    user = UserFactory()
    assign(user, "admin")
    api = auth_client(user)

    for response in (api.get("/api/sites/"), client.get("/health/live/"), client.get("/")):
        assert response.status_code == 200
        assert not response.cookies, response.cookies
        assert "Cookie" not in response.get("Vary", "")
        assert not hasattr(response.wsgi_request, "session")
        assert response["X-Frame-Options"] == "DENY"  # global headers stay global
        assert "Content-Security-Policy" in response


def test_the_admin_still_has_sessions_csrf_and_messages(settings):
    settings.ADMIN_REQUIRE_2FA = False
    user = UserFactory(is_staff=True, is_superuser=False)
    assign(user, "admin")
    browser = Client(enforce_csrf_checks=True, headers={"host": "127.0.0.1"})

    page = browser.get("/admin/login/")
    assert page.status_code == 200
    assert "csrftoken" in page.cookies
    # Without the token the sign-in is refused: CsrfViewMiddleware.process_view ran.
    refused = browser.post(
        "/admin/login/", {"username": user.username, "password": DEFAULT_PASSWORD}
    )
    assert refused.status_code == 403

    signed_in = browser.post(
        "/admin/login/?next=/admin/",
        {
            "username": user.username,
            "password": DEFAULT_PASSWORD,
            "csrfmiddlewaretoken": page.cookies["csrftoken"].value,
        },
    )
    assert signed_in.status_code == 302, signed_in.content[:500]
    assert "sessionid" in signed_in.cookies
    index = browser.get("/admin/")
    assert index.status_code == 200
    assert index.wsgi_request.user == user
    assert hasattr(index.wsgi_request, "_messages")
    assert index.wsgi_request.user.is_verified() is False  # OTPMiddleware ran


def test_a_signed_in_admin_session_means_nothing_to_the_api(staff_user):
    browser = admin_client(staff_user)
    assert browser.get("/admin/").status_code == 200

    # The session cookie travels with every request; outside /admin/ nobody reads it.
    assert browser.get("/api/sites/").status_code == 401


calls: list[str] = []


class _Recorder:
    name = ""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        calls.append(f"{self.name}:call")
        response = self.get_response(request)
        calls.append(f"{self.name}:{response.status_code}")
        return response

    def process_view(self, request, view, args, kwargs):
        calls.append(f"{self.name}:view")

    def process_exception(self, request, exception):
        calls.append(f"{self.name}:exception")

    def process_template_response(self, request, response):
        calls.append(f"{self.name}:template")
        return response


class First(_Recorder):
    name = "first"


class Second(_Recorder):
    name = "second"


class Broken:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        raise ValueError("broken middleware")


HERE = __name__


def test_the_admins_middleware_hooks_run_in_order(settings, rf):
    """process_view in order, process_exception and process_template_response in reverse,
    and only for the admin's paths."""
    settings.ADMIN_MIDDLEWARE = [f"{HERE}.First", f"{HERE}.Second"]
    middleware = AdminMiddleware(lambda request: HttpResponse("view"))
    calls.clear()

    for request in (rf.get("/admin/x/"), rf.get("/api/x/")):
        middleware(request)
        middleware.process_view(request, lambda r: None, (), {})
        middleware.process_exception(request, ValueError())
        middleware.process_template_response(request, TemplateResponse(request, "x.html"))

    assert calls == [
        "first:call",
        "second:call",
        "second:200",
        "first:200",
        "first:view",
        "second:view",
        "second:exception",
        "first:exception",
        "second:template",
        "first:template",
    ]


def test_an_error_inside_the_admins_chain_is_a_response_at_the_middleware_it_passes(settings, rf):
    settings.ADMIN_MIDDLEWARE = [f"{HERE}.First", f"{HERE}.Broken"]
    calls.clear()

    response = AdminMiddleware(lambda request: HttpResponse("view"))(rf.get("/admin/"))

    assert response.status_code == 500
    assert calls == ["first:call", "first:500"]  # a response came back, not the exception


# --- the checks that replace the admin's own -----------------------------------------


def test_the_admin_middleware_check_passes_on_the_settings():
    assert check_admin_middleware() == []


@pytest.mark.parametrize(
    ("change", "ids"),
    [
        # The scope without its door: the admin's middleware would never run.
        (
            lambda s: s.MIDDLEWARE.remove("core.middleware.AdminMiddleware"),
            {"core.E001", "core.E002"},
        ),
        (
            lambda s: s.ADMIN_MIDDLEWARE.remove("django.middleware.csrf.CsrfViewMiddleware"),
            {"core.E002"},
        ),
        (
            lambda s: s.ADMIN_MIDDLEWARE.remove(
                "django.contrib.auth.middleware.AuthenticationMiddleware"
            ),
            {"core.E002"},
        ),
        (
            lambda s: s.MIDDLEWARE.append("django.contrib.sessions.middleware.SessionMiddleware"),
            {"core.E003"},
        ),
    ],
)
def test_the_admin_middleware_check_finds_what_is_missing(settings, change, ids):
    settings.MIDDLEWARE = list(settings.MIDDLEWARE)
    settings.ADMIN_MIDDLEWARE = list(settings.ADMIN_MIDDLEWARE)
    change(settings)

    found = check_admin_middleware()

    assert {error.id for error in found} == ids
    assert all(error.level == checks.ERROR for error in found)


def test_the_admins_middleware_listed_in_middleware_itself_passes(settings):
    admin_middleware = list(settings.ADMIN_MIDDLEWARE)
    settings.MIDDLEWARE = [
        m for m in settings.MIDDLEWARE if m != "core.middleware.AdminMiddleware"
    ] + admin_middleware
    settings.ADMIN_MIDDLEWARE = []

    assert check_admin_middleware() == []


def test_an_insecure_csrf_cookie_is_reported_on_deploy(settings):
    settings.CSRF_COOKIE_SECURE = True
    assert check_csrf_cookie_secure() == []

    settings.CSRF_COOKIE_SECURE = False
    assert [w.id for w in check_csrf_cookie_secure()] == ["core.W004"]
    assert "core.W004" in {
        m.id for m in checks.run_checks(include_deployment_checks=True, tags=["security"])
    }


class Unused:
    def __init__(self, get_response):
        from django.core.exceptions import MiddlewareNotUsed

        raise MiddlewareNotUsed


def test_a_middleware_that_declines_is_left_out_as_django_leaves_it_out(settings, rf):
    settings.ADMIN_MIDDLEWARE = [f"{HERE}.First", f"{HERE}.Unused", f"{HERE}.Second"]
    calls.clear()

    response = AdminMiddleware(lambda request: HttpResponse("view"))(rf.get("/admin/"))

    assert response.status_code == 200
    assert calls == ["first:call", "second:call", "second:200", "first:200"]
