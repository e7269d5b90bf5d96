"""The batch events other systems can subscribe to (``core.topics``): each carries the
batch as ``GET /api/batches/{id}/`` shows it at that moment."""

from __future__ import annotations

from batches import events
from batches.api.serializers import BatchDetailOutputSerializer
from core.topics import Topic


def _topic(name: str, description: str) -> Topic:
    return Topic(
        name=name,
        version=1,
        description=description,
        codename="batch.view",
        serializer=BatchDetailOutputSerializer,
    )


TOPICS = (
    _topic(events.BATCH_PLANNED_TOPIC, "A batch was planned."),
    _topic(events.BATCH_STARTED_TOPIC, "Production of a batch started."),
    _topic(events.BATCH_COMPLETED_TOPIC, "Production ended; the batch is in quarantine."),
    _topic(events.BATCH_RELEASED_TOPIC, "QA released the batch (electronic signature)."),
    _topic(events.BATCH_REJECTED_TOPIC, "QA rejected the batch (electronic signature)."),
)
