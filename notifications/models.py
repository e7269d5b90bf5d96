from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from core.access import RestrictedQuerySet


class BroadcastStatus(models.TextChoices):
    QUEUED = "queued"
    SENDING = "sending"
    COMPLETED = "completed"
    FAILED = "failed"


class Broadcast(models.Model):
    """An e-mail to every active user of a role and/or a site, sent in chunks by a job.

    ``cursor`` is the id of the last user whose chunk was sent and recorded: a job that
    dies resumes after it, so at most the chunk in flight is sent twice (at least once,
    never lost). Counts and errors are the progress a client reads back.
    """

    audit_exempt = "Recorded by named events (notifications.events)."

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    subject = models.CharField(max_length=200)
    body = models.TextField(max_length=10_000)
    role = models.ForeignKey(
        "rbac.Role", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    site = models.ForeignKey(
        "sites.Site", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Snapshots: the broadcast still says whom it was for if the role or site goes.
    role_name = models.CharField(max_length=64, blank=True)
    site_code = models.CharField(max_length=16, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(
        max_length=16, choices=BroadcastStatus, default=BroadcastStatus.QUEUED
    )
    total = models.PositiveIntegerField(default=0)
    sent = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    cursor = models.CharField(max_length=64, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.subject} ({self.status})"
