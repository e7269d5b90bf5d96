"""The event the webhooks app publishes itself: a test, to one subscription."""

from __future__ import annotations

from rest_framework import serializers

from core.topics import Topic


class TestEventDataSerializer(serializers.Serializer):
    subscription = serializers.UUIDField()
    message = serializers.CharField()


TEST_TOPIC = Topic(
    name="webhook.test",
    version=1,
    description="Sent on request (POST /api/webhooks/{id}/test/) to that subscription only.",
    codename="webhook.manage",
    serializer=TestEventDataSerializer,
    render=lambda data: dict(data),
)
TOPICS = (TEST_TOPIC,)
