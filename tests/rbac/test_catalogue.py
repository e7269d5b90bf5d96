import pytest

from core.access import GLOBAL, Codename, declare
from rbac import catalogue
from rbac.models import Permission, Role


@pytest.mark.django_db
def test_catalogue_synced_from_every_app():
    codenames = set(Permission.objects.values_list("codename", flat=True))

    assert {"user.view", "user.deactivate", "role.manage", "site.delete"} <= codenames
    assert codenames == set(catalogue.declared_permissions())


@pytest.mark.django_db
def test_default_roles_hold_what_the_readme_says():
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
    assert perms("operator") == {
        "site.view",
        "product.view",
        "batch.view",
        "batch.create",
        "batch.update",
        "batch.start",
        "batch.complete",
        "serial.view",
        "serial.generate",
        "serial.update_status",
        "container.view",
        "container.pack",
        "container.ship",
        "inspection.view",
    }
    assert {"batch.start", "batch.complete", "inspection.view"} <= perms("operator")
    assert not {"batch.release", "batch.reject", "batch.delete"} & perms("operator")
    assert {"batch.release", "batch.reject", "inspection.complete", "product.view"} <= perms("qa")
    assert not {"batch.create", "batch.start", "product.manage"} & perms("qa")
    assert all(Role.objects.get(name=n).is_system for n in catalogue.DEFAULT_ROLES)


@pytest.mark.django_db
def test_new_codename_joins_default_roles_without_undoing_admin_edits(monkeypatch):
    auditor = Role.objects.get(name="auditor")
    auditor.permissions.remove(Permission.objects.get(codename="user.view"))  # admin's edit
    widget = Codename("widget.view", "See widgets", roles={"auditor"})
    declared = {**catalogue.declarations(), "widget.view": widget}
    monkeypatch.setattr(catalogue, "declarations", lambda: declared)

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


def test_every_codename_is_declared_with_its_scope():
    declared = catalogue.declarations()

    assert declared["product.manage"].scope == GLOBAL
    assert declared["batch.release"].roles == {"qa"}
    assert catalogue.global_codenames() == {
        name for name, c in declared.items() if c.resource in {"user", "role", "product", "webhook"}
    }


def test_a_codename_declared_twice_is_refused():
    with pytest.raises(ValueError, match="declared twice"):
        declare(Codename("widget.view", "a"), Codename("widget.view", "b"))


def test_an_unknown_default_role_is_refused(monkeypatch):
    catalogue.declarations.cache_clear()
    bogus = {"widget.view": Codename("widget.view", "See widgets", roles={"superhero"})}
    monkeypatch.setattr(catalogue, "codenames_of", lambda found: bogus)
    try:
        with pytest.raises(ValueError, match="unknown default roles"):
            catalogue.declarations()
    finally:
        monkeypatch.undo()
        catalogue.declarations.cache_clear()
