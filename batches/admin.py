"""Products and batches in the admin: the API's services, rules and signatures."""

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest, HttpResponse

from accounts.models import SignatureMeaning
from accounts.signatures import reauthentication_from
from batches import services
from batches.choices import EDITABLE, BatchStatus
from batches.models import Batch, Product
from core.admin_base import ServiceAdmin, action_with_form

BATCH_CREATE_FIELDS = (
    "product",
    "site",
    "batch_number",
    "planned_quantity",
    "manufacturing_date",
    "expiry_date",
)
# The rest of the row, shown read-only: who did what when, and the signatures.
BATCH_RECORD_FIELDS = tuple(
    f.name
    for f in Batch._meta.concrete_fields
    if f.name not in {*BATCH_CREATE_FIELDS, "produced_quantity"}
)


def _meaning_choices(meanings: frozenset[str]) -> list[tuple[str, str]]:
    return [(m.value, m.label) for m in SignatureMeaning if m.value in meanings]


class CompleteForm(forms.Form):
    produced_quantity = forms.IntegerField(min_value=0, max_value=2**31 - 1)


class ReleaseForm(forms.Form):
    meaning = forms.ChoiceField(choices=_meaning_choices(services.RELEASE_MEANINGS))
    reason = forms.CharField(required=False, max_length=2000, widget=forms.Textarea)
    password = forms.CharField(
        strip=False, widget=forms.PasswordInput, help_text="Your password: you sign this act."
    )


class RejectForm(forms.Form):
    reason = forms.CharField(max_length=2000, widget=forms.Textarea)
    password = forms.CharField(
        strip=False, widget=forms.PasswordInput, help_text="Your password: you sign this act."
    )


def release(request: HttpRequest, batch: Batch, data: dict[str, Any]) -> Batch:
    """Release as every admin page does it (the changelist's action, the review page):
    the API's service, signed with the password the ``ReleaseForm`` carried."""
    reauth = reauthentication_from(request, data)
    return services.batch_release(reauth=reauth, batch=batch, **data)


def reject(request: HttpRequest, batch: Batch, data: dict[str, Any]) -> Batch:
    """Reject, the same way, from a ``RejectForm``."""
    reauth = reauthentication_from(request, data)
    return services.batch_reject(reauth=reauth, batch=batch, **data)


@admin.register(Product)
class ProductAdmin(ServiceAdmin):
    """Products (not tied to a site). The GTIN is frozen once serials carry it."""

    codenames = {
        "view": "product.view",
        "add": "product.manage",
        "change": "product.manage",
        "delete": "product.manage",
    }
    list_display = ("name", "strength", "dosage_form", "gtin", "is_active")
    list_filter = ("is_active", "dosage_form")
    search_fields = ("name", "gtin")
    fields = ("id", *services.PRODUCT_FIELDS, "created_at", "updated_at")

    def get_readonly_fields(self, request: HttpRequest, obj: Product | None = None) -> Any:
        frozen = ("gtin",) if obj is not None and services.product_has_serials(obj) else ()
        return ("id", *frozen, "created_at", "updated_at")

    def create_through_service(self, request: HttpRequest, data: dict[str, Any]) -> Product:
        return services.product_create(**data)

    def update_through_service(
        self, request: HttpRequest, obj: Product, data: dict[str, Any]
    ) -> Product:
        return services.product_update(product=obj, data=data)

    def delete_through_service(self, request: HttpRequest, obj: Product) -> None:
        services.product_delete(product=obj)


