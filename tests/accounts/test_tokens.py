import threading
import time
from datetime import timedelta

import jwt
import pytest
from django.conf import settings
from django.db import connection
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from accounts.models import UserSession

REFRESH = "/api/auth/token/refresh/"
PROFILE = "/api/auth/profile/"
LOGOUT = "/api/auth/logout/"


def _get_profile(token: str):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client.get(PROFILE)


@pytest.mark.django_db
def test_refresh_rotates_and_blacklists_old(api_client, user, login):
    tokens = login(user)

    response = api_client.post(REFRESH, {"refresh": tokens["refresh"]})

    assert response.status_code == 200
    new = response.json()
    assert set(new) == {"access", "refresh"}
    assert new["refresh"] != tokens["refresh"]
    assert _get_profile(new["access"]).status_code == 200
    session = UserSession.objects.get(user=user)
    assert session.refresh_jti == RefreshToken(new["refresh"])["jti"]
    # Used again, the old token is refused (and ends the session: test_token_reuse.py).
    again = api_client.post(REFRESH, {"refresh": tokens["refresh"]})
    assert again.status_code == 401


@pytest.mark.django_db
def test_access_token_refused_as_refresh(api_client, user, login):
    tokens = login(user)

    response = api_client.post(REFRESH, {"refresh": tokens["access"]})

    assert response.status_code == 401


@pytest.mark.django_db
def test_refresh_token_refused_as_access(user, login):
    tokens = login(user)

    assert _get_profile(tokens["refresh"]).status_code == 401


def _forge(payload: dict, key: str | None = None, algorithm: str = "HS256") -> str:
    return jwt.encode(payload, key or settings.SIMPLE_JWT["SIGNING_KEY"], algorithm=algorithm)


@pytest.mark.django_db
def test_expired_access_token_refused(user, login):
    tokens = login(user)
    payload = jwt.decode(tokens["access"], options={"verify_signature": False})
    payload["exp"] = payload["iat"] - 10

    assert _get_profile(_forge(payload)).status_code == 401


@pytest.mark.django_db
def test_tampered_signature_refused(user, login):
    tokens = login(user)
    head, body, sig = tokens["access"].split(".")
    tampered = f"{head}.{body}.{sig[:-4]}{'AAAA' if sig[-4:] != 'AAAA' else 'BBBB'}"

    assert _get_profile(tampered).status_code == 401


@pytest.mark.django_db
def test_changed_claims_with_old_signature_refused(user, staff_user, login):
    tokens = login(user)
    head, _, sig = tokens["access"].split(".")
    payload = jwt.decode(tokens["access"], options={"verify_signature": False})
    payload["user_id"] = str(staff_user.pk)
    body = jwt.utils.base64url_encode(jwt.api_jws.json.dumps(payload).encode()).decode()

    assert _get_profile(f"{head}.{body}.{sig}").status_code == 401


@pytest.mark.django_db
def test_alg_none_refused(user, login):
    tokens = login(user)
    payload = jwt.decode(tokens["access"], options={"verify_signature": False})
    unsigned = jwt.encode(payload, None, algorithm="none")

    assert _get_profile(unsigned).status_code == 401


@pytest.mark.django_db
def test_wrong_signing_key_refused(user, login):
    tokens = login(user)
    payload = jwt.decode(tokens["access"], options={"verify_signature": False})

    assert _get_profile(_forge(payload, key="another-key-" * 4)).status_code == 401


@pytest.mark.django_db
@pytest.mark.parametrize(("claim", "value"), [("aud", "someone-else"), ("iss", "evil-issuer")])
def test_wrong_audience_or_issuer_refused(user, login, claim, value):
    tokens = login(user)
    payload = jwt.decode(tokens["access"], options={"verify_signature": False})
    payload[claim] = value

    assert _get_profile(_forge(payload)).status_code == 401


@pytest.mark.django_db
def test_token_lifetimes(user, login):
    tokens = login(user)

    access = AccessToken(tokens["access"])
    refresh = RefreshToken(tokens["refresh"])
    assert timedelta(seconds=access["exp"] - access["iat"]) == timedelta(minutes=60)
    assert timedelta(seconds=refresh["exp"] - refresh["iat"]) == timedelta(days=7)


@pytest.mark.django_db
@pytest.mark.parametrize("header", ["Bearer", "Bearer ", "Bearer a.b.c", "Basic abc", "Bearer x y"])
def test_malformed_authorization_header_401(api_client, db, header):
    api_client.credentials(HTTP_AUTHORIZATION=header)

    response = api_client.get(PROFILE)

    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"


@pytest.mark.django_db
def test_logout_blacklists_refresh_and_ends_session(user, auth_client):
    client = auth_client(user)
    tokens = client.tokens

    response = client.post(LOGOUT, {"refresh_token": tokens["refresh"]})

    assert response.status_code == 204
    assert APIClient().post(REFRESH, {"refresh": tokens["refresh"]}).status_code == 401
    assert _get_profile(tokens["access"]).status_code == 401
    session = UserSession.objects.get(user=user)
    assert session.ended_at is not None
    assert session.end_reason == "logout"


@pytest.mark.django_db
def test_logout_without_body_ends_current_session_only(user, auth_client):
    first = auth_client(user)
    second = auth_client(user)

    response = first.post(LOGOUT, {})

    assert response.status_code == 204
    assert _get_profile(first.tokens["access"]).status_code == 401
    assert _get_profile(second.tokens["access"]).status_code == 200


@pytest.mark.django_db
def test_logout_with_someone_elses_refresh_refused(user, staff_user, auth_client, login):
    client = auth_client(user)
    other = login(staff_user)

    response = client.post(LOGOUT, {"refresh_token": other["refresh"]})

    assert response.status_code == 400
    assert APIClient().post(REFRESH, {"refresh": other["refresh"]}).status_code == 200


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres
def test_concurrent_refresh_exactly_one_succeeds(user, login):
    tokens = login(user)
    barrier = threading.Barrier(2)
    results: list[int] = []

    def refresh() -> None:
        try:
            barrier.wait()
            results.append(APIClient().post(REFRESH, {"refresh": tokens["refresh"]}).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=refresh) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(results) == [200, 401]


# --- verified tokens are kept until they expire ------------------------------------------


@pytest.mark.django_db
def test_verified_token_is_not_verified_again(user, login, monkeypatch):
    from rest_framework_simplejwt.backends import TokenBackend

    access = login(user)["access"]
    assert _get_profile(access).status_code == 200

    def refuse(*args, **kwargs):
        raise AssertionError("decoded again")

    monkeypatch.setattr(TokenBackend, "decode", refuse)

    assert _get_profile(access).status_code == 200


@pytest.mark.django_db
def test_verified_token_refused_once_expired(user, login):
    payload = jwt.decode(login(user)["access"], options={"verify_signature": False})
    payload["exp"] = int(time.time()) + 1
    token = _forge(payload)
    assert _get_profile(token).status_code == 200  # verified and kept

    while time.time() < payload["exp"] + 0.05:
        time.sleep(0.05)

    assert _get_profile(token).status_code == 401


def test_verified_tokens_are_bounded():
    from accounts.authentication import VerifiedTokens

    kept = VerifiedTokens(size=2)
    exp = int(time.time()) + 60
    tokens = {raw: AccessToken() for raw in (b"a", b"b", b"c")}
    for raw, token in tokens.items():
        token.payload["exp"] = exp
        kept.add(raw, token)

    assert kept.get(b"a") is None  # the oldest went first
    assert kept.get(b"b") is tokens[b"b"]
    assert kept.get(b"c") is tokens[b"c"]
