"""Management commands that change data name the person who runs them.

``ActorCommand`` adds ``--actor <username>`` (required): the command refuses to run
without it, or for a user who is not active or lacks the command's ``actor_codename``,
and binds that user to the audit context, so every record the command writes names
them, with ``manage.py <command>`` as the path and the OS user and host it ran as.
``--reason`` is the reason for change of what it writes: a command that updates or
deletes a GMP record (``core.reasons``) is refused without one.
``SeedCommand`` is for the commands that only fill an empty database with demo data: an
``--actor`` is optional, and without one the records name the system actor
``system:<command>:<os user>@<host>``.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from core import reasons
from core.access import holds_globally
from core.context import bind_actor, process_identity, system_username

NO_SUCH_ACTOR = "--actor {username!r}: no active user of that name."
ACTOR_LACKS = "--actor {username}: needs the permission {codename} (globally) for this command."


class ActorCommand(BaseCommand):
    """Subclasses implement ``handle_as(actor, *args, **options)``."""

    actor_required = True
    actor_codename: str | None = None  # what the actor must hold globally, if anything

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> Any:
        self._name = subcommand
        return super().create_parser(prog_name, subcommand, **kwargs)

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--actor",
            required=self.actor_required,
            help="username of the person running the command (named on every audit record)",
        )
        parser.add_argument(
            "--reason",
            default="",
            help="reason for the change, stored on every audit record; required to "
            "update or delete GMP records",
        )

    def resolve_actor(self, username: str) -> Any:
        from django.contrib.auth import get_user_model

        actor = get_user_model().objects.filter(username=username, is_active=True).first()
        if actor is None:
            raise CommandError(NO_SUCH_ACTOR.format(username=username))
        if self.actor_codename and not holds_globally(actor, self.actor_codename):
            raise CommandError(
                ACTOR_LACKS.format(username=actor.username, codename=self.actor_codename)
            )
        return actor

    def handle(self, *args: Any, **options: Any) -> Any:
        name = getattr(self, "_name", None) or type(self).__module__.rsplit(".", 1)[-1]
        try:
            reason = reasons.clean(options.pop("reason", ""))
        except ValidationError as exc:
            raise CommandError(f"--reason: {exc.message_dict['reason'][0]}") from exc
        where = {
            "path": f"manage.py {name}",
            "user_agent": process_identity(),
            "change_reason": reason,
        }
        username = options.pop("actor", None)
        try:
            if username:
                actor = self.resolve_actor(username)
                with bind_actor(user_id=str(actor.pk), username=actor.get_username(), **where):
                    return self.handle_as(actor, *args, **options)
            with bind_actor(user_id=None, username=system_username(name), **where):
                return self.handle_as(None, *args, **options)
        except reasons.ReasonRequired as exc:
            raise CommandError(f"{exc.message_dict['reason'][0]} Pass --reason.") from exc

    def handle_as(self, actor: Any, *args: Any, **options: Any) -> Any:
        raise NotImplementedError


class SeedCommand(ActorCommand):
    """Fills an empty database: the actor may be a named system one."""

    actor_required = False
