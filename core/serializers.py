"""Input serializers that refuse what they do not know."""

from __future__ import annotations

import copy
import json
from typing import Any

from django.db.models import QuerySet
from rest_framework import serializers
from rest_framework.fields import empty
from rest_framework.renderers import JSONRenderer

UNKNOWN_FIELD = "Unknown field."
READ_ONLY_FIELD = "This field is read-only."


class StrictInputSerializer(serializers.Serializer[Any]):
    """Refuses body fields the endpoint does not know.

    A field of the endpoint's output representation (``echo_serializer``) is accepted
    only with the value currently stored, so a client may PUT back what it read; any
    other value of a read-only field is refused, never silently ignored.
    """

    echo_serializer: type[serializers.Serializer[Any]] | None = None

    def __init__(self, instance: Any = None, data: Any = empty, **kwargs: Any) -> None:
        self.echo_instance = kwargs.pop("echo_instance", instance)
        self.echo_data: dict[str, Any] | None = kwargs.pop("echo_data", None)
        super().__init__(instance, data, **kwargs)

    def narrow(self, name: str, queryset: QuerySet[Any] | None) -> None:
        """Offer only ``queryset`` as the related field's choices: rows the caller may not
        use do not exist for it (400, like any unknown id). ``None`` leaves it as it is."""
        if queryset is None:
            return
        field = self.fields[name]
        if not isinstance(field, serializers.RelatedField):
            raise TypeError(f"{name} is not a related field")
        field.queryset = queryset

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, dict):
            raise serializers.ValidationError(
                {"non_field_errors": ["Expected a JSON object."]}, code="invalid"
            )
        writable = {name for name, field in self.fields.items() if not field.read_only}
        errors: dict[str, list[str]] = {}
        echo: dict[str, Any] | None = None
        for key, value in data.items():
            if key in writable:
                continue
            if echo is None:
                echo = self._echo()
            if key in echo:
                if echo[key] != value:
                    errors[key] = [READ_ONLY_FIELD]
            else:
                errors[key] = [UNKNOWN_FIELD]
        if errors:
            raise serializers.ValidationError(errors)
        return super().to_internal_value({k: v for k, v in data.items() if k in writable})

    def _echo(self) -> dict[str, Any]:
        if self.echo_data is not None:
            data = self.echo_data
        elif self.echo_serializer is None or self.echo_instance is None:
            return {}
        else:
            data = self.echo_serializer(self.echo_instance, context=self.context).data
        # Compared as JSON, as the client saw it (UUIDs, dates and decimals as text).
        return dict(json.loads(JSONRenderer().render(data)))


class CachedFieldsMixin:
    """Output serializers build their fields once per class, not once per response.

    ModelSerializer introspects the model on every instantiation; for read-only output
    that work is identical each time. Each instance gets shallow copies, so binding a
    field to its parent never leaks between responses.
    """

    def get_fields(self) -> dict[str, Any]:
        cls = type(self)
        cached = cls.__dict__.get("_cached_fields")
        if cached is None:
            cached = super().get_fields()  # type: ignore[misc]
            cls._cached_fields = cached  # type: ignore[attr-defined]
        return {name: copy.copy(field) for name, field in cached.items()}


class EmptyInputSerializer(StrictInputSerializer):
    """No body fields: an action that takes none refuses any it is sent (400)."""
