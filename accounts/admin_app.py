"""The admin app, served by the hardened site of ``accounts.admin_security``."""

from typing import Any

from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig
from django.core import checks


class AdminConfig(DjangoAdminConfig):
    """django.contrib.admin with the project's site (second factor, audited sign-in)."""

    default_site = "accounts.admin_security.AdminSite"

    def ready(self) -> None:
        super().ready()
        checks.register(check_admin_networks, checks.Tags.security)


def check_admin_networks(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """A mistyped ADMIN_ALLOWED_NETWORKS stops the service at start, not at the first
    admin request."""
    import ipaddress

    from django.conf import settings

    errors: list[checks.CheckMessage] = []
    for cidr in getattr(settings, "ADMIN_ALLOWED_NETWORKS", []) or []:
        try:
            ipaddress.ip_network(str(cidr).strip(), strict=False)
        except ValueError:
            errors.append(
                checks.Error(
                    f"ADMIN_ALLOWED_NETWORKS: {cidr!r} is not a network (CIDR).",
                    id="accounts.E001",
                )
            )
    return errors
