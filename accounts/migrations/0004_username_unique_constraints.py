"""Usernames unique regardless of case and of look-alike characters.

Existing collisions are reported, never renamed. On a database that has some, the two
unique constraints are left out (migrate still succeeds and the model's validation
refuses new collisions); after the renames, `manage.py check_usernames
--add-constraints` creates them."""

import django.db.models.functions.text
from django.db import migrations, models

import accounts.usernames

CONSTRAINTS = [
    models.UniqueConstraint(
        django.db.models.functions.text.Lower("username"),
        name="accounts_user_username_ci_unique",
        violation_error_message="A user with this username already exists (regardless of case).",
    ),
    models.UniqueConstraint(
        fields=("username_skeleton",),
        name="accounts_user_username_skeleton_unique",
        violation_error_message="This username looks like an existing one.",
    ),
]


def report_and_constrain(apps, schema_editor):
    accounts.usernames.constrain(apps.get_model("accounts", "User"), schema_editor)


def drop_constraints(apps, schema_editor):
    model = apps.get_model("accounts", "User")
    missing = {c.name for c in accounts.usernames.missing_constraints(model, schema_editor.connection)}
    for constraint in model._meta.constraints:
        if constraint.name in accounts.usernames.USERNAME_CONSTRAINTS and constraint.name not in missing:
            schema_editor.remove_constraint(model, constraint)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_username_rules"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddConstraint(model_name="user", constraint=constraint)
                for constraint in CONSTRAINTS
            ],
        ),
        migrations.RunPython(report_and_constrain, drop_constraints, elidable=False),
    ]
