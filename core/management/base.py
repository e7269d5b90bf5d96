"""Management commands that change data name the person who runs them.

``ActorCommand`` adds ``--actor <username>`` (required): the command refuses to run
without it, or for a user who is not active or lacks the command's ``actor_codename``,
and binds that user to the audit context, so every record the command writes names
them, with ``manage.py <command>`` as the path and the OS user and host it ran as.
``SeedCommand`` is for the commands that only fill an empty database with demo data: an
``--actor`` is optional, and without one the records name the system actor
``system:<command>:<os user>@<host>``.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

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
        where = {"path": f"manage.py {name}", "user_agent": process_identity()}
        username = options.pop("actor", None)
        if username:
            actor = self.resolve_actor(username)
            with bind_actor(user_id=str(actor.pk), username=actor.get_username(), **where):
                return self.handle_as(actor, *args, **options)
        with bind_actor(user_id=None, username=system_username(name), **where):
            return self.handle_as(None, *args, **options)

    def handle_as(self, actor: Any, *args: Any, **options: Any) -> Any:
        raise NotImplementedError


class SeedCommand(ActorCommand):
    """Fills an empty database: the actor may be a named system one."""

    actor_required = False
