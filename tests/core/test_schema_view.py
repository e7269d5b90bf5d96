"""``/api/schema/``: generated once per process, then every format served from memory."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from drf_spectacular.generators import SchemaGenerator

from core.views import forget_schema

SCHEMA = "/api/schema/"


@pytest.fixture
def generations(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """How many times the document was generated, from a cold process."""
    counted: list[int] = []
    generate = SchemaGenerator.get_schema

    def counting(self: Any, *args: Any, **kwargs: Any) -> Any:
        counted.append(1)
        return generate(self, *args, **kwargs)

    monkeypatch.setattr(SchemaGenerator, "get_schema", counting)
    forget_schema()
    yield counted
    forget_schema()


def test_generated_once_for_every_request_and_format(client, db, generations):
    first = client.get(SCHEMA)

    again = client.get(SCHEMA)
    as_json = client.get(SCHEMA, {"format": "json"})
    by_accept = client.get(SCHEMA, HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert len(generations) == 1
    assert first.status_code == again.status_code == as_json.status_code == 200
    assert again.content == first.content
    assert first["Content-Type"] == again["Content-Type"]
    assert first["Content-Type"].startswith("application/vnd.oai.openapi")
    assert first["Content-Disposition"].startswith("inline; filename=")
    assert as_json["Content-Type"].startswith("application/vnd.oai.openapi+json")
    assert by_accept.content == as_json.content
    assert json.loads(as_json.content) == yaml.safe_load(first.content)


def test_lang_and_version_parameters_do_not_make_new_documents(client, db, generations):
    baseline = client.get(SCHEMA)

    variants = [
        client.get(SCHEMA, {"lang": "de"}),
        client.get(SCHEMA, {"version": "x" * 50}),
        client.get(SCHEMA, HTTP_ACCEPT="application/vnd.oai.openapi; foo=bar"),
    ]

    assert len(generations) == 1
    for response in variants:
        assert response.status_code == 200
        assert response.content == baseline.content


def test_an_unknown_format_is_404_json_not_a_generation(client, db, generations):
    response = client.get(SCHEMA, {"format": "xml"})

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert generations == []
