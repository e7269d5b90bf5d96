"""The admin's second factor (TOTP), its network allowlist, and the audit records of
admin sign-ins and their failures."""

from __future__ import annotations

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from django.core.management import CommandError, call_command
from django.test import Client, override_settings
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.choices import Action
from audit.models import AuditLog
from tests.accounts.factories import UserFactory
from tests.conftest import DEFAULT_PASSWORD, assign
from tests.sites.factories import SiteFactory

LOGIN = "/admin/login/"
INDEX = "/admin/"
SITES = "/admin/sites/site/"
ROOT = Path(__file__).resolve().parents[2]

two_factor = override_settings(ADMIN_REQUIRE_2FA=True)


@pytest.fixture
def client() -> Client:
    return Client(headers={"host": "127.0.0.1"})


@pytest.fixture
def device(staff_user: Any) -> TOTPDevice:
    return TOTPDevice.objects.create(user=staff_user, name="phone", confirmed=True)


def code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def sign_in(client: Client, user: Any, token: str = "", password: str = DEFAULT_PASSWORD) -> Any:
    return client.post(
        f"{LOGIN}?next={INDEX}",
        {"username": user.username, "password": password, "otp_token": token},
    )


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def _records(action: str, **filters: Any) -> list[AuditLog]:
    return list(AuditLog.objects.filter(action=action, **filters).order_by("timestamp"))


# --- second factor off (local and test default) -----------------------------------------


@pytest.mark.django_db
def test_the_admin_sign_in_keeps_its_django_session(client: Client, staff_user: Any) -> None:
    from django.contrib.sessions.models import Session

    response = sign_in(client, staff_user)

    assert response.status_code == 302 and response["Location"] == INDEX
    assert "sessionid" in response.cookies
    assert Session.objects.count() == 1
    assert client.get(INDEX).status_code == 200


@pytest.mark.django_db
def test_without_the_setting_a_password_is_enough(client: Client, staff_user: Any) -> None:
    response = sign_in(client, staff_user)

    assert response.status_code == 302 and response["Location"] == INDEX
    assert client.get(INDEX).status_code == 200
    assert client.get(SITES).status_code == 200  # the rbac backend still answers


# --- second factor on ---------------------------------------------------------------------


@two_factor
@pytest.mark.django_db
def test_staff_without_a_device_cannot_sign_in(client: Client, staff_user: Any) -> None:
    response = sign_in(client, staff_user, token="123456")

    assert response.status_code == 200
    assert "no authenticator enrolled" in response.content.decode()
    assert not signed_in(client)
    [failure] = _records(Action.LOGIN_FAILED)
    assert failure.actor_id == staff_user.pk
    assert failure.new_values["reason"] == "not_enrolled"
    assert failure.path == LOGIN
    assert not _records(Action.LOGIN)


@two_factor
@pytest.mark.django_db
@pytest.mark.parametrize("path", [INDEX, SITES, "/admin/accounts/user/"])
def test_a_session_without_a_verified_device_reaches_no_admin_page(
    client: Client, staff_user: Any, device: TOTPDevice, path: str
) -> None:
    client.force_login(staff_user)  # password only, e.g. signed in before 2FA was turned on

    response = client.get(path)

    assert response.status_code == 302
    assert urlparse(response["Location"]).path == LOGIN


@two_factor
@pytest.mark.django_db
def test_a_valid_code_signs_in_and_is_recorded(
    client: Client, staff_user: Any, device: TOTPDevice
) -> None:
    response = sign_in(client, staff_user, token=code(device))

    assert response.status_code == 302 and response["Location"] == INDEX
    assert client.get(INDEX).status_code == 200
    assert client.get(SITES).status_code == 200
    [login] = _records(Action.LOGIN)
    assert login.actor_id == staff_user.pk
    assert login.path == LOGIN
    assert not _records(Action.LOGIN_FAILED)


