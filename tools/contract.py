"""The API contract: ``openapi/v1.yaml`` is the committed OpenAPI schema of ``/api/`` v1.

``python -m tools.contract`` (CI, ``make lint``) fails when

1. the schema the code generates differs from the committed file (``make schema``
   writes it: every contract change is then visible in a commit), or
2. the committed file breaks v1 clients against its previous version (the committed
   one before the working copy's change, or before the last commit that changed it):
   a removed path or operation, a removed property of a response, a request property
   or query parameter that became required, an enum that lost a value. A change of
   the schema's major version (``SPECTACULAR_SETTINGS["VERSION"]``) allows it.

Additions (paths, operations, optional fields, enum values) pass.
"""

from __future__ import annotations

import difflib
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
CONTRACT = ROOT / "openapi" / "v1.yaml"
METHODS = ("get", "put", "post", "delete", "patch")


def generate() -> str:
    """The schema as ``manage.py spectacular`` writes it."""
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "schema.yaml"
        subprocess.run(
            [sys.executable, "manage.py", "spectacular", "--file", str(target)],
            cwd=ROOT,
            check=True,
            env={**os.environ, "LOG_LEVEL": "WARNING"},
        )
        return target.read_text(encoding="utf-8")


def _git(*args: str) -> str | None:
    result = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
    return result.stdout if result.returncode == 0 else None


def previous() -> str | None:
    """The contract clients had before this change: HEAD's file when the working copy
    changed it, else the file before the last commit that changed it."""
    relative = str(CONTRACT.relative_to(ROOT))
    committed = _git("show", f"HEAD:{relative}")
    if committed is not None and committed != CONTRACT.read_text(encoding="utf-8"):
        return committed
    commits = (_git("log", "--format=%H", "-n", "2", "--", relative) or "").split()
    if len(commits) < 2:
        return None
    return _git("show", f"{commits[1]}:{relative}")


# --- what breaks a client -------------------------------------------------------------


class Walker:
    """Resolves ``$ref``s of one schema document."""

    def __init__(self, document: dict[str, Any]):
        self.document = document

    def resolve(self, node: Any) -> Any:
        seen = set()
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            if ref in seen:
                return {}
            seen.add(ref)
            node = self.document
            for part in ref.removeprefix("#/").split("/"):
                node = node.get(part, {})
        return node

    def properties(self, node: Any) -> dict[str, Any]:
        """Properties of an object schema, through allOf/oneOf/anyOf and references."""
        node = self.resolve(node)
        if not isinstance(node, dict):
            return {}
        found = dict(node.get("properties", {}))
        for key in ("allOf", "oneOf", "anyOf"):
            for part in node.get(key, []):
                found.update(self.properties(part))
        if node.get("type") == "array" or "items" in node:
            found.update({f"[]{k}": v for k, v in self.properties(node.get("items", {})).items()})
        return found

    def required(self, node: Any) -> set[str]:
        node = self.resolve(node)
        if not isinstance(node, dict):
            return set()
        names = set(node.get("required", []))
        for part in node.get("allOf", []):
            names |= self.required(part)
        return names

    def enum(self, node: Any) -> set[Any] | None:
        node = self.resolve(node)
        if isinstance(node, dict) and "enum" in node:
            return set(node["enum"])
        return None


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document.get("paths", {}).items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def _response_schemas(operation: dict[str, Any]) -> Iterator[tuple[str, str, Any]]:
    for status, response in operation.get("responses", {}).items():
        if not str(status).startswith("2"):
            continue
        for media, content in (response.get("content") or {}).items():
            yield str(status), media, content.get("schema", {})


def _request_schema(operation: dict[str, Any]) -> Any:
    content = (operation.get("requestBody") or {}).get("content") or {}
    for media in ("application/json", *content):
        if media in content:
            return content[media].get("schema", {})
    return None


def _compare_properties(
    where: str, old: Walker, new: Walker, old_node: Any, new_node: Any, depth: int = 0
) -> Iterator[str]:
    if depth > 8:
        return
    before, after = old.properties(old_node), new.properties(new_node)
    for name, schema in before.items():
        if name not in after:
            yield f"{where}: response property {name!r} was removed"
            continue
        lost = _lost(old.enum(schema), new.enum(after[name]))
        if lost:
            yield f"{where}: response property {name!r} lost enum values {lost}"
        yield from _compare_properties(f"{where}.{name}", old, new, schema, after[name], depth + 1)


