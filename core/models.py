from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any, ClassVar

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, router, transaction
from django.db.models.expressions import Combinable
from django.utils import timezone

from core.access import RestrictedQuerySetMixin

_in_bulk_update: ContextVar[bool] = ContextVar("in_bulk_update", default=False)


@contextlib.contextmanager
def recorded_by_caller() -> Iterator[None]:
    """Writes inside are recorded by the caller, as one named event: ``save``,
    ``delete`` and ``QuerySet.update`` inside produce no generic diff, so one change is
    one record, and that record says more than a diff could (the verb, the previous
    states, a signature)."""
    token = _in_bulk_update.set(True)
    try:
        yield
    finally:
        _in_bulk_update.reset(token)


def recording_by_caller() -> bool:
    return _in_bulk_update.get()


class AuditedModel:
    """Opt in to generic change records: the audit trail records each create, update
    (old and new value of every changed field), delete and bulk write of the model,
    in the change's transaction. A model that is not audited says why in
    ``audit_exempt``; ``tests/audit/test_one_path.py`` holds every model to one or the
    other.

    ``audit_exclude`` names fields never diffed (they change on every save and say
    nothing, or hold a secret); ``audit_create_kind`` names the record of a creation.
    The record's site is the model's ``site_path`` (``core.access.site_id_of``).
    """

    audit_exclude: ClassVar[frozenset[str]] = frozenset()
    audit_create_kind: ClassVar[str] = "create"


def related_model(model: type[models.Model], name: str) -> type[models.Model]:
    """The model that ``model``'s relation ``name`` points at: for a lower app that must
    not import the app owning it (rbac reaches sites this way)."""
    related = model._meta.get_field(name).related_model
    if not isinstance(related, type) or not issubclass(related, models.Model):
        raise TypeError(f"{model.__name__}.{name} is not a relation to a model")
    return related


def _auto_now_fields(model: type[models.Model]) -> list[str]:
    return [f.name for f in model._meta.concrete_fields if getattr(f, "auto_now", False)]


def _auto_now_values(model: type[models.Model], given: dict[str, Any]) -> dict[str, Any]:
    now = timezone.now()
    return {name: now for name in _auto_now_fields(model) if name not in given}


class TrackedQuerySet(RestrictedQuerySetMixin, models.QuerySet[Any]):
    """Announces bulk writes (``update``, ``bulk_create``, ``bulk_update``).

    They send no model signals, so without this the audit trail would miss them.
    Each announcement names the rows touched; it is sent inside the write's
    transaction, so a receiver's record commits or rolls back with the change.
    """

    def update(self, **kwargs: Any) -> int:
        """Also moves ``auto_now`` columns (``updated_at``), as ``save`` does: a bulk
        write is a change like any other."""
        from core.signals import bulk_write

        kwargs = {**_auto_now_values(self.model, kwargs), **kwargs}
        if _in_bulk_update.get() or not bulk_write.has_listeners(self.model):
            return super().update(**kwargs)
        with transaction.atomic(using=self.db, savepoint=False):
            ids = list(self.values_list("pk", flat=True))
            count = super().update(**kwargs)
            bulk_write.send(sender=self.model, action="update", ids=ids, count=count, values=kwargs)
        return count

    def bulk_create(self, objs: Any, *args: Any, **kwargs: Any) -> list[Any]:
        from core.signals import bulk_write

        with transaction.atomic(using=self.db, savepoint=False):
            created = super().bulk_create(objs, *args, **kwargs)
            bulk_write.send(
                sender=self.model,
                action="create",
                ids=[o.pk for o in created if o.pk is not None],
                count=len(created),
                values=None,
            )
        return created

    def bulk_update(self, objs: Any, fields: Any, *args: Any, **kwargs: Any) -> int:
        from core.signals import bulk_write

        objs = list(objs)
        with transaction.atomic(using=self.db, savepoint=False):
            # Django's bulk_update runs QuerySet.update internally: announce once, here.
            with recorded_by_caller():
                count = super().bulk_update(objs, fields, *args, **kwargs)
            bulk_write.send(
                sender=self.model,
                action="update",
                ids=[o.pk for o in objs],
                count=count,
                values={"fields": list(fields)},
            )
        return count


