"""The user events other systems can subscribe to (``core.topics``): the account as
``GET /api/users/{id}/`` shows it. Users belong to no site: only a subscription bound
to no site, made by a holder of ``user.view``, receives them."""

from __future__ import annotations

from accounts.api.serializers import UserOutputSerializer
from accounts.events import USER_CREATED_TOPIC, USER_DEACTIVATED_TOPIC
from core.topics import Topic

TOPICS = (
    Topic(
        name=USER_CREATED_TOPIC,
        version=1,
        description="A user account was created.",
        codename="user.view",
        serializer=UserOutputSerializer,
    ),
    Topic(
        name=USER_DEACTIVATED_TOPIC,
        version=1,
        description="A user account was deactivated; its sessions are ended.",
        codename="user.view",
        serializer=UserOutputSerializer,
    ),
)