@two_factor
@pytest.mark.django_db
def test_a_wrong_code_is_refused_and_recorded(
    client: Client, staff_user: Any, device: TOTPDevice
) -> None:
    wrong = f"{(int(code(device)) + 500_000) % 1_000_000:06d}"

    response = sign_in(client, staff_user, token=wrong)

    assert response.status_code == 200
    assert "Invalid token" in response.content.decode()
    assert not signed_in(client)
    assert client.get(INDEX).status_code == 302
    [failure] = _records(Action.LOGIN_FAILED)
    assert failure.actor_id == staff_user.pk
    assert failure.actor_username == staff_user.username
    assert failure.new_values == {
        "username": staff_user.username,
        "channel": "admin",
        "second_factor": "totp",
        "reason": "invalid_token",
    }
    assert wrong not in str(failure.new_values)
    assert not _records(Action.LOGIN)


@two_factor
@pytest.mark.django_db
def test_codes_are_throttled_after_a_failure(
    client: Client, staff_user: Any, device: TOTPDevice
) -> None:
    wrong = f"{(int(code(device)) + 500_000) % 1_000_000:06d}"
    assert sign_in(client, staff_user, token=wrong).status_code == 200

    response = sign_in(client, staff_user, token=code(device))  # right, but too soon

    assert response.status_code == 200
    assert "temporarily disabled" in response.content.decode()
    assert not signed_in(client)
    reasons = [r.new_values["reason"] for r in _records(Action.LOGIN_FAILED)]
    assert reasons == ["invalid_token", "verification_not_allowed"]


@two_factor
@pytest.mark.django_db
def test_a_missing_code_is_refused_and_recorded(
    client: Client, staff_user: Any, device: TOTPDevice
) -> None:
    response = sign_in(client, staff_user, token="")

    assert response.status_code == 200
    assert not signed_in(client)
    [failure] = _records(Action.LOGIN_FAILED)
    assert failure.new_values["reason"] == "token_required"


@two_factor
@pytest.mark.django_db
def test_a_code_is_good_once(client: Client, staff_user: Any, device: TOTPDevice) -> None:
    token = code(device)
    assert sign_in(client, staff_user, token=token).status_code == 302

    again = Client(headers={"host": "127.0.0.1"})
    assert sign_in(again, staff_user, token=token).status_code == 200
    assert not signed_in(again)


@two_factor
@pytest.mark.django_db
def test_a_wrong_password_is_recorded_before_any_code_is_asked(
    client: Client, staff_user: Any, device: TOTPDevice
) -> None:
    response = sign_in(client, staff_user, token=code(device), password="not-the-password-1")

    assert response.status_code == 200
    assert not signed_in(client)
    [failure] = _records(Action.LOGIN_FAILED)
    assert failure.actor_username == staff_user.username
    assert "second_factor" not in failure.new_values
    assert failure.path == LOGIN


@pytest.mark.django_db
def test_a_wrong_password_without_2fa_is_recorded(client: Client, staff_user: Any) -> None:
    response = sign_in(client, staff_user, password="not-the-password-1")

    assert response.status_code == 200
    assert not signed_in(client)
    [failure] = _records(Action.LOGIN_FAILED)
    assert failure.actor_username == staff_user.username
    assert failure.path == LOGIN


@two_factor
@pytest.mark.django_db
def test_a_non_staff_user_with_a_device_gets_no_admin(client: Client) -> None:
    user = UserFactory()
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)

    response = sign_in(client, user, token=code(device))

    assert response.status_code == 200
    assert not signed_in(client)
    [failure] = _records(Action.LOGIN_FAILED)
    assert failure.actor_id == user.pk
    assert failure.new_values["reason"] == "invalid_login"


@pytest.mark.django_db
def test_a_non_staff_sign_in_is_a_recorded_failure_without_2fa_too(client: Client) -> None:
    user = UserFactory()

    response = sign_in(client, user)

    assert response.status_code == 200
    assert not signed_in(client)
    [failure] = _records(Action.LOGIN_FAILED)
    assert failure.actor_username == user.username
    assert failure.new_values == {
        "username": user.username,
        "channel": "admin",
        "reason": "invalid_login",
    }
    assert failure.path == LOGIN


