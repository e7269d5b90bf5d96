"""Domain events published to other systems: the catalogue and the one way to publish.

Each app declares the events it publishes (``Topic``: a stable dotted name, a version,
the permission a reader needs, and how its resource is shown) and registers them from
its ``AppConfig.ready``, as it registers its audit kinds. The app's named event calls
``publish`` in the change's transaction, next to the audit record of the same change:
one event, recorded once and published once.

``publish`` renders the payload then (the resource as the API shows it at that moment)
and hands it to the sink the webhooks app installs, which writes it to its outbox in
the same transaction. Without a sink (the webhooks app not installed), or when the sink
wants no event of that type (no subscription names it), it does nothing.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

MAX_NAME = 64


@dataclass(frozen=True)
class Topic:
    name: str  # "batch.released": stable, part of the contract
    version: int
    description: str
    # A subscription's creator must hold this at the event's site for it to be delivered.
    codename: str
    # The serializer of ``data`` (documents the payload in the OpenAPI schema).
    serializer: Any
    # The resource as the API shows it: instance -> JSON-safe dict; by default the
    # serializer's representation of the instance (``represent``).
    render: Callable[[Any], dict[str, Any]] = field(default=None, compare=False)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.render is None:
            object.__setattr__(self, "render", represent(self.serializer))


def represent(serializer_class: Any) -> Callable[[Any], dict[str, Any]]:
    """``serializer_class(instance).data`` as a dict, from one serializer per thread:
    its fields are built and bound once, not for every event."""
    local = threading.local()

    def render(instance: Any) -> dict[str, Any]:
        serializer = getattr(local, "serializer", None)
        if serializer is None:
            serializer = local.serializer = serializer_class()
        return dict(serializer.to_representation(instance))

    return render


@dataclass(frozen=True)
class Event:
    """A published event: what every subscriber receives, byte for byte."""

    id: str
    type: str
    version: int
    occurred_at: datetime
    site_id: str | None
    codename: str
    body: str  # the JSON payload, as signed and sent


@dataclass(frozen=True)
class Sink:
    write: Callable[[Event], None]
    # Whether it takes events of this type at all (else they are not even rendered).
    wants: Callable[[str], bool] = lambda name: True


_topics: dict[str, Topic] = {}
_sinks: list[Sink] = []


def register(*topics: Topic) -> None:
    for topic in topics:
        if not topic.name or len(topic.name) > MAX_NAME or "." not in topic.name:
            raise ImproperlyConfigured(f"Topic {topic.name!r}: 'resource.verb', 1 to 64 chars.")
        known = _topics.get(topic.name)
        if known is not None and known != topic:
            raise ImproperlyConfigured(f"Topic {topic.name!r} is registered twice, unalike.")
        _topics[topic.name] = topic


def get(name: str) -> Topic:
    try:
        return _topics[name]
    except KeyError:
        raise LookupError(f"{name!r} is not a published event type.") from None


def catalogue() -> list[Topic]:
    return sorted(_topics.values(), key=lambda topic: topic.name)


def install_sink(sink: Sink) -> None:
    """Where published events go (the webhooks app's outbox); installed once."""
    if sink not in _sinks:
        _sinks.append(sink)


def remove_sinks() -> None:
    """Publish nowhere (the benchmark's baseline of what publishing costs)."""
    _sinks.clear()


def payload(
    *,
    event_id: str,
    type: str,
    version: int,
    occurred_at: datetime,
    site_id: Any,
    data: dict[str, Any],
) -> str:
    """The envelope every subscriber receives: compact JSON, keys in a fixed order."""
    envelope = {
        "type": type,
        "version": version,
        "id": event_id,
        "occurred_at": occurred_at.isoformat().replace("+00:00", "Z"),
        "site": str(site_id) if site_id else None,
        "data": data,
    }
    return json.dumps(envelope, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":"))


def build(
    name: str,
    *,
    instance: Any = None,
    data: dict[str, Any] | None = None,
    site_id: Any = None,
) -> Event:
    """Event ``name`` about ``instance`` (rendered by its topic) or with ``data``."""
    topic = get(name)
    if data is None:
        data = topic.render(instance)
    event_id = f"evt_{uuid.uuid4().hex}"
    occurred_at = timezone.now()
    return Event(
        id=event_id,
        type=topic.name,
        version=topic.version,
        occurred_at=occurred_at,
        site_id=str(site_id) if site_id else None,
        codename=topic.codename,
        body=payload(
            event_id=event_id,
            type=topic.name,
            version=topic.version,
            occurred_at=occurred_at,
            site_id=site_id,
            data=data,
        ),
    )


def publish(
    name: str,
    *,
    instance: Any = None,
    data: dict[str, Any] | None = None,
    site_id: Any = None,
) -> Event | None:
    """Publish event ``name`` in the caller's transaction (see ``build``); None when
    no sink takes it (none installed, or none wants the type)."""
    get(name)
    sinks = [sink for sink in _sinks if sink.wants(name)]
    if not sinks:
        return None
    event = build(name, instance=instance, data=data, site_id=site_id)
    for sink in sinks:
        sink.write(event)
    return event
