"""What a username (and an e-mail domain) may be, and when two names look alike.

A username is stored NFKC-normalised and may contain letters of one script only (Latin,
Cyrillic, Greek, Han, ...; marks of that script included), the ASCII digits 0-9 and
``.``, ``_``, ``-``, ``@``. Two names collide when their skeletons are equal: the
skeleton (Unicode TR39 §4) of the case-folded name, with every character replaced by
one representative of its confusable class (Unicode's confusables data, as packaged by
confusable-homoglyphs). ``admin``, ``Admin`` and Cyrillic ``аdmin`` share one skeleton.
"""

from __future__ import annotations

import json
import logging
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import confusable_homoglyphs
import idna
from confusable_homoglyphs import categories
from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible

logger = logging.getLogger(__name__)

USERNAME_MAX_LENGTH = 150
USERNAME_PUNCTUATION = frozenset("._-@")
USERNAME_HELP = (
    "Required. 150 characters or fewer: letters of one script, digits 0-9 and . _ - @ only."
)
USERNAME_INVALID_CHARACTER = (
    "Usernames may contain letters, digits 0-9 and . _ - @ only; {character!r} is not allowed."
)
USERNAME_MIXED_SCRIPTS = "Usernames may use letters of one script only, not {scripts}."
USERNAME_TAKEN = "A user with this username already exists (regardless of case)."
USERNAME_CONFUSABLE = "This username looks like an existing one."
EMAIL_DOMAIN_INVALID = "The e-mail domain is not a valid internationalised domain name."
EMAIL_DOMAIN_MIXED_SCRIPTS = "Each part of the e-mail domain may use letters of one script only."

# Characters that belong to every script or to the one before them.
_SHARED_SCRIPTS = {"COMMON", "INHERITED"}
_BIDI_MARKS = str.maketrans("", "", "\u200e\u200f")


def normalize(username: str) -> str:
    return unicodedata.normalize("NFKC", username)


def scripts_of(text: str) -> set[str]:
    """The scripts of the letters in ``text`` (common and inherited characters aside)."""
    return {
        categories.alias(character)
        for character in text
        if unicodedata.category(character)[0] in "LM"
    } - _SHARED_SCRIPTS


@deconstructible
class UsernameValidator:
    """Field validator: the NFKC form of the value uses the safe character set."""

    def __call__(self, value: str) -> None:
        name = normalize(value)
        for character in name:
            kind = unicodedata.category(character)[0]
            allowed = kind in "LM" or character in "0123456789" or character in USERNAME_PUNCTUATION
            if not allowed:
                raise ValidationError(
                    USERNAME_INVALID_CHARACTER.format(character=character),
                    code="invalid",
                )
        scripts = scripts_of(name)
        if len(scripts) > 1:
            raise ValidationError(
                USERNAME_MIXED_SCRIPTS.format(scripts=" and ".join(sorted(scripts)).lower()),
                code="mixed_scripts",
            )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, UsernameValidator)

    def __hash__(self) -> int:
        return hash(UsernameValidator)


validate_username = UsernameValidator()


@cache
def _representatives() -> dict[str, str]:
    """Each confusable character mapped to one representative of its class.

    The packaged data lists, for every character, the characters it can be confused
    with (in both directions), so the classes are its connected components; the
    representative is the class's ASCII member if it has one, else its lowest code
    point. Only single characters are mapped (``rn`` against ``m`` is not)."""
    data_file = Path(confusable_homoglyphs.__file__).with_name("confusables.json")
    data = json.loads(data_file.read_text(encoding="utf-8"))
    parent: dict[str, str] = {}

    def find(character: str) -> str:
        root = character
        while parent.get(root, root) != root:
            root = parent[root]
        parent[character] = root
        return root

    for character, homoglyphs in data.items():
        character = character.translate(_BIDI_MARKS)
        if len(character) != 1:
            continue
        for homoglyph in homoglyphs:
            other = homoglyph["c"].translate(_BIDI_MARKS)
            if len(other) == 1:
                parent[find(other)] = find(character)
    members: dict[str, list[str]] = defaultdict(list)
    for character in list(parent):
        members[find(character)].append(character)
    mapping: dict[str, str] = {}
    for group in members.values():
        representative = min(group, key=lambda c: (not c.isascii(), ord(c)))
        mapping.update(dict.fromkeys(group, representative))
    return mapping


