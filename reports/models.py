from __future__ import annotations

from django.db import models

from batches.models import Batch
from core.access import RestrictedQuerySet


class DailyReportDispatch(models.Model):
    """The daily QA report of one site and day was handed to the mail queue.

    Written in the same transaction that queues the e-mail (sent after commit), so a
    job that died half-way and runs again skips the sites it already did.
    """

    audit_exempt = "Which daily reports were sent; a send changes no GMP record."

    site_path = "site"
    day = models.DateField()
    site = models.ForeignKey("sites.Site", on_delete=models.CASCADE, related_name="+")
    recipients = models.PositiveIntegerField(default=0)
    queued_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-day"]
        constraints = [
            models.UniqueConstraint(fields=["day", "site"], name="reports_dispatch_once")
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.site_id}"


class BatchReview(Batch):
    """A batch as QA reviews it: the admin's review page (``reports.admin``), which
    gathers the batch, its inspections, its trends and its audit trail, none of which
    the batches app may know of. No table: the batch's own, and a change made through it
    is recorded as the batch's (``audit.capture.resource_type_of``)."""

    class Meta:
        proxy = True
        verbose_name = "batch review"
        verbose_name_plural = "batch reviews"
