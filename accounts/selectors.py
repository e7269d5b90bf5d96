from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import User, UserSession


def user_list() -> QuerySet[User]:
    return User.objects.all().order_by("username")


def active_user_count() -> int:
    return User.objects.filter(is_active=True).count()


def session_list(*, user: User) -> QuerySet[UserSession]:
    return UserSession.objects.filter(user=user).order_by("-created_at")
