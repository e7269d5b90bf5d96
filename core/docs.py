"""Redoc's bundle, served so that the reference loads nothing from outside the service.

drf-spectacular-sidecar ships Redoc's standalone bundle unchanged, and Redoc renders the
footer logo of its sidebar from ``cdn.redoc.ly`` (there is no option to turn it off).
The bundle is served here with that address replaced by a local image.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.templatetags.static import static
from django.views import View

REDOC_BUNDLE = "drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js"
REDOC_CDN_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"
LOCAL_LOGO = "core/redoc-logo.svg"
SOURCE_MAP = "redoc.standalone.js.map"


@functools.cache
def redoc_bundle_bytes() -> tuple[bytes, str]:
    """The patched bundle and its ETag, built once per process."""
    path = finders.find(REDOC_BUNDLE)
    if not path:
        raise FileNotFoundError(REDOC_BUNDLE)
    text = Path(str(path)).read_text(encoding="utf-8")
    text = text.replace(REDOC_CDN_LOGO, static(LOCAL_LOGO))
    # The map lies next to the original, not next to this URL.
    text = text.replace(
        f"sourceMappingURL={SOURCE_MAP}",
        f"sourceMappingURL={static(REDOC_BUNDLE.rsplit('/', 1)[0] + '/' + SOURCE_MAP)}",
    )
    body = text.encode("utf-8")
    return body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


class RedocBundleView(View):
    """The patched bundle, with an ETag; GET and HEAD only."""

    http_method_names = ["get", "head"]

    def get(self, request: HttpRequest) -> HttpResponse:
        body, etag = redoc_bundle_bytes()
        if request.headers.get("If-None-Match") == etag:
            response: HttpResponse = HttpResponseNotModified()
        else:
            response = HttpResponse(body, content_type="text/javascript; charset=utf-8")
        response["ETag"] = etag
        response["Cache-Control"] = "public, max-age=86400"
        return response
