"""Every change names its actor (Part 11 §11.10(e), Annex 11 §9), whichever door it came
through: the API, the admin, each management command that writes, each task (in-process
and through a real worker), and the shell. A change no person asked for names a system
actor with the job and the OS user and host, never a bare ``system``."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from accounts.models import User
from accounts.tasks import deactivate_dormant_users
from audit.models import AuditLog
from batches.models import Batch
from core.context import bind_actor, process_identity, system_username
from notifications.models import Broadcast
from notifications.tasks import send_broadcast
from sites.models import Site
from tests.accounts.factories import UserFactory
from tests.core.admin_helpers import admin_client, change_form_data
from tests.sites.factories import SiteFactory
from tools.celery_worker import Worker, flush_redis_db, publishing_to, wait_for

ROOT = Path(__file__).resolve().parents[2]
BROKER = "redis://127.0.0.1:6379/13"
SYSTEM = re.compile(r"system:[\w.-]+:[^@\s]+@\S+")


def _changes(resource_type: str, resource_id: object = None) -> list[AuditLog]:
    records = AuditLog.objects.filter(resource_type=resource_type).exclude(action="request")
    if resource_id is not None:
        records = records.filter(resource_id=str(resource_id))
    return list(records.order_by("timestamp"))


def _assert_named(records: list[AuditLog], user: object = None) -> None:
    assert records
    for record in records:
        if user is not None:
            assert (record.actor_id, record.actor_username) == (user.pk, user.username)
        else:
            assert record.actor_id is None
            assert SYSTEM.fullmatch(record.actor_username), record.actor_username
        assert record.actor_username != "system"


@pytest.mark.django_db
def test_an_api_change_names_the_signed_in_user(staff_user, auth_client):
    site = SiteFactory()

    response = auth_client(staff_user).patch(f"/api/sites/{site.pk}/", {"name": "Via API"})

    assert response.status_code == 200
    _assert_named(_changes("sites.site", site.pk)[-1:], staff_user)


@pytest.mark.django_db
def test_an_admin_change_names_the_signed_in_user(staff_user):
    """The reported defect: admin saves were recorded as ``system``, with no actor id."""
    site = SiteFactory()
    client = admin_client(staff_user)
    url = f"/admin/sites/site/{site.pk}/change/"

    response = client.post(url, {**change_form_data(client.get(url)), "name": "Via admin"})

    assert response.status_code == 302
    assert Site.objects.get(pk=site.pk).name == "Via admin"
    [record] = [r for r in _changes("sites.site", site.pk) if r.action == "update"]
    _assert_named([record], staff_user)
    assert record.path == url and record.method == "POST"


@pytest.mark.django_db
def test_an_admin_lifecycle_action_names_the_signed_in_user():
    from tests.batches.factories import BatchFactory
    from tests.core.admin_helpers import staff_holding

    site = SiteFactory()
    batch = BatchFactory(site=site)
    operator = staff_holding("batch.view", "batch.start", site=site)

    admin_client(operator).post(
        "/admin/batches/batch/",
        {"action": "start_batches", "_selected_action": [str(batch.pk)], "apply": "1"},
    )

    assert Batch.objects.get(pk=batch.pk).status == "in_production"
    _assert_named(
        [r for r in _changes("batches.batch", batch.pk) if r.action != "create"], operator
    )


@pytest.mark.django_db
def test_a_command_with_actor_names_them_and_where_it_ran(staff_user):
    target = UserFactory(is_staff=True)

    call_command("enrol_totp", target.username, "--actor", staff_user.username, stdout=StringIO())

    [record] = _changes("otp_totp.totpdevice")
    _assert_named([record], staff_user)
    assert (record.path, record.user_agent) == ("manage.py enrol_totp", process_identity())


@pytest.mark.django_db
def test_a_write_command_without_actor_is_refused():
    target = UserFactory(is_staff=True)

    with pytest.raises(CommandError, match="--actor"):
        call_command("enrol_totp", target.username, stdout=StringIO())

    assert not _changes("otp_totp.totpdevice")


@pytest.mark.django_db
def test_seed_commands_name_a_system_actor_or_the_given_one(staff_user):
    call_command("seed_demo", admin_password="demo-admin-password-1", stdout=StringIO())
    seeded = _changes("sites.site")
    call_command("seed_demo_serials", stdout=StringIO())

    _assert_named(seeded)
    assert seeded[0].actor_username == system_username("seed_demo")
    assert seeded[0].path == "manage.py seed_demo"
    in_production = Batch.objects.get(batch_number="L2026-002")
    _assert_named(_changes("serializations.serialnumber", in_production.pk))
    # The demo's story: each step names the demo person who took it.
    released = Batch.objects.get(batch_number="L2025-110")
    operator, qa = User.objects.get(username="operator.fra"), User.objects.get(username="qa.lead")
    _assert_named(_changes("serializations.serialnumber", released.pk), operator)
    _assert_named(
        [r for r in _changes("batches.batch", released.pk) if r.action != "create"][:2], operator
    )
    transitions = {r.action: r for r in _changes("batches.batch", released.pk)}
    _assert_named([transitions["batch_release"]], qa)

    call_command(
        "seed_demo",
        admin_password="demo-admin-password-2",
        actor=staff_user.username,
        stdout=StringIO(),
    )
    _assert_named([r for r in _changes("accounts.user") if r.action == "update"][-1:], staff_user)


@pytest.mark.django_db
def test_an_in_process_task_keeps_the_callers_actor(staff_user):
    broadcast = Broadcast.objects.create(subject="Hello", body="Text", created_by=staff_user)
    UserFactory()

    with bind_actor(user_id=str(staff_user.pk), username=staff_user.username):
        send_broadcast.delay(str(broadcast.pk))

    _assert_named(_changes("notifications.broadcast", broadcast.pk), staff_user)


@pytest.mark.django_db
def test_a_task_no_one_asked_for_names_its_system_actor():
    dormant = UserFactory()
    type(dormant).objects.filter(pk=dormant.pk).update(
        last_login=timezone.now() - timedelta(days=400)
    )

    deactivate_dormant_users.delay()

    _assert_named([r for r in _changes("accounts.user", dormant.pk) if r.action == "update"])


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_task_run_by_a_real_worker_names_whoever_published_it(tmp_path, staff_user):
    flush_redis_db(BROKER)
    asked = Broadcast.objects.create(subject="Asked", body="Text", created_by=staff_user)
    scheduled = Broadcast.objects.create(subject="Scheduled", body="Text")
    UserFactory()
    worker = Worker(BROKER, tmp_path / "worker.log")
    try:
        worker.start()
        with publishing_to(BROKER):
            with bind_actor(user_id=str(staff_user.pk), username=staff_user.username):
                send_broadcast.delay(str(asked.pk))
            send_broadcast.delay(str(scheduled.pk))  # as beat publishes: no one bound
        done = lambda: Broadcast.objects.filter(status="completed").count() == 2  # noqa: E731
        assert wait_for(done, 90), worker.log()
    finally:
        worker.stop()

    _assert_named(_changes("notifications.broadcast", asked.pk), staff_user)
    records = _changes("notifications.broadcast", scheduled.pk)
    _assert_named(records)
    assert records[0].actor_username.startswith("system:send_broadcast:")


@pytest.mark.django_db(transaction=True)
def test_the_shell_records_the_os_user_and_host():
    """``manage.py shell`` with no actor bound: the record says who ran it, and where."""
    code = (
        "from sites.models import Site; "
        "Site.objects.create(code='SHL-01', name='Shell', gln='4012345000009', country='DE')"
    )
    settings = connection.settings_dict
    url = (
        f"postgres://{settings['USER']}@{settings['HOST'] or '127.0.0.1'}:"
        f"{settings['PORT'] or 5432}/{settings['NAME']}"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    if connection.vendor == "postgresql":
        env["DATABASE_URL"] = url
    else:
        pytest.skip("the shell needs the test database in another process (PostgreSQL)")

    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr[-2000:]
    site = Site.objects.get(code="SHL-01")
    [record] = _changes("sites.site", site.pk)
    assert record.actor_username == f"system:shell:{process_identity()}"
    assert record.actor_id is None