@admin.register(Batch)
class BatchAdmin(ServiceAdmin):
    """Batches: quantities and dates while planned or in production; the status only
    through the lifecycle actions, each the API's service, signed where the API signs."""

    codenames = {
        "view": "batch.view",
        "add": "batch.create",
        "change": "batch.update",
        "delete": "batch.delete",
    }
    list_display = (
        "batch_number",
        "product",
        "site",
        "status",
        "manufacturing_date",
        "expiry_date",
    )
    list_filter = ("status", "site")
    search_fields = ("batch_number", "product__name", "product__gtin")
    list_select_related = ("product", "site")
    actions = ("start_batches", "complete_batch", "release_batch", "reject_batch")

    def get_fields(self, request: HttpRequest, obj: Batch | None = None) -> Any:
        if obj is None:
            return BATCH_CREATE_FIELDS
        return (*BATCH_CREATE_FIELDS, "produced_quantity", *BATCH_RECORD_FIELDS)

    def get_readonly_fields(self, request: HttpRequest, obj: Batch | None = None) -> Any:
        if obj is None:
            return ()
        if obj.status in EDITABLE:
            editable = set(services.BATCH_EDITABLE_FIELDS)
            return tuple(f for f in self.get_fields(request, obj) if f not in editable)
        return self.get_fields(request, obj)

    def can_change(self, request: HttpRequest, obj: Batch) -> bool:
        return obj.status in EDITABLE

    def can_delete(self, request: HttpRequest, obj: Batch) -> bool:
        return obj.status == BatchStatus.PLANNED

    def create_through_service(self, request: HttpRequest, data: dict[str, Any]) -> Batch:
        return services.batch_create(actor=request.user, **data)  # type: ignore[arg-type]

    def update_through_service(
        self, request: HttpRequest, obj: Batch, data: dict[str, Any]
    ) -> Batch:
        return services.batch_update(batch=obj, data=data)

    def delete_through_service(self, request: HttpRequest, obj: Batch) -> None:
        services.batch_delete(batch=obj)

    # --- lifecycle: each action needs its codename at each batch's site -----------------

    def has_start_permission(self, request: HttpRequest) -> bool:
        return self._holds_codename(request, "batch.start")

    def has_complete_permission(self, request: HttpRequest) -> bool:
        return self._holds_codename(request, "batch.complete")

    def has_release_permission(self, request: HttpRequest) -> bool:
        return self._holds_codename(request, "batch.release")

    def has_reject_permission(self, request: HttpRequest) -> bool:
        return self._holds_codename(request, "batch.reject")

    @admin.action(description="Start production of the selected batches", permissions=["start"])
    def start_batches(self, request: HttpRequest, queryset: Any) -> HttpResponse | None:
        return action_with_form(
            self,
            request,
            queryset,
            codename="batch.start",
            form_class=forms.Form,
            title="Start production",
            one=False,
            apply=lambda batch, _: services.batch_start(actor=request.user, batch=batch),  # type: ignore[arg-type]
        )

    @admin.action(description="Complete production (to quarantine)", permissions=["complete"])
    def complete_batch(self, request: HttpRequest, queryset: Any) -> HttpResponse | None:
        return action_with_form(
            self,
            request,
            queryset,
            codename="batch.complete",
            form_class=CompleteForm,
            title="Complete production",
            apply=lambda batch, data: services.batch_complete(
                actor=request.user,  # type: ignore[arg-type]
                batch=batch,
                produced_quantity=data["produced_quantity"],
            ),
        )

    @admin.action(description="Release the batch (electronic signature)", permissions=["release"])
    def release_batch(self, request: HttpRequest, queryset: Any) -> HttpResponse | None:
        return action_with_form(
            self,
            request,
            queryset,
            codename="batch.release",
            form_class=ReleaseForm,
            title="Release batch",
            explanation="Signing releases the batch for sale, under your name.",
            apply=lambda batch, data: release(request, batch, data),
        )

    @admin.action(description="Reject the batch (electronic signature)", permissions=["reject"])
    def reject_batch(self, request: HttpRequest, queryset: Any) -> HttpResponse | None:
        return action_with_form(
            self,
            request,
            queryset,
            codename="batch.reject",
            form_class=RejectForm,
            title="Reject batch",
            explanation="Signing rejects the batch for good, under your name.",
            apply=lambda batch, data: reject(request, batch, data),
        )