def breaking(old_document: dict[str, Any], new_document: dict[str, Any]) -> list[str]:
    """Every change from ``old_document`` to ``new_document`` that breaks a client."""
    old, new = Walker(old_document), Walker(new_document)
    new_paths = new_document.get("paths", {})
    problems: list[str] = []
    for path, method, operation in _operations(old_document):
        where = f"{method.upper()} {path}"
        if path not in new_paths:
            problems.append(f"{path}: the path was removed")
            continue
        if method not in new_paths[path]:
            problems.append(f"{where}: the operation was removed")
            continue
        changed = new_paths[path][method]
        new_responses = dict(_response_schemas_keyed(changed))
        for status, media, schema in _response_schemas(operation):
            if (status, media) not in new_responses:
                problems.append(f"{where}: the {status} {media} response was removed")
                continue
            problems += _compare_properties(
                f"{where} {status}", old, new, schema, new_responses[status, media]
            )
        old_request, new_request = _request_schema(operation), _request_schema(changed)
        if new_request is not None:
            before = old.required(old_request) if old_request is not None else set()
            for name in sorted(new.required(new_request) - before):
                problems.append(f"{where}: request property {name!r} became required")
            old_fields = old.properties(old_request) if old_request is not None else {}
            for name, schema in new.properties(new_request).items():
                lost = _lost(old.enum(old_fields.get(name, {})), new.enum(schema))
                if lost:
                    problems.append(f"{where}: request property {name!r} lost enum values {lost}")
        old_params = {(p.get("in"), p.get("name")): p for p in operation.get("parameters", [])}
        for param in changed.get("parameters", []):
            key = (param.get("in"), param.get("name"))
            was = old_params.get(key)
            if param.get("required") and not (was and was.get("required")):
                problems.append(f"{where}: {key[0]} parameter {key[1]!r} became required")
            if was is not None:
                old_enum, new_enum = (
                    old.enum(was.get("schema", {})),
                    new.enum(param.get("schema", {})),
                )
                if old_enum is not None and new_enum is not None and old_enum - new_enum:
                    lost = ", ".join(sorted(map(str, old_enum - new_enum)))
                    problems.append(f"{where}: parameter {key[1]!r} lost enum values {lost}")
    return problems


def _lost(before: set[Any] | None, after: set[Any] | None) -> str:
    """The enum values a client could send or receive before and cannot now."""
    if before is None or after is None:
        return ""
    return ", ".join(sorted(map(str, before - after)))


def _response_schemas_keyed(operation: dict[str, Any]) -> Iterator[tuple[tuple[str, str], Any]]:
    for status, media, schema in _response_schemas(operation):
        yield (status, media), schema


def _major(document: dict[str, Any]) -> str:
    return str(document.get("info", {}).get("version", "0")).split(".")[0]


def check() -> list[str]:
    """What is wrong with the contract; empty when it holds."""
    if not CONTRACT.exists():
        return [f"{CONTRACT.relative_to(ROOT)} is missing: run `make schema` and commit it."]
    committed = CONTRACT.read_text(encoding="utf-8")
    problems = []
    generated = generate()
    if generated != committed:
        diff = difflib.unified_diff(
            committed.splitlines(), generated.splitlines(), "committed", "generated", lineterm=""
        )
        shown = list(diff)[:60]
        problems.append(
            "The schema the code generates differs from openapi/v1.yaml: run `make schema`, "
            "read the change and commit it.\n" + "\n".join(shown)
        )
    before = previous()
    if before is not None:
        old_document, new_document = yaml.safe_load(before), yaml.safe_load(committed)
        if _major(old_document) == _major(new_document):
            problems += [f"Breaks v1 clients: {p}" for p in breaking(old_document, new_document)]
    return problems


def main() -> None:
    problems = check()
    for problem in problems:
        print(problem)
    if problems:
        raise SystemExit(1)
    print("API contract: openapi/v1.yaml matches the code and breaks no v1 client.")


if __name__ == "__main__":
    main()
