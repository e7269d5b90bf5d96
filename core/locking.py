"""Rows read under a lock once per transaction, and uniqueness left to the database.

A service locks the row it changes (``SELECT ... FOR UPDATE``) and checks its state
under the lock, whichever door called it. The API's detail write reads the row once,
already locked (``read_locked``, in the transaction the service then joins); the
service's ``relock`` recognises that very instance and does not read it again. Any
other instance (the admin's, a command's, one read before the transaction) is read
again, locked.

What is recognised lasts exactly as long as the lock: it is kept among Django's
on-commit callbacks of the transaction (a callback that does nothing), which Django
drops on commit, on rollback, and with a savepoint rolled back, as PostgreSQL then
releases the lock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connections, router, transaction
from django.db.models import Model, QuerySet

M = TypeVar("M", bound=Model)


class _Held:
    """The on-commit entry that says ``instance`` was read locked in this transaction."""

    def __init__(self, instance: Model) -> None:
        self.instance = instance

    def __call__(self) -> None:
        pass


def _using(model: type[Model]) -> str:
    return router.db_for_write(model)


def mark_locked(instance: M) -> M:
    """Say that ``instance`` was just read with ``select_for_update`` in the current
    transaction (outside one there is no lock to remember)."""
    using = instance._state.db or _using(type(instance))
    if connections[using].in_atomic_block:
        transaction.on_commit(_Held(instance), using=using)
    return instance


def read_locked(queryset: QuerySet[M], **lookup: Any) -> M:
    """``queryset.select_for_update(of=("self",)).get(**lookup)``, remembered as locked."""
    return mark_locked(queryset.select_for_update(of=("self",)).get(**lookup))


def is_locked(instance: Model) -> bool:
    """Whether this very instance was read locked in the current transaction."""
    connection = connections[instance._state.db or _using(type(instance))]
    if not connection.in_atomic_block:
        return False
    return any(
        isinstance(entry[1], _Held) and entry[1].instance is instance
        for entry in connection.run_on_commit  # (savepoint ids, callback, robust)
    )


def relock(instance: M) -> M:
    """The row of ``instance``, locked: ``instance`` itself when it was read locked in
    this transaction, else read again with ``select_for_update``."""
    if is_locked(instance):
        return instance
    model = type(instance)
    return read_locked(model._default_manager.all(), pk=instance.pk)


@contextmanager
def changing(instance: M, lock: Callable[[M], M] | None = None) -> Iterator[M]:
    """A service's transaction for changing the row of ``instance``, and the row, locked.

    When the caller read ``instance`` locked for this service (``read_locked``), the
    service is part of the caller's transaction: no savepoint, no second read (an error
    then ends the whole transaction, which the caller rolls back with it). Otherwise its
    own atomic block, and the row read again under the lock, with ``lock(instance)``
    when given (a query that also reads what the service needs), else ``relock``.
    """
    if is_locked(instance):
        with transaction.atomic(using=instance._state.db, savepoint=False):
            yield instance
        return
    with transaction.atomic(using=instance._state.db or _using(type(instance))):
        yield (lock or relock)(instance)


def save_unique(instance: Model, **save_kwargs: Any) -> None:
    """``instance.save()``, uniqueness checked by the database's constraints, not by a
    SELECT per unique field: a violation raises the ``ValidationError`` that
    ``validate_unique`` would have raised, with the same message.

    Inside the caller's transaction, without a savepoint of its own: the error is meant
    to end the transaction (the service's ``atomic`` rolls it back).
    """
    try:
        instance.save(**save_kwargs)
    except IntegrityError as exc:
        field = unique_field(type(instance), exc)
        if field is None:
            raise
        message = instance.unique_error_message(type(instance), (field,))
        raise ValidationError({field: [message]}) from exc


def unique_field(model: type[Model], exc: IntegrityError) -> str | None:
    """The unique field of ``model`` whose constraint ``exc`` violated, if one did."""
    cause = exc.__cause__
    diag = getattr(cause, "diag", None)
    if diag is not None:  # PostgreSQL (psycopg): SQLSTATE 23505 names the key's columns
        if getattr(cause, "sqlstate", None) != "23505":
            return None
        detail = diag.message_detail or ""  # 'Key (code)=(FRA-01) already exists.'
        columns = detail[detail.find("(") + 1 : detail.find(")")].split(", ")
    else:  # SQLite: 'UNIQUE constraint failed: sites_site.code'
        text = str(exc)
        if not text.startswith("UNIQUE constraint failed: "):
            return None
        columns = [part.rsplit(".", 1)[-1] for part in text.split(": ", 1)[1].split(", ")]
    if len(columns) != 1:
        return None
    for field in model._meta.concrete_fields:
        if field.column == columns[0] and field.unique and not field.primary_key:
            return str(field.name)
    return None
