"""JWT authentication that also fetches the user's permissions in the same cache call."""

from __future__ import annotations

from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import Token

from accounts import auth_cache
from accounts.authentication import JWTAuthentication as AccountsJWTAuthentication
from accounts.authentication import check_token_user
from accounts.models import User
from accounts.tokens import SESSION_CLAIM
from rbac.resolver import CACHED_ATTR, perm_key


class JWTAuthentication(AccountsJWTAuthentication):
    """One ``get_many`` for user, session and permissions; no query on a warm cache."""

    def get_user(self, validated_token: Token) -> User:  # type: ignore[override]
        try:
            user_id = validated_token[api_settings.USER_ID_CLAIM]
            session_id = str(validated_token[SESSION_CLAIM])
        except KeyError as exc:
            raise InvalidToken("Token contained no recognizable user identification") from exc
        prefix = auth_cache.key_prefix()
        cached = auth_cache.fetch(
            user_id,
            prefix=prefix,
            extra_keys=[auth_cache.session_key(session_id, prefix), perm_key(user_id, prefix)],
        )
        user = check_token_user(validated_token, cached)
        setattr(user, CACHED_ATTR, cached)
        return user
