"""The site event published to other systems (``sites.topics``), in the transaction of
the change. Its audit record is the site's own diff."""

from __future__ import annotations

from core.topics import publish
from sites.models import Site

SITE_UPDATED_TOPIC = "site.updated"


def site_updated(*, site: Site) -> None:
    publish(SITE_UPDATED_TOPIC, instance=site, site_id=site.pk)
