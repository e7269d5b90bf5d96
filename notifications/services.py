"""Broadcasts: create one (audited, its sending job queued after commit). The sending
itself, in chunks, and the audience are in ``notifications.sending``."""

from __future__ import annotations

from django.db import transaction

from accounts.models import User
from notifications import events
from notifications.models import Broadcast
from notifications.sending import audience
from notifications.tasks import send_broadcast
from rbac.models import Role
from sites.models import Site


@transaction.atomic
def broadcast_create(
    *, actor: User, subject: str, body: str, role: Role | None, site: Site | None
) -> Broadcast:
    """Record the broadcast and its audit record; the sending job starts after commit."""
    broadcast = Broadcast(
        subject=subject,
        body=body,
        role=role,
        site=site,
        role_name=role.name if role else "",
        site_code=site.code if site else "",
        created_by=actor,
        total=audience(role=role, site=site).count(),
    )
    broadcast.full_clean()
    broadcast.save()
    events.broadcast_created(broadcast=broadcast)
    # robust: with the broker unreachable the request still answers 202 (the broadcast
    # is committed); ``requeue_stalled_broadcasts`` publishes it once the broker is back.
    transaction.on_commit(lambda: send_broadcast.delay(str(broadcast.pk)), robust=True)
    return broadcast
