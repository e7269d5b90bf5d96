"""Which models the audit trail captures, which fields it leaves out, where their site is."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.apps import apps

# Never diffed: they change on every save and say nothing about the change.
ALWAYS_EXCLUDED = frozenset({"created_at", "updated_at"})


@dataclass(frozen=True)
class Audited:
    exclude: frozenset[str]
    site: Callable[[Any], Any]
    create_action: str = "create"


def _site_id(instance: Any) -> Any:
    return getattr(instance, "site_id", None)


_registry: dict[Any, Audited] = {}


def register(
    model: Any,
    *,
    exclude: set[str] | frozenset[str] = frozenset(),
    site: Callable[[Any], Any] = _site_id,
    create_action: str = "create",
) -> None:
    """Capture creates, updates and deletes of ``model`` (call from AppConfig.ready).

    ``create_action`` names the record of a creation (e.g. ``esignature``).
    """
    _registry[model] = Audited(
        exclude=frozenset(exclude) | ALWAYS_EXCLUDED, site=site, create_action=create_action
    )


def register_label(label: str, **kwargs: Any) -> None:
    register(apps.get_model(label), **kwargs)


def get(model: Any) -> Audited | None:
    return _registry.get(model)


def audited_models() -> list[Any]:
    return list(_registry)
