from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path, re_path
from drf_spectacular.views import (
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

from core import health
from core.docs import RedocBundleView
from core.metrics import metrics_view
from core.views import SchemaView, api_not_found, favicon, home

api_patterns: list[URLPattern | URLResolver] = [
    path("", include("rbac.api.urls")),
    path("", include("accounts.api.urls")),
    path("", include("sites.api.urls")),
    path("", include("batches.api.urls")),
    path("", include("serializations.api.urls")),
    path("", include("inspections.api.urls")),
    path("", include("audit.api.urls")),
    path("", include("reports.api.urls")),
    path("", include("notifications.api.urls")),
    path("", include("webhooks.api.urls")),
    path("schema/", SchemaView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script from ?script, not inline, so the
    # Content-Security-Policy needs no 'unsafe-inline' for scripts.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="swagger-ui"),
    path(
        "redoc/",
        SpectacularRedocView.as_view(url_name="schema", template_name="core/redoc.html"),
        name="redoc",
    ),
    path("redoc/redoc.standalone.js", RedocBundleView.as_view(), name="redoc-bundle"),
    # Anything else under /api/ is a JSON 404, with or without a trailing slash.
    re_path(r"^.*$", api_not_found),
]

urlpatterns = [
    path("", home, name="home"),
    path("favicon.ico", favicon, name="favicon"),
    path("admin/", admin.site.urls),
    path("health/live/", health.live, name="health-live"),
    path("health/ready/", health.ReadyView.as_view(), name="health-ready"),
    path("metrics", metrics_view, name="prometheus-metrics"),
    path("api/", include(api_patterns)),
]

handler400 = "core.views.bad_request"
handler403 = "core.views.permission_denied"
handler404 = "core.views.page_not_found"
handler500 = "core.views.server_error"
