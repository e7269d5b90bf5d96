"""Values under secret-looking keys are stored as "[REDACTED]", at any depth."""

import copy
import json

import pytest
from django.db import transaction
from hypothesis import given, settings
from hypothesis import strategies as st

from audit.canonical import mac_ok
from audit.capture import build
from audit.models import AuditLog
from audit.store import insert
from core.logging import REDACTED, redact

SECRET_WORDS = ("password", "token", "secret", "key", "authorization")

# No key drawn from this alphabet can contain a secret-looking word: every word redact
# looks for has an "e", an "o" or (passwd) a "w" in it.
PLAIN = st.text(alphabet="abcdfghijklmnpqrstuvxyzABCDFGHIJKLMNPQRSTUVXYZ_-0123456789 ", max_size=8)


@st.composite
def secret_keys(draw):
    """A secret word in any case, with plain text around it: ``new_PassWord1``."""
    word = draw(st.sampled_from(SECRET_WORDS))
    upper = draw(st.lists(st.booleans(), min_size=len(word), max_size=len(word)))
    cased = "".join(c.upper() if up else c for c, up in zip(word, upper, strict=True))
    return draw(PLAIN) + cased + draw(PLAIN)


KEYS = st.one_of(PLAIN, secret_keys())
LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=12),
)
PAYLOADS = st.recursive(
    LEAVES,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(KEYS, children, max_size=5),
    ),
    max_leaves=30,
)


def _is_secret(key):
    return any(word in key.lower() for word in SECRET_WORDS)


def _expected(value):
    """What redaction must produce, written from the rule, not from the code."""
    if isinstance(value, dict):
        return {k: REDACTED if _is_secret(k) else _expected(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_expected(v) for v in value]
    return value


@settings(max_examples=200, derandomize=True, database=None, deadline=None)
@given(PAYLOADS)
def test_redact_replaces_every_secret_value_at_any_depth_and_nothing_else(payload):
    original = copy.deepcopy(payload)

    redacted = redact(payload)

    assert redacted == _expected(original)
    assert payload == original  # the input is not modified


@settings(max_examples=200, derandomize=True, database=None, deadline=None)
@given(st.dictionaries(secret_keys(), PAYLOADS, min_size=1, max_size=4))
def test_no_secret_value_survives_under_a_secret_key(payload):
    redacted = redact({"outer": [{"inner": payload}]})

    assert set(redacted["outer"][0]["inner"].values()) == {REDACTED}


@pytest.mark.parametrize(
    "key", ["password", "PASSWORD", "new_Password", "api_key", "Authorization", "x-TOKEN-y"]
)
def test_redact_examples(key):
    assert redact({"a": [{"b": {key: {"nested": "s3cr3t"}}}]}) == {"a": [{"b": {key: REDACTED}}]}


@pytest.mark.django_db
def test_built_record_stores_nested_secrets_redacted():
    values = {
        "name": "Plant 9",
        "Authorization": "Bearer eyJhbGciOi.abc.def",
        "profile": {
            "api_key": "AKIA-leaked-1",
            "contacts": [{"email": "a@example.com", "Password": "hunter2"}],
            "settings": {"refresh_TOKEN": {"value": "rt-leaked-2"}, "theme": "dark"},
        },
    }

    record = build(action="update", resource_type="sites.site", new_values=values)
    with transaction.atomic():
        insert([record])

    stored = AuditLog.objects.get(pk=record["id"])
    assert stored.new_values == {
        "name": "Plant 9",
        "Authorization": REDACTED,
        "profile": {
            "api_key": REDACTED,
            "contacts": [{"email": "a@example.com", "Password": REDACTED}],
            "settings": {"refresh_TOKEN": REDACTED, "theme": "dark"},
        },
    }
    as_text = json.dumps([stored.new_values, stored.old_values])
    for secret in ("eyJhbGciOi", "AKIA-leaked-1", "hunter2", "rt-leaked-2"):
        assert secret not in as_text
    assert mac_ok(stored)  # the MAC covers the stored, redacted values


def test_built_record_redacts_old_values_too():
    record = build(
        action="update",
        old_values={"credentials": {"secret": "old"}, "list": [{"token": "t"}]},
        new_values={"nested": [[{"clientSecret": "new"}]]},
    )

    assert record["old_values"] == {"credentials": REDACTED, "list": [{"token": REDACTED}]}
    assert record["new_values"] == {"nested": [[{"clientSecret": REDACTED}]]}
