"""Which models the audit trail diffs, which fields it leaves out, where their site is.

Our own models opt in with ``core.models.AuditedModel`` (or say why not in
``audit_exempt``); a third-party model cannot carry the mixin, so it is either
registered here by the audit app (``register``) or exempted with a reason in
``THIRD_PARTY_EXEMPT``. One question, ``get(model)``, answers for every receiver.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from django.apps import apps

from core.access import site_id_of, site_path
from core.models import AuditedModel

# Never diffed: they change on every save and say nothing about the change.
ALWAYS_EXCLUDED = frozenset({"created_at", "updated_at"})

THIRD_PARTY_EXEMPT = {
    "admin.LogEntry": "Django's own admin history; the audit trail records the change.",
    "auth.Group": "Not used: roles and assignments (rbac) grant permissions.",
    "auth.Permission": "Not used: rbac.Permission holds the service's codenames.",
    "contenttypes.ContentType": "Framework bookkeeping, written by migrations.",
    "sessions.Session": "Admin sign-in state; sign-ins and sign-outs are security events.",
    "token_blacklist.OutstandingToken": "Refresh-token bookkeeping; sign-ins, refreshes "
    "and reuse are security events.",
    "token_blacklist.BlacklistedToken": "Refresh-token bookkeeping; sign-outs and "
    "deactivations that blacklist tokens are recorded as such.",
    "axes.AccessAttempt": "Failed sign-ins are security events of their own.",
    "axes.AccessFailureLog": "Failed sign-ins are security events of their own.",
    "axes.AccessLog": "Sign-ins are security events of their own.",
    "axes.AccessAttemptExpiration": "Lockout bookkeeping; lockouts are security events.",
    "django_celery_beat.PeriodicTask": "Schedules are declared in code and migrations.",
    "django_celery_beat.PeriodicTasks": "Scheduler bookkeeping.",
    "django_celery_beat.IntervalSchedule": "Schedules are declared in code and migrations.",
    "django_celery_beat.CrontabSchedule": "Schedules are declared in code and migrations.",
    "django_celery_beat.SolarSchedule": "Not used.",
    "django_celery_beat.ClockedSchedule": "Not used.",
}


@dataclass(frozen=True)
class Audited:
    exclude: frozenset[str]
    create_kind: str = "create"
    # Only these fields (None: every field not excluded).
    fields: frozenset[str] | None = None
    # Record updates (a device saved on every verification records only its creation).
    updates: bool = True

    def site(self, instance: Any) -> Any:
        if site_path(type(instance)) is None:
            return getattr(instance, "site_id", None)  # e.g. a site-bound role assignment
        return site_id_of(instance)


_third_party: dict[Any, Audited] = {}


def register(
    label: str,
    *,
    fields: set[str] | None = None,
    exclude: set[str] | frozenset[str] = frozenset(),
    updates: bool = True,
) -> None:
    """Diff a third-party model (call from ``AuditConfig.ready``)."""
    _third_party[apps.get_model(label)] = Audited(
        exclude=frozenset(exclude) | ALWAYS_EXCLUDED,
        fields=frozenset(fields) if fields is not None else None,
        updates=updates,
    )
    get.cache_clear()


@cache
def get(model: Any) -> Audited | None:
    if isinstance(model, type) and issubclass(model, AuditedModel):
        return Audited(
            exclude=frozenset(model.audit_exclude) | ALWAYS_EXCLUDED,
            create_kind=model.audit_create_kind,
        )
    return _third_party.get(model)


def audited_models() -> list[Any]:
    """The audited tables: a proxy is recorded as its concrete model, so not listed."""
    return [
        model for model in apps.get_models() if not model._meta.proxy and get(model) is not None
    ]


def exemption(model: Any) -> str:
    """Why ``model`` is not audited ('' if nothing says)."""
    return getattr(model, "audit_exempt", "") or THIRD_PARTY_EXEMPT.get(model._meta.label, "")
