from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from rest_framework.test import APIClient

from accounts import signin_guard
from accounts.authentication import verified_tokens
from core import reasons
from core.cache import forget_generation
from tests.accounts.factories import UserFactory
from tests.sites.factories import SiteFactory
from webhooks import interest

ON_POSTGRES = connection.vendor == "postgresql"
ON_REDIS = "RedisCache" in settings.CACHES["default"]["BACKEND"]
DEFAULT_PASSWORD = "correct-horse-battery-staple-42"


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get("REQUIRE_SERVICES") and not (ON_POSTGRES and ON_REDIS):
        raise pytest.UsageError(
            "REQUIRE_SERVICES is set but the tests are not configured for PostgreSQL and "
            "Redis (set DATABASE_URL and REDIS_URL)."
        )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip_pg = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgres://...")
    skip_redis = pytest.mark.skip(reason="needs Redis: set REDIS_URL=redis://...")
    for item in items:
        if "postgres" in item.keywords and not ON_POSTGRES:
            item.add_marker(skip_pg)
        if "redis" in item.keywords and not ON_REDIS:
            item.add_marker(skip_redis)


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    cache.clear()
    forget_generation()
    verified_tokens.clear()
    signin_guard.refused.clear()
    interest.forget()  # which event types are subscribed to: read afresh
    yield
    forget_generation()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def password() -> str:
    return DEFAULT_PASSWORD


@pytest.fixture
def user(db: Any) -> Any:
    return UserFactory()


def assign(user: Any, role_name: str, site: Any = None) -> Any:
    """Give ``user`` a default (or any existing) role, globally or at ``site``."""
    from rbac.models import Role, RoleAssignment

    return RoleAssignment.objects.create(
        user=user, role=Role.objects.get(name=role_name), site=site
    )


@pytest.fixture
def staff_user(db: Any) -> Any:
    """An administrator: staff, holding the ``admin`` role globally (not a superuser)."""
    user = UserFactory(is_staff=True, username="staff.admin")
    assign(user, "admin")
    return user


def member(role_name: str, site: Any, username: str) -> Any:
    """A user named ``username`` (first name from it) holding ``role_name`` at ``site``."""
    user = UserFactory(username=username, first_name=username.split(".")[0].title())
    assign(user, role_name, site=site)
    return user


# The named actors. A role's name is its signed-in API client; ``<role>_user`` is the
# person behind it. Both belong to ``site``, the one plant most tests need.


@pytest.fixture
def site(db: Any) -> Any:
    return SiteFactory()


@pytest.fixture
def admin(staff_user: Any, auth_client: Callable[..., APIClient]) -> APIClient:
    return auth_client(staff_user)


@pytest.fixture
def operator_user(site: Any) -> Any:
    return member("operator", site, "olga.operator")


@pytest.fixture
def operator(operator_user: Any, auth_client: Callable[..., APIClient]) -> APIClient:
    return auth_client(operator_user)


@pytest.fixture
def qa_user(site: Any) -> Any:
    return member("qa", site, "quinn.qa")


@pytest.fixture
def qa(qa_user: Any, auth_client: Callable[..., APIClient]) -> APIClient:
    return auth_client(qa_user)


@pytest.fixture
def change_reason() -> Iterator[None]:
    """A reason for change bound around the test, for direct bulk writes of GMP records.

    Not autouse: a module that writes such records outside the services opts in with
    ``pytestmark = pytest.mark.usefixtures("change_reason")``.
    """
    with reasons.given("Bulk write under test"):
        yield


@pytest.fixture
def login(api_client: APIClient) -> Callable[..., dict[str, Any]]:
    """Sign in through the API and return the response body."""

    def _login(
        user: Any, password: str = DEFAULT_PASSWORD, client: APIClient | None = None
    ) -> dict[str, Any]:
        response = (client or api_client).post(
            "/api/auth/token/", {"username": user.username, "password": password}, format="json"
        )
        assert response.status_code == 200, response.content
        return response.json()

    return _login


@pytest.fixture
def auth_client(login: Callable[..., dict[str, Any]]) -> Callable[..., APIClient]:
    """An APIClient carrying a fresh access token for ``user``."""

    def _client(user: Any) -> APIClient:
        tokens = login(user, client=APIClient())
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
        client.tokens = tokens  # type: ignore[attr-defined]
        return client

    return _client


@pytest.fixture
def db_vendor() -> str:
    return connection.vendor
