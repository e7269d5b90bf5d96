"""The API reference pages load nothing from outside the service (no CDN): the Redoc
page, the bundle it loads and the images the bundle shows."""

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.test import Client

from core.docs import LOCAL_LOGO, REDOC_CDN_LOGO

# Where a browser fetches what a page or script names: HTML attributes, JSX props and
# CSS.
LOADS = re.compile(
    r"""(?:\bsrc|\bsrcset|\bposter|\bdata)\s*[:=]\s*["'`](?:https?:)?//"""
    r"""|url\(\s*["']?(?:https?:)?//|@import\s|importScripts\(\s*["'`](?:https?:)?//"""
)
URL = re.compile(r"""(?:https?:)?//[A-Za-z0-9.-]+\.[A-Za-z]{2,}""")
# Hosts the bundle names without loading anything from them: JSON-Schema identifiers,
# XML namespaces, links in its error messages and its "API docs by Redocly" link.
NAMED_ONLY = {
    "json-schema.org",
    "www.w3.org",
    "raw.githubusercontent.com",
    "github.com",
    "git.io",
    "redocly.com",
    "reactjs.org",
    "marked.js.org",
    "stackoverflow.com",
    "fb.me",
    "example.com",
}


class _Refs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in {"src", "href", "spec-url", "srcset", "poster", "data"} and value:
                self.refs.append(value)


def _refs(html):
    parser = _Refs()
    parser.feed(html)
    return parser.refs


@pytest.fixture
def client(settings):
    # Static files served from the apps' directories, as collectstatic would collect them.
    settings.WHITENOISE_USE_FINDERS = True
    settings.WHITENOISE_AUTOREFRESH = True
    return Client()


def _get(client, url):
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, body.decode("utf-8")


@pytest.mark.django_db
def test_the_redoc_page_names_only_local_urls(client):
    _, html = _get(client, "/api/redoc/")

    refs = _refs(html)
    assert refs, html
    assert "://" not in html
    assert all(urlsplit(ref).netloc == "" for ref in refs), refs


@pytest.mark.django_db
def test_the_redoc_bundle_loads_nothing_from_outside(client):
    # Given the page's scripts
    _, html = _get(client, "/api/redoc/")
    scripts = [ref for ref in _refs(html) if ref.endswith(".js")]
    assert len(scripts) == 1, scripts

    # When the bundle is fetched
    response, bundle = _get(client, scripts[0])

    # Then its footer logo is the local image, and nothing else is fetched from a host
    assert response["Content-Type"].startswith("text/javascript")
    assert REDOC_CDN_LOGO not in bundle
    assert "cdn.redoc.ly" not in bundle
    assert f'src:"/static/{LOCAL_LOGO}"' in bundle
    assert not LOADS.findall(bundle), {m.group(0) for m in LOADS.finditer(bundle)}
    hosts = {
        urlsplit(u if u.startswith("http") else "https:" + u).netloc for u in URL.findall(bundle)
    }
    assert hosts <= NAMED_ONLY, hosts - NAMED_ONLY


@pytest.mark.django_db
def test_the_local_logo_and_the_source_map_are_served(client):
    _, bundle = _get(client, "/api/redoc/redoc.standalone.js")
    last_line = bundle.rstrip().splitlines()[-1]
    source_map = last_line.removeprefix("//# sourceMappingURL=")

    logo_response, logo = _get(client, f"/static/{LOCAL_LOGO}")

    assert logo_response["Content-Type"] == "image/svg+xml"
    assert set(URL.findall(logo)) == {"http://www.w3.org"}  # the SVG namespace only
    assert source_map.startswith("/static/drf_spectacular_sidecar/redoc/bundles/")
    assert client.get(source_map).status_code == 200


@pytest.mark.django_db
def test_the_bundle_is_cached_by_its_etag(client):
    first = client.get("/api/redoc/redoc.standalone.js")

    again = client.get("/api/redoc/redoc.standalone.js", HTTP_IF_NONE_MATCH=first["ETag"])

    assert again.status_code == 304
    assert client.post("/api/redoc/redoc.standalone.js").status_code == 405
