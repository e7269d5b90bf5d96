"""The API contract check (tools/contract.py): what breaks a v1 client, and what not."""

import copy
import datetime as dt

import pytest
from django.urls import path
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIRequestFactory, force_authenticate

from core.deprecation import Deprecation
from sites.api.views import SiteViewSet
from tools import contract

BASE = {
    "openapi": "3.0.3",
    "info": {"version": "1.0.0"},
    "paths": {
        "/api/things/": {
            "get": {
                "parameters": [
                    {"in": "query", "name": "kind", "schema": {"enum": ["a", "b"]}},
                ],
                "responses": {
                    "200": {
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}
                        }
                    }
                },
            },
            "post": {
                "requestBody": {
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "name": {"type": "string"},
                                    "note": {"type": "string"},
                                    "kind": {"enum": ["a", "b"]},
                                },
                                "required": ["name"],
                            }
                        }
                    }
                },
                "responses": {"201": {"content": {"application/json": {"schema": {}}}}},
            },
        }
    },
    "components": {
        "schemas": {
            "Thing": {
                "type": "object",
                "properties": {
                    "id": {"type": "string"},
                    "status": {"$ref": "#/components/schemas/Status"},
                    "owner": {"type": "object", "properties": {"name": {"type": "string"}}},
                },
            },
            "Status": {"enum": ["open", "closed"]},
        }
    },
}


def changed(edit):
    document = copy.deepcopy(BASE)
    edit(document)
    return contract.breaking(BASE, document)


def test_the_same_schema_breaks_nothing():
    assert contract.breaking(BASE, copy.deepcopy(BASE)) == []


def test_additions_break_nothing():
    def add(d):
        d["paths"]["/api/new/"] = {"get": {"responses": {}}}
        d["components"]["schemas"]["Thing"]["properties"]["extra"] = {"type": "string"}
        d["components"]["schemas"]["Status"]["enum"].append("archived")
        post = d["paths"]["/api/things/"]["post"]
        post["requestBody"]["content"]["application/json"]["schema"]["properties"]["x"] = {}
        d["paths"]["/api/things/"]["get"]["parameters"].append({"in": "query", "name": "q"})

    assert changed(add) == []


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda d: d["paths"].pop("/api/things/"), "the path was removed"),
        (lambda d: d["paths"]["/api/things/"].pop("post"), "POST /api/things/: the operation"),
        (
            lambda d: d["components"]["schemas"]["Thing"]["properties"].pop("id"),
            "response property 'id' was removed",
        ),
        (
            lambda d: d["components"]["schemas"]["Thing"]["properties"]["owner"]["properties"].pop(
                "name"
            ),
            "200.owner: response property 'name' was removed",
        ),
        (
            lambda d: d["components"]["schemas"]["Status"]["enum"].remove("closed"),
            "response property 'status' lost enum values closed",
        ),
        (
            lambda d: d["paths"]["/api/things/"]["post"]["requestBody"]["content"][
                "application/json"
            ]["schema"]["required"].append("note"),
            "request property 'note' became required",
        ),
        (
            lambda d: d["paths"]["/api/things/"]["post"]["requestBody"]["content"][
                "application/json"
            ]["schema"]["properties"]["kind"]["enum"].remove("b"),
            "request property 'kind' lost enum values b",
        ),
        (
            lambda d: d["paths"]["/api/things/"]["get"]["parameters"][0].update(required=True),
            "query parameter 'kind' became required",
        ),
        (
            lambda d: d["paths"]["/api/things/"]["get"]["parameters"][0]["schema"]["enum"].remove(
                "a"
            ),
            "parameter 'kind' lost enum values a",
        ),
        (
            lambda d: d["paths"]["/api/things/"]["get"]["responses"].pop("200"),
            "the 200 application/json response was removed",
        ),
    ],
)
def test_what_breaks_a_client_is_named(edit, expected):
    problems = changed(edit)

    assert any(expected in p for p in problems), problems


def test_the_committed_contract_is_what_the_code_generates():
    """CI runs the whole check (tools.contract); here, the file is at least in step."""
    assert contract.CONTRACT.exists()
    assert contract.generate() == contract.CONTRACT.read_text(encoding="utf-8")


@pytest.mark.django_db
def test_a_client_may_name_version_1_and_no_other(operator, site):
    named = operator.get(f"/api/sites/{site.pk}/", HTTP_ACCEPT="application/json; version=1")
    unnamed = operator.get(f"/api/sites/{site.pk}/")
    other = operator.get(f"/api/sites/{site.pk}/", HTTP_ACCEPT="application/json; version=2")

    assert named.status_code == 200 == unnamed.status_code
    assert named.json() == unnamed.json()
    assert other.status_code == 406
    assert other.json()["code"] == "not_acceptable"
    assert "version" in other.json()["detail"].lower()


SINCE = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
SUNSET = dt.datetime(2027, 6, 30, tzinfo=dt.UTC)


class GoingSiteViewSet(SiteViewSet):
    deprecations = {"retrieve": Deprecation(since=SINCE, sunset=SUNSET, link="/api/docs/")}


@pytest.mark.django_db
def test_a_deprecated_action_announces_its_sunset(site, operator_user):
    view = GoingSiteViewSet.as_view({"get": "retrieve"})
    request = APIRequestFactory().get(f"/api/sites/{site.pk}/")
    force_authenticate(request, user=operator_user)

    response = view(request, pk=site.pk)

    assert response.status_code == 200
    assert response["Deprecation"] == f"@{int(SINCE.timestamp())}"
    assert response["Sunset"] == "Wed, 30 Jun 2027 00:00:00 GMT"
    assert response["Link"] == '</api/docs/>; rel="deprecation"'
    listed = GoingSiteViewSet.as_view({"get": "list"})
    request = APIRequestFactory().get("/api/sites/")
    force_authenticate(request, user=operator_user)
    assert "Deprecation" not in listed(request)


def test_a_deprecated_action_is_marked_in_the_schema():
    patterns = [
        path("api/sites/<uuid:pk>/", GoingSiteViewSet.as_view({"get": "retrieve"})),
        path("api/sites/", GoingSiteViewSet.as_view({"get": "list"})),
    ]
    schema = SchemaGenerator(patterns=patterns).get_schema(request=None, public=True)

    assert schema["paths"]["/api/sites/{id}/"]["get"]["deprecated"] is True
    assert "deprecated" not in schema["paths"]["/api/sites/"]["get"]
