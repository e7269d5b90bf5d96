"""The HTML pages in a real browser (Chromium through Playwright) with the
Content-Security-Policy on: Swagger UI signs in with a JWT and makes one call, Redoc
renders, the admin signs in and opens a change page. Every request the browser makes is
recorded: none may leave 127.0.0.1, and the console must show no CSP violation.

The browser and its recorder are ``tests.browser``'s."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest

from tests.accounts.factories import UserFactory
from tests.browser import Recorder, assert_clean, browser, require_chromium, screenshot
from tests.conftest import DEFAULT_PASSWORD, assign

pytestmark = [pytest.mark.browser, pytest.mark.postgres]


@pytest.fixture(autouse=True)
def _chromium() -> None:
    require_chromium()


def sign_in(base_url: str, username: str) -> str:
    """An access token from the running service's sign-in endpoint."""
    request = urllib.request.Request(  # noqa: S310 (the live server's own http URL)
        f"{base_url}/api/auth/token/",
        data=json.dumps({"username": username, "password": DEFAULT_PASSWORD}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return str(json.loads(response.read())["access"])


def test_swagger_ui_authorizes_with_a_jwt_and_calls_the_api(
    transactional_db: Any, live_server: Any
) -> None:
    # Given a user with a token from the running service
    user = UserFactory(username="swagger.user", first_name="Swagger")
    token = sign_in(live_server.url, user.username)

    # When Swagger UI is opened, authorized with the token and one call is executed
    with browser() as (page, recorder):
        run_swagger_ui(page, recorder, live_server.url, token)


def run_swagger_ui(page: Any, recorder: Recorder, base_url: str, token: str) -> None:
    response = page.goto(f"{base_url}/api/docs/")
    assert response is not None and response.status == 200
    assert (
        "unsafe-inline"
        not in response.headers["content-security-policy"]
        .split("script-src", 1)[1]
        .split(";", 1)[0]
    )
    page.locator(".swagger-ui .info .title").wait_for()
    page.locator("button.authorize").first.click()
    page.locator(".modal-ux input").first.fill(token)
    page.locator(".modal-ux button.authorize").click()
    page.locator(".modal-ux button.btn-done").click()
    operation = page.locator(".opblock-get").filter(
        has=page.locator('.opblock-summary-path[data-path="/api/auth/profile/"]')
    )
    operation.locator(".opblock-summary").click()
    operation.locator("button.try-out__btn").click()
    operation.locator("button.execute").click()
    status = operation.locator(".live-responses-table tr.response .response-col_status").first
    status.wait_for()
    screenshot(page, "swagger-ui")

    # Then the call succeeded with the token, and nothing left 127.0.0.1
    assert status.inner_text().strip().startswith("200")
    assert "swagger.user" in operation.locator(".live-responses-table").inner_text()
    assert any("/api/docs/?script" in url for url in recorder.requests)
    assert_clean(recorder)


def test_redoc_renders(transactional_db: Any, live_server: Any) -> None:
    with browser() as (page, recorder):
        # When Redoc is opened
        response = page.goto(f"{live_server.url}/api/redoc/")
        assert response is not None and response.status == 200

        # Then it renders the schema's title and operations, from 127.0.0.1 only
        page.locator("h1", has_text="Pharma manufacturing API").wait_for()
        page.locator(".menu-content li").first.wait_for()
        screenshot(page, "redoc")
        assert page.locator(".menu-content li").count() > 10
        assert_clean(recorder)


def test_admin_sign_in_and_change_page(transactional_db: Any, live_server: Any) -> None:
    # Given a staff administrator and another user
    admin = UserFactory(is_staff=True, username="browser.admin")
    assign(admin, "admin")
    other = UserFactory(username="browser.other")

    # When the administrator signs in and opens the other user's change page
    with browser() as (page, recorder):
        run_admin(page, recorder, live_server.url, admin.username, other.pk)


def run_admin(page: Any, recorder: Recorder, base_url: str, username: str, pk: int) -> None:
    page.goto(f"{base_url}/admin/login/?next=/admin/")
    screenshot(page, "admin-login")
    page.fill("#id_username", username)
    page.fill("#id_password", DEFAULT_PASSWORD)
    page.click("input[type=submit]")
    page.locator("#site-name").wait_for()
    response = page.goto(f"{base_url}/admin/accounts/user/{pk}/change/")
    assert response is not None
    page.locator("form#user_form").wait_for()
    screenshot(page, "admin-change")

    # Then the change page shows the user, with the admin's scripts running under the CSP
    assert response.status == 200
    assert page.locator("#id_username").input_value() == "browser.other"
    assert "content-security-policy" in response.headers
    assert_clean(recorder)


def test_home_page_under_the_policy(transactional_db: Any, live_server: Any) -> None:
    with browser() as (page, recorder):
        response = page.goto(f"{live_server.url}/")

        assert response is not None and response.status == 200
        assert "script-src 'self'" in response.headers["content-security-policy"]
        page.locator("h1", has_text="Pharma manufacturing service").wait_for()
        assert_clean(recorder)
