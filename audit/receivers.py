"""Generic change capture: create, update (old and new value of each changed field),
delete, many-to-many and bulk writes of every audited model (``audit.registry``), in
the change's transaction.

Signals serve the audit trail only; they carry no domain logic. A write a named event
describes (inside ``core.models.recorded_by_caller``) is left to that event, so one
change is one record. Bulk paths send no model signals; ``TrackedQuerySet`` announces
them (``core.signals.bulk_write``).
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import m2m_changed, post_delete, post_save

from audit import registry
from audit.capture import record_bulk, record_change
from audit.choices import Action
from core.models import recording_by_caller
from core.signals import bulk_write


def _values(instance: Any, audited: registry.Audited) -> dict[str, Any]:
    values = {}
    for field in instance._meta.concrete_fields:
        if field.name in audited.exclude or field.attname in audited.exclude:
            continue
        if audited.fields is not None and field.attname not in audited.fields:
            continue
        values[field.attname] = getattr(instance, field.attname, None)
    return values


def on_save(sender: Any, instance: Any, created: bool, raw: bool = False, **kwargs: Any) -> None:
    audited = registry.get(sender)
    if audited is None or raw or recording_by_caller() or not (created or audited.updates):
        return
    current = _values(instance, audited)
    site_id = audited.site(instance)
    if created:
        record_change(
            action=audited.create_kind,
            instance=instance,
            new_values=current,
            changed_fields=current,
            site_id=site_id,
        )
        return
    loaded = getattr(instance, "_loaded_values", None)
    update_fields = kwargs.get("update_fields")
    if loaded is None:
        names = (
            set(current)
            if update_fields is None
            else {instance._meta.get_field(f).attname for f in update_fields} & set(current)
        )
        record_change(
            action=Action.UPDATE,
            instance=instance,
            new_values={k: current[k] for k in names},
            changed_fields=names,
            site_id=site_id,
        )
        return
    changed = {
        name
        for name, value in current.items()
        if name in loaded and loaded[name] != value and not hasattr(value, "resolve_expression")
    }
    if not changed:
        return
    record_change(
        action=Action.UPDATE,
        instance=instance,
        old_values={k: loaded[k] for k in changed},
        new_values={k: current[k] for k in changed},
        changed_fields=changed,
        site_id=site_id,
    )


def on_delete(sender: Any, instance: Any, **kwargs: Any) -> None:
    audited = registry.get(sender)
    if audited is None or recording_by_caller():
        return
    old = _values(instance, audited)
    record_change(
        action=Action.DELETE,
        instance=instance,
        old_values=old,
        changed_fields=old,
        site_id=audited.site(instance),
    )


_M2M_ACTIONS = {
    "post_add": Action.M2M_ADD,
    "post_remove": Action.M2M_REMOVE,
    "pre_clear": Action.M2M_CLEAR,
}


def on_m2m(
    sender: Any, instance: Any, action: str, reverse: bool, model: Any, pk_set: Any, **kwargs: Any
) -> None:
    audited = registry.get(type(instance))  # type: ignore[arg-type]  # a model class is hashable
    if audited is None or action not in _M2M_ACTIONS or recording_by_caller():
        return
    field = next(
        (f.name for f in type(instance)._meta.many_to_many if f.remote_field.through is sender),
        sender._meta.model_name,
    )
    if action == "pre_clear":
        members = list(getattr(instance, field).all())
    else:
        members = list(model._default_manager.filter(pk__in=pk_set or []))
    names = sorted(str(m) for m in members)
    if not names:
        return
    values = {field: names}
    record_change(
        action=_M2M_ACTIONS[action],
        instance=instance,
        old_values=values if action == "pre_clear" else None,
        new_values=None if action == "pre_clear" else values,
        changed_fields=[field],
        site_id=audited.site(instance),
    )


def on_bulk_write(
    sender: Any,
    action: str,
    ids: list[Any],
    count: int,
    values: dict[str, Any] | None,
    **kwargs: Any,
) -> None:
    audited = registry.get(sender)
    if audited is None or not count:
        return
    # QuerySet.update announces the values set; bulk_update the columns it wrote.
    written = set(values["fields"]) if values and "fields" in values else set(values or {})
    if values is not None and written <= audited.exclude:
        return  # only bookkeeping columns changed (e.g. a cache version)
    record_bulk(
        action=Action.BULK_CREATE if action == "create" else Action.BULK_UPDATE,
        model=sender,
        ids=ids,
        count=count,
        values=values,
        changed_fields=written - audited.exclude,  # not the bookkeeping (updated_at…)
    )


def connect() -> None:
    bulk_write.connect(on_bulk_write, dispatch_uid="audit_bulk_write")
    post_save.connect(on_save, dispatch_uid="audit_post_save")
    post_delete.connect(on_delete, dispatch_uid="audit_post_delete")
    m2m_changed.connect(on_m2m, dispatch_uid="audit_m2m")
