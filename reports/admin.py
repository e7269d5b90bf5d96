"""The reports in the admin: which daily reports went out, and the batch review page."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import F
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseRedirect,
)
from django.template.response import TemplateResponse
from django.urls import path, reverse

from batches import services
from batches.admin import RejectForm, ReleaseForm, reject, release
from batches.choices import BatchStatus
from batches.models import Batch
from batches.selectors import DETAIL_RELATED
from core.access import holds, log_denied
from core.admin_base import REFUSALS, ReadOnlyServiceAdmin
from core.exceptions import error_messages
from inspections import charts
from inspections.selectors import product_trends
from rbac.resolver import effective_permissions
from reports import review
from reports.models import BatchReview, DailyReportDispatch


@admin.register(DailyReportDispatch)
class DailyReportDispatchAdmin(ReadOnlyServiceAdmin):
    """Which daily reports went out: for holders of ``audit.view`` at the site, like the
    report itself."""

    codenames = {"view": "audit.view"}
    list_display = ("day", "site", "recipients", "queued_at")
    list_filter = ("day",)
    readonly_fields = ("day", "site", "recipients", "queued_at")


class ChartQuery(forms.Form):
    parameter = forms.CharField(max_length=200)


@dataclass(frozen=True)
class Act:
    """A signed act the review page offers: the changelist action's form and service."""

    codename: str
    form: type[forms.Form]
    apply: Callable[[HttpRequest, Batch, dict[str, Any]], Batch]
    done: str


ACTS = {
    "release": Act("batch.release", ReleaseForm, release, "released"),
    "reject": Act("batch.reject", RejectForm, reject, "rejected"),
}


@admin.register(BatchReview)
class BatchReviewAdmin(ReadOnlyServiceAdmin):
    """The batch review page: a batch's lifecycle (who did each step and when), its
    inspections against their limits, every signature, the trend chart of each
    parameter with this batch marked, its audit trail, and the release and reject
    actions, each through the batches app's service and signed, as in the API.

    What the page shows follows the reader's codenames at the batch's site:
    ``batch.view`` to open it, ``inspection.view`` for inspections and charts,
    ``audit.view`` for the trail, ``batch.release`` / ``batch.reject`` for the acts."""

    codenames = {"view": "batch.view"}
    list_display = ("batch_number", "product", "site", "status", "completed_at")
    list_filter = ("status", "site")
    search_fields = ("batch_number", "product__name", "product__gtin")
    list_select_related = ("product", "site")
    # Newest completed first (quarantine is where reviews wait); not yet completed last.
    # The admin takes expressions here; django-stubs types the attribute as names only.
    ordering = (F("completed_at").desc(nulls_last=True), "-created_at")  # type: ignore[assignment]
    review_template = "admin/reports/batchreview/review.html"

    def get_urls(self) -> list[Any]:
        chart = path(
            "<path:object_id>/chart/",
            self.admin_site.admin_view(self.chart_view),
            name=f"{self.opts.app_label}_{self.opts.model_name}_chart",
        )
        return [chart, *super().get_urls()]

    def _batch(self, request: HttpRequest, object_id: str) -> Batch:
        batch = None
        if _is_uuid(object_id):
            scoped = self.get_queryset(request).select_related(*DETAIL_RELATED)
            batch = scoped.filter(pk=unquote(object_id)).first()
        if batch is None or not self.has_view_permission(request, batch):
            raise Http404("Not found.")
        return batch

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        batch = self._batch(request, object_id)
        forms_by_act: dict[str, forms.Form] = {name: act.form() for name, act in ACTS.items()}
        if request.method == "POST":
            name = request.POST.get("act", "")
            act = ACTS.get(name)
            if act is None:
                raise PermissionDenied
            if not self._holds_codename(request, act.codename, batch):
                log_denied(request.user, act.codename, batch, method="POST")  # audited
                raise PermissionDenied
            form = act.form(request.POST)
            if form.is_valid():
                try:
                    act.apply(request, batch, dict(form.cleaned_data))
                except REFUSALS as exc:
                    for message in error_messages(exc):
                        self.message_user(request, message, messages.ERROR)
                else:
                    self.message_user(
                        request, f"Batch {batch.batch_number} {act.done}.", messages.SUCCESS
                    )
                    return HttpResponseRedirect(request.path)
            forms_by_act[name] = form  # its errors shown; a password is never sent back
        return TemplateResponse(
            request, self.review_template, self.review_context(request, batch, forms_by_act)
        )

    def review_context(
        self, request: HttpRequest, batch: Batch, forms_by_act: dict[str, forms.Form]
    ) -> dict[str, Any]:
        user = request.user
        sees_inspections = holds(user, "inspection.view", batch)
        found = review.inspections(batch) if sees_inspections else []
        trail = None
        if review.may_read_trail(user, batch):
            trail = Paginator(review.audit_trail(user, batch), review.AUDIT_PAGE_SIZE).get_page(
                request.GET.get("audit_page")
            )
        chart_url = reverse(
            f"admin:{self.opts.app_label}_{self.opts.model_name}_chart", args=[batch.pk]
        )
        acts = {
            name: forms_by_act[name]
            for name, act in ACTS.items()
            if self._holds_codename(request, act.codename, batch)
        }
        return {
            **self.admin_site.each_context(request),
            "title": f"Review of batch {batch.batch_number}",
            "opts": self.opts,
            "original": batch,
            "batch": batch,
            "lifecycle": review.lifecycle(batch),
            "sees_inspections": sees_inspections,
            "inspections": found,
            "charts": [
                (parameter, f"{chart_url}?{urlencode({'parameter': parameter})}")
                for parameter in review.parameters(found)
            ],
            "trail": trail,
            "acts": acts,
            "can_release": "release" in acts and batch.status == BatchStatus.QUARANTINE,
            "can_reject": "reject" in acts and batch.status in services.REJECTABLE,
        }

    def chart_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The product's trend of one parameter across the batches of the reader's sites,
        this batch ringed: the chart the trends endpoint draws."""
        batch = self._batch(request, object_id)
        if not holds(request.user, "inspection.view", batch):
            raise PermissionDenied
        query = ChartQuery(request.GET)
        if not query.is_valid():
            return HttpResponseBadRequest("parameter: one name, up to 200 characters.")
        sites = effective_permissions(request.user).sites_for("inspection.view")
        [trend] = product_trends(
            product=batch.product, parameters=[query.cleaned_data["parameter"]], site_ids=sites
        ).values()
        response = HttpResponse(
            charts.control_chart(trend, charts.SVG, marked=batch.pk),
            content_type="image/svg+xml",
        )
        response["Cache-Control"] = "private, no-store"
        return response


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(unquote(value))
    except ValueError:
        return False
    return True
