"""Dormant accounts and token/session hygiene, run as their Celery tasks (eager)."""

from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from accounts import services
from accounts.housekeeping import DORMANT_REASON
from accounts.models import User, UserSession
from accounts.tasks import deactivate_dormant_users, token_hygiene
from audit.models import AuditLog
from core.models import JobRun
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db


def _ago(days: float):
    return timezone.now() - timedelta(days=days)


def test_dormant_users_are_deactivated_and_audited(settings):
    settings.DORMANT_ACCOUNT_DAYS = 90
    dormant = UserFactory(last_login=_ago(91))
    never = UserFactory(date_joined=_ago(120))
    recent = UserFactory(last_login=_ago(10))
    new = UserFactory(date_joined=_ago(5))
    refreshing = UserFactory(last_login=_ago(200))
    session, _ = services.session_start(user=refreshing, ip=None, user_agent="t")
    UserSession.objects.filter(pk=session.pk).update(last_seen_at=_ago(1))
    old_session, _ = services.session_start(user=dormant, ip=None, user_agent="t")
    UserSession.objects.filter(pk=old_session.pk).update(last_seen_at=_ago(95))

    done = deactivate_dormant_users.delay().get()

    assert sorted(done) == sorted([dormant.username, never.username])
    active = dict(User.objects.values_list("username", "is_active"))
    assert not active[dormant.username] and not active[never.username]
    assert active[recent.username] and active[new.username] and active[refreshing.username]
    old_session.refresh_from_db()
    assert old_session.end_reason == "deactivated"
    [record] = [
        r
        for r in AuditLog.objects.filter(
            resource_type="accounts.user", resource_id=str(dormant.pk), action="update"
        )
        if "is_active" in r.changed_fields
    ]
    assert record.old_values["is_active"] is True and record.new_values["is_active"] is False
    assert record.actor_username.startswith("system:dormant-accounts:")
    assert record.reason == DORMANT_REASON.format(days=90)
    assert JobRun.objects.get(task_name="accounts.tasks.deactivate_dormant_users").state == (
        "succeeded"
    )


def test_second_run_changes_nothing():
    UserFactory(last_login=_ago(365))
    deactivate_dormant_users.delay().get()
    before = AuditLog.objects.count()

    assert deactivate_dormant_users.delay().get() == []
    assert AuditLog.objects.count() == before


def test_token_hygiene_ends_expired_sessions_and_flushes_tokens(settings):
    user = UserFactory()
    fresh, _ = services.session_start(user=user, ip=None, user_agent="fresh")
    stale, _ = services.session_start(user=user, ip=None, user_agent="stale")
    long_ago = _ago(30)
    UserSession.objects.filter(pk=stale.pk).update(last_seen_at=long_ago, created_at=long_ago)
    OutstandingToken.objects.filter(jti=UserSession.objects.get(pk=stale.pk).refresh_jti).update(
        expires_at=_ago(23)
    )

    # Django sessions (the admin's): one expired, one live
    Session.objects.create(session_key="e" * 32, session_data="", expire_date=_ago(1))
    Session.objects.create(session_key="l" * 32, session_data="", expire_date=_ago(-1))

    result = token_hygiene.delay().get()

    assert result == {"sessions_ended": 1, "tokens_flushed": 1, "django_sessions_cleared": 1}
    assert list(Session.objects.values_list("session_key", flat=True)) == ["l" * 32]
    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert stale.end_reason == "expired" and stale.ended_at is not None
    assert fresh.ended_at is None
    assert OutstandingToken.objects.filter(jti=fresh.refresh_jti).exists()
    bulk = AuditLog.objects.get(
        resource_type="accounts.usersession", action="bulk_update", reason="Refresh token expired."
    )
    assert bulk.new_values["touched"]["ids"] == [str(stale.pk)]
