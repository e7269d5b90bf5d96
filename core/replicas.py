"""Read replicas: what the API's read endpoints read, from a healthy streaming replica.

``DATABASE_REPLICA_URLS`` names zero or more PostgreSQL streaming replicas of the
primary (``DATABASE_URL``); the settings make each a database alias ``replica_<n>``
and install ``ReplicaRouter``. With none configured nothing here runs at all.

Who reads where:

- A view that mixes in ``ReplicaReadsMixin`` and lists an action in ``replica_actions``
  (the scoped viewsets' list and detail; verify, the EPCIS queries, the daily report)
  reads from one replica for the rest of a GET or HEAD request once authentication,
  permission checks and throttling are done: those, and the permission cache they
  seed, always read the primary, as does every write, every row lock and anything in a
  transaction (``ReplicaRouter.db_for_read`` sends a read inside an atomic block to the
  primary).
- Read-your-writes: a caller whose request changed something (a write method answered
  below 400) is pinned to the primary for ``DATABASE_REPLICA_PIN_SECONDS`` (5): a key in
  the cache, read in the authentication's one round trip. When that round trip found
  the cache unreachable, whether the caller just wrote is unknown: the primary.
- Health: a thread per process checks each replica every
  ``DATABASE_REPLICA_CHECK_SECONDS`` (1): reachable, and its replay lag at most
  ``DATABASE_REPLICA_MAX_LAG_SECONDS``. A replica that fails, lags, or has not been
  checked yet is skipped, and a query that fails on a replica mid-request marks it down
  and runs the request's handler again on the primary: a dead replica costs load on the
  primary, never an error.

The lag is 0 while the WAL receiver streams and has replayed all it received, else the
age of the last replayed transaction (``pg_last_xact_replay_timestamp()``). A role
without ``pg_read_all_stats`` cannot see the receiver's state: then the age alone is
used, which on an idle primary grows although nothing is missing (reads then go to the
primary until the next write), never the other way round.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connections

logger = logging.getLogger(__name__)

T = TypeVar("T")
PREFIX = "replica_"
SAFE_METHODS = frozenset({"GET", "HEAD"})

# The replica this request reads from, once its view chose one; None: the primary.
_reading: ContextVar[str | None] = ContextVar("replica_reading", default=None)


def aliases() -> list[str]:
    return [alias for alias in settings.DATABASES if alias.startswith(PREFIX)]


def configured() -> bool:
    return bool(settings.DATABASE_REPLICA_URLS)


# --- routing ------------------------------------------------------------------------


class ReplicaRouter:
    """Reads to the request's replica when its view chose one and no transaction is
    open; everything else to the primary."""

    def db_for_read(self, model: Any, **hints: Any) -> str:
        alias = _reading.get()
        if alias is None or connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return DEFAULT_DB_ALIAS
        return alias

    def db_for_write(self, model: Any, **hints: Any) -> str:
        # Explicitly: Django would otherwise write an instance back where it was read.
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True  # one database, copied

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        return False if db.startswith(PREFIX) else None


@contextlib.contextmanager
def reading_from(alias: str | None) -> Iterator[None]:
    token = _reading.set(alias)
    try:
        yield
    finally:
        _reading.reset(token)


def on_primary() -> contextlib.AbstractContextManager[None]:
    """Reads that decide security (permissions, before they are cached) or feed a
    write: the primary, whatever the request reads otherwise."""
    return reading_from(None)


def current() -> str | None:
    return _reading.get()


def streamed(items: Iterator[T]) -> Iterator[T]:
    """``items`` read, as they are pulled after the view has returned (a streamed
    response), from the replica the request chose. A replica failing mid-stream cuts the
    response short: what was sent cannot be sent again from the primary."""
    alias = _reading.get()
    if alias is None:
        return items

    def pull() -> Iterator[T]:
        while True:
            with reading_from(alias):
                try:
                    item = next(items)
                except StopIteration:
                    return
            yield item

    return pull()


# --- health ---------------------------------------------------------------------------

LAG_SQL = """
SELECT CASE
    WHEN NOT pg_is_in_recovery() THEN 0
    WHEN (SELECT status FROM pg_stat_wal_receiver LIMIT 1) = 'streaming'
         AND pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
    ELSE COALESCE(
        EXTRACT(EPOCH FROM clock_timestamp() - pg_last_xact_replay_timestamp()),
        'Infinity'
    )
