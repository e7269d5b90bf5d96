"""Access records: sign-ins and their failures, lockouts, sign-outs, refreshes, refusals,
and one record per API write (reads only when configured)."""

import pytest

from audit.choices import Action
from audit.models import AuditLog
from tests.accounts.factories import UserFactory
from tests.conftest import DEFAULT_PASSWORD, assign
from tests.sites.factories import SiteFactory

LOGIN = "/api/auth/token/"
REFRESH = "/api/auth/token/refresh/"
LOGOUT = "/api/auth/logout/"
SITES = "/api/sites/"
WRONG = "not-the-password-1"


def _of(action, **filters):
    return list(AuditLog.objects.filter(action=action, **filters))


def _login(client, username, password=DEFAULT_PASSWORD):
    return client.post(LOGIN, {"username": username, "password": password})


@pytest.mark.django_db
def test_login_recorded_with_the_user_as_actor(api_client, user):
    response = _login(api_client, user.username)

    assert response.status_code == 200
    [record] = _of(Action.LOGIN)
    assert record.actor_id == user.pk
    assert record.actor_username == user.username
    assert record.resource_type == "accounts.user"
    assert record.resource_id == str(user.pk)
    assert record.request_id == response["X-Request-ID"]
    assert record.ip == "127.0.0.1"


@pytest.mark.django_db
def test_wrong_password_recorded_as_login_failed_with_the_username(api_client, user):
    response = _login(api_client, user.username, WRONG)

    assert response.status_code == 401
    [record] = _of(Action.LOGIN_FAILED)
    assert record.actor_username == user.username
    assert record.actor_id is None
    assert record.new_values["username"] == user.username
    assert WRONG not in str(record.new_values)
    assert record.request_id == response["X-Request-ID"]
    assert not _of(Action.LOGIN)


@pytest.mark.django_db
def test_unknown_username_recorded_as_login_failed(api_client):
    _login(api_client, "nobody.here", WRONG)

    [record] = _of(Action.LOGIN_FAILED)
    assert record.actor_username == "nobody.here"


@pytest.mark.django_db
def test_five_failures_recorded_and_then_a_lockout(api_client, user):
    for _ in range(5):
        _login(api_client, user.username, WRONG)

    assert len(_of(Action.LOGIN_FAILED, actor_username=user.username)) == 5
    [lockout] = _of(Action.LOCKOUT)
    assert lockout.actor_username == user.username
    assert lockout.new_values["username"] == user.username
    assert lockout.new_values["ip"] == "127.0.0.1"


@pytest.mark.django_db
def test_logout_recorded_with_the_user_as_actor(auth_client, user):
    client = auth_client(user)

    response = client.post(LOGOUT, {})

    assert response.status_code == 204
    [record] = _of(Action.LOGOUT)
    assert record.actor_id == user.pk
    assert record.actor_username == user.username
    assert record.request_id == response["X-Request-ID"]


@pytest.mark.django_db
def test_token_refresh_recorded_with_the_user_as_actor(auth_client, user, api_client):
    tokens = auth_client(user).tokens

    response = api_client.post(REFRESH, {"refresh": tokens["refresh"]})

    assert response.status_code == 200, response.content
    [record] = _of(Action.TOKEN_REFRESH)
    assert record.actor_id == user.pk
    assert record.actor_username == user.username
    assert record.request_id == response["X-Request-ID"]
    assert tokens["refresh"] not in str(record.new_values)


@pytest.mark.django_db
def test_refused_write_recorded_as_permission_denied_with_the_codename(auth_client):
    site = SiteFactory()
    viewer = UserFactory()
    assign(viewer, "auditor", site=site)  # may view the site, not change it
    client = auth_client(viewer)

    response = client.patch(f"{SITES}{site.pk}/", {"name": "Nope"})

    assert response.status_code == 403
    [record] = _of(Action.PERMISSION_DENIED)
    assert record.actor_id == viewer.pk
    assert record.actor_username == viewer.username
    assert record.new_values["codename"] == "site.update"
    assert record.new_values["method"] == "PATCH"
    assert record.status_code == 403
    assert record.request_id == response["X-Request-ID"]


@pytest.mark.django_db
def test_every_api_write_makes_one_access_record_with_status_and_duration(admin, staff_user):
    created = admin.post(
        SITES, {"code": "ACC-01", "name": "A", "gln": "4012345000009", "country": "DE"}
    )
    site_path = f"{SITES}{created.json()['id']}/"
    responses = [
        created,
        admin.patch(site_path, {"name": "B"}),
        admin.put(site_path, {"code": "ACC-01", "name": "C", "gln": "4012345000009"}),
        admin.post(SITES, {"code": "x"}),
        admin.delete(site_path),
    ]

    assert [r.status_code for r in responses] == [201, 200, 400, 400, 204]
    for response in responses:
        [record] = _of(Action.REQUEST, request_id=response["X-Request-ID"])
        assert record.status_code == response.status_code
        assert record.duration_ms is not None and record.duration_ms >= 0
        assert record.method == response.wsgi_request.method
        assert record.path == response.wsgi_request.path
        assert record.actor_id == staff_user.pk


@pytest.mark.django_db
def test_anonymous_write_refused_and_recorded(api_client):
    response = api_client.post(SITES, {"code": "ANON-1"})

    assert response.status_code == 401
    [record] = _of(Action.REQUEST, request_id=response["X-Request-ID"])
    assert record.status_code == 401
    assert record.actor_username == "anonymous"
    assert record.actor_id is None


@pytest.mark.django_db
def test_reads_make_no_access_record(admin):
    site = SiteFactory()

    responses = [admin.get(SITES), admin.get(f"{SITES}{site.pk}/")]

    for response in responses:
        assert response.status_code == 200
        assert not AuditLog.objects.filter(request_id=response["X-Request-ID"]).exists()


@pytest.mark.django_db
def test_reads_recorded_when_read_logging_is_on(admin, staff_user, settings):
    settings.AUDIT_LOG_READS = True

    response = admin.get(SITES)

    assert response.status_code == 200
    [record] = _of(Action.REQUEST, request_id=response["X-Request-ID"])
    assert (record.method, record.path, record.status_code) == ("GET", SITES, 200)
    assert record.actor_id == staff_user.pk
