"""Framework events of the accounts app: lockouts are logged and e-mailed; a new
account is published (``user.created``) whichever door made it."""

import logging
from typing import Any

from axes.signals import user_locked_out
from django.db.models.signals import post_save
from django.dispatch import receiver

from accounts import events
from accounts.lockout import lockout_in_force
from accounts.models import User
from accounts.services import lockout_notify

logger = logging.getLogger("accounts.security")


@receiver(user_locked_out)
def on_locked_out(
    sender: Any, request: Any, username: str | None, ip_address: str | None, **kwargs: Any
) -> None:
    if lockout_in_force(request):
        # A refused attempt during a lockout: axes counts it, the audit trail records
        # it; the owner was told when the lockout began.
        return
    logger.warning(
        "login_locked_out",
        extra={"username": username, "ip": ip_address},
    )
    if username:
        lockout_notify(username=username, ip=ip_address)


@receiver(post_save, sender=User, dispatch_uid="accounts_user_created")
def on_user_saved(sender: Any, instance: User, created: bool, raw: bool, **kwargs: Any) -> None:
    # The service, the manager (createsuperuser, scripts) and the admin all save: the
    # event hangs on the save, as the account's audit record does.
    if created and not raw:
        events.user_created(user=instance)
