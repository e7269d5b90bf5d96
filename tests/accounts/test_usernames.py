"""Look-alike usernames: ``Admin``, ``ADMIN``, Cyrillic ``аdmin`` and ``Operator.Fra`` next
to ``admin`` / ``operator.fra`` are refused through every door, and cannot sign in."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from accounts import usernames
from accounts.models import User
from tests.accounts.factories import UserFactory
from tests.conftest import DEFAULT_PASSWORD

USERS = "/api/users/"
LOOK_ALIKES = ["Admin", "ADMIN", "\u0430dmin", "Operator.Fra", "OPERATOR.fra"]
CYRILLIC_A = "\u0430"


@pytest.fixture
def existing(db):
    return [UserFactory(username="admin"), UserFactory(username="operator.fra")]


# --- the rules themselves ------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("admin", "Admin"),
        ("admin", "ADMIN"),
        ("admin", f"{CYRILLIC_A}dmin"),
        ("admin", "\uff41\uff44\uff4d\uff49\uff4e"),  # full-width
        ("operator.fra", "Operator.Fra"),
        ("adm1n", "admln"),
        ("paypal", "p\u0430yp\u0430l"),
    ],
)
def test_look_alikes_share_a_skeleton(a, b):
    assert usernames.skeleton(a) == usernames.skeleton(b)


@pytest.mark.parametrize(("a", "b"), [("admin", "admins"), ("anna", "anne"), ("bob1", "bob2")])
def test_different_names_have_different_skeletons(a, b):
    assert usernames.skeleton(a) != usernames.skeleton(b)


@pytest.mark.parametrize(
    "name",
    [
        "admin",
        "operator.fra",
        "qa_lead-2",
        "j.doe@plant",
        "jos\u00e9",
        "\u0415\u043b\u0435\u043d\u0430",
        "\u6771\u4eac",
    ],
)
def test_safe_names_pass(name):
    usernames.validate_username(name)


@pytest.mark.parametrize(
    ("name", "code"),
    [
        (f"{CYRILLIC_A}dmin", "mixed_scripts"),
        ("admin+1", "invalid"),
        ("ad min", "invalid"),
        ("admin\u200b", "invalid"),  # zero-width space
        ("\u0661\u0662", "invalid"),  # Arabic-Indic digits
        ("admin!", "invalid"),
    ],
)
def test_unsafe_names_are_refused(name, code):
    with pytest.raises(ValidationError) as caught:
        usernames.validate_username(name)
    assert caught.value.code == code


def test_collisions_groups_case_and_look_alikes():
    names = ["admin", "Admin", f"{CYRILLIC_A}dmin", "bob", "operator.fra", "Operator.Fra"]

    assert usernames.collisions(names) == [
        ["Admin", "admin", f"{CYRILLIC_A}dmin"],
        ["Operator.Fra", "operator.fra"],
    ]


@pytest.mark.parametrize(
    ("email", "ok"),
    [
        ("a@example.com", True),
        ("a@b\u00fccher.de", True),
        ("a@xn--bcher-kva.de", True),
        (f"a@{CYRILLIC_A}pple.com", False),  # Cyrillic a in a Latin label
        ("a@exa_mple.com", False),
        ("a@-example.com", False),
    ],
)
def test_email_domains_are_idna_checked(email, ok):
    if ok:
        usernames.validate_email_domain(email)
    else:
        with pytest.raises(ValidationError):
            usernames.validate_email_domain(email)


# --- the user API ----------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("name", LOOK_ALIKES)
def test_api_refuses_look_alike_usernames(existing, admin, name):
    # Given admin and operator.fra
    before = User.objects.count()

    # When a look-alike is created
    response = admin.post(
        USERS,
        {"username": name, "email": "new.person@example.com", "password": "Another-pass-2026!"},
    )

    # Then 400 on the username, and nobody is created
    assert response.status_code == 400, response.content
    assert "username" in response.json()
    assert User.objects.count() == before


@pytest.mark.django_db
def test_api_normalises_and_accepts_a_new_name(existing, admin):
    response = admin.post(
        USERS,
        {
            "username": "\uff51\uff41.lead",  # full-width "qa" + ".lead"
            "email": "QA.Lead@Example.com",
            "password": "Another-pass-2026!",
        },
    )

    assert response.status_code == 201, response.content
    user = User.objects.get(pk=response.json()["id"])
    assert user.username == "qa.lead"
    assert user.username_skeleton == usernames.skeleton("qa.lead")


@pytest.mark.django_db
def test_api_refuses_a_mixed_script_email_domain(existing, admin):
    response = admin.post(
        USERS,
        {
            "username": "new.person",
            "email": f"new.person@{CYRILLIC_A}pple.com",
            "password": "Another-pass-2026!",
        },
    )

    assert response.status_code == 400
    assert "email" in response.json()
    assert not User.objects.filter(username="new.person").exists()


@pytest.mark.django_db
def test_api_rename_to_a_look_alike_is_refused(existing, admin):
    other = UserFactory(username="someone")

    response = admin.patch(f"{USERS}{other.pk}/", {"username": "Operator.Fra"})

    assert response.status_code == 400
    other.refresh_from_db()
    assert other.username == "someone"


# --- sign-in -------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["Admin", "ADMIN", f"{CYRILLIC_A}dmin"])
def test_sign_in_takes_the_exact_stored_name(existing, api_client, name):
    response = api_client.post("/api/auth/token/", {"username": name, "password": DEFAULT_PASSWORD})

    assert response.status_code == 401
    ok = api_client.post("/api/auth/token/", {"username": "admin", "password": DEFAULT_PASSWORD})
    assert ok.status_code == 200


# --- the other doors: model validation (admin forms), createsuperuser, the database -----


@pytest.mark.django_db
@pytest.mark.parametrize("name", LOOK_ALIKES)
def test_model_validation_refuses_look_alikes(existing, name):
    user = User(username=name, email="x@example.com")

    with pytest.raises(ValidationError) as caught:
        user.full_clean(exclude=["password"])

    assert set(caught.value.message_dict) == {"username"}


@pytest.mark.django_db
def test_admin_user_form_refuses_a_look_alike(existing):
    # The admin's forms are model forms: they get the model's validation.
    from django.forms import modelform_factory

    form_class = modelform_factory(User, fields=["username", "email"])
    form = form_class(data={"username": "Admin", "email": "x@example.com"})

    assert not form.is_valid()
    assert form.errors["username"] == [usernames.USERNAME_TAKEN]


@pytest.mark.django_db
def test_createsuperuser_refuses_a_look_alike(existing):
    with pytest.raises(CommandError):
        call_command(
            "createsuperuser",
            username="ADMIN",
            email="root@example.com",
            interactive=False,
            stdout=StringIO(),
            stderr=StringIO(),
        )
    assert not User.objects.filter(username="ADMIN").exists()


@pytest.mark.django_db
def test_createsuperuser_accepts_a_new_name(existing):
    call_command(
        "createsuperuser",
        username="root",
        email="root@example.com",
        interactive=False,
        stdout=StringIO(),
    )
    assert User.objects.get(username="root").username_skeleton == "root"


@pytest.mark.django_db
def test_database_refuses_case_duplicates_that_skip_validation(existing):
    other = UserFactory(username="someone")

    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.filter(pk=other.pk).update(username="ADMIN")  # skeleton not moved


@pytest.mark.django_db
def test_database_refuses_look_alikes_bulk_created(existing):
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.bulk_create([User(username=f"{CYRILLIC_A}dmin", email="b@example.com")])


@pytest.mark.django_db
def test_database_refuses_look_alikes_saved_without_validation(existing):
    with pytest.raises(IntegrityError), transaction.atomic():
        UserFactory(username=f"{CYRILLIC_A}dmin")


# --- existing data: reported, never renamed --------------------------------------------


def _drop_username_constraints() -> None:
    with connection.schema_editor() as editor:
        for constraint in User._meta.constraints:
            if constraint.name in usernames.USERNAME_CONSTRAINTS:
                editor.remove_constraint(User, constraint)


@pytest.mark.django_db
def test_collisions_are_reported_and_constraints_left_out(existing):
    # Given a database from before the rules, holding look-alikes
    _drop_username_constraints()
    User.objects.bulk_create(
        [
            User(username="Admin", email="b@example.com", username_skeleton="x1"),
            User(username=f"{CYRILLIC_A}dmin", email="c@example.com", username_skeleton="x2"),
        ]
    )
    usernames.backfill_skeletons(User)
    lines: list[str] = []

    # When the migration step runs
    with connection.schema_editor() as editor:
        found = usernames.constrain(User, editor, report=lines.append)

    # Then it lists them, renames nothing and adds no constraint
    assert found == [["Admin", "admin", f"{CYRILLIC_A}dmin"]]
    assert "NOT created" in lines[0]
    assert "'Admin', 'admin', '\u0430dmin'" in lines[1]
    assert User.objects.filter(username="Admin").exists()
    assert len(usernames.missing_constraints(User, connection)) == 2

    # And the command reports them too, then adds the constraints once they are renamed
    with pytest.raises(CommandError, match="1 group"):
        call_command("check_usernames", "--add-constraints", stdout=StringIO())
    User.objects.filter(username="Admin").update(username="admin.two")
    User.objects.filter(username=f"{CYRILLIC_A}dmin").update(username="admin.three")
    out = StringIO()
    call_command("check_usernames", "--add-constraints", stdout=out)
    assert "constraints are in place" in out.getvalue()
    assert usernames.missing_constraints(User, connection) == []


@pytest.mark.django_db
def test_a_bulk_rename_gets_its_skeleton_so_look_alikes_stay_refused():
    """``QuerySet.update`` skips ``save``: it normalises the name and stores its skeleton
    itself, so the database's look-alike constraint holds on that path too."""
    UserFactory(username="admin")
    other = UserFactory(username="someone")

    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.filter(pk=other.pk).update(username="ADMIN")
    User.objects.filter(pk=other.pk).update(username="ｓｏｍｅｏｎｅ２")

    other.refresh_from_db()
    assert other.username == "someone2"


