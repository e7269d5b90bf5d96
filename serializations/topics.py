"""The serial-number and container events other systems can subscribe to
(``core.topics``). Bulk moves are events about many packs: their payload names the
packs (up to ``MAX_NAMED``) and counts them; a move across sites is one event per site."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from core.topics import Topic, represent
from serializations import events
from serializations.api.serializers import ContainerOutputSerializer
from serializations.choices import SerialStatus


class SerialsGeneratedSerializer(serializers.Serializer):
    batch = serializers.UUIDField()
    batch_number = serializers.CharField()
    gtin = serializers.CharField()
    count = serializers.IntegerField()
    first_serial = serializers.CharField()
    last_serial = serializers.CharField()
    strategy = serializers.CharField()
    job = serializers.UUIDField(allow_null=True)


class MovedSerialSerializer(serializers.Serializer):
    gtin = serializers.CharField()
    serial = serializers.CharField()
    batch = serializers.UUIDField()
    previous_status = serializers.ChoiceField(choices=SerialStatus.choices)


class SerialsStatusChangedSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=SerialStatus.choices)
    decommission_reason = serializers.CharField(allow_blank=True)
    count = serializers.IntegerField(help_text="Packs moved at this site.")
    serials = MovedSerialSerializer(many=True, help_text="The first packs moved (up to 1,000).")
    truncated = serializers.BooleanField(help_text="More packs moved than are named.")


class ContainerShippedSerializer(ContainerOutputSerializer):
    packs = serializers.IntegerField(help_text="Packs shipped in the whole tree.")
    cases = serializers.ListField(child=serializers.CharField(), help_text="SSCCs inside.")

    class Meta(ContainerOutputSerializer.Meta):
        fields = (*ContainerOutputSerializer.Meta.fields, "packs", "cases")
        read_only_fields = fields


def _as_given(data: dict[str, Any]) -> dict[str, Any]:
    return data


_container = represent(ContainerOutputSerializer)


def _shipped(shipped: dict[str, Any]) -> dict[str, Any]:
    container = _container(shipped["container"])
    return {**container, "packs": shipped["packs"], "cases": shipped["cases"]}


TOPICS = (
    Topic(
        name=events.SERIALS_GENERATED_TOPIC,
        version=1,
        description="Serial numbers were generated (commissioned) for a batch.",
        codename="serial.view",
        serializer=SerialsGeneratedSerializer,
        render=_as_given,
    ),
    Topic(
        name=events.SERIALS_STATUS_CHANGED_TOPIC,
        version=1,
        description="Packs moved status (packed, shipped, dispensed, decommissioned).",
        codename="serial.view",
        serializer=SerialsStatusChangedSerializer,
        render=_as_given,
    ),
    Topic(
        name=events.CONTAINER_SHIPPED_TOPIC,
        version=1,
        description="A pallet or case shipped, with everything in it.",
        codename="container.view",
        serializer=ContainerShippedSerializer,
        render=_shipped,
    ),
)
