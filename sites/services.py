"""Every write on sites."""

from __future__ import annotations

from collections.abc import Mapping

from django.db import transaction
from django.db.models import ProtectedError

from core import locking
from core.exceptions import StateConflict
from sites import events
from sites.models import Site

SITE_IN_USE = (
    "Site {code} cannot be deleted: {references} still refer to it. "
    "Deactivate it instead (is_active=false)."
)
SITE_FIELDS = (
    "code",
    "name",
    "gln",
    "address",
    "country",
    "timezone",
    "is_active",
    "gs1_company_prefix",
    "allow_mixed_cases",
)


@transaction.atomic
def site_create(**data: object) -> Site:
    site = Site(**{k: v for k, v in data.items() if k in SITE_FIELDS})
    site.full_clean()
    site.save()
    return site


def site_update(*, site: Site, data: Mapping[str, object]) -> Site:
    with locking.changing(site) as site:
        for name, value in data.items():
            if name in SITE_FIELDS:
                setattr(site, name, value)
        # Code and GLN are unique: the database's constraints say so, without a SELECT each.
        site.full_clean(validate_unique=False)
        locking.save_unique(site)
        events.site_updated(site=site)
    return site


def _describe(protected: ProtectedError) -> str:
    counts: dict[str, int] = {}
    for obj in protected.protected_objects:
        label = str(obj._meta.verbose_name_plural)
        counts[label] = counts.get(label, 0) + 1
    return ", ".join(f"{n} {label}" for label, n in sorted(counts.items()))


@transaction.atomic
def site_delete(*, site: Site) -> None:
    """Delete a site nothing refers to; otherwise 409 naming what refers to it."""
    try:
        site.delete()
    except ProtectedError as exc:
        raise StateConflict(
            SITE_IN_USE.format(code=site.code, references=_describe(exc)), code="site_in_use"
        ) from exc
