"""Bad input on every /api/auth/ and /api/users/ endpoint.

Each request is refused with the right status, as JSON in DRF's shape
(``{"field": [...]}`` for validation errors, ``{"detail": ..., "code": ...}`` otherwise),
and leaves the database exactly as it was.
"""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import User, UserSession
from rbac.models import RoleAssignment
from tests.conftest import DEFAULT_PASSWORD

LOGIN = "/api/auth/token/"
REFRESH = "/api/auth/token/refresh/"
LOGOUT = "/api/auth/logout/"
PROFILE = "/api/auth/profile/"
PROFILE_UPDATE = "/api/auth/profile/update/"
PASSWORD_CHANGE = "/api/auth/password/change/"
SESSIONS = "/api/auth/sessions/"
SESSION = "/api/auth/sessions/{session}/"
USERS = "/api/users/"
USER = "/api/users/{user}/"
ACTIVE_COUNT = "/api/users/active_count/"

NEW_PASSWORD = "a-different-long-passphrase-7"

# name: (method, path, who sends it, a body the endpoint accepts as far as its shape goes)
BODY_ENDPOINTS: dict[str, tuple[str, str, str, dict[str, Any]]] = {
    "login": ("POST", LOGIN, "anon", {"username": "someone", "password": "some-password"}),
    "refresh": ("POST", REFRESH, "anon", {"refresh": "not-a-real-token"}),
    "logout": ("POST", LOGOUT, "user", {"refresh_token": "not-a-real-token"}),
    "profile-put": ("PUT", PROFILE_UPDATE, "user", {"first_name": "Changed"}),
    "profile-patch": ("PATCH", PROFILE_UPDATE, "user", {"first_name": "Changed"}),
    "password-change": (
        "POST",
        PASSWORD_CHANGE,
        "user",
        {"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD},
    ),
    "users-create": (
        "POST",
        USERS,
        "staff",
        {"username": "new.person", "email": "new.person@example.com", "password": NEW_PASSWORD},
    ),
    "users-put": ("PUT", USER, "staff", {"first_name": "Changed"}),
    "users-patch": ("PATCH", USER, "staff", {"first_name": "Changed"}),
}
ENDPOINT_NAMES = list(BODY_ENDPOINTS)

STRING_FIELDS = {
    "login": ("username", "password"),
    "refresh": ("refresh",),
    "logout": ("refresh_token",),
    "profile-put": ("email", "first_name", "last_name", "phone", "address"),
    "profile-patch": ("email", "first_name", "last_name", "phone", "address"),
    "password-change": ("current_password", "new_password"),
    "users-create": (
        "username",
        "email",
        "password",
        "first_name",
        "last_name",
        "phone",
        "address",
    ),
    "users-put": ("username", "email", "first_name", "last_name", "phone", "address"),
    "users-patch": ("username", "email", "first_name", "last_name", "phone", "address"),
}
BOOLEAN_FIELDS = {
    "users-create": ("is_active", "is_staff"),
    "users-put": ("is_active", "is_staff"),
    "users-patch": ("is_active", "is_staff"),
}
NOT_STRINGS = {
    "list": ["a", "list"],
    "object": {"an": "object"},
    "null": None,
    "boolean": True,
    "nul-char": "nul\x00char",
}
NOT_BOOLEANS = {
    "word": "maybe",
    "empty": "",
    "number": 2,
    "list": [True],
    "object": {"value": True},
    "null": None,
}
WRONG_TYPES = [
    *(
        pytest.param(name, field, value, id=f"{name}-{field}-{label}")
        for name, fields in STRING_FIELDS.items()
        for field in fields
        for label, value in NOT_STRINGS.items()
    ),
    *(
        pytest.param(name, field, value, id=f"{name}-{field}-{label}")
        for name, fields in BOOLEAN_FIELDS.items()
        for field in fields
        for label, value in NOT_BOOLEANS.items()
    ),
    *(
        pytest.param(name, "email", 42, id=f"{name}-email-number")
        for name in ("profile-put", "profile-patch", "users-create", "users-put", "users-patch")
    ),
]

# Fields an endpoint does not accept: never silently ignored.
FOREIGN_FIELDS = [
    *(pytest.param(name, "surprise", "value", id=f"{name}-unknown") for name in ENDPOINT_NAMES),
    pytest.param("login", "is_staff", True, id="login-is_staff"),
    pytest.param("refresh", "access", "x", id="refresh-access"),
    pytest.param("logout", "refresh", "x", id="logout-refresh"),
    pytest.param("password-change", "password", NEW_PASSWORD, id="password-change-password"),
    *(
        pytest.param(name, field, value, id=f"{name}-{field}")
        for name in ("profile-put", "profile-patch")
        for field, value in (
            ("is_staff", True),
            ("is_superuser", True),
            ("is_active", False),
            ("username", "renamed"),
            ("password", NEW_PASSWORD),
            ("token_epoch", 99),
            ("id", "00000000-0000-0000-0000-000000000000"),
        )
    ),
    pytest.param("users-create", "is_superuser", True, id="users-create-is_superuser"),
    pytest.param("users-create", "id", str(uuid.UUID(int=1)), id="users-create-id"),
    *(
        pytest.param(name, field, value, id=f"{name}-{field}")
        for name in ("users-put", "users-patch")
        for field, value in (
            ("password", NEW_PASSWORD),
            ("is_superuser", True),
            ("token_epoch", 99),
            ("id", "00000000-0000-0000-0000-000000000000"),
            ("created_at", "2000-01-01T00:00:00Z"),
            ("last_login", "2000-01-01T00:00:00Z"),
        )
    ),
]

MISSING_FIELDS = [
    pytest.param("login", {}, {"username", "password"}, id="login-empty"),
    pytest.param("login", {"username": "someone"}, {"password"}, id="login-no-password"),
    pytest.param("login", {"password": "some-password"}, {"username"}, id="login-no-username"),
    pytest.param("refresh", {}, {"refresh"}, id="refresh-empty"),
    pytest.param(
        "password-change", {}, {"current_password", "new_password"}, id="password-change-empty"
    ),
    pytest.param(
        "password-change",
        {"current_password": DEFAULT_PASSWORD},
        {"new_password"},
        id="password-change-no-new",
    ),
    pytest.param(
        "password-change",
        {"new_password": NEW_PASSWORD},
        {"current_password"},
        id="password-change-no-current",
    ),
    pytest.param("users-create", {}, {"username", "email", "password"}, id="users-create-empty"),
    pytest.param(
        "users-create",
        {"username": "new.person", "email": "new.person@example.com"},
        {"password"},
        id="users-create-no-password",
    ),
    pytest.param(
        "users-create",
        {"email": "new.person@example.com", "password": NEW_PASSWORD},
        {"username"},
        id="users-create-no-username",
    ),
    pytest.param(
        "users-create",
        {"username": "new.person", "password": NEW_PASSWORD},
        {"email"},
        id="users-create-no-email",
    ),
]

MALFORMED_JSON = {
    "truncated": b'{"a":',
    "trailing-comma": b'{"a": 1,}',
    "single-quotes": b"{'a': 1}",
    "nan": b'{"a": NaN}',
    "not-utf8": b'{"a": "\xff"}',
    "huge-integer": b'{"a": ' + b"9" * 5000 + b"}",
}
DEEP_JSON = {
    "arrays": b"[" * 100_000 + b"]" * 100_000,
    "objects": b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
}
NOT_OBJECTS = {
    "empty-array": b"[]",
    "array-of-object": b'[{"first_name": "Changed"}]',
    "string": b'"text"',
    "number": b"42",
    "boolean": b"true",
    "null": b"null",
}
WRONG_CONTENT_TYPES = [
    "text/plain",
    "application/x-www-form-urlencoded",
    MULTIPART_CONTENT,
    "application/xml",
]

METHODS_NOT_ALLOWED = [
    ("GET", LOGIN, "anon"),
    ("PUT", LOGIN, "anon"),
    ("DELETE", LOGIN, "anon"),
    ("GET", REFRESH, "anon"),
    ("PATCH", REFRESH, "anon"),
    ("GET", LOGOUT, "user"),
    ("DELETE", LOGOUT, "user"),
    ("POST", PROFILE, "user"),
    ("PUT", PROFILE, "user"),
    ("PATCH", PROFILE, "user"),
    ("DELETE", PROFILE, "user"),
    ("GET", PROFILE_UPDATE, "user"),
    ("POST", PROFILE_UPDATE, "user"),
    ("DELETE", PROFILE_UPDATE, "user"),
    ("GET", PASSWORD_CHANGE, "user"),
    ("PUT", PASSWORD_CHANGE, "user"),
    ("DELETE", PASSWORD_CHANGE, "user"),
    ("POST", SESSIONS, "user"),
    ("PUT", SESSIONS, "user"),
    ("DELETE", SESSIONS, "user"),
    ("POST", SESSION, "user"),
    ("PUT", SESSION, "user"),
    ("PATCH", SESSION, "user"),
    ("PUT", USERS, "staff"),
    ("PATCH", USERS, "staff"),
    ("DELETE", USERS, "staff"),
    ("POST", USER, "staff"),
    ("POST", ACTIVE_COUNT, "staff"),
    ("PUT", ACTIVE_COUNT, "staff"),
    ("PATCH", ACTIVE_COUNT, "staff"),
    ("DELETE", ACTIVE_COUNT, "staff"),
]

# name: (path, who)
LIST_ENDPOINTS = {"users": (USERS, "staff"), "sessions": (SESSIONS, "user")}


# --- helpers -----------------------------------------------------------------------


def db_state() -> dict[str, Any]:
    """Every row an auth or user endpoint could write, compared whole."""
    return {
        "users": list(User.objects.order_by("pk").values()),
        "sessions": list(UserSession.objects.order_by("pk").values()),
        "role_assignments": list(RoleAssignment.objects.order_by("pk").values()),
        "outstanding_tokens": OutstandingToken.objects.count(),
        "blacklisted_tokens": BlacklistedToken.objects.count(),
        "axes_attempts": list(AccessAttempt.objects.order_by("pk").values()),
        "axes_failures": AccessFailureLog.objects.count(),
        "axes_logins": AccessLog.objects.count(),
    }


def send(
    client: APIClient, method: str, path: str, body: Any = None, content_type: str = ""
) -> Any:
    """``body``: bytes are sent as they are, anything else as JSON."""
    if body is None:
        return client.generic(method, path)
    if not isinstance(body, bytes):
        body = json.dumps(body).encode()
    return client.generic(method, path, body, content_type=content_type or "application/json")


def json_body(response: Any, status: int) -> Any:
    assert response.status_code == status, (response.status_code, response.content)
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    assert response.has_header("X-Request-ID")
    return response.json()


def assert_field_errors(response: Any, fields: set[str] | None = None) -> None:
    """400 with ``{"field": ["message", ...]}``; exactly ``fields`` when given."""
    body = json_body(response, 400)
    assert isinstance(body, dict) and body, body
    if fields is not None:
        assert set(body) == fields, body
    for messages in body.values():
        assert isinstance(messages, list) and messages, body
        assert all(isinstance(m, str) and m for m in messages), body


def assert_detail(response: Any, status: int, code: str) -> None:
    """``status`` with ``{"detail": "...", "code": code}``."""
    body = json_body(response, status)
    assert set(body) == {"detail", "code"}, body
    assert isinstance(body["detail"], str) and body["detail"], body
    assert body["code"] == code, body


@pytest.fixture
def prepare(user: Any, staff_user: Any, auth_client: Any) -> Any:
    """The client for ``who`` (anon, user or staff) and ``path`` with its ids filled in.

    ``{user}`` is the plain user (the one the users/{id}/ endpoints act on) and
    ``{session}`` that user's session. A crash is answered as in production (the 500
    handler) instead of being raised into the test.
    """

    def _prepare(who: str, path: str) -> tuple[APIClient, str]:
        if who == "anon":
            client = APIClient()
        else:
            client = auth_client(staff_user if who == "staff" else user)
        client.raise_request_exception = False
        session = UserSession.objects.filter(user=user).first()
        return client, path.format(user=user.pk, session=getattr(session, "pk", None))

    return _prepare


# --- bodies -------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "body", "fields"), MISSING_FIELDS)
def test_missing_required_fields(prepare, name, body, fields):
    method, path, who, _ = BODY_ENDPOINTS[name]
    client, path = prepare(who, path)
    before = db_state()

    response = send(client, method, path, body)

    assert_field_errors(response, fields)
    assert db_state() == before


@pytest.mark.parametrize(("name", "field", "value"), WRONG_TYPES)
def test_wrong_type_is_a_field_error(prepare, name, field, value):
    method, path, who, valid = BODY_ENDPOINTS[name]
    client, path = prepare(who, path)
    before = db_state()

    response = send(client, method, path, {**valid, field: value})

    assert_field_errors(response, {field})
    assert db_state() == before


@pytest.mark.parametrize(("name", "field", "value"), FOREIGN_FIELDS)
def test_field_the_endpoint_does_not_accept_is_refused(prepare, name, field, value):
    method, path, who, valid = BODY_ENDPOINTS[name]
    client, path = prepare(who, path)
    before = db_state()

    response = send(client, method, path, {**valid, field: value})

    assert_field_errors(response, {field})
    assert db_state() == before


@pytest.mark.parametrize("name", ENDPOINT_NAMES)
@pytest.mark.parametrize("where", ["key", "value"])
def test_lone_surrogate_anywhere_is_a_parse_error(prepare, name, where):
    # A lone surrogate is legal JSON (``"\ud800"``) but cannot be encoded as UTF-8.
    method, path, who, valid = BODY_ENDPOINTS[name]
    client, path = prepare(who, path)
    before = db_state()
    bad = {**valid, "\ud800": 1} if where == "key" else {k: "x\ud800" for k in valid}

    response = send(client, method, path, bad)

    assert_detail(response, 400, "parse_error")
    assert db_state() == before


@pytest.mark.parametrize("body", MALFORMED_JSON.values(), ids=MALFORMED_JSON.keys())
@pytest.mark.parametrize("name", ENDPOINT_NAMES)
def test_malformed_json_is_a_parse_error(prepare, name, body):
    method, path, who, _ = BODY_ENDPOINTS[name]
    client, path = prepare(who, path)
    before = db_state()

    response = send(client, method, path, body)

    assert_detail(response, 400, "parse_error")
    assert db_state() == before


@pytest.mark.parametrize("body", DEEP_JSON.values(), ids=DEEP_JSON.keys())
@pytest.mark.parametrize("name", ENDPOINT_NAMES)
def test_deeply_nested_json_is_a_parse_error(prepare, name, body):
    # Well under the size limit, but deeper than Python's JSON decoder recurses.
    method, path, who, _ = BODY_ENDPOINTS[name]
    client, path = prepare(who, path)
    before = db_state()

    response = send(client, method, path, body)

    assert_detail(response, 400, "parse_error")
    assert db_state() == before


@pytest.mark.parametrize("body", NOT_OBJECTS.values(), ids=NOT_OBJECTS.keys())
@pytest.mark.parametrize("name", ENDPOINT_NAMES)
def test_body_that_is_not_a_json_object_is_refused(prepare, name, body):
    method, path, who, _ = BODY_ENDPOINTS[name]
    client, path = prepare(who, path)
    before = db_state()

    response = send(client, method, path, body)

    assert_field_errors(response, {"non_field_errors"})
    assert db_state() == before


@pytest.mark.parametrize("content_type", WRONG_CONTENT_TYPES)
@pytest.mark.parametrize("name", ENDPOINT_NAMES)
def test_body_that_is_not_json_is_415(prepare, name, content_type):
    method, path, who, valid = BODY_ENDPOINTS[name]
    client, path = prepare(who, path)
    if content_type == MULTIPART_CONTENT:
        body = encode_multipart(BOUNDARY, valid)
    elif content_type == "application/x-www-form-urlencoded":
        body = urlencode(valid).encode()
    else:
        body = json.dumps(valid).encode()
    before = db_state()

    response = send(client, method, path, body, content_type=content_type)

    assert_detail(response, 415, "unsupported_media_type")
    assert db_state() == before


@pytest.mark.parametrize("name", ENDPOINT_NAMES)
def test_oversize_body_is_413(prepare, name):
    method, path, who, _ = BODY_ENDPOINTS[name]
    client, path = prepare(who, path)
    body = b'{"first_name": "' + b"a" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE + b'"}'
    before = db_state()

    response = send(client, method, path, body)

    assert_detail(response, 413, "payload_too_large")
    assert db_state() == before


# --- lists, ids, methods ------------------------------------------------------------


@pytest.fixture
def many_rows(user: Any, staff_user: Any) -> int:
    """More than the largest page of users and of the plain user's sessions."""
    User.objects.bulk_create(
        User(username=f"bulk{i:03}", email=f"bulk{i:03}@example.com") for i in range(120)
    )
    expires_at = timezone.now() + timedelta(days=1)
    UserSession.objects.bulk_create(
        UserSession(user=user, refresh_jti=f"bulk{i:03}", expires_at=expires_at) for i in range(120)
    )
    return 120


@pytest.mark.parametrize(
    ("page_size", "expected"),
    [("-1", 20), ("0", 20), ("abc", 20), ("1.5", 20), ("", 20), ("100000", 100), ("101", 100)],
)
@pytest.mark.parametrize("name", LIST_ENDPOINTS)
def test_absurd_page_size_falls_back_or_is_capped(prepare, many_rows, name, page_size, expected):
    path, who = LIST_ENDPOINTS[name]
    client, path = prepare(who, path)
    total = (User if name == "users" else UserSession).objects.count()
    before = db_state()

    response = client.get(path, {"page_size": page_size})

    body = json_body(response, 200)
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == total
    assert len(body["results"]) == expected
    assert db_state() == before


@pytest.mark.parametrize("page", ["0", "-1", "abc", "1.5", "999", "\x00"])
@pytest.mark.parametrize("name", LIST_ENDPOINTS)
def test_invalid_page_is_404(prepare, name, page):
    path, who = LIST_ENDPOINTS[name]
    client, path = prepare(who, path)
    before = db_state()

    response = client.get(path, {"page": page})

    assert_detail(response, 404, "not_found")
    assert db_state() == before


@pytest.mark.parametrize("params", [{"page": "abc", "page_size": "-1"}, {"ordering": "nope"}])
def test_active_count_ignores_list_parameters(prepare, params):
    client, path = prepare("staff", ACTIVE_COUNT)
    before = db_state()

    response = client.get(path, params)

    assert json_body(response, 200) == {"active_count": User.objects.filter(is_active=True).count()}
    assert db_state() == before


@pytest.mark.parametrize("missing_id", [str(uuid.UUID(int=7)), "not-a-uuid", "12345"])
@pytest.mark.parametrize(
    ("method", "path", "who"),
    [
        ("GET", "/api/users/{id}/", "staff"),
        ("PUT", "/api/users/{id}/", "staff"),
        ("PATCH", "/api/users/{id}/", "staff"),
        ("DELETE", "/api/users/{id}/", "staff"),
        ("GET", "/api/auth/sessions/{id}/", "user"),
        ("DELETE", "/api/auth/sessions/{id}/", "user"),
    ],
)
def test_unknown_id_is_404(prepare, method, path, who, missing_id):
    client, _ = prepare(who, SESSIONS)
    body = {"first_name": "Changed"} if method in ("PUT", "PATCH") else None
    before = db_state()

    response = send(client, method, path.format(id=missing_id), body)

    assert_detail(response, 404, "not_found")
    assert db_state() == before


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_someone_elses_session_is_404(prepare, method):
    staff_client, _ = prepare("staff", SESSIONS)
    staff_session = AccessToken(staff_client.tokens["access"])["sid"]
    client, _ = prepare("user", SESSIONS)
    before = db_state()

    response = send(client, method, f"{SESSIONS}{staff_session}/")

    assert_detail(response, 404, "not_found")
    assert db_state() == before


@pytest.mark.parametrize(("method", "path", "who"), METHODS_NOT_ALLOWED)
def test_method_not_allowed_is_405(prepare, method, path, who):
    client, path = prepare(who, path)
    body = {} if method in ("POST", "PUT", "PATCH") else None
    before = db_state()

    response = send(client, method, path, body)

    assert_detail(response, 405, "method_not_allowed")
    assert method not in response["Allow"]
    assert db_state() == before
