"""Security events become audit records: sign-ins, failures, lockouts, sign-outs,
token refreshes, permission denials, and the enrolment and removal of the admin's
second-factor devices."""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_delete, post_save

from audit.capture import record_access, record_change
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
        resource_type=obj._meta.label_lower if obj is not None and hasattr(obj, "_meta") else "",
        resource_id=getattr(obj, "pk", "") or "",
        site_id=site_id,
        new_values={"codename": codename, "method": method},
        **_user_fields(user),
    )


def _device_values(device: Any) -> dict[str, Any]:
    # Never the secret; not the per-code bookkeeping (last step used, throttling) either.
    return {"user_id": device.user_id, "name": device.name, "confirmed": device.confirmed}


def on_device_saved(
    sender: Any, instance: Any, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    """A second-factor device enrolled: a change record, in the enrolment's transaction.

    (Not a registered model of ``audit.registry``: every verification saves the device.)
    """
    if created and not raw:
        values = _device_values(instance)
        record_change(
            action=Action.CREATE, instance=instance, new_values=values, changed_fields=values
        )


def on_device_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    values = _device_values(instance)
    record_change(action=Action.DELETE, instance=instance, old_values=values, changed_fields=values)


def connect() -> None:
    device = "otp_totp.TOTPDevice"
    post_save.connect(on_device_saved, sender=device, dispatch_uid="audit_otp_device_saved")
    post_delete.connect(on_device_deleted, sender=device, dispatch_uid="audit_otp_device_deleted")
    security_event.connect(on_security_event, dispatch_uid="audit_security_event")
    permission_denied.connect(on_permission_denied, dispatch_uid="audit_permission_denied")
    user_logged_in.connect(on_logged_in, dispatch_uid="audit_logged_in")
    user_logged_out.connect(on_logged_out, dispatch_uid="audit_logged_out")
    user_login_failed.connect(on_login_failed, dispatch_uid="audit_login_failed")
    user_locked_out.connect(on_locked_out, dispatch_uid="audit_locked_out")
