"""Periodic account review and token hygiene (run by beat through ``accounts.tasks``).

Dormant accounts: Part 11 §11.300(b) and ASVS V2 ask that access be reviewed and
unused accounts disabled. A user is dormant when neither a sign-in (``last_login``,
or ``date_joined`` for a user who never signed in) nor a token refresh on any of their
sessions happened in the last ``DORMANT_ACCOUNT_DAYS`` days. Each is deactivated through
``user_deactivate`` (sessions ended, tokens blacklisted) with the named system actor
``system:dormant-accounts`` and the reason on the audit record.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from accounts import auth_cache
from accounts.models import User, UserSession
from accounts.services import user_deactivate
from core.context import acting_as_system

logger = logging.getLogger(__name__)

DORMANT_REASON = "Dormant account: no sign-in for {days} days (periodic account review)."


def dormant_users(*, days: int | None = None) -> list[User]:
    """Active users with no sign-in and no token refresh since the cut-off."""
    days = settings.DORMANT_ACCOUNT_DAYS if days is None else days
    cutoff = timezone.now() - timedelta(days=days)
    recent_session = UserSession.objects.filter(user=OuterRef("pk"), last_seen_at__gte=cutoff)
    return list(
        User.objects.filter(is_active=True)
        .filter(Q(last_login__lt=cutoff) | Q(last_login__isnull=True, date_joined__lt=cutoff))
        .exclude(Exists(recent_session))
        .order_by("pk")
    )


def deactivate_dormant_users(*, days: int | None = None) -> list[str]:
    """Deactivate every dormant user, one transaction each; returns their usernames.

    Safe to run again after a crash: a user already deactivated is not dormant any more.
    """
    days = settings.DORMANT_ACCOUNT_DAYS if days is None else days
    reason = DORMANT_REASON.format(days=days)
    done = []
    with acting_as_system("dormant-accounts", change_reason=reason) as actor:
        for user in dormant_users(days=days):
            user_deactivate(actor=actor, user=user)
            done.append(user.username)
    if done:
        logger.info("dormant_users_deactivated", extra={"count": len(done), "days": days})
    return done


def end_expired_sessions() -> int:
    """Mark ended the open sessions whose current refresh token has expired.

    Nothing can use such a session any more; ending it keeps the session list honest.
    One ``QuerySet.update`` (recorded in the audit trail as one bulk record).
    """
    now = timezone.now()
    valid_token = OutstandingToken.objects.filter(jti=OuterRef("refresh_jti"), expires_at__gt=now)
    # A session rotates its refresh token on every refresh and stamps last_seen_at, so
    # either test alone says the last token issued has expired; both must agree.
    stale = UserSession.objects.filter(
        ended_at__isnull=True,
        last_seen_at__lt=now - api_settings.REFRESH_TOKEN_LIFETIME,
    ).exclude(Exists(valid_token))
    ids = list(stale.values_list("pk", flat=True))
    if not ids:
        return 0
    with acting_as_system("token-hygiene", change_reason="Refresh token expired."):
        count = UserSession.objects.filter(pk__in=ids, ended_at__isnull=True).update(
            ended_at=now, end_reason="expired"
        )
    for session_id in ids:
        auth_cache.end_session(session_id)
    return count


def token_hygiene() -> dict[str, int]:
    """End sessions whose refresh token expired, flush simplejwt's expired tokens, and
    delete expired Django sessions (the admin's: nothing else opens one)."""
    ended = end_expired_sessions()
    before = OutstandingToken.objects.count()
    call_command("flushexpiredtokens", verbosity=0)
    flushed = before - OutstandingToken.objects.count()
    sessions_before = Session.objects.count()
    call_command("clearsessions", verbosity=0)
    cleared = sessions_before - Session.objects.count()
    return {
        "sessions_ended": ended,
        "tokens_flushed": max(flushed, 0),
        "django_sessions_cleared": max(cleared, 0),
    }