@pytest.mark.django_db
def test_a_report_only_check_writes_nothing():
    UserFactory(username="reporter")

    with CaptureQueriesContext(connection) as queries:
        call_command("check_usernames", stdout=StringIO())

    assert not [q for q in queries if q["sql"].lstrip().upper().startswith("UPDATE")]


@pytest.mark.django_db
def test_an_account_from_before_the_rules_can_still_be_deactivated_and_edited():
    """Look-alikes stored before the rules stay until renamed; until then each can still
    be deactivated (by an administrator, the API, the dormant-account job) and edited in
    its other fields: only a new or changed username is checked against the others."""
    from accounts import services
    from core.context import SystemActor

    _drop_username_constraints()
    User.objects.bulk_create(
        [
            User(username="Admin", email="b@example.com", username_skeleton="x1", password="!"),
            User(
                username=f"{CYRILLIC_A}dmin",
                email="c@example.com",
                username_skeleton="x2",
                password="!",
            ),
        ]
    )
    usernames.backfill_skeletons(User)
    look_alike = User.objects.get(username=f"{CYRILLIC_A}dmin")
    reviewer = SystemActor(name="account-review")

    services.user_update(
        actor=reviewer, user=look_alike, data={"phone": "+49 69 1234"}, allowed=("phone",)
    )
    services.user_deactivate(actor=reviewer, user=look_alike)

    look_alike.refresh_from_db()
    assert (look_alike.is_active, look_alike.phone) == (False, "+49 69 1234")
    with pytest.raises(ValidationError, match="already exists"):
        services.user_update(
            actor=reviewer, user=look_alike, data={"username": "ADMIN"}, allowed=("username",)
        )
