"""Security events become access records: sign-ins, failures, lockouts, sign-outs,
token refreshes and reuse, permission denials. (The enrolment and removal of the
admin's second-factor devices are changes, diffed through ``audit.registry``.)"""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed

from audit.capture import record_access, resource_type_of
from audit.choices import Action
from core.context import get_context
from core.signals import permission_denied, security_event


def _user_fields(user: Any) -> dict[str, Any]:
    if user is None or not getattr(user, "pk", None):
        return {}
    return {"actor_id": user.pk, "actor_username": user.get_username()}


def on_security_event(
    sender: Any,
    action: str,
    user: Any = None,
    username: str = "",
    details: dict[str, Any] | None = None,
    **kwargs: Any,
) -> None:
    fields = _user_fields(user) or {"actor_username": username or get_context().username}
    record_access(
        action=action,
        resource_type="accounts.user",
        resource_id=getattr(user, "pk", "") or "",
        new_values=details,
        **fields,
    )


def on_logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    record_access(
        action=Action.LOGIN,
        resource_type="accounts.user",
        resource_id=user.pk,
        **_user_fields(user),
    )


def on_logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    record_access(
        action=Action.LOGOUT,
        resource_type="accounts.user",
        resource_id=getattr(user, "pk", "") or "",
        **_user_fields(user),
    )


def on_login_failed(
    sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
) -> None:
    username = str(credentials.get("username", ""))[:150]
    record_access(
        action=Action.LOGIN_FAILED, actor_username=username, new_values={"username": username}
    )


def on_locked_out(
    sender: Any, request: Any, username: str | None, ip_address: str | None, **kwargs: Any
) -> None:
    record_access(
        action=Action.LOCKOUT,
        actor_username=(username or "")[:150],
        new_values={"username": username, "ip": ip_address},
    )


def on_permission_denied(
    sender: Any, user: Any, codename: str, obj: Any = None, method: str = "", **kwargs: Any
) -> None:
    site_id = getattr(obj, "site_id", None) if obj is not None else None
    record_access(
        action=Action.PERMISSION_DENIED,
        status_code=403,
        resource_type=resource_type_of(type(obj)) if hasattr(obj, "_meta") else "",
        resource_id=getattr(obj, "pk", "") or "",
        site_id=site_id,
        new_values={"codename": codename, "method": method},
        **_user_fields(user),
    )


def connect() -> None:
    security_event.connect(on_security_event, dispatch_uid="audit_security_event")
    permission_denied.connect(on_permission_denied, dispatch_uid="audit_permission_denied")
    user_logged_in.connect(on_logged_in, dispatch_uid="audit_logged_in")
    user_logged_out.connect(on_logged_out, dispatch_uid="audit_logged_out")
    user_login_failed.connect(on_login_failed, dispatch_uid="audit_login_failed")
    user_locked_out.connect(on_locked_out, dispatch_uid="audit_locked_out")
