import pytest

from rbac import catalogue
from rbac.models import Permission, Role


@pytest.mark.django_db
def test_catalogue_synced_from_every_app():
    codenames = set(Permission.objects.values_list("codename", flat=True))

    assert {"user.view", "user.deactivate", "role.manage", "site.delete"} <= codenames
    assert codenames == set(catalogue.declared_permissions())


@pytest.mark.django_db
def test_default_roles_match_design():
    def perms(name):
        return set(Role.objects.get(name=name).permissions.values_list("codename", flat=True))

    everything = set(Permission.objects.values_list("codename", flat=True))
    assert perms("admin") == everything
    assert perms("auditor") == {c for c in everything if c.endswith(".view")} | {
        "audit.verify",
        "serial.export",
    }
    assert "user.view" not in perms("qa") and "role.view" not in perms("qa")
    assert "site.view" in perms("qa") and "site.update" not in perms("qa")
    assert "audit.view" in perms("qa") and "audit.verify" not in perms("qa")
    assert perms("operator") == {c for c in catalogue._OPERATOR if c in everything}
    assert {"batch.start", "batch.complete", "inspection.view"} <= perms("operator")
    assert not {"batch.release", "batch.reject", "batch.delete"} & perms("operator")
    assert {"batch.release", "batch.reject", "inspection.complete", "product.view"} <= perms("qa")
    assert not {"batch.create", "batch.start", "product.manage"} & perms("qa")
    assert all(Role.objects.get(name=n).is_system for n in catalogue.DEFAULT_ROLES)


@pytest.mark.django_db
def test_new_codename_joins_default_roles_without_undoing_admin_edits(monkeypatch):
    auditor = Role.objects.get(name="auditor")
    auditor.permissions.remove(Permission.objects.get(codename="user.view"))  # admin's edit
    declared = {**catalogue.declared_permissions(), "widget.view": "See widgets"}
    monkeypatch.setattr(catalogue, "declared_permissions", lambda: declared)

    catalogue.sync_catalogue()

    codes = set(auditor.permissions.values_list("codename", flat=True))
    assert "widget.view" in codes
    assert "user.view" not in codes
    assert "widget.view" in Role.objects.get(name="admin").permissions.values_list(
        "codename", flat=True
    )
    assert "widget.view" not in Role.objects.get(name="operator").permissions.values_list(
        "codename", flat=True
    )


@pytest.mark.django_db
def test_sync_is_idempotent():
    before = {r.name: set(r.permissions.values_list("pk", flat=True)) for r in Role.objects.all()}

    catalogue.sync_catalogue()

    after = {r.name: set(r.permissions.values_list("pk", flat=True)) for r in Role.objects.all()}
    assert before == after
