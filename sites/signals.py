"""Keep the cached site detail (``sites.cache``) true to every write."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from sites import cache as site_cache
from sites.models import Site


@receiver(post_save, sender=Site, dispatch_uid="site_cache_saved")
def site_saved(sender: type[Site], instance: Site, **kwargs: Any) -> None:
    site_cache.changed({instance.pk: site_cache.version(instance)})


@receiver(post_delete, sender=Site, dispatch_uid="site_cache_deleted")
def site_deleted(sender: type[Site], instance: Site, **kwargs: Any) -> None:
    site_cache.changed({instance.pk: site_cache.DELETED})
