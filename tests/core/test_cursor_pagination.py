"""Malformed cursors on every cursor-paginated endpoint: 400 ``invalid_cursor``, no 500.

DRF decodes a cursor and filters by its position as given; a position that is no value
of the ordering field used to fail inside the query.
"""

import base64
from urllib.parse import quote

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from batches.choices import BatchStatus
from core.pagination import INVALID_CURSOR, CursorPagination
from tests.batches.factories import BatchFactory
from tests.serializations.factories import make_serials

pytestmark = pytest.mark.django_db

REPORTED = ["p=abc", "p=1.5", "p=%00", "p=1e400"]
REFUSED = {"detail": INVALID_CURSOR, "code": "invalid_cursor"}


def encode(querystring: str) -> str:
    return base64.b64encode(querystring.encode()).decode()


@pytest.fixture
def batch():
    batch = BatchFactory(status=BatchStatus.RELEASED, batch_number="LOT-9")
    make_serials(batch, ["A1", "A2", "A3"])
    return batch


@pytest.fixture
def endpoints(batch):
    return ["/api/serials/", f"/api/batches/{batch.pk}/serials/", "/api/audit-logs/"]


def _cursor_lists(patterns, prefix=""):
    """(view class, route) of every list route whose pagination is a cursor."""
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _cursor_lists(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            callback = pattern.callback
            cls = getattr(callback, "cls", None)
            actions = getattr(callback, "actions", None) or {}
            if cls is None or actions.get("get") != "list":
                continue
            paginator = callback.initkwargs.get("pagination_class", cls.pagination_class)
            if paginator is not None and issubclass(paginator, CursorPagination):
                yield cls, prefix + str(pattern.pattern)


def test_the_fuzzed_endpoints_are_every_cursor_paginated_list(endpoints):
    # Given every list route of the project paginated by a cursor
    found = dict(_cursor_lists(get_resolver().url_patterns))

    # When the endpoints below are resolved
    covered = {resolve(url).func.cls for url in endpoints}

    # Then none is left out
    assert set(found) <= covered, {found[cls] for cls in set(found) - covered}


@pytest.mark.parametrize("querystring", REPORTED)
def test_the_reported_cursors_are_400(admin, endpoints, querystring):
    for url in endpoints:
        response = admin.get(url, {"cursor": encode(querystring)})

        assert response.status_code == 400, (url, response.content)
        assert response.json() == REFUSED


@pytest.mark.parametrize(
    "cursor", ["not base64!", "%%%", "Zm9v\x00", "ö", encode("o=-1"), encode("o=x&p=1"), "r=2"]
)
def test_undecodable_cursors_are_400_not_404(admin, endpoints, cursor):
    for url in endpoints:
        response = admin.get(url, {"cursor": cursor})

        assert response.status_code == 400, (url, response.content)
        assert response.json() == REFUSED


def test_a_cursor_the_paginator_issued_still_pages(admin, endpoints):
    for url in endpoints:
        first = admin.get(url, {"page_size": 1})
        assert first.status_code == 200, first.content

        second = admin.get(first.json()["next"])

        assert second.status_code == 200, (url, second.content)
        assert second.json()["results"] != first.json()["results"]


TEXT = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=40)
NUMBERS = st.one_of(
    st.integers(min_value=-(2**80), max_value=2**80).map(str),
    st.floats().map(repr),
    st.sampled_from(["1e400", "-1e400", "inf", "nan", "0x10", "1_000", "9" * 40]),
)
DATES = st.one_of(
    st.datetimes().map(str),
    st.sampled_from(
        [
            "2026-02-30 10:00:00+00:00",
            "9999-12-31 23:59:59+14:00",
            "0001-01-01 00:00:00-14:00",
            "2026-01-01T00:00:00+99:00",
            "2026-01-01",
            "2026-01-01 00:00:00",
        ]
    ),
)
POSITIONS = st.one_of(TEXT, NUMBERS, DATES)
QUERYSTRINGS = st.one_of(
    st.sampled_from(REPORTED),
    POSITIONS.map(lambda p: "p=" + quote(p)),
    st.tuples(TEXT, TEXT, POSITIONS).map(
        lambda t: f"o={quote(t[0])}&r={quote(t[1])}&p={quote(t[2])}"
    ),
    TEXT,
)
CURSORS = st.one_of(QUERYSTRINGS.map(encode), TEXT)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cursor=CURSORS)
def test_hostile_cursors_are_a_page_or_a_400(admin, endpoints, cursor):
    for url in endpoints:
        response = admin.get(url, {"cursor": cursor})

        assert response.status_code in (200, 400), (url, cursor, response.content)
        if response.status_code == 400:
            assert response.json() == REFUSED


def test_a_reported_cursor_is_refused_before_any_query(admin, batch, django_assert_num_queries):
    # Given a signed-in caller whose user and permissions are cached
    url = f"/api/serials/?cursor={encode('p=abc')}"
    admin.get("/api/serials/")

    # When the bad cursor is sent, then no query runs for the page
    with django_assert_num_queries(0):
        response = admin.get(url)

    assert response.status_code == 400
