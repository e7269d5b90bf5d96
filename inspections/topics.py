"""The inspection event other systems can subscribe to (``core.topics``): the
inspection as ``GET /api/inspections/{id}/`` shows it, its ``status`` passed or failed."""

from __future__ import annotations

from core.topics import Topic
from inspections import events
from inspections.api.serializers import InspectionOutputSerializer

TOPICS = (
    Topic(
        name=events.INSPECTION_COMPLETED_TOPIC,
        version=1,
        description="QA recorded an inspection's outcome (status passed or failed), signed.",
        codename="inspection.view",
        serializer=InspectionOutputSerializer,
    ),
)