def skeleton(text: str) -> str:
    """The TR39 skeleton of the case-folded NFKC form of ``text``."""
    representatives = _representatives()
    folded = unicodedata.normalize("NFD", normalize(text).casefold())
    mapped = "".join(representatives.get(character, character) for character in folded)
    return unicodedata.normalize("NFD", mapped)


def collisions(names: Iterable[str]) -> list[list[str]]:
    """Groups of two or more of ``names`` that share a skeleton (case-insensitive
    duplicates included), each sorted, the groups in order of their first name."""
    groups: dict[str, list[str]] = defaultdict(list)
    for name in names:
        groups[skeleton(name)].append(name)
    return sorted(sorted(group) for group in groups.values() if len(group) > 1)


@deconstructible
class EmailDomainValidator:
    """Field validator: the domain of an e-mail address is a valid IDNA 2008 name (UTS 46
    mapping, so upper case and full-width forms are accepted) whose labels each use one
    script."""

    def __call__(self, value: str) -> None:
        domain = value.rpartition("@")[2]
        if not domain:
            return  # the e-mail validator reports the missing domain
        try:
            ascii_domain = idna.encode(domain, uts46=True).decode("ascii")
            unicode_domain = idna.decode(ascii_domain)
        except (idna.IDNAError, UnicodeError) as exc:
            raise ValidationError(EMAIL_DOMAIN_INVALID, code="invalid_domain") from exc
        for label in unicode_domain.split("."):
            if len(scripts_of(label)) > 1:
                raise ValidationError(EMAIL_DOMAIN_MIXED_SCRIPTS, code="mixed_scripts")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, EmailDomainValidator)

    def __hash__(self) -> int:
        return hash(EmailDomainValidator)


validate_email_domain = EmailDomainValidator()


# --- existing data ---------------------------------------------------------------------

USERNAME_CONSTRAINTS = (
    "accounts_user_username_ci_unique",
    "accounts_user_username_skeleton_unique",
)
COLLISIONS_FOUND = (
    "{count} group(s) of usernames that differ only in case or look-alike characters; "
    "the unique constraints on usernames were NOT created. Rename all but one of each "
    "group (nothing was renamed), then run `manage.py check_usernames --add-constraints`."
)


def backfill_skeletons(model: Any) -> None:
    """Store the skeleton of every user's username (``model`` may be a historical one)."""
    manager = model._base_manager
    rows = manager.values_list("pk", "username", "username_skeleton").iterator()
    for pk, username, stored in rows:
        wanted = skeleton(username)
        if stored != wanted:  # a report-only run writes nothing
            manager.filter(pk=pk).update(username_skeleton=wanted)


def missing_constraints(model: Any, connection: Any) -> list[Any]:
    with connection.cursor() as cursor:
        existing = connection.introspection.get_constraints(cursor, model._meta.db_table)
    return [
        constraint
        for constraint in model._meta.constraints
        if constraint.name in USERNAME_CONSTRAINTS and constraint.name not in existing
    ]


def constrain(model: Any, schema_editor: Any, report: Any = print) -> list[list[str]]:
    """Report username collisions through ``report``; with none, create the unique
    constraints that are missing. Renames nothing. Returns the collisions."""
    found = collisions(model._base_manager.values_list("username", flat=True))
    if found:
        report(COLLISIONS_FOUND.format(count=len(found)))
        for group in found:
            report("  " + ", ".join(repr(name) for name in group))
        logger.warning(
            "username collisions: %s",
            "; ".join(", ".join(group) for group in found),
        )
        return found
    for constraint in missing_constraints(model, schema_editor.connection):
        schema_editor.add_constraint(model, constraint)
    return found