@two_factor
@pytest.mark.django_db
def test_another_users_device_does_not_count(client: Client, staff_user: Any) -> None:
    other = UserFactory(is_staff=True)
    theirs = TOTPDevice.objects.create(user=other, name="phone", confirmed=True)

    response = client.post(
        LOGIN,
        {
            "username": staff_user.username,
            "password": DEFAULT_PASSWORD,
            "otp_device": theirs.persistent_id,
            "otp_token": code(theirs),
        },
    )

    assert response.status_code == 200
    assert not signed_in(client)


@two_factor
@pytest.mark.django_db
def test_the_api_is_unaffected(staff_user: Any, auth_client: Any) -> None:
    assert auth_client(staff_user).get("/api/auth/profile/").status_code == 200


def test_production_requires_the_second_factor() -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": "x" * 64,
        "DJANGO_ALLOWED_HOSTS": "example.com",
    }
    env.pop("ADMIN_REQUIRE_2FA", None)
    script = "from django.conf import settings; print(settings.ADMIN_REQUIRE_2FA)"
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.stdout.strip() == "True", result.stderr
    assert "ADMIN_REQUIRE_2FA = env.bool" in (ROOT / "config/settings/base.py").read_text()


# --- network allowlist ----------------------------------------------------------------------


@pytest.mark.django_db
@override_settings(ADMIN_ALLOWED_NETWORKS=["10.0.0.0/8", "2001:db8::/32"])
@pytest.mark.parametrize(
    "remote, allowed",
    [("10.1.2.3", True), ("2001:db8::1", True), ("127.0.0.1", False), ("192.0.2.1", False)],
)
def test_allowlist(client: Client, remote: str, allowed: bool) -> None:
    response = client.get(LOGIN, REMOTE_ADDR=remote)

    assert response.status_code == (200 if allowed else 404)
    denials = _records(Action.PERMISSION_DENIED)
    if allowed:
        assert not denials
    else:
        [denial] = denials
        assert denial.new_values["codename"] == "admin.access"
        assert denial.ip == remote
        assert denial.path == LOGIN


@pytest.mark.django_db
@override_settings(ADMIN_ALLOWED_NETWORKS=["10.0.0.0/8"], TRUSTED_PROXY_COUNT=0)
def test_allowlist_ignores_a_forged_forwarded_for(client: Client, staff_user: Any) -> None:
    response = client.post(
        LOGIN,
        {"username": staff_user.username, "password": DEFAULT_PASSWORD},
        REMOTE_ADDR="192.0.2.1",
        HTTP_X_FORWARDED_FOR="10.1.2.3",
    )

    assert response.status_code == 404
    assert not signed_in(client)


@pytest.mark.django_db
@override_settings(ADMIN_ALLOWED_NETWORKS=["10.0.0.0/8"])
def test_allowlist_leaves_the_api_and_health_alone(client: Client) -> None:
    assert client.get("/health/live/", REMOTE_ADDR="192.0.2.1").status_code == 200
    assert client.get("/api/auth/profile/", REMOTE_ADDR="192.0.2.1").status_code == 401


@pytest.mark.django_db
@override_settings(ADMIN_ALLOWED_NETWORKS=[])
def test_no_allowlist_means_no_restriction(client: Client) -> None:
    assert client.get(LOGIN, REMOTE_ADDR="192.0.2.1").status_code == 200


# --- enrolment command ------------------------------------------------------------------------


ENROLLER = "it.admin"


def _enroller() -> Any:
    """The administrator named by ``--actor`` (``user.update``, globally)."""
    from accounts.models import User

    user = User.objects.filter(username=ENROLLER).first()
    if user is None:
        user = UserFactory(username=ENROLLER, is_staff=True)
        assign(user, "admin")
    return user


