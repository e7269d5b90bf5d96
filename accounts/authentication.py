"""JWT authentication that checks the user, the token epoch and the session.

On a warm cache this reads one ``get_many`` and makes no database query. Whatever
authenticates the request binds the actor into the request context, so the audit trail
names the real user (DRF authenticates inside the view, after middleware ran).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework_simplejwt.authentication import JWTAuthentication as BaseJWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import Token

from accounts import auth_cache
from accounts.models import User, UserSession
from accounts.tokens import EPOCH_CLAIM, SESSION_CLAIM
from core.context import bind_user
from core.metrics import AUTH_CACHE_LOOKUPS

USER_CACHE_HIT = AUTH_CACHE_LOOKUPS.labels("user", "hit")
USER_CACHE_MISS = AUTH_CACHE_LOOKUPS.labels("user", "miss")
SESSION_CACHE_HIT = AUTH_CACHE_LOOKUPS.labels("session", "hit")
SESSION_CACHE_MISS = AUTH_CACHE_LOOKUPS.labels("session", "miss")

TOKEN_REVOKED = "Token has been revoked."  # noqa: S105
SESSION_ENDED = "Session has ended."
USER_INACTIVE = "User is inactive or no longer exists."


def load_user(user_id: Any, cached: auth_cache.CachedAuth) -> User | None:
    user: User | None = cached.get_versioned(auth_cache.user_key(user_id, cached.prefix))
    if user is not None:
        USER_CACHE_HIT.inc()
        return user
    USER_CACHE_MISS.inc()
    user = User.objects.filter(pk=user_id).first()
    if user is not None:
        auth_cache.ensure_version(user.pk, user.auth_version, cached.prefix)
        if cached.version is None or cached.version == user.auth_version:
            auth_cache.store_versioned(
                auth_cache.user_key(user.pk, cached.prefix), user.auth_version, user
            )
        cached.version = cached.version or user.auth_version
    return user


def session_active(session_id: str, cached: auth_cache.CachedAuth) -> bool:
    key = auth_cache.session_key(session_id, cached.prefix)
    value = cached.values.get(key)
    if value is not None:
        SESSION_CACHE_HIT.inc()
        return bool(value)
    SESSION_CACHE_MISS.inc()
    active = UserSession.objects.filter(pk=session_id, ended_at__isnull=True).exists()
    auth_cache.remember_session(session_id, active, cached.prefix)
    return active


def check_token_user(
    validated_token: Token,
    extra_keys: Callable[[Any, str], list[str]] | None = None,
    counters: Callable[[Any], dict[str, int]] | None = None,
) -> tuple[User, auth_cache.CachedAuth]:
    """The token's user, refusing inactive users, revoked epochs and ended sessions.

    User, session and whatever ``extra_keys(user_id, prefix)`` names (the permissions)
    are read from the cache, and the rate counters ``counters(user_id)`` names are
    counted, in one round trip; the answer is returned for the caller to use.
    """
    try:
        user_id = validated_token[api_settings.USER_ID_CLAIM]
        session_id = str(validated_token[SESSION_CLAIM])
        epoch = validated_token[EPOCH_CLAIM]
    except KeyError as exc:
        raise InvalidToken("Token contained no recognizable user identification") from exc
    prefix = auth_cache.key_prefix()
    keys = [auth_cache.session_key(session_id, prefix)]
    if extra_keys is not None:
        keys += extra_keys(user_id, prefix)
    cached = auth_cache.fetch(
        user_id,
        prefix=prefix,
        extra_keys=keys,
        counters=counters(user_id) if counters is not None else None,
    )
    try:
        user = load_user(user_id, cached)
    except (ValueError, DjangoValidationError) as exc:  # not a user id, though signed by us
        raise InvalidToken("Token contained no recognizable user identification") from exc
    if user is None or not user.is_active:
        raise exceptions.AuthenticationFailed(USER_INACTIVE, code="user_inactive")
    if epoch != user.token_epoch:
        raise exceptions.AuthenticationFailed(TOKEN_REVOKED, code="token_revoked")
    if not session_active(session_id, cached):
        raise exceptions.AuthenticationFailed(SESSION_ENDED, code="session_ended")
    return user, cached


class VerifiedTokens:
    """Access tokens this process has verified, kept until they expire.

    A token's signature and claims cannot change, so checking them again on every
    request (HMAC, base64 and claim checks) is wasted work. Keyed by the exact token
    bytes: only a token that verified once is ever found. Expiry is checked on every
    use; revocation never depended on this (the epoch and session are checked against
    the user on every request, ``check_token_user``). Bounded: the oldest go first.
    """

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._tokens: dict[bytes, tuple[float, Token]] = {}
        self._lock = threading.Lock()

    def get(self, raw: bytes) -> Token | None:
        entry = self._tokens.get(raw)
        if entry is None or time.time() >= entry[0]:
            return None
        return entry[1]

    def add(self, raw: bytes, token: Token) -> None:
        exp = token.payload.get("exp")
        if not isinstance(exp, int | float):
            return
        leeway = api_settings.LEEWAY
        if isinstance(leeway, timedelta):
            leeway = leeway.total_seconds()
        with self._lock:
            while len(self._tokens) >= self.size:
                self._tokens.pop(next(iter(self._tokens)))
            self._tokens[raw] = (float(exp) + float(leeway or 0), token)

    def clear(self) -> None:
        with self._lock:
            self._tokens.clear()


verified_tokens = VerifiedTokens()


class JWTAuthentication(BaseJWTAuthentication):
    def authenticate(self, request: Request) -> tuple[User, Token] | None:  # type: ignore[override]
        result = super().authenticate(request)
        if result is not None:
            bind_user(result[0])
        return result  # type: ignore[return-value]

    def get_validated_token(self, raw_token: bytes) -> Token:
        token = verified_tokens.get(raw_token)
        if token is None:
            token = super().get_validated_token(raw_token)
            verified_tokens.add(raw_token, token)
        return token

    def get_user(self, validated_token: Token) -> User:  # type: ignore[override]
        return check_token_user(validated_token)[0]
