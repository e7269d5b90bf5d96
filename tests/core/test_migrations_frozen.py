"""Migrations carry the code they run: a migration that imported app code would change
what it does (or stop importing) when that code changes, long after it was applied.

What Django itself writes into a migration by import path (a field's validators and
custom class, a model's manager) is the model's state, not code the migration runs: it
stays, as ``makemigrations`` compares it with the models. Every other use of our code
fails here.
"""

import ast
from pathlib import Path

import pytest
from django.apps import apps

ROOT = Path(__file__).resolve().parents[2]
OUR_APPS = sorted(
    config.name for config in apps.get_app_configs() if Path(config.path).parent == ROOT
)
OURS = {*OUR_APPS, "config", "tests"}
MIGRATIONS = sorted(
    path
    for name in OUR_APPS
    for path in (ROOT / name / "migrations").glob("*.py")
    if path.name != "__init__.py"
)
STATE_REFERENCES = {
    "accounts.models.UserManager",
    "accounts.usernames.EmailDomainValidator",
    "accounts.usernames.UsernameValidator",
    "batches.validators.validate_gtin",
    "serializations.models.ByteOrderCharField",
    "serializations.validators.validate_sscc",
    "sites.validators.validate_country",
    "sites.validators.validate_gln",
    "sites.validators.validate_timezone",
}
# Run by the username migrations and not frozen into them yet: the skeleton of a
# username is the confusables algorithm, which those migrations still borrow.
NOT_YET_FROZEN = {
    "accounts.usernames.backfill_skeletons",
    "accounts.usernames.constrain",
    "accounts.usernames.missing_constraints",
    "accounts.usernames.USERNAME_CONSTRAINTS",
}


def dotted(node: ast.AST) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))


def uses_of_our_code(source: str) -> set[str]:
    """``from ours import x`` as ``ours:x``; ``import ours.mod`` as each ``ours.mod.name``
    the migration uses (a bare ``import ours.mod`` unused is reported as itself)."""
    tree = ast.parse(source)
    found: set[str] = set()
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            if node.level or module.split(".")[0] in OURS:
                found.update(f"{module}:{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            imported.update(a.name for a in node.names if a.name.split(".")[0] in OURS)
    used: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            name = dotted(node)
            for module in imported:
                if name.startswith(module + ".") and name.count(".") == module.count(".") + 1:
                    used.add(name)
    unused = {m for m in imported if not any(u.startswith(m + ".") for u in used)}
    return found | used | unused


def test_every_app_of_ours_is_checked():
    assert {"core", "audit", "accounts", "serializations"} <= set(OUR_APPS)
    assert len(MIGRATIONS) > len(OUR_APPS)


@pytest.mark.parametrize("path", MIGRATIONS, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_migration_runs_no_app_code(path):
    assert uses_of_our_code(path.read_text()) - STATE_REFERENCES - NOT_YET_FROZEN == set()


def test_the_check_sees_app_code_however_it_is_imported():
    source = (
        "import sites.validators\n"
        "from django.db import migrations\n"
        "def f(apps, schema_editor):\n"
        "    from audit import triggers\n"
        "    sites.validators.gln_check_digit('x')\n"
        "field = sites.validators.validate_timezone\n"
    )

    assert uses_of_our_code(source) - STATE_REFERENCES == {
        "audit:triggers",
        "sites.validators.gln_check_digit",
    }
