"""Sending a broadcast in chunks, what the Celery job runs (see ``notifications.services``
for creating one).

Audience: active users with an e-mail address; with ``role``, those holding that role
(globally or at any site, or with ``site`` too: at that site or globally); with only
``site``, those holding any role at that site or globally (a global assignment covers
every site). Each user gets their own message, so no one sees the other addresses.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.mail import get_connection
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import User
from core.mail import render_email
from notifications import events
from notifications.models import Broadcast, BroadcastStatus
from rbac.models import Role
from rbac.selectors import active_users_holding
from sites.models import Site

logger = logging.getLogger(__name__)

MAX_ERRORS_KEPT = 100


def audience(*, role: Role | None, site: Site | None) -> QuerySet[User]:
    """The users a broadcast goes to, in id order (the order chunks follow)."""
    users = active_users_holding(role=role, site_id=site.pk if site is not None else None)
    return users.exclude(email="").order_by("pk")


def _audience_label(broadcast: Broadcast) -> str:
    parts = []
    if broadcast.role_name:
        parts.append(f"role {broadcast.role_name}")
    if broadcast.site_code:
        parts.append(f"site {broadcast.site_code}")
    return "users with " + " at ".join(parts) if parts else "all users"


def stalled_broadcasts() -> list[Any]:
    """Ids of broadcasts still queued ``BROADCAST_QUEUED_STALL_SECONDS`` after creation:
    their message was probably never published."""
    before = timezone.now() - timedelta(seconds=settings.BROADCAST_QUEUED_STALL_SECONDS)
    return list(
        Broadcast.objects.filter(status=BroadcastStatus.QUEUED, created_at__lt=before)
        .order_by("created_at")
        .values_list("id", flat=True)
    )


def _message(broadcast: Broadcast, user: User) -> Any:
    sender = broadcast.created_by.printed_name if broadcast.created_by else "the administrators"
    return render_email(
        "broadcast",
        [user.email],
        {
            "subject": broadcast.subject,
            "body": broadcast.body,
            "name": user.printed_name,
            "sender": sender,
            "audience": _audience_label(broadcast),
        },
    )


def _send_chunk(broadcast: Broadcast, users: list[User]) -> tuple[int, list[dict[str, str]]]:
    """Send one message per user over one connection. A refused recipient is an error
    of the broadcast; a server or network failure raises (the job retries the chunk)."""
    sent = 0
    errors: list[dict[str, str]] = []
    with get_connection() as connection:
        for user in users:
            try:
                sent += connection.send_messages([_message(broadcast, user)]) or 0
            except smtplib.SMTPRecipientsRefused as exc:
                errors.append({"user": str(user.pk), "email": user.email, "error": str(exc)[:200]})
    return sent, errors


def broadcast_send(*, broadcast_id: Any, chunk_size: int | None = None) -> Broadcast:
    """Send what is left of the broadcast, chunk by chunk, recording progress after each.

    Each chunk is sent while holding the broadcast's row lock, and read from the cursor
    under it: a second delivery of the same broadcast (a requeued message, a redelivery
    while the first still runs) finds the row locked and leaves the sending to the
    first, so no chunk goes out twice unless its worker dies mid-chunk.
    """
    chunk_size = chunk_size or settings.BROADCAST_CHUNK_SIZE
    broadcast = Broadcast.objects.select_related("role", "site", "created_by").get(pk=broadcast_id)
    users = audience(role=broadcast.role, site=broadcast.site)
    while True:
        with transaction.atomic():
            locked = (
                Broadcast.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("created_by")
                .filter(pk=broadcast.pk)
                .first()
            )
            if locked is None:  # another delivery is sending it
                return broadcast
            broadcast = locked
            if broadcast.status in (BroadcastStatus.COMPLETED, BroadcastStatus.FAILED):
                return broadcast
            if broadcast.status == BroadcastStatus.QUEUED:
                broadcast.status = BroadcastStatus.SENDING
                broadcast.started_at = timezone.now()
            remaining = users.filter(pk__gt=broadcast.cursor) if broadcast.cursor else users
            chunk = list(remaining[:chunk_size])
            if chunk:
                sent, errors = _send_chunk(broadcast, chunk)
                broadcast.cursor = str(chunk[-1].pk)
                broadcast.sent += sent
                broadcast.failed += len(errors)
                broadcast.errors = (broadcast.errors + errors)[:MAX_ERRORS_KEPT]
            broadcast.save(
                update_fields=["status", "started_at", "cursor", "sent", "failed", "errors"]
            )
        if not chunk:
            break
    with transaction.atomic():
        broadcast = Broadcast.objects.select_for_update().get(pk=broadcast.pk)
        if broadcast.status in (BroadcastStatus.COMPLETED, BroadcastStatus.FAILED):
            return broadcast
        broadcast.status = BroadcastStatus.COMPLETED
        broadcast.finished_at = timezone.now()
        broadcast.save(update_fields=["status", "finished_at"])
        events.broadcast_completed(broadcast=broadcast)
    logger.info(
        "broadcast_completed",
        extra={"broadcast": str(broadcast.pk), "sent": broadcast.sent, "failed": broadcast.failed},
    )
    return broadcast


def broadcast_fail(*, broadcast_id: Any, error: str) -> None:
    """The job gave up (retries exhausted): say so on the broadcast, and audit it."""
    with transaction.atomic():
        broadcast = Broadcast.objects.select_for_update().filter(pk=broadcast_id).first()
        if broadcast is None or broadcast.status == BroadcastStatus.COMPLETED:
            return
        broadcast.status = BroadcastStatus.FAILED
        broadcast.finished_at = timezone.now()
        broadcast.errors = (broadcast.errors + [{"error": error[:200]}])[:MAX_ERRORS_KEPT]
        broadcast.save(update_fields=["status", "finished_at", "errors"])
        events.broadcast_failed(broadcast=broadcast, error=error)
