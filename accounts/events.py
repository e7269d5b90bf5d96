"""The account events published to other systems (``accounts.topics``), in the
transaction of the change. Their audit records are the account's own diffs. A creation
is published from the save (``accounts.signals``), so every door that makes an account
publishes it."""

from __future__ import annotations

from accounts.models import User
from core.topics import publish

USER_CREATED_TOPIC = "user.created"
USER_DEACTIVATED_TOPIC = "user.deactivated"


def user_created(*, user: User) -> None:
    publish(USER_CREATED_TOPIC, instance=user)


def user_deactivated(*, user: User) -> None:
    publish(USER_DEACTIVATED_TOPIC, instance=user)
