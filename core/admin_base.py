"""The base of every admin page: a client of the services, scoped like the API.

A subclass declares ``codenames`` (``view``, ``add``, ``change``, ``delete`` -> our
codename; a missing one is refused) and implements the writes it offers
(``create_through_service``, ``update_through_service``, ``delete_through_service``),
each calling the same service as the API. It gets, without more code:

- rows scoped by ``Model.objects.restrict(user, view codename)``; an object of a site
  the user cannot see is a 404, as in the API;
- object permissions at the object's site (its model's ``site_path``), and the state
  rules the subclass adds with ``can_change`` / ``can_delete``;
- foreign-key choices scoped the same way (a batch can be planned only at a site where
  the user may plan batches);
- a service's refusal (a domain error or a validation error) shown as an error message,
  with nothing changed: the admin's transaction rolls back;
- no bulk delete: each delete goes through the service and its rules;
- for models that need a reason for change (``core.reasons``), a required "Reason for
  change" on the change form and the delete confirmation, bound while the service runs,
  so its audit records carry it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import ValidationError
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from rest_framework.exceptions import APIException

from core import reasons
from core.access import holds, holds_globally, site_path
from core.exceptions import DomainError, error_messages

REASON_FIELD = "change_reason"
NOT_ALLOWED_ON_SELECTION = "You may not do this to any of the selected rows."
ONE_AT_A_TIME = "Select exactly one row for this action: it is signed one record at a time."


def saved_nothing(formset: Any, *, new: Any = (), deleted: Any = ()) -> None:
    """What ``formset.save()`` leaves for the admin's change message, for a formset whose
    rows a service saved instead."""
    formset.new_objects = list(new)
    formset.changed_objects = []
    formset.deleted_objects = list(deleted)


# What a service refuses with. The sign-in guards (too many failed checks from this
# address, every hashing slot busy) answer re-authentication in the admin too.
REFUSALS = (DomainError, ValidationError, APIException)


def reason_field() -> forms.CharField:
    return forms.CharField(
        label="Reason for change",
        max_length=reasons.MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why this GMP record is changed; stored in the audit trail.",
    )


class ReasonForm(forms.Form):
    """What the delete confirmation of a GMP record asks for."""

    change_reason = reason_field()


class ServiceAdmin(admin.ModelAdmin[Any]):
    """See the module docstring."""

    delete_confirmation_template = "admin/service_delete_confirmation.html"

    codenames: dict[str, str] = {}
    # Actions whose codename must be granted globally (adding a site, for instance).
    global_actions: frozenset[str] = frozenset()
    # Foreign key -> codename whose sites make up its choices; by default the page's
    # ``add`` codename, for a foreign key to a model tied to a site.
    fk_codenames: dict[str, str] = {}

    # --- permissions ------------------------------------------------------------------

    def _holds(self, request: HttpRequest, action: str, obj: Any = None) -> bool:
        codename = self.codenames.get(action)
        if codename is None:
            return False
        return self._holds_codename(request, codename, obj, globally=action in self.global_actions)

    def _holds_codename(
        self, request: HttpRequest, codename: str, obj: Any = None, *, globally: bool = False
    ) -> bool:
        """Held at ``obj``'s site, or (no ``obj``) anywhere: what an admin action's
        ``permissions`` ask, its rows then scoped to the sites where it is held."""
        user = request.user
        if not (user.is_active and user.is_staff):
            return False
        return holds_globally(user, codename) if globally else holds(user, codename, obj)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._holds(request, "view", obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._holds(request, "add")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if not self._holds(request, "change", obj):
            return False
        return obj is None or self.can_change(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if not self._holds(request, "delete", obj):
            return False
        return obj is None or self.can_delete(request, obj)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)

    def can_change(self, request: HttpRequest, obj: Any) -> bool:
        """The state rules on top of the codename (a released batch is read-only)."""
        return True

    def can_delete(self, request: HttpRequest, obj: Any) -> bool:
        return True

    # --- scope ------------------------------------------------------------------------

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        codename = self.codenames.get("view")
        queryset = super().get_queryset(request)
        if codename is None:
            return queryset.none()
        result: QuerySet[Any, Any] = queryset.restrict(request.user, codename)  # type: ignore[attr-defined]
        return result

    def _get_obj_does_not_exist_redirect(self, request: HttpRequest, opts: Any, object_id: str):  # type: ignore[no-untyped-def]
        raise Http404("Not found.")  # other sites' objects do not exist for the user

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        related = db_field.related_model
        codename = self.fk_codenames.get(db_field.name)
        if codename is None and site_path(related) is not None:
            codename = self.codenames.get("add")
        if codename is not None and hasattr(related._default_manager, "restrict"):
            kwargs["queryset"] = related._default_manager.restrict(request.user, codename)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    # --- reasons for change ---------------------------------------------------------------

    def asks_reason(self) -> bool:
        return self.model._meta.label_lower in reasons.required_types()

    def _asks_reason_on_form(self, request: HttpRequest, obj: Any) -> bool:
        return obj is not None and self.asks_reason() and self.has_change_permission(request, obj)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets = list(super().get_fieldsets(request, obj))
        if self._asks_reason_on_form(request, obj):
            fieldsets.append(("Reason for change", {"fields": [REASON_FIELD]}))
        return fieldsets

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if self._asks_reason_on_form(request, obj):
            base = kwargs.get("form", self.form)
            kwargs["form"] = type(base.__name__, (base,), {REASON_FIELD: reason_field()})
        # ``change`` by keyword: the user page's get_form takes no third positional.
        return super().get_form(request, obj, change=change, **kwargs)

    # --- writes -------------------------------------------------------------------------

    def create_through_service(self, request: HttpRequest, data: dict[str, Any]) -> Model:
        raise NotImplementedError(f"{type(self).__name__} offers no add")

    def update_through_service(self, request: HttpRequest, obj: Any, data: dict[str, Any]) -> Model:
        raise NotImplementedError(f"{type(self).__name__} offers no change")

    def delete_through_service(self, request: HttpRequest, obj: Any) -> None:
        raise NotImplementedError(f"{type(self).__name__} offers no delete")

    def changed_values(self, form: Any) -> dict[str, Any]:
        """The fields the user changed, as the form cleaned them."""
        return {
            name: form.cleaned_data[name]
            for name in form.changed_data
            if name in form.cleaned_data and name != REASON_FIELD
        }

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change:
            # The services lock and read the row again by its key; they never take the
            # form's changes from ``obj``, only from the changed values.
            with reasons.given(form.cleaned_data.get(REASON_FIELD, "")):
                saved = self.update_through_service(request, obj, self.changed_values(form))
        else:
            saved = self.create_through_service(request, dict(form.cleaned_data))
        obj.__dict__.update(saved.__dict__)  # the admin logs and redirects with ``obj``

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """Many-to-many values are the service's to save; inlines each declare theirs."""
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.has_changed():
            raise NotImplementedError(f"{type(self).__name__} saves no {formset.model.__name__}")
        saved_nothing(formset)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        self.delete_through_service(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for obj in queryset:
            if not self.has_delete_permission(request, obj):
                raise Http404("Not found.")
            self.delete_through_service(request, obj)

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def _refused(self, request: HttpRequest, exc: Exception) -> HttpResponse:
        for message in error_messages(exc):
            self.message_user(request, message, messages.ERROR)
        return HttpResponseRedirect(request.get_full_path())

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except REFUSALS as exc:
            return self._refused(request, exc)

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        reason = ""
        # Only where the delete is allowed at all: elsewhere the admin's 404 and 403 answer.
        obj = self.get_object(request, unquote(object_id)) if self.asks_reason() else None
        if obj is not None and self.has_delete_permission(request, obj):
            form = ReasonForm(request.POST if request.method == "POST" else None)
            extra_context = {**(extra_context or {}), "reason_form": form}
            if form.is_bound:
                if not form.is_valid():
                    return self._refused(
                        request, ValidationError({"Reason for change": form.errors[REASON_FIELD]})
                    )
                reason = form.cleaned_data[REASON_FIELD]
        try:
            with reasons.given(reason):
                return super().delete_view(request, object_id, extra_context)
        except REFUSALS as exc:
            return self._refused(request, exc)


class ReadOnlyServiceAdmin(ServiceAdmin):
    """A page that only shows: its rows change through the API's services alone."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def action_with_form(
    modeladmin: admin.ModelAdmin[Any],
    request: HttpRequest,
    queryset: QuerySet[Any],
    *,
    codename: str,
    form_class: type[forms.Form],
    title: str,
    apply: Callable[[Any, dict[str, Any]], Any],
    one: bool = True,
    explanation: str = "",
) -> HttpResponse | None:
    """An admin action that asks for input first (a quantity, a signature), then calls
    ``apply(obj, cleaned_data)`` (a service) for each selected object at a site where the
    user holds ``codename``. A refusal is an error message and changes nothing for that
    object."""
    queryset = queryset.restrict(request.user, codename)  # type: ignore[attr-defined]
    count = queryset.count()
    if not count:
        modeladmin.message_user(request, NOT_ALLOWED_ON_SELECTION, messages.ERROR)
        return None
    if one and count != 1:
        modeladmin.message_user(request, ONE_AT_A_TIME, messages.ERROR)
        return None
    form = form_class(request.POST if "apply" in request.POST else None)
    if form.is_bound and form.is_valid():
        done = 0
        for obj in queryset:
            try:
                apply(obj, dict(form.cleaned_data))
            except REFUSALS as exc:
                for message in error_messages(exc):
                    modeladmin.message_user(request, f"{obj}: {message}", messages.ERROR)
            else:
                done += 1
        if done:
            modeladmin.message_user(request, f"{title}: done for {done}.", messages.SUCCESS)
        return None
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "explanation": explanation,
        "form": form,
        "queryset": queryset,
        "opts": modeladmin.model._meta,
        "action": request.POST.get("action", ""),
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "submit_label": title,
    }
    return TemplateResponse(request, "admin/service_action.html", context)
