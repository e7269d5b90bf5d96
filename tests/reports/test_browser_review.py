"""QA's pages in a real browser (``tests.browser``): the batch review page with its trend
chart, and the audit trail's changelist at 1,400 px. Screenshots of both are kept where
``BROWSER_SCREENSHOTS`` says (CI keeps them as artifacts)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from audit.capture import build
from audit.models import AuditLog
from audit.store import insert
from batches.models import Batch
from core.context import bind_actor
from tests.browser import assert_clean, browser, require_chromium, screenshot
from tests.conftest import DEFAULT_PASSWORD
from tests.core.admin_helpers import staff_holding
from tests.reports.conftest import QA

pytestmark = [pytest.mark.browser, pytest.mark.postgres]


@pytest.fixture(autouse=True)
def _chromium() -> None:
    require_chromium()


def sign_in_to_admin(page: Any, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEFAULT_PASSWORD)
    page.click("input[type=submit]")
    page.locator("#site-name").wait_for()


def test_the_batch_review_page_and_its_chart(transactional_db: Any, live_server: Any, awaiting):
    qa = staff_holding(*QA, site=awaiting.site, username="browser.qa")
    page_url = f"{live_server.url}/admin/reports/batchreview/{awaiting.pk}/change/"

    with browser(width=1400, height=1000) as (page, recorder):
        sign_in_to_admin(page, live_server.url, qa.username)
        response = page.goto(page_url)
        assert response is not None and response.status == 200
        chart = page.locator("#review-trends img").first
        chart.wait_for()
        chart.scroll_into_view_if_needed()
        # The chart is drawn: an image of its natural size, not a broken one.
        page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=chart.element_handle()
        )
        screenshot(page, "batch-review", full_page=True)
        sections = page.locator("#content-main section h2").all_inner_texts()
        shown = page.locator("#content-main").inner_text()
        chart_response = page.goto(f"{page_url.removesuffix('change/')}chart/?parameter=assay")
        assert chart_response is not None
        screenshot(page, "trend-chart")

    assert [text.split(" ")[0] for text in sections] == [
        "Paracetamol",
        "Lifecycle",
        "Inspections",
        "Signatures",
        "Trends",
        "Decision",
        "Audit",
    ]
    assert "Olga Ferreira" in shown and "Ines Inspector" in shown and "Q-0001" in shown
    assert chart_response.status == 200
    assert chart_response.headers["content-type"] == "image/svg+xml"
    assert_clean(recorder)


def test_the_audit_trail_reads_one_record_per_line_at_1400_px(
    transactional_db: Any, live_server: Any, awaiting: Batch
):
    auditor = staff_holding("audit.view", site=awaiting.site, username="browser.auditor")
    # Records as wide as the trail holds: the longest kind, a long system actor, a
    # request id and a status code in every cell.
    for action in ("webhook_rotate_secret", "inspection_complete", "request"):
        with bind_actor(
            user_id=None,
            username="system:send_daily_reports:celery@worker-host-01",
            request_id=uuid.uuid4().hex,
        ):
            insert(
                [
                    build(
                        action=action,
                        resource_type="inspections.inspection",
                        resource_id=uuid.uuid4(),
                        site_id=awaiting.site_id,
                        status_code=200,
                    )
                ]
            )
    assert AuditLog.objects.filter(site_id=awaiting.site_id).count() >= 8

    with browser(width=1400, height=900) as (page, recorder):
        sign_in_to_admin(page, live_server.url, auditor.username)
        response = page.goto(f"{live_server.url}/admin/audit/auditlog/")
        assert response is not None and response.status == 200
        page.locator("#result_list tbody tr").first.wait_for()
        layout = page.evaluate(
            """() => {
                const results = document.querySelector('#changelist .results');
                const table = document.querySelector('#result_list');
                const rows = [...table.querySelectorAll('tbody tr')];
                const line = parseFloat(getComputedStyle(rows[0].querySelector('td')).lineHeight)
                    || 20;
                const cells = [...table.querySelectorAll('tbody td, tbody th')];
                table.style.width = 'auto';  // the width the columns need, unstretched
                const needed = table.offsetWidth;
                table.style.width = '';
                return {
                    overflow: results.scrollWidth - results.clientWidth,
                    spare: results.clientWidth - needed,
                    tableRight: table.getBoundingClientRect().right,
                    viewport: document.documentElement.clientWidth,
                    tallest: Math.max(...cells.map(c => c.getBoundingClientRect().height)),
                    line: line,
                    rows: rows.length,
                };
            }"""
        )
        screenshot(page, "audit-log-1400")

    assert layout["rows"] >= 8
    assert layout["overflow"] <= 0, layout  # no column clipped or scrolled out of sight
    assert layout["tableRight"] <= layout["viewport"], layout
    # Cells hold one line each (padding aside): no UUID wrapped over several lines.
    assert layout["tallest"] < 2 * layout["line"] + 12, layout
    assert_clean(recorder)
