"""What a new user meets first: the admin's names, the favicon every browser asks for,
and the administrator's password at the end of ``make run``'s seeding."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command

from tests.core.admin_helpers import admin_client, staff_holding
from tests.sites.factories import SiteFactory

pytestmark = pytest.mark.django_db


def test_batches_are_batches_on_the_index_breadcrumb_and_changelist():
    client = admin_client(staff_holding("batch.view", site=SiteFactory()))
    for url in ("/admin/", "/admin/batches/", "/admin/batches/batch/"):
        page = client.get(url).content.decode()
        assert "Batches" in page, url
        assert "Batchs" not in page and "batchs" not in page, url


def test_the_favicon_is_served_not_a_logged_404(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    assert response.content.startswith(b"\x00\x00\x01\x00")  # an ICO header
    assert "max-age=86400" in response["Cache-Control"]


def test_the_administrators_password_is_printed_last_and_framed():
    out = StringIO()
    call_command("seed_demo", admin_password="a-demo-admin-pass-1", stdout=out)
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", line) for line in out.getvalue().splitlines()]
    while lines and not lines[-1].strip():
        lines.pop()
    assert lines[-1].startswith("+-") and lines[-1].endswith("-+")
    start = max(n for n, line in enumerate(lines[:-1]) if line.startswith("+-"))
    framed = lines[start + 1 : -1]
    assert all(line.startswith("| ") and line.endswith(" |") for line in framed)
    assert len({len(line) for line in lines[start:]}) == 1  # one width: a frame
    text = "\n".join(framed)
    assert "username: admin" in text and "password: a-demo-admin-pass-1" in text
    assert "Demo serials: 1000" in "\n".join(lines[:start])  # the serials came before