END
"""


@dataclass(frozen=True)
class State:
    healthy: bool
    lag: float | None  # seconds; None: unreachable
    error: str = ""
    checked_at: float = 0.0


_states: dict[str, State] = {}
_checker_pid: int | None = None
_lock = threading.Lock()
_turn = itertools.count()


def check(alias: str) -> State:
    """Ask the replica for its lag now (in the calling thread's connection)."""
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute(LAG_SQL)
            lag = float(cursor.fetchone()[0])
    except Exception as exc:  # unreachable, refused, timed out: all mean "skip it"
        with contextlib.suppress(Exception):
            connections[alias].close()
        return State(False, None, f"{type(exc).__name__}: {exc}"[:200], time.monotonic())
    healthy = lag <= settings.DATABASE_REPLICA_MAX_LAG_SECONDS
    error = "" if healthy else f"lagging {lag:.1f} s"
    return State(healthy, lag, error, time.monotonic())


def _check_all() -> None:
    for alias in aliases():
        _states[alias] = check(alias)


def _checker() -> None:
    while True:
        try:
            _check_all()
        except Exception:  # never let the thread die
            logger.exception("replica_check_failed")
        finally:
            connections.close_all()
        time.sleep(settings.DATABASE_REPLICA_CHECK_SECONDS)


def _ensure_checker() -> None:
    """The checking thread of this process, started by its first replica read, which
    waits for one check first (a process knows nothing of its parent's checks)."""
    global _checker_pid
    pid = os.getpid()
    if _checker_pid == pid:
        return
    with _lock:
        if _checker_pid == pid:
            return
        _states.clear()
        _check_all()
        _checker_pid = pid
    threading.Thread(target=_checker, name="replica-health", daemon=True).start()


def choose() -> str | None:
    """A healthy replica, in turn; None when none is (or none is known yet to be)."""
    _ensure_checker()
    names = aliases()
    if not names:
        return None
    start = next(_turn)
    stale_after = 3 * settings.DATABASE_REPLICA_CHECK_SECONDS + 1
    now = time.monotonic()
    for n in range(len(names)):
        alias = names[(start + n) % len(names)]
        state = _states.get(alias)
        if state is not None and state.healthy and now - state.checked_at <= stale_after:
            return alias
    return None


def mark_down(alias: str, error: Exception) -> None:
    _states[alias] = State(False, None, f"{type(error).__name__}: {error}"[:200], time.monotonic())
    logger.warning("replica_failed_reading_primary", extra={"replica": alias})


def report() -> dict[str, dict[str, Any]]:
    """Each replica's state now, for ``/health/ready/`` (checked on the spot)."""
    out: dict[str, dict[str, Any]] = {}
    for alias in aliases():
        state = check(alias)
        out[alias] = {
            "status": "ok" if state.healthy else "skipped",
            "lag_seconds": None if state.lag is None else round(state.lag, 3),
            **({"reason": state.error} if state.error else {}),
        }
    return out


# --- read-your-writes -------------------------------------------------------------------


def pin_key(user_id: Any) -> str:
    return f"replicas:pin:{user_id}"


def pin(user_id: Any) -> None:
    """``user_id`` reads the primary for the next ``DATABASE_REPLICA_PIN_SECONDS``."""
    try:
        cache.set(pin_key(user_id), 1, settings.DATABASE_REPLICA_PIN_SECONDS)
    except Exception:  # no cache: the next reads may lag, as with no pin at all
        logger.warning("replica_pin_not_written", exc_info=True)


def after_request(method: str, status: int, user_id: Any) -> None:
    if method not in SAFE_METHODS and status < 400 and user_id:
        pin(user_id)


# --- views ------------------------------------------------------------------------------


class ReplicaReadsMixin:
    """GET and HEAD of the actions in ``replica_actions`` read from a replica (see the
    module's docstring). A view without ``action`` (an ``APIView``) names its methods."""

    replica_actions: frozenset[str] = frozenset()

    def replica_reads_wanted(self, request: Any) -> bool:
        if not configured() or request.method not in SAFE_METHODS:
            return False
        action = getattr(self, "action", None) or request.method.lower()
        return action in self.replica_actions

    def initial(self, request: Any, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        if not self.replica_reads_wanted(request) or _pinned(request):
            return
        alias = choose()
        if alias is None:
            return
        self.__dict__["_replica_token"] = _reading.set(alias)
        name = request.method.lower()
        handler = getattr(self, name)
        setattr(self, name, _falling_back(handler, alias))

    def finalize_response(self, request: Any, response: Any, *args: Any, **kwargs: Any) -> Any:
        token = self.__dict__.pop("_replica_token", None)
        if token is not None:
            _reading.reset(token)
        return super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]


def _pinned(request: Any) -> bool:
    from core.cache import round_trip

    user_id = getattr(getattr(request, "user", None), "pk", None)
    if user_id is None:
        return False
    trip = round_trip(request)
    if trip is None or any(count is None for count in trip.counts.values()):
        return True  # the cache did not answer: whether the caller just wrote is unknown
    return trip.values.get(pin_key(user_id)) is not None


def _broken(alias: str) -> bool:
    """Whether the replica's connection is gone (or could not be had from the pool)."""
    raw = connections[alias].connection
    return raw is None or bool(raw.closed) or bool(getattr(raw, "broken", False))


def _falling_back(handler: Callable[..., Any], alias: str) -> Callable[..., Any]:
    """The handler; run again on the primary if the replica fails it."""

    def run(request: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return handler(request, *args, **kwargs)
        except (OperationalError, InterfaceError) as exc:
            if _reading.get() != alias or not _broken(alias):
                raise  # the primary's error, or a query the replica refused (a timeout)
            mark_down(alias, exc)
            with contextlib.suppress(Exception):
                connections[alias].close()
            with reading_from(None):
                return handler(request, *args, **kwargs)

    return run
