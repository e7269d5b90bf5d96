"""Request context kept in context variables.

The middleware fills these for every request; logging reads them now and the audit trail
reads them to say who did what from where. Code running outside a request (tasks,
management commands) sees the defaults, or whatever ``bind_actor`` set.
"""

from __future__ import annotations

import contextlib
import functools
import getpass
import os
import re
import socket
import sys
import uuid
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, replace
from ipaddress import ip_address
from typing import Any

from django.conf import settings
from django.http import HttpRequest

REQUEST_ID_HEADER = "HTTP_X_REQUEST_ID"
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


@dataclass(frozen=True)
class RequestContext:
    request_id: str = ""
    user_id: str | None = None
    username: str = ""
    ip: str | None = None
    user_agent: str = ""
    method: str = ""
    path: str = ""
    change_reason: str = ""


_EMPTY = RequestContext()
_context: ContextVar[RequestContext] = ContextVar("request_context")


def get_context() -> RequestContext:
    return _context.get(_EMPTY)


def set_context(ctx: RequestContext) -> Any:
    return _context.set(ctx)


def reset_context(token: Any) -> None:
    _context.reset(token)


def update_context(**changes: Any) -> None:
    _context.set(replace(get_context(), **changes))


def bind_user(user: Any) -> None:
    """Record the authenticated user; called where authentication succeeds."""
    update_context(user_id=str(user.pk), username=user.get_username())


@contextlib.contextmanager
def bind_actor(*, user_id: str | None, username: str, **changes: Any) -> Iterator[None]:
    """Name the actor for work done outside a request (tasks, commands, the shell)."""
    token = _context.set(replace(get_context(), user_id=user_id, username=username, **changes))
    try:
        yield
    finally:
        _context.reset(token)


@functools.cache
def process_identity() -> str:
    """``os-user@host`` of this process: what names a system actor's origin."""
    try:
        os_user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (some containers)
        os_user = str(os.getuid()) if hasattr(os, "getuid") else "unknown"
    return f"{os_user}@{socket.gethostname()}"


@functools.cache
def process_name() -> str:
    """What this process is, from its command line: ``shell``, ``seed_demo``, ``celery``…"""
    argv = [os.path.basename(a) for a in sys.argv if a]
    if not argv:
        return "python"
    if argv[0] in ("manage.py", "django-admin") and len(argv) > 1:
        return argv[1]
    for known in ("celery", "gunicorn", "pytest"):
        if any(a.startswith(known) for a in argv[:3]):
            return known
    return argv[0].removesuffix(".py") or "python"


def system_username(name: str | None = None) -> str:
    """A named system actor with its origin: ``system:seed_demo:root@plant-host-1``.

    Never a bare ``system``: Part 11 §11.10(e) asks who made each change, and for work no
    person asked for, the record says which job and which machine account did it.
    """
    return f"system:{name or process_name()}:{process_identity()}"[:150]


@dataclass(frozen=True)
class SystemActor:
    """The actor of work no person asked for (a nightly review, a seed command). It
    holds no permissions through rbac; services that take an actor treat it as
    trusted, like a superuser, since nothing outside the process can become one."""

    name: str
    pk: None = None
    is_superuser: bool = True
    is_active: bool = True
    is_authenticated: bool = False

    @property
    def username(self) -> str:
        return system_username(self.name)

    def get_username(self) -> str:
        return self.username


@contextlib.contextmanager
def acting_as_system(name: str, **changes: Any) -> Iterator[SystemActor]:
    """Bind a named system actor for the block and hand it to the services called."""
    actor = SystemActor(name=name)
    with bind_actor(user_id=None, username=actor.username, **changes):
        yield actor


def clean_request_id(value: str | None) -> str:
    """Keep a client's request id when it is a short safe token, else make one."""
    if value and _SAFE_REQUEST_ID.match(value):
        return value
    return uuid.uuid4().hex


@functools.lru_cache(maxsize=4096)  # the same few proxy and client addresses, request after request
def _valid_ip(value: str) -> str | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # [v6]:port
        value = value[1 : value.index("]")]
    try:
        return str(ip_address(value))
    except ValueError:
        return None


def client_ip(meta: dict[str, Any], trusted_proxies: int | None = None) -> str | None:
    """The client address, trusting only the configured number of proxies.

    Each trusted proxy appends the address it received the request from to
    X-Forwarded-For, so the client is the entry ``trusted_proxies`` places from the right.
    Anything further left was written by the client and cannot be trusted.
    """
    if trusted_proxies is None:
        trusted_proxies = settings.TRUSTED_PROXY_COUNT
    remote = _valid_ip(str(meta.get("REMOTE_ADDR", "")))
    if trusted_proxies <= 0:
        return remote
    forwarded = [p for p in str(meta.get("HTTP_X_FORWARDED_FOR", "")).split(",") if p.strip()]
    if len(forwarded) < trusted_proxies:
        return remote
    return _valid_ip(forwarded[-trusted_proxies]) or remote


def client_ip_for_request(request: HttpRequest, *args: Any, **kwargs: Any) -> str | None:
    return client_ip(request.META)