class TrackedModel(models.Model):
    """Remembers the values it was loaded with, and saves inside a transaction.

    Change capture (the audit trail) compares against ``loaded_values`` instead of
    reading the row again; saving inside ``atomic`` means whatever a ``post_save``
    receiver writes commits or rolls back together with the change.
    """

    objects = TrackedQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        update_fields = kwargs.get("update_fields")
        if update_fields:  # ``updated_at`` moves with every write (empty: saves nothing)
            kwargs["update_fields"] = {*update_fields, *_auto_now_fields(type(self))}
        using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
        with transaction.atomic(using=using, savepoint=False):
            super().save(*args, **kwargs)
        self.remember_values()

    @classmethod
    def from_db(cls, db: str | None, field_names: Any, values: Any) -> Any:
        instance = super().from_db(db, field_names, values)
        instance._loaded_values = dict(zip(field_names, values, strict=False))
        return instance

    @property
    def loaded_values(self) -> dict[str, Any] | None:
        return getattr(self, "_loaded_values", None)

    def current_values(self) -> dict[str, Any]:
        return {f.attname: getattr(self, f.attname, None) for f in self._meta.concrete_fields}

    def remember_values(self) -> None:
        self._loaded_values = {
            k: v for k, v in self.current_values().items() if not isinstance(v, Combinable)
        }


class BaseModel(TrackedModel):
    """Abstract base for domain rows: a UUID key that leaks no counts, and timestamps."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class CacheGeneration(models.Model):
    """A counter that prefixes cache keys of security decisions (authentication, permissions).

    When a change could not invalidate the cache (Redis unreachable), the counter is
    bumped in the change's own transaction, so every entry written before it stops being
    read, even if Redis comes back later with its old data.
    """

    audit_exempt = "A cache version counter; the changes it follows are audited."

    name = models.CharField(max_length=32, primary_key=True)
    value = models.PositiveBigIntegerField(default=1)

    def __str__(self) -> str:
        return f"{self.name}={self.value}"


class JobRun(models.Model):
    """One background job (a Celery task id) and how it ended, for the operations digest.

    Written by Celery signal receivers (``core.jobs``): every run of a task declared with
    ``record_runs=True`` (the scheduled jobs, broadcasts) and every final failure of any
    task. A task redelivered after its worker died keeps its row, with ``attempts`` > 1.
    """

    audit_exempt = "Scheduler bookkeeping; the jobs record what they change."

    class State(models.TextChoices):
        STARTED = "started"
        SUCCEEDED = "succeeded"
        RETRYING = "retrying"
        FAILED = "failed"

    task_id = models.CharField(max_length=64, unique=True)
    task_name = models.CharField(max_length=200, db_index=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.STARTED)
    attempts = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True, db_index=True)
    runtime_seconds = models.FloatField(null=True, blank=True)
    error = models.TextField(blank=True, max_length=2000)
    worker = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["state", "finished_at"])]

    def __str__(self) -> str:
        return f"{self.task_name} {self.task_id} {self.state}"


class OutboxEmail(models.Model):
    """An e-mail to send, written in the transaction of the change that causes it.

    The outbox makes e-mail as durable as the change: a message is published to Celery
    after commit, and a beat job republishes the ones the broker could not take. Sending
    locks the row and marks it sent in one transaction, so a message published twice is
    sent once (``core.emails``).
    """

    audit_exempt = "Outgoing mail queue; what caused each message is audited."

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    template = models.CharField(max_length=100)
    to = models.JSONField()
    context = models.JSONField(encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(auto_now_add=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True, db_index=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True, max_length=2000)

    class Meta:
        ordering = ["created_at"]
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=models.Q(sent_at__isnull=True, failed_at__isnull=True),
                name="core_outbox_pending_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.template} to {', '.join(self.to)}"
