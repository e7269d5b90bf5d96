"""Inspections in the admin: pending ones change through the API's service; the outcome
is recorded by an action that asks for the inspector's signature."""

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest, HttpResponse

from accounts.models import SignatureMeaning
from accounts.signatures import reauthentication_from
from batches.choices import FINAL
from core.admin_base import ServiceAdmin, action_with_form
from inspections import services
from inspections.choices import InspectionStatus, Outcome
from inspections.models import Inspection

# Results are a list of measurements with computed flags: entered through the API.
ADMIN_EDITABLE = ("kind", "notes", "performed_at")


class CompleteForm(forms.Form):
    outcome = forms.ChoiceField(choices=Outcome.choices)
    meaning = forms.ChoiceField(
        choices=[(m.value, m.label) for m in SignatureMeaning if m in services.COMPLETE_MEANINGS]
    )
    reason = forms.CharField(required=False, max_length=2000, widget=forms.Textarea)
    password = forms.CharField(
        strip=False, widget=forms.PasswordInput, help_text="Your password: you sign this record."
    )


@admin.register(Inspection)
class InspectionAdmin(ServiceAdmin):
    codenames = {"view": "inspection.view", "change": "inspection.update"}
    list_display = ("batch", "kind", "status", "performed_by", "performed_at")
    list_filter = ("status", "kind")
    search_fields = ("batch__batch_number", "notes")
    list_select_related = ("batch", "performed_by")
    fields = (
        "id",
        "batch",
        *ADMIN_EDITABLE,
        "status",
        "results",
        "performed_by",
        "completed_at",
        "completed_by",
        "signature",
        "supersedes",
        "correction_reason",
        "created_at",
        "updated_at",
    )
    actions = ("complete_inspection",)

    def get_readonly_fields(self, request: HttpRequest, obj: Inspection | None = None) -> Any:
        if obj is not None and self.can_change(request, obj):
            return tuple(f for f in self.fields if f not in ADMIN_EDITABLE)
        return self.fields

    def can_change(self, request: HttpRequest, obj: Inspection) -> bool:
        return obj.status == InspectionStatus.PENDING and obj.batch.status not in FINAL

    def update_through_service(
        self, request: HttpRequest, obj: Inspection, data: dict[str, Any]
    ) -> Inspection:
        return services.inspection_update(inspection=obj, data=data)

    def has_complete_permission(self, request: HttpRequest) -> bool:
        return self._holds_codename(request, "inspection.complete")

    @admin.action(description="Record the outcome (electronic signature)", permissions=["complete"])
    def complete_inspection(self, request: HttpRequest, queryset: Any) -> HttpResponse | None:
        def apply(inspection: Inspection, data: dict[str, Any]) -> Inspection:
            reauth = reauthentication_from(request, data)
            return services.inspection_complete(reauth=reauth, inspection=inspection, **data)

        return action_with_form(
            self,
            request,
            queryset,
            codename="inspection.complete",
            form_class=CompleteForm,
            title="Record the inspection's outcome",
            explanation="Signing records the outcome under your name.",
            apply=apply,
        )
