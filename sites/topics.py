"""The site event other systems can subscribe to (``core.topics``): a plant's master
data (name, GLN, address) as ``GET /api/sites/{id}/`` shows it after the change. Trading
partners key EPCIS locations by the GLN."""

from __future__ import annotations

from core.topics import Topic
from sites.api.serializers import SiteOutputSerializer
from sites.events import SITE_UPDATED_TOPIC

TOPICS = (
    Topic(
        name=SITE_UPDATED_TOPIC,
        version=1,
        description="A site's master data changed (name, GLN, address, active).",
        codename="site.view",
        serializer=SiteOutputSerializer,
    ),
)
