"""Every HTML page carries a Content-Security-Policy that allows no inline script."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

HTML_PAGES = ["/", "/admin/login/", "/api/docs/", "/api/redoc/"]


def script_src(policy: str) -> list[str]:
    for directive in policy.split(";"):
        name, _, sources = directive.strip().partition(" ")
        if name == "script-src":
            return sources.split()
    raise AssertionError(f"no script-src in {policy!r}")


@pytest.mark.parametrize("path", HTML_PAGES)
def test_html_pages_carry_a_policy_without_inline_scripts(db: Any, path: str) -> None:
    response = Client(headers={"host": "127.0.0.1"}).get(path)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    sources = script_src(response["Content-Security-Policy"])
    assert sources == ["'self'"]
    assert "<script>" not in response.content.decode()


def test_swagger_ui_start_up_script_is_served_as_a_file(db: Any) -> None:
    client = Client(headers={"host": "127.0.0.1"})

    page = client.get("/api/docs/").content.decode()
    script = client.get("/api/docs/?script=")

    assert 'src="/api/docs/?script="' in page
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert b"SwaggerUIBundle" in script.content
