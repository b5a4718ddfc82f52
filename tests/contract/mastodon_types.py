"""Mastodon's documented entities, read from Mastodon.py's typed return types (an independent source).

Mastodon.py annotates every entity attribute with its type and the Mastodon version that added it, taken from
docs.joinmastodon.org. We parse that file (without importing it) and check our JSON against it.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from importlib.util import find_spec
from pathlib import Path
from typing import Any

_ADDED = re.compile(r"(\d+)\.(\d+)\.(\d+): added")


@dataclass(frozen=True)
class Field:
    name: str
    annotation: str
    added: tuple[int, int, int]


@cache
def entities() -> dict[str, list[Field]]:
    spec = find_spec("mastodon")
    assert spec and spec.origin, "Mastodon.py is not installed"
    tree = ast.parse((Path(spec.origin).parent / "return_types.py").read_text())
    result: dict[str, list[Field]] = {}
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        fields: list[Field] = []
        body = node.body
        for index, item in enumerate(body):
            if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name) \
                    and isinstance(item.annotation, ast.Constant):
                doc = body[index + 1] if index + 1 < len(body) else None
                text = doc.value.value if isinstance(doc, ast.Expr) and isinstance(doc.value, ast.Constant) else ""
                match = _ADDED.search(str(text))
                added = tuple(int(g) for g in match.groups()) if match else (0, 0, 0)
                fields.append(Field(item.target.id, str(item.annotation.value), added))  # type: ignore[arg-type]
        result[node.name] = fields
    return result


def _inner(annotation: str, wrapper: str) -> str | None:
    if annotation.startswith(wrapper + "[") and annotation.endswith("]"):
        return annotation[len(wrapper) + 1:-1]
    return None


def check(entity: str, value: Any, *, version: tuple[int, int, int] = (4, 3, 0), path: str = "") -> list[str]:
    """Problems with `value` as the documented `entity`: missing required fields and wrong types."""
    problems: list[str] = []
    where = path or entity
    if not isinstance(value, dict):
        return [f"{where}: expected an object, got {type(value).__name__}"]
    for f in entities()[entity]:
        optional = f.annotation.startswith("Optional[")
        if f.name not in value:
            if not optional and f.added <= version:
                problems.append(f"{where}.{f.name}: missing (documented since {'.'.join(map(str, f.added))})")
            continue
        problems += check_type(f.annotation, value[f.name], version=version, path=f"{where}.{f.name}")
    return problems


def check_type(annotation: str, value: Any, *, version: tuple[int, int, int], path: str) -> list[str]:
    optional = _inner(annotation, "Optional")
    if optional is not None:
        return [] if value is None else check_type(optional, value, version=version, path=path)
    if value is None:
        return [f"{path}: is null but not documented as nullable ({annotation})"]
    for wrapper in ("NonPaginatableList", "PaginatableList", "List", "EntityList"):
        inner = _inner(annotation, wrapper)
        if inner is not None or annotation == wrapper:
            if not isinstance(value, list):
                return [f"{path}: expected a list"]
            problems: list[str] = []
            for index, item in enumerate(value):
                problems += check_type(inner or "Any", item, version=version, path=f"{path}[{index}]")
            return problems
    simple = {"str": str, "int": int, "bool": bool, "float": (int, float)}
    if annotation in simple:
        ok = isinstance(value, simple[annotation]) and not (annotation == "int" and isinstance(value, bool))
        return [] if ok else [f"{path}: expected {annotation}, got {type(value).__name__} {value!r:.40}"]
    if annotation in ("MaybeSnowflakeIdType", "IdType"):
        return [] if isinstance(value, str) and value.lstrip("-").isdigit() else [f"{path}: id must be a string"]
    if annotation == "datetime":
        if not isinstance(value, str):
            return [f"{path}: expected an ISO 8601 string"]
        try:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            try:
                date.fromisoformat(value)
            except ValueError:
                return [f"{path}: {value!r} is not ISO 8601"]
        return []
    if annotation in entities():
        return check(annotation, value, version=version, path=path)
    return []
