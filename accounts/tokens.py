"""Issuing JWTs tied to a user session and the user's token epoch."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User, UserSession

SESSION_CLAIM = "sid"
EPOCH_CLAIM = "epoch"


class RotatableRefreshToken(RefreshToken):
    """A refresh token verified in everything but the blacklist.

    ``auth_refresh`` reads the blacklist itself, under the session's row lock: a token
    already rotated is then known to be reused, not merely invalid.
    """

    def check_blacklist(self) -> None:
        return None


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str
    refresh_jti: str


def issue_tokens(*, user: User, session: UserSession) -> TokenPair:
    """A new refresh token (recorded as outstanding) and its access token."""
    refresh = RefreshToken()
    refresh[api_settings.USER_ID_CLAIM] = str(user.pk)
    refresh[SESSION_CLAIM] = str(session.pk)
    refresh[EPOCH_CLAIM] = user.token_epoch
    jti = refresh[api_settings.JTI_CLAIM]
    OutstandingToken.objects.create(
        user=user,
        jti=jti,
        token=str(refresh),
        created_at=refresh.current_time,
        expires_at=datetime.fromtimestamp(refresh["exp"], tz=UTC),
    )
    return TokenPair(access=str(refresh.access_token), refresh=str(refresh), refresh_jti=jti)
