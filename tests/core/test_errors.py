"""Unknown paths, health checks, the home page, the schema and its documentation pages."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import pytest
import yaml
from django.conf import settings
from django.contrib.staticfiles import finders

UNKNOWN_API_PATHS = [
    "/api/nope",
    "/api/nope/",
    "/api/auth/nope/",
    "/api/auth/token",  # a known endpoint without its trailing slash
    "/api/users",
    "/api/users/x/y/z/",
    "/api/v2/users/",
]
DOC_PAGES = ["/api/docs/", "/api/redoc/"]
JSON = "application/json"
LOGIN = "/api/auth/token/"
OVERSIZE = b"x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
ASSET_URL = re.compile(r"""\b(?:src|href)\s*=\s*["']([^"']*)["']""", re.IGNORECASE)
ABSOLUTE_URL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:)?//", re.IGNORECASE)
CLOSED_PORT_CACHE = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {
            "CLIENT_CLASS": "django_redis.client.DefaultClient",
            "SOCKET_CONNECT_TIMEOUT": 0.25,
            "SOCKET_TIMEOUT": 0.25,
            "IGNORE_EXCEPTIONS": True,
        },
    }
}


def json_body(response: Any, status: int) -> Any:
    assert response.status_code == status, (response.status_code, response.content)
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    return response.json()


def html_page(response: Any) -> str:
    assert response.status_code == 200, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("text/html"), response["Content-Type"]
    return response.content.decode()


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("path", UNKNOWN_API_PATHS)
def test_unknown_api_path_is_a_json_404(client, db, path, method):
    body = {"data": {"a": 1}, "content_type": "application/json"} if method == "post" else {}

    response = getattr(client, method)(path, **body)

    assert json_body(response, 404) == {"detail": "Not found.", "code": "not_found"}


def test_live_answers_ok(client):
    response = client.get("/health/live/")

    assert json_body(response, 200) == {"status": "ok"}


def test_ready_answers_ok_with_each_check(client, db):
    response = client.get("/health/ready/")

    body = json_body(response, 200)
    assert body["status"] == "ok"
    assert body["checks"]
    assert set(body["checks"].values()) == {"ok"}


def test_ready_is_503_when_the_cache_is_down(client, db, settings):
    settings.CACHES = CLOSED_PORT_CACHE

    response = client.get("/health/ready/")

    body = json_body(response, 503)
    assert body["status"] == "unavailable"
    assert body["checks"]["cache"] != "ok"
    assert body["checks"]["database"] == "ok"


def test_home_page_links_the_documentation_and_admin(client, db):
    response = client.get("/")

    page = html_page(response)
    links = set(ASSET_URL.findall(page))
    assert {"/api/docs/", "/api/redoc/", "/admin/"} <= links


def test_schema_is_an_openapi_document(client, db):
    response = client.get("/api/schema/")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi")
    document = yaml.safe_load(response.content)
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"] == settings.SPECTACULAR_SETTINGS["TITLE"]
    assert {"/api/auth/token/", "/api/users/", "/api/users/{id}/"} <= set(document["paths"])


def test_schema_as_json_is_the_same_document(client, db):
    yaml_document = yaml.safe_load(client.get("/api/schema/").content)

    response = client.get("/api/schema/", {"format": "json"})

    assert response.status_code == 200
    assert "json" in response["Content-Type"]
    assert json.loads(response.content) == yaml_document


@pytest.mark.parametrize("path", DOC_PAGES)
def test_documentation_page_serves_its_assets_itself(client, db, path):
    response = client.get(path)

    page = html_page(response)
    urls = ASSET_URL.findall(page)
    assert any(url.endswith(".js") for url in urls), urls
    external = [url for url in urls if ABSOLUTE_URL.match(url)]
    assert external == [], f"{path} loads assets from elsewhere: {external}"
    static = [url for url in urls if url.startswith(settings.STATIC_URL)]
    missing = [url for url in static if not finders.find(url.removeprefix(settings.STATIC_URL))]
    assert missing == [], f"{path} links static files the service does not ship: {missing}"
    # Anything else it links (Redoc's patched bundle) is served by a view of its own.
    served = [url for url in urls if url not in static]
    assert [client.get(url).status_code for url in served] == [200] * len(served), served


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        pytest.param("get", "/", {}, id="home"),
        pytest.param("get", "/health/live/", {}, id="live"),
        pytest.param("get", "/health/ready/", {}, id="ready"),
        pytest.param("get", "/api/schema/", {}, id="schema"),
        pytest.param("get", "/api/docs/", {}, id="docs"),
        pytest.param("get", "/api/redoc/", {}, id="redoc"),
        pytest.param("get", "/api/nope", {}, id="api-404-get"),
        pytest.param("post", "/api/nope/", {"data": {}, "content_type": JSON}, id="api-404-post"),
        pytest.param("get", "/nope/", {}, id="page-404"),
        pytest.param("get", "/admin/login/", {}, id="admin"),
        pytest.param("get", "/api/auth/profile/", {}, id="401"),
        pytest.param("delete", "/api/auth/token/", {}, id="405"),
        pytest.param("post", LOGIN, {"data": b'{"a":', "content_type": JSON}, id="400"),
        pytest.param("post", LOGIN, {"data": OVERSIZE, "content_type": JSON}, id="413"),
    ],
)
def test_every_response_carries_a_request_id(client, db, method, path, kwargs):
    send = getattr(client, method)

    response = send(path, **kwargs)

    assert response.has_header("X-Request-ID"), (response.status_code, dict(response.headers))
    uuid.UUID(response["X-Request-ID"])
