from typing import Any

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
