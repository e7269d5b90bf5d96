"""Defects the schemathesis run (tools/fuzz/run.py) found, each pinned by a test."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator

from batches.choices import BatchStatus
from inspections.models import Inspection
from tests.batches.factories import BatchFactory
from tests.conftest import assign
from tests.inspections.factories import InspectionFactory
from tests.sites.factories import SiteFactory


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return SchemaGenerator().get_schema(request=None, public=True)


def _responses(schema: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    return schema["paths"][path][method]["responses"]


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_unsafe_method_on_a_malformed_id_is_a_json_404_not_a_csrf_page(
    api_client: Any, method: str
) -> None:
    # Enforce CSRF checks like a browser-less client would meet them.
    api_client.handler.enforce_csrf_checks = True

    response = getattr(api_client, method)("/api/batches/0.5/", {}, format="json")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["code"] == "not_found"


@pytest.mark.django_db
def test_a_page_out_of_range_is_a_documented_404(schema: dict[str, Any], auth_client: Any, user):
    response = auth_client(user).get("/api/auth/sessions/?page=0")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    for path in ("/api/auth/sessions/", "/api/batches/", "/api/sites/", "/api/audit-logs/"):
        assert "404" in _responses(schema, path, "get"), path


@pytest.mark.django_db
def test_sign_in_and_refresh_document_their_401(schema: dict[str, Any], api_client: Any) -> None:
    bad_login = api_client.post("/api/auth/token/", {"username": "x", "password": "y"})
    bad_refresh = api_client.post("/api/auth/token/refresh/", {"refresh": "0"})

    assert bad_login.status_code == bad_refresh.status_code == 401
    assert "401" in _responses(schema, "/api/auth/token/", "post")
    assert "401" in _responses(schema, "/api/auth/token/refresh/", "post")


@pytest.mark.django_db
def test_a_global_assignment_has_a_null_site_code_and_the_schema_allows_it(
    schema: dict[str, Any], auth_client: Any, staff_user: Any
) -> None:
    response = auth_client(staff_user).get("/api/role-assignments/")

    [assignment] = [a for a in response.json()["results"] if a["user"] == str(staff_user.pk)]
    assert assignment["site"] is None and assignment["site_code"] is None
    site_code = schema["components"]["schemas"]["AssignmentOutput"]["properties"]["site_code"]
    assert site_code.get("nullable") is True


@pytest.mark.django_db
@pytest.mark.parametrize(
    "result, field",
    [
        ({"parameter": "0", "unit": "", "min": None, "max": None}, "value"),
        ({"value": 1.0}, "parameter"),
    ],
)
def test_patch_with_an_incomplete_result_is_400_not_500(
    auth_client: Any, user: Any, result: dict[str, Any], field: str
) -> None:
    site = SiteFactory()
    assign(user, "qa", site=site)
    inspection = InspectionFactory(batch=BatchFactory(site=site, status=BatchStatus.QUARANTINE))
    before = list(Inspection.objects.filter(pk=inspection.pk).values())

    response = auth_client(user).patch(
        f"/api/inspections/{inspection.pk}/",
        {"results": [result]},
        format="json",
        HTTP_X_CHANGE_REASON="Result corrected",
    )

    assert response.status_code == 400, response.content
    assert field in response.json()["results"]["0"]
    assert list(Inspection.objects.filter(pk=inspection.pk).values()) == before


@pytest.mark.django_db
def test_patch_with_a_minimal_result_gets_the_defaults(auth_client: Any, user: Any) -> None:
    site = SiteFactory()
    assign(user, "qa", site=site)
    inspection = InspectionFactory(batch=BatchFactory(site=site, status=BatchStatus.QUARANTINE))

    response = auth_client(user).patch(
        f"/api/inspections/{inspection.pk}/",
        {"results": [{"parameter": "appearance", "value": 4}]},
        format="json",
        HTTP_X_CHANGE_REASON="Result corrected",
    )

    assert response.status_code == 200, response.content
    [stored] = response.json()["results"]
    assert stored["unit"] == "" and stored["min"] is None and stored["max"] is None
    assert stored["in_spec"] is True


def test_schema_url_is_known() -> None:
    assert reverse("schema") == "/api/schema/"
