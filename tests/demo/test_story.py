"""``seed_demo``'s story, as a new user meets it: ten released batches whose assay trends
towards its limit, a released pack whose printed code verifies, and a batch in
quarantine that QA can review and release, every step signed by the demo person whose
role it is."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from accounts.models import User
from accounts.signatures import Reauthentication
from audit.models import AuditLog
from batches.choices import BatchStatus
from batches.models import Batch
from batches.services import batch_release
from demo.management.commands import seed_demo
from inspections.selectors import product_trends
from serializations.services import verify
from tests.core.admin_helpers import admin_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded() -> str:
    out = StringIO()
    call_command("seed_demo", admin_password="a-demo-admin-pass-1", stdout=out)
    return out.getvalue()


def test_the_past_batches_are_released_by_qa_and_trend_down(seeded):
    operator, qa = User.objects.get(username="operator.fra"), User.objects.get(username="qa.lead")
    past = Batch.objects.filter(batch_number__in=seed_demo.PAST_BATCHES).select_related(
        "release_signature"
    )

    assert past.count() == 10
    for batch in past:
        assert batch.status == BatchStatus.RELEASED
        assert (batch.completed_by, batch.released_by) == (operator, qa)
        assert batch.release_signature.signer_id == qa.pk
        assert batch.inspections.get().signature.signer_id == qa.pk
    product = past[0].product
    [trend] = product_trends(product=product, parameters=["assay"], site_ids=None).values()
    values = [point["value"] for point in trend["points"]]
    assert values[:10] == seed_demo.ASSAY and values[10] == seed_demo.QUARANTINE_ASSAY
    assert trend["out_of_trend"], "the drift is flagged by a Nelson rule"
    assert not trend["out_of_specification"]


def test_a_released_pack_verifies(seeded):
    [line] = [line for line in seeded.splitlines() if "a pack that verifies" in line]
    code = line.split("code=", 1)[1]

    answer = verify(user=User.objects.get(username="auditor"), code=code)

    assert answer["verified"] is True, answer


def test_the_quarantined_batch_awaits_review_and_can_be_released(seeded):
    batch = Batch.objects.get(batch_number=seed_demo.QUARANTINE_BATCH)
    qa = User.objects.get(username="qa.lead")

    page = admin_client(qa).get(f"/admin/reports/batchreview/{batch.pk}/change/")

    assert batch.status == BatchStatus.QUARANTINE and batch.completed_at is not None
    assert [i.status for i in batch.inspections.all()] == ["passed"]
    assert qa.is_staff and page.status_code == 200 and page.context["can_release"]
    assert [name for name, _ in page.context["charts"]] == ["assay", "dissolution"]
    # (The password check itself is the review page's tests'.)
    released = batch_release(
        reauth=Reauthentication(user=qa, check=lambda: True), batch=batch, meaning="approval"
    )
    assert released.status == BatchStatus.RELEASED


def test_seeding_again_adds_nothing(seeded):
    before = (Batch.objects.count(), AuditLog.objects.exclude(action="request").count())

    call_command("seed_demo", stdout=StringIO())

    after = (Batch.objects.count(), AuditLog.objects.exclude(action="request").count())
    assert after[0] == before[0] == 14
    assert after[1] == before[1]