def _enrol(*args: str, actor: str | None = ENROLLER) -> str:
    if actor == ENROLLER:
        _enroller()
    out = StringIO()
    extra = ("--actor", actor) if actor else ()
    call_command("enrol_totp", *args, *extra, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.mark.django_db
def test_enrol_prints_a_working_uri_and_records_the_device(staff_user: Any) -> None:
    output = _enrol(staff_user.email.upper())

    [device] = TOTPDevice.objects.filter(user=staff_user)
    assert device.confirmed
    uri = next(line.split(None, 1)[1] for line in output.splitlines() if line.startswith("URI:"))
    parsed = urlparse(uri)
    assert parsed.scheme == "otpauth" and parsed.netloc == "totp"
    assert staff_user.username in parsed.path and "Pharma%20MES" in parsed.path
    secret = parse_qs(parsed.query)["secret"][0]
    assert f"Secret: {secret}" in output
    [record] = _records(Action.CREATE, resource_type="otp_totp.totpdevice")
    assert record.new_values == {
        "user_id": str(staff_user.pk),
        "name": "authenticator",
        "confirmed": True,
    }
    assert record.actor_username == ENROLLER
    assert record.actor_id == _enroller().pk
    assert record.path == "manage.py enrol_totp"
    assert "@" in record.user_agent  # the OS user and host it ran as
    assert device.key not in str(record.new_values) and secret not in str(record.new_values)


@two_factor
@pytest.mark.django_db
def test_an_enrolled_device_signs_in(client: Client, staff_user: Any) -> None:
    _enrol(staff_user.username)
    device = TOTPDevice.objects.get(user=staff_user)

    assert sign_in(client, staff_user, token=code(device)).status_code == 302
    assert client.get(INDEX).status_code == 200


@pytest.mark.django_db
def test_enrol_refuses_a_second_device_unless_replacing(
    staff_user: Any, device: TOTPDevice
) -> None:
    with pytest.raises(CommandError, match="--replace"):
        _enrol(staff_user.username)

    _enrol(staff_user.username, "--replace")

    [new] = TOTPDevice.objects.filter(user=staff_user)
    assert new.pk != device.pk and new.key != device.key
    [removed] = _records(Action.DELETE, resource_type="otp_totp.totpdevice")
    assert removed.resource_id == str(device.pk)
    assert removed.old_values["user_id"] == str(staff_user.pk)


@pytest.mark.django_db
@pytest.mark.parametrize("ident", ["nobody", "nobody@example.com"])
def test_enrol_unknown_user(ident: str) -> None:
    with pytest.raises(CommandError, match="No single user"):
        _enrol(ident)


@pytest.mark.django_db
def test_enrol_without_an_actor_is_refused(staff_user: Any) -> None:
    with pytest.raises(CommandError, match="--actor"):
        _enrol(staff_user.username, actor=None)
    assert not TOTPDevice.objects.filter(user=staff_user).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("holds", [None, "auditor"])
def test_enrol_by_an_actor_without_user_update_is_refused(
    staff_user: Any, holds: str | None
) -> None:
    clerk = UserFactory(username="clerk", is_staff=True)
    if holds:
        assign(clerk, holds)
    with pytest.raises(CommandError, match="user.update"):
        _enrol(staff_user.username, actor="clerk")
    with pytest.raises(CommandError, match="no active user"):
        _enrol(staff_user.username, actor="ghost")
    assert not TOTPDevice.objects.filter(user=staff_user).exists()


@pytest.mark.django_db
def test_enrol_a_deactivated_user_is_refused() -> None:
    user = UserFactory(is_staff=True, is_active=False)
    with pytest.raises(CommandError, match="deactivated"):
        _enrol(user.username)
    assert not TOTPDevice.objects.filter(user=user).exists()


@pytest.mark.django_db
def test_admin_site_still_uses_the_rbac_backend(client: Client) -> None:
    site, other = SiteFactory(), SiteFactory()
    user = UserFactory(is_staff=True)
    assign(user, "admin", site=site)
    client.force_login(user)

    body = client.get(SITES).content.decode()

    assert site.code in body and other.code not in body


@override_settings(ADMIN_ALLOWED_NETWORKS=["10.0.0.0/8", "not-a-network"])
def test_a_mistyped_allowlist_fails_the_system_check() -> None:
    from accounts.admin_app import check_admin_networks

    [error] = check_admin_networks()
    assert error.id == "accounts.E001" and "not-a-network" in error.msg


def test_a_correct_allowlist_passes_the_system_check() -> None:
    from accounts.admin_app import check_admin_networks

    with override_settings(ADMIN_ALLOWED_NETWORKS=["10.0.0.0/8", "::1/128"]):
        assert check_admin_networks() == []
