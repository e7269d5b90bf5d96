"""Every service function says what it takes and gives: no ``Any`` in the signature of
a public function of an app's ``services`` module, and no parameter left unannotated.

The services are the one door every caller (API, admin, commands, tasks) goes through;
their types are the contract the type checker holds those callers to.
"""

from __future__ import annotations

import importlib
import inspect
import typing
from collections.abc import Iterator
from types import ModuleType

import pytest
from django.apps import apps

APPS = ("accounts", "rbac", "audit", "sites", "batches", "serializations", "inspections")
APPS += ("notifications", "reports", "core")


def service_modules() -> Iterator[ModuleType]:
    for config in apps.get_app_configs():
        if config.name not in APPS:
            continue
        try:
            yield importlib.import_module(f"{config.name}.services")
        except ModuleNotFoundError:
            continue


def mentions_any(hint: object) -> bool:
    if hint is typing.Any:
        return True
    return any(mentions_any(arg) for arg in typing.get_args(hint))


def service_functions() -> list[tuple[str, object]]:
    found = []
    for module in service_modules():
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if function.__module__ == module.__name__ and not name.startswith("_"):
                found.append((f"{module.__name__}.{name}", function))
    return found


def test_the_apps_have_services():
    names = {name.rsplit(".", 1)[0] for name, _ in service_functions()}

    assert {"accounts.services", "batches.services", "inspections.services"} <= names


SERVICES = service_functions()


@pytest.mark.parametrize(("name", "function"), SERVICES, ids=[name for name, _ in SERVICES])
def test_a_service_signature_names_its_types(name, function):
    hints = typing.get_type_hints(function)
    parameters = inspect.signature(function).parameters

    unannotated = [p for p in parameters if p not in hints]
    with_any = sorted(p for p, hint in hints.items() if mentions_any(hint))
    assert (unannotated, with_any) == ([], []), name


def test_the_check_sees_any_nested_in_a_type():
    def service(data: dict[str, typing.Any], when: int | None) -> list[int]:
        raise NotImplementedError

    hints = typing.get_type_hints(service)

    assert mentions_any(hints["data"]) and not mentions_any(hints["when"])
