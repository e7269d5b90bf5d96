"""The inspection event other systems can subscribe to (``core.topics``): the
inspection as ``GET /api/inspections/{id}/`` shows it, its ``status`` passed or failed."""

from __future__ import annotations

from typing import Any

from core.topics import Topic
from inspections import events
from inspections.api.serializers import InspectionOutputSerializer
from inspections.models import Inspection


def _inspection(inspection: Inspection) -> dict[str, Any]:
    return dict(InspectionOutputSerializer(inspection).data)


TOPICS = (
    Topic(
        name=events.INSPECTION_COMPLETED_TOPIC,
        version=1,
        description="QA recorded an inspection's outcome (status passed or failed), signed.",
        codename="inspection.view",
        serializer=InspectionOutputSerializer,
        render=_inspection,
    ),
)
