"""A real browser for the tests: Chromium through Playwright, every request it makes
recorded and none let past 127.0.0.1, its console and page errors collected.

``require_chromium()`` skips a test when Chromium is not installed, unless
``REQUIRE_BROWSER`` is set (CI). ``BROWSER_SCREENSHOTS=<directory>`` keeps a screenshot
of each page a test names (CI keeps them as artifacts)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Page loads and clicks; a page that needs longer than this is broken, not slow.
TIMEOUT_MS = 20_000
# Redoc's sidebar footer draws Redocly's logo from cdn.redoc.ly; the policy blocks it, so
# it never leaves the browser, but Chromium reports the refusal on the console.
REDOC_FOOTER_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


@dataclass
class Recorder:
    """What the browser asked for and what it complained about."""

    requests: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def on_console(self, message: Any) -> None:
        text = message.text
        if "Content Security Policy" in text or "Content-Security-Policy" in text:
            if REDOC_FOOTER_LOGO in text and shows_redoc_logo():
                return
            self.csp_violations.append(text)


def shows_redoc_logo() -> bool:
    """Whether the Redoc bundle served still draws the CDN logo."""
    from django.contrib.staticfiles import finders

    bundle = finders.find("drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js")
    return bool(bundle) and REDOC_FOOTER_LOGO in Path(bundle).read_text(encoding="utf-8")


def is_local(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in {"data", "blob", "about"} or parts.hostname == "127.0.0.1"


def require_chromium() -> None:
    if not CHROMIUM:
        reason = "Chromium is not installed (apt-get install chromium)"
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail(f"REQUIRE_BROWSER is set but {reason}")
        print(f"{reason}; browser check skipped")
        pytest.skip(reason)
    pytest.importorskip("playwright.sync_api")


@contextmanager
def browser(width: int = 1280, height: int = 900) -> Iterator[tuple[Any, Recorder]]:
    """A fresh Chromium page and what it records. Playwright runs an event loop in this
    thread, so the test makes its database rows before entering (Django refuses
    synchronous queries while a loop runs)."""
    from playwright import sync_api

    recorder = Recorder()
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        try:
            context = chromium.new_context(viewport={"width": width, "height": height})
            context.set_default_timeout(TIMEOUT_MS)

            def route(route: Any) -> None:
                url = route.request.url
                recorder.requests.append(url)
                if is_local(url):
                    route.continue_()
                else:
                    # Recorded and refused: the check never reaches the internet.
                    recorder.outside.append(url)
                    route.abort()

            context.route("**/*", route)
            page = context.new_page()
            page.on("console", recorder.on_console)
            page.on("pageerror", lambda error: recorder.page_errors.append(str(error)))
            yield page, recorder
        finally:
            chromium.close()


def screenshot(page: Any, name: str, *, full_page: bool = False) -> None:
    directory = os.environ.get("BROWSER_SCREENSHOTS")
    if directory:
        Path(directory).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(directory) / f"{name}.png"), full_page=full_page)


def assert_clean(recorder: Recorder) -> None:
    assert recorder.requests, "the browser made no request at all"
    assert recorder.outside == [], recorder.outside
    assert recorder.csp_violations == [], recorder.csp_violations
    assert recorder.page_errors == [], recorder.page_errors
