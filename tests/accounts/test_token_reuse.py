"""Refresh-token reuse detection (OAuth 2.0 Security BCP): a rotated refresh token used
again ends its whole session, every token issued from it, and is audited."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import UserSession
from accounts.services import REFRESH_INVALID, TOKEN_REUSE
from audit.models import AuditLog

REFRESH = "/api/auth/token/refresh/"
PROFILE = "/api/auth/profile/"


def _refresh(raw: str) -> Any:
    return APIClient().post(REFRESH, {"refresh": raw}, format="json")


def _profile(access: str) -> Any:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client.get(PROFILE)


@pytest.mark.django_db
def test_reusing_a_rotated_refresh_token_ends_the_whole_session(user, login):
    first = login(user)
    second = _refresh(first["refresh"]).json()  # T -> T2, as the thief (or the owner) did
    assert _profile(second["access"]).status_code == 200

    reuse = _refresh(first["refresh"])

    assert reuse.status_code == 401
    assert reuse.json() == {"detail": REFRESH_INVALID, "code": "token_not_valid"}
    assert _refresh(second["refresh"]).status_code == 401
    assert _profile(second["access"]).status_code == 401
    assert _profile(first["access"]).status_code == 401
    session = UserSession.objects.get(user=user)
    assert session.ended_at is not None
    assert session.end_reason == TOKEN_REUSE
    record = AuditLog.objects.get(action=TOKEN_REUSE)
    assert record.actor_id == user.pk
    assert record.actor_username == user.username
    assert record.resource_type == "accounts.user"
    assert record.resource_id == str(user.pk)
    assert record.new_values == {"sid": str(session.pk)}


@pytest.mark.django_db
def test_reuse_ends_only_that_session(user, login):
    other_device = login(user)
    first = login(user)
    _refresh(first["refresh"])

    _refresh(first["refresh"])

    assert _profile(other_device["access"]).status_code == 200
    assert _refresh(other_device["refresh"]).status_code == 200
    assert UserSession.objects.filter(user=user, ended_at__isnull=True).count() == 1


@pytest.mark.django_db
def test_a_token_of_an_ended_session_is_refused_without_another_reuse_record(user, login):
    first = login(user)
    _refresh(first["refresh"])
    _refresh(first["refresh"])  # reuse: the session ends

    again = _refresh(first["refresh"])

    assert again.status_code == 401
    assert AuditLog.objects.filter(action=TOKEN_REUSE).count() == 1


@pytest.mark.django_db
def test_an_ordinary_rotation_is_not_reuse(user, login):
    tokens = login(user)

    for _ in range(3):
        response = _refresh(tokens["refresh"])
        assert response.status_code == 200
        tokens = response.json()

    assert _profile(tokens["access"]).status_code == 200
    assert not AuditLog.objects.filter(action=TOKEN_REUSE).exists()
    assert UserSession.objects.get(user=user).ended_at is None
