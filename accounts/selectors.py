from __future__ import annotations

from django.db.models import QuerySet
from django.http import HttpRequest
from rest_framework.exceptions import NotAuthenticated

from accounts.models import User, UserSession


def user_list() -> QuerySet[User]:
    result: QuerySet[User, User] = User.objects.all().order_by("username")
    return result


def active_user_count() -> int:
    result: int = User.objects.filter(is_active=True).count()
    return result


def session_list(*, user: User) -> QuerySet[UserSession]:
    return UserSession.objects.filter(user=user).order_by("-created_at")


def signed_in(request: HttpRequest) -> User:
    """The user the request was authenticated as, typed as such: for views behind a
    permission class that already refused anonymous callers (a 401 if one gets here)."""
    user = request.user
    if not isinstance(user, User):
        raise NotAuthenticated()
    return user
