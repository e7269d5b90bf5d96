"""Password hashing: argon2id at OWASP's parameters, and a cap on concurrent hashing.

Every hash costs real CPU time (argon2id here tens of milliseconds; the PBKDF2 hashes
still verified until their owners sign in again, about 0.3 s). Without a cap, enough
concurrent sign-ins or signatures would hold every thread of a worker while signed-in
users wait behind them. ``PASSWORD_HASH_CONCURRENCY`` hashes at most run at once in a
process; one more is refused at once (503 with ``Retry-After``) rather than queued, so
the remaining threads keep serving everything else. The sign-in and re-authentication
services hold a slot for the whole check (``hashing_slot`` is re-entrant), so a busy
process refuses before it looks up the user or the lockout.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.contrib.auth import hashers
from django.http import HttpRequest, HttpResponse, JsonResponse

from core.exceptions import ServiceUnavailable

HASHING_BUSY = "Too many passwords are being checked right now; try again in a moment."


class PasswordHashingBusy(ServiceUnavailable):
    """Every hashing slot of this process is taken; the request changed nothing."""

    default_detail = HASHING_BUSY
    default_code = "password_hashing_busy"
    wait = 1  # seconds, sent as Retry-After


_semaphores: dict[int, threading.BoundedSemaphore] = {}
_semaphores_lock = threading.Lock()
_holder = threading.local()


def _semaphore() -> threading.BoundedSemaphore | None:
    size = settings.PASSWORD_HASH_CONCURRENCY
    if size <= 0:
        return None
    semaphore = _semaphores.get(size)
    if semaphore is None:
        with _semaphores_lock:
            semaphore = _semaphores.setdefault(size, threading.BoundedSemaphore(size))
    return semaphore


@contextmanager
def hashing_slot() -> Iterator[None]:
    """Hold one of the process's hashing slots, or raise ``PasswordHashingBusy``.

    Re-entrant within a thread: PBKDF2's ``verify`` calls its own ``encode``.
    """
    semaphore = _semaphore()
    if semaphore is None or getattr(_holder, "held", False):
        yield
        return
    if not semaphore.acquire(blocking=False):
        raise PasswordHashingBusy()
    _holder.held = True
    try:
        yield
    finally:
        _holder.held = False
        semaphore.release()


class BoundedHasherMixin:
    def encode(self, password: str, salt: str, *args: Any, **kwargs: Any) -> str:
        with hashing_slot():
            result: str = super().encode(password, salt, *args, **kwargs)  # type: ignore[misc]
            return result

    def verify(self, password: str, encoded: str) -> bool:
        with hashing_slot():
            result: bool = super().verify(password, encoded)  # type: ignore[misc]
            return result


class Argon2idPasswordHasher(BoundedHasherMixin, hashers.Argon2PasswordHasher):
    """argon2id with the OWASP Password Storage Cheat Sheet's parameters: 19 MiB of
    memory, 2 iterations, 1 lane. A stored hash with other parameters is rehashed with
    these at its owner's next sign-in."""

    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1


class PBKDF2PasswordHasher(BoundedHasherMixin, hashers.PBKDF2PasswordHasher):
    """Verifies the PBKDF2-SHA256 hashes stored before argon2id; each is replaced by an
    argon2id hash when its password is next checked successfully."""


class PasswordHashingBusyMiddleware:
    """The same 503 for views outside DRF (the admin's sign-in form)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, PasswordHashingBusy):
            return None
        response = JsonResponse(
            {"detail": HASHING_BUSY, "code": PasswordHashingBusy.default_code}, status=503
        )
        response["Retry-After"] = str(PasswordHashingBusy.wait)
        return response
