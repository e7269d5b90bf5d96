from __future__ import annotations

import uuid
from typing import Any

from django.db import models, router, transaction
from django.db.models.expressions import Combinable


class TrackedModel(models.Model):
    """Remembers the values it was loaded with, and saves inside a transaction.

    Change capture (the audit trail) compares against ``loaded_values`` instead of
    reading the row again; saving inside ``atomic`` means whatever a ``post_save``
    receiver writes commits or rolls back together with the change.
    """

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
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

    name = models.CharField(max_length=32, primary_key=True)
    value = models.PositiveBigIntegerField(default=1)

    def __str__(self) -> str:
        return f"{self.name}={self.value}"
