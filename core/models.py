import uuid

from django.db import models


class BaseModel(models.Model):
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
