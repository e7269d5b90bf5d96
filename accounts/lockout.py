from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from django.conf import settings
from django.http import HttpRequest, JsonResponse

LOCKED_OUT = "Too many failed sign-in attempts. Try again in {minutes} minutes."


def lockout_response(
    request: HttpRequest, original_response: Any = None, credentials: Any = None
) -> JsonResponse:
    """Axes' answer to a locked-out sign-in: JSON 429 with Retry-After."""
    seconds = int(settings.AXES_COOLOFF_TIME.total_seconds())
    response = JsonResponse(
        {"detail": LOCKED_OUT.format(minutes=seconds // 60), "code": "locked_out"}, status=429
    )
    response["Retry-After"] = str(seconds)
    return response


# django-axes ships no type information.
class LockoutHandler(AxesDatabaseHandler):  # type: ignore[misc]
    """Axes' database handler, marking a request refused because a lockout was already
    in force.

    Axes sends ``user_locked_out`` for the attempt that locks a username + IP out and
    again for every attempt refused while the lockout lasts; only the first is a new
    lockout (one e-mail, ``accounts.signals``). The backend asks ``is_locked`` before
    any password is checked, so its answer tells the two apart.
    """

    def is_locked(self, request: Any, credentials: dict[str, Any] | None = None) -> bool:
        locked: bool = super().is_locked(request, credentials)
        if locked and request is not None:
            request.lockout_in_force = True
        return locked


def lockout_in_force(request: Any) -> bool:
    """Whether this request was refused by a lockout that began before it."""
    return bool(getattr(request, "lockout_in_force", False))
