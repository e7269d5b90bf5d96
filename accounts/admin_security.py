"""The Django admin, hardened: a TOTP second factor and an optional network allowlist.

- ``ADMIN_REQUIRE_2FA`` (on in production settings): every staff account signs in to the
  admin with username, password and a code from an authenticator app (django-otp TOTP;
  enrol a device with ``manage.py enrol_totp <username or e-mail>``). A session that was
  not verified by a device (signed in before the setting was turned on, or through
  another path) does not reach any admin page.
- ``ADMIN_ALLOWED_NETWORKS``: CIDR list; when set, admin pages answer 404 to every other
  client address (proxy-aware, see ``TRUSTED_PROXY_COUNT``). Empty: no restriction.

Every admin sign-in, failed password, failed or missing second factor and refused
address is an audit record (through Django's auth signals and ``core.signals``).
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse, HttpResponseNotFound
from django_otp.admin import OTPAdminAuthenticationForm
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.context import bind_user, client_ip
from core.middleware import ADMIN_PREFIX
from core.signals import permission_denied, security_event


def second_factor_required() -> bool:
    return bool(getattr(settings, "ADMIN_REQUIRE_2FA", False))


def _record_failure(form: forms.Form, user: Any, **details: Any) -> None:
    security_event.send(
        sender=type(form),
        action="login_failed",
        user=user,
        username=user.get_username(),
        details={"username": user.get_username(), **details},
    )


class RecordedRefusalMixin:
    """A right password from an account that may not use the admin is still a failure."""

    def confirm_login_allowed(self, user: Any) -> None:
        try:
            super().confirm_login_allowed(user)  # type: ignore[misc]
        except forms.ValidationError as error:
            _record_failure(self, user, channel="admin", reason=error.code or "not_allowed")  # type: ignore[arg-type]
            raise


class AdminLoginForm(RecordedRefusalMixin, AdminAuthenticationForm):
    """Password only (``ADMIN_REQUIRE_2FA`` off)."""


# django-otp ships no type information.
class AdminOTPAuthenticationForm(RecordedRefusalMixin, OTPAdminAuthenticationForm):  # type: ignore[misc]
    """Username, password and a TOTP code in one step.

    django-otp asks the user to pick a device first; with one enrolled authenticator
    there is nothing to pick, so that device is used. A failure of the second factor
    (no device enrolled, no code, wrong code, too many attempts) is recorded.
    """

    otp_error_messages = {
        **OTPAdminAuthenticationForm.otp_error_messages,
        "token_required": "Enter the 6-digit code from your authenticator app.",
        "not_enrolled": (
            "This account has no authenticator enrolled and cannot use the admin; "
            "ask an administrator to run `manage.py enrol_totp`."
        ),
    }

    def _chosen_device(self, user: Any) -> Any:
        device = super()._chosen_device(user)
        if device is None:
            devices = list(
                TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True)[:2]
            )
            if not devices:
                raise forms.ValidationError(
                    self.otp_error_messages["not_enrolled"], code="not_enrolled"
                )
            if len(devices) == 1:
                device = devices[0]
        return device

    def clean_otp(self, user: Any) -> None:
        try:
            super().clean_otp(user)
        except forms.ValidationError as error:
            reason = error.code or "verification_not_allowed"  # e.g. too many failures
            _record_failure(self, user, channel="admin", second_factor="totp", reason=reason)
            raise


class AdminSite(admin.AdminSite):
    """The project's admin site: a second factor when ``ADMIN_REQUIRE_2FA`` is on."""

    site_header = "Pharma MES administration"
    site_title = "Pharma MES admin"

    # AdminSite reads these per request; a property chooses by the settings.
    @property
    def login_form(self) -> type[forms.Form]:  # type: ignore[override]
        return AdminOTPAuthenticationForm if second_factor_required() else AdminLoginForm

    @property
    def login_template(self) -> str | None:  # type: ignore[override]
        return "otp/admin111/login.html" if second_factor_required() else None

    def admin_view(  # type: ignore[override]
        self, view: Callable[..., Any], cacheable: bool = False
    ) -> Callable[..., Any]:
        """Every admin page names its user in the audit context, as a JWT request does:
        what the page changes is attributed to the person signed in to the admin."""
        guarded = super().admin_view(view, cacheable)

        @functools.wraps(guarded)
        def attributed(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.user.is_authenticated:
                bind_user(request.user)
            result: HttpResponse = guarded(request, *args, **kwargs)
            return result

        return attributed

    def has_permission(self, request: HttpRequest) -> bool:
        if not super().has_permission(request):
            return False
        if second_factor_required():
            is_verified = getattr(request.user, "is_verified", None)
            return bool(is_verified and is_verified())
        return True


@lru_cache(maxsize=8)
def _networks(
    cidrs: tuple[str, ...],
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    try:
        return tuple(ipaddress.ip_network(c.strip(), strict=False) for c in cidrs if c.strip())
    except ValueError as exc:
        raise ImproperlyConfigured(f"ADMIN_ALLOWED_NETWORKS: {exc}") from exc


def allowed_networks() -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return _networks(tuple(getattr(settings, "ADMIN_ALLOWED_NETWORKS", ()) or ()))


def address_allowed(ip: str | None) -> bool:
    networks = allowed_networks()
    if not networks:
        return True
    if not ip:
        return False
    address = ipaddress.ip_address(ip)
    return any(address in network for network in networks)


class AdminAllowlistMiddleware:
    """Admin pages answer 404 to client addresses outside ``ADMIN_ALLOWED_NETWORKS``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith(ADMIN_PREFIX):
            ip = client_ip(request.META)
            if not address_allowed(ip):
                permission_denied.send(
                    sender=type(self),
                    user=None,
                    codename="admin.access",
                    obj=None,
                    method=request.method or "",
                )
                return HttpResponseNotFound("Not found.", content_type="text/plain")
        return self.get_response(request)
