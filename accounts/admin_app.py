"""The admin app, served by the hardened site of ``accounts.admin_security``."""

from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig


class AdminConfig(DjangoAdminConfig):
    """django.contrib.admin with the project's site (second factor, audited sign-in)."""

    default_site = "accounts.admin_security.AdminSite"
