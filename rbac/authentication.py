"""JWT authentication that also fetches the user's permissions in the same cache call."""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework_simplejwt.tokens import Token

from accounts.authentication import JWTAuthentication as AccountsJWTAuthentication
from accounts.authentication import check_token_user
from accounts.models import User
from core import replicas
from core.cache import RoundTrip, keep_round_trip
from core.throttling import UserRateThrottle
from rbac.resolver import CACHED_ATTR, perm_key


class JWTAuthentication(AccountsJWTAuthentication):
    """One cache round trip for user, session, permissions and the rate counter.

    A view may add the keys it will read (``prefetch_cache_keys(request)``, e.g. the
    site detail); they come back in the same round trip, kept on the request
    (``core.cache.round_trip``). No database query on a warm cache.
    """

    request: Request | None = None

    def authenticate(self, request: Request) -> tuple[User, Token] | None:  # type: ignore[override]
        self.request = request  # DRF makes one authenticator per request
        return super().authenticate(request)

    def get_user(self, validated_token: Token) -> User:  # type: ignore[override]
        view = self._view()

        def extra_keys(user_id: Any, prefix: str) -> list[str]:
            keys = [perm_key(user_id, prefix)]
            prefetch = getattr(view, "prefetch_cache_keys", None)
            if prefetch is not None and self.request is not None:
                keys += prefetch(self.request)
            wants_replica = getattr(view, "replica_reads_wanted", None)
            if wants_replica is not None and self.request is not None:
                if wants_replica(self.request):  # read-your-writes: pinned to the primary?
                    keys.append(replicas.pin_key(user_id))
            return keys

        user, cached = check_token_user(
            validated_token,
            extra_keys=extra_keys,
            counters=lambda user_id: UserRateThrottle.counters_for(view, user_id),
        )
        setattr(user, CACHED_ATTR, cached)  # the resolver reads the permissions from it
        if self.request is not None:
            keep_round_trip(self.request, RoundTrip(cached.values, cached.counts))
        return user

    def _view(self) -> Any:
        context = getattr(self.request, "parser_context", None) or {}
        return context.get("view")
