"""JWT authentication that also fetches the user's permissions in the same cache call."""

from __future__ import annotations

from rest_framework_simplejwt.tokens import Token

from accounts.authentication import JWTAuthentication as AccountsJWTAuthentication
from accounts.authentication import check_token_user
from accounts.models import User
from rbac.resolver import CACHED_ATTR, perm_key


class JWTAuthentication(AccountsJWTAuthentication):
    """One ``get_many`` for user, session and permissions; no query on a warm cache."""

    def get_user(self, validated_token: Token) -> User:  # type: ignore[override]
        user, cached = check_token_user(
            validated_token, extra_keys=lambda user_id, prefix: [perm_key(user_id, prefix)]
        )
        setattr(user, CACHED_ATTR, cached)  # the resolver reads the permissions from it
        return user
