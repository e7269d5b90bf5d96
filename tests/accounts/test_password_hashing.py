"""argon2id at OWASP's parameters, PBKDF2 hashes upgraded at sign-in, and the cap on
concurrent hashing. The rest of the suite hashes with MD5 for speed; these tests run
the production hashers."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.hashers import PBKDF2PasswordHasher, identify_hasher
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from accounts import hashers
from accounts.models import User, UserSession
from config.settings.base import PASSWORD_HASHERS as PRODUCTION_HASHERS
from tests.accounts.factories import UserFactory

LOGIN = "/api/auth/token/"
OWASP_PARAMETERS = "m=19456,t=2,p=1"

production_hashers = override_settings(PASSWORD_HASHERS=PRODUCTION_HASHERS)


def _pbkdf2_hash(password: str) -> str:
    # A real PBKDF2-SHA256 hash, as Django wrote them before; few iterations, for speed.
    return PBKDF2PasswordHasher().encode(password, "pbkdf2salt1234", iterations=1000)


@production_hashers
def test_new_passwords_are_argon2id_with_owasp_parameters(db, password):
    user = UserFactory()

    algorithm, variant, version, parameters, *_ = user.password.split("$")

    assert (algorithm, variant, version) == ("argon2", "argon2id", "v=19")
    assert parameters == OWASP_PARAMETERS
    assert isinstance(identify_hasher(user.password), hashers.Argon2idPasswordHasher)
    assert user.check_password(password)
    assert not user.check_password(password + "x")


@production_hashers
@pytest.mark.django_db
def test_a_pbkdf2_hash_becomes_argon2id_at_the_next_sign_in(api_client, password):
    user = UserFactory()
    User.objects.filter(pk=user.pk).update(password=_pbkdf2_hash(password))

    first = api_client.post(LOGIN, {"username": user.username, "password": password})

    assert first.status_code == 200, first.content
    user.refresh_from_db()
    assert user.password.startswith(f"argon2$argon2id$v=19${OWASP_PARAMETERS}$")
    second = api_client.post(LOGIN, {"username": user.username, "password": password})
    assert second.status_code == 200
    assert UserSession.objects.filter(user=user).count() == 2


@production_hashers
@pytest.mark.django_db
def test_a_wrong_password_leaves_the_pbkdf2_hash_alone(api_client, password):
    user = UserFactory()
    stored = _pbkdf2_hash(password)
    User.objects.filter(pk=user.pk).update(password=stored)

    response = api_client.post(LOGIN, {"username": user.username, "password": "wrong-pass-123"})

    assert response.status_code == 401
    user.refresh_from_db()
    assert user.password == stored


@production_hashers
@pytest.mark.django_db
def test_an_argon2_hash_with_weaker_parameters_is_rehashed(api_client, password):
    weak = hashers.Argon2idPasswordHasher()
    weak.memory_cost, weak.time_cost = 8 * 1024, 1
    user = UserFactory()
    User.objects.filter(pk=user.pk).update(password=weak.encode(password, weak.salt()))

    response = api_client.post(LOGIN, {"username": user.username, "password": password})

    assert response.status_code == 200
    user.refresh_from_db()
    assert f"${OWASP_PARAMETERS}$" in user.password


@contextmanager
def held_slots() -> Iterator[None]:
    """Every hashing slot of this process taken by other threads, as concurrent sign-ins
    would take them, for the duration of the block."""
    size = hashers.settings.PASSWORD_HASH_CONCURRENCY
    ready = threading.Barrier(size + 1)
    release = threading.Event()

    def hold() -> None:
        with hashers.hashing_slot():
            ready.wait(timeout=10)
            release.wait(timeout=30)

    threads = [threading.Thread(target=hold, daemon=True) for _ in range(size)]
    for thread in threads:
        thread.start()
    ready.wait(timeout=10)
    try:
        yield
    finally:
        release.set()
        for thread in threads:
            thread.join(timeout=10)


@production_hashers
@pytest.mark.django_db
def test_sign_in_beyond_the_hashing_cap_is_503_and_changes_nothing(api_client, password):
    user = UserFactory()
    with held_slots(), CaptureQueriesContext(connection) as queries:
        response = api_client.post(LOGIN, {"username": user.username, "password": password})

    assert response.status_code == 503
    # Refused before the user or the lockout was even looked up.
    looked_up = [q["sql"] for q in queries if "accounts_user" in q["sql"] or "axes_" in q["sql"]]
    assert looked_up == []
    assert response.json() == {"detail": hashers.HASHING_BUSY, "code": "password_hashing_busy"}
    assert response["Retry-After"] == "1"
    assert not UserSession.objects.exists()
    assert not AccessAttempt.objects.exists()  # not a failed sign-in either
    after = api_client.post(LOGIN, {"username": user.username, "password": password})
    assert after.status_code == 200


@production_hashers
@override_settings(PASSWORD_HASH_CONCURRENCY=1)
def test_pbkdf2_verify_holds_one_slot_not_two(password):
    stored = _pbkdf2_hash(password)

    # verify() takes the process's only slot and calls encode(), which must not wait for it.
    assert hashers.PBKDF2PasswordHasher().verify(password, stored)


@production_hashers
@override_settings(PASSWORD_HASH_CONCURRENCY=1)
def test_a_slot_is_given_back_after_a_hash(password):
    hasher = hashers.Argon2idPasswordHasher()

    for _ in range(3):
        hasher.encode(password, hasher.salt())

    semaphore = hashers._semaphore()
    assert semaphore is not None and semaphore.acquire(blocking=False)
    semaphore.release()


@production_hashers
@pytest.mark.django_db
def test_admin_sign_in_beyond_the_hashing_cap_is_503_not_500(client, staff_user, password):
    with held_slots():
        response = client.post(
            "/admin/login/?next=/admin/", {"username": staff_user.username, "password": password}
        )

    assert response.status_code == 503
    assert response["Retry-After"] == "1"
    assert response.json()["code"] == "password_hashing_busy"
