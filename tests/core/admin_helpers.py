"""What the admin tests share: staff with custom roles, and a change form's POST data as
a browser would send it back."""

from __future__ import annotations

from typing import Any

from django import forms
from django.test import Client

from rbac.models import Permission, Role, RoleAssignment
from tests.accounts.factories import UserFactory


def role_with(*codenames: str, name: str | None = None) -> Role:
    role = Role.objects.create(name=name or f"custom-{Role.objects.count()}-{codenames[0]}")
    role.permissions.set(Permission.objects.filter(codename__in=codenames))
    return role


def staff_holding(*codenames: str, site: Any = None, username: str | None = None) -> Any:
    """A staff user (not a superuser) whose one role holds ``codenames``, globally or at
    ``site``."""
    user = UserFactory(is_staff=True, **({"username": username} if username else {}))
    if codenames:
        RoleAssignment.objects.create(user=user, role=role_with(*codenames), site=site)
    return user


def admin_client(user: Any) -> Client:
    client = Client(headers={"host": "127.0.0.1"})
    client.force_login(user)
    return client


def _field_data(form: forms.BaseForm, data: dict[str, Any]) -> None:
    for name, field in form.fields.items():
        if field.disabled:
            continue
        value = form[name].value()
        key = form.add_prefix(name)
        widget = field.widget
        if isinstance(widget, forms.MultiWidget):
            parts = widget.decompress(value) if not isinstance(value, list) else value
            for i, part in enumerate(parts):
                if part is not None:
                    data[f"{key}_{i}"] = str(part)
        elif isinstance(field, forms.BooleanField):
            if value:
                data[key] = "on"
        elif isinstance(value, list | tuple):
            data[key] = [str(v) for v in value]
        elif value is not None:
            data[key] = str(value)


def change_form_data(response: Any) -> dict[str, Any]:
    """The POST body that saves the change page of ``response`` unchanged."""
    data: dict[str, Any] = {}
    _field_data(response.context["adminform"].form, data)
    for inline in response.context.get("inline_admin_formsets", []):
        formset = inline.formset
        _field_data(formset.management_form, data)
        for form in formset.initial_forms:
            _field_data(form, data)
    return data
