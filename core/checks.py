"""System checks of the service's own settings."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks

ADMIN_MIDDLEWARE_CLASS = "core.middleware.AdminMiddleware"
CSRF_MIDDLEWARE = "django.middleware.csrf.CsrfViewMiddleware"
# What the admin cannot do without; its own checks and Django's security.W003, silenced
# in the settings, look in MIDDLEWARE only.
ADMIN_NEEDS = (
    "django.contrib.sessions.middleware.SessionMiddleware",
    CSRF_MIDDLEWARE,
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
)


def check_admin_middleware(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """The admin's middleware is where the admin's requests pass: in ``ADMIN_MIDDLEWARE``
    behind ``core.middleware.AdminMiddleware``, or in ``MIDDLEWARE`` itself."""
    middleware = list(settings.MIDDLEWARE)
    admin_middleware = list(getattr(settings, "ADMIN_MIDDLEWARE", []))
    errors: list[checks.CheckMessage] = []
    if admin_middleware and ADMIN_MIDDLEWARE_CLASS not in middleware:
        errors.append(
            checks.Error(
                f"ADMIN_MIDDLEWARE is set but {ADMIN_MIDDLEWARE_CLASS!r} is not in MIDDLEWARE:"
                " the admin's middleware would never run.",
                id="core.E001",
            )
        )
    scoped = admin_middleware if ADMIN_MIDDLEWARE_CLASS in middleware else []
    for needed in ADMIN_NEEDS:
        if needed not in middleware and needed not in scoped:
            errors.append(
                checks.Error(
                    f"{needed!r} must be in ADMIN_MIDDLEWARE (or MIDDLEWARE) for the admin.",
                    id="core.E002",
                )
            )
    for path in set(middleware) & set(scoped):
        errors.append(
            checks.Error(f"{path!r} is in both MIDDLEWARE and ADMIN_MIDDLEWARE.", id="core.E003")
        )
    return errors


def check_csrf_cookie_secure(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Django's security.W016, which looks for the CSRF middleware in MIDDLEWARE only."""
    in_use = CSRF_MIDDLEWARE in settings.MIDDLEWARE or CSRF_MIDDLEWARE in getattr(
        settings, "ADMIN_MIDDLEWARE", []
    )
    if in_use and not settings.CSRF_USE_SESSIONS and settings.CSRF_COOKIE_SECURE is not True:
        return [
            checks.Warning(
                "CSRF_COOKIE_SECURE is not True: the admin's CSRF cookie would travel over"
                " plain HTTP.",
                id="core.W004",
            )
        ]
    return []
