"""Checks of the config that pydantic's field types cannot say, each at its own key path.

- YAML duplicate keys: PyYAML keeps the last of two `ls-dev:` entries silently; we refuse.
- Names and references (backend/alias names, alias targets, auth key scopes): every problem
  is reported at `backends.NAME`, `aliases.NAME`, `auth.keys.N.backends.M`, all at once.
- `true`/`false` where a number is expected (pydantic would read `true` as 1).
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Iterable, Mapping
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

Issue = tuple[str, str]  # (key path, message), as ConfigError takes them
Loc = tuple[str | int, ...]


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


# -- YAML ------------------------------------------------------------------------------------


def duplicate_keys(text: str) -> list[Issue]:
    """Every key given twice in one mapping, with both lines (the text must parse)."""
    issues: list[Issue] = []
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    if root is not None:
        _walk(root, (), issues)
    return issues


def _walk(node: yaml.Node, path: tuple[str, ...], issues: list[Issue]) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else "?"
            line = key_node.start_mark.line + 1
            if key in seen and key != "<<":
                where = ".".join((*path, key))
                issues.append(
                    (where, f"defined twice (line {seen[key]} and line {line}); keep one")
                )
            seen.setdefault(key, line)
            _walk(value_node, (*path, key), issues)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, (*path, str(i)), issues)


# -- names and references --------------------------------------------------------------------

_NAME_RULE = "must use lowercase letters, digits, '-' and '_' (and start with a letter or digit)"


def name_issues(
    pattern: str,
    backends: Iterable[str],
    aliases: Mapping[str, Any],
    key_scopes: Iterable[Iterable[Any] | None],
) -> list[tuple[Loc, str]]:
    """Every bad name or dangling reference, at its location."""
    backend_names = list(backends)
    found: list[tuple[Loc, str]] = []
    for name in backend_names:
        if not re.match(pattern, name):
            found.append((("backends", name), f"backend name {name!r} {_NAME_RULE}"))
    for alias, target in aliases.items():
        if not re.match(pattern, alias):
            found.append((("aliases", alias), f"alias name {alias!r} {_NAME_RULE}"))
        if alias in backend_names:
            found.append((("aliases", alias), f"alias {alias!r} has the same name as a backend"))
        elif not isinstance(target, str) or target not in backend_names:
            hint = did_you_mean(target, backend_names) if isinstance(target, str) else ""
            found.append(
                (
                    ("aliases", alias),
                    f"alias {alias!r} points at {target!r}, which is not a backend{hint}",
                )
            )
    known = [*backend_names, *aliases]
    for i, scope in enumerate(key_scopes):
        for j, name in enumerate(scope or ()):
            if name not in known:
                hint = did_you_mean(name, known) if isinstance(name, str) else ""
                found.append(
                    (
                        ("auth", "keys", i, "backends", j),
                        f"{name!r} is not a backend or alias{hint}",
                    )
                )
    return found


def raw_name_issues(pattern: str, data: Mapping[str, Any]) -> list[Issue]:
    """name_issues of a config not yet validated (the model's own check never ran)."""

    def mapping(value: Any) -> Mapping[str, Any]:
        return {str(k): v for k, v in value.items()} if isinstance(value, dict) else {}

    auth = mapping(data.get("auth"))
    keys = auth.get("keys") if isinstance(auth.get("keys"), list) else []
    scopes = [k.get("backends") if isinstance(k, dict) else None for k in keys or ()]
    scopes = [s if isinstance(s, list) else None for s in scopes]
    found = name_issues(
        pattern, mapping(data.get("backends")), mapping(data.get("aliases")), scopes
    )
    return [(".".join(map(str, loc)), message) for loc, message in found]


def raise_at_locations(title: str, found: list[tuple[Loc, str]]) -> None:
    """Raise all of `found` as one ValidationError, each error at its own location."""
    if not found:
        return
    raise ValidationError.from_exception_data(
        title,
        [
            InitErrorDetails(
                type=PydanticCustomError("config_reference", "{message}", {"message": message}),
                loc=loc,
                input=None,
            )
            for loc, message in found
        ],
    )


# -- numbers ---------------------------------------------------------------------------------


def _takes_a_number(annotation: Any) -> bool:
    if annotation in (int, float):
        return True
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = typing.get_args(annotation)
        return bool not in args and any(a in (int, float) for a in args)
    return False


def bool_number_issues(model: type[BaseModel], data: Any) -> list[Issue]:
    """Every `true`/`false` given where the model expects a number (pydantic's lax mode reads
    `true` as 1, and the file's `${VAR}` strings still need lax mode for "8080")."""
    found: list[Issue] = []
    _check_model(model, data, (), found)
    return found


def _check_model(
    model: type[BaseModel], data: Any, path: tuple[str, ...], found: list[Issue]
) -> None:
    if not isinstance(data, dict):
        return
    for key, value in data.items():
        field = model.model_fields.get(str(key))
        if field is not None:
            _check_value(field.annotation, value, (*path, str(key)), found)


def _check_value(annotation: Any, value: Any, path: tuple[str, ...], found: list[Issue]) -> None:
    if isinstance(value, bool):
        if _takes_a_number(annotation):
            found.append((".".join(path), "must be a number, not true/false"))
        return
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        _check_model(annotation, value, path, found)
    elif origin in (typing.Union, types.UnionType):
        for arg in args:
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                _check_model(arg, value, path, found)
    elif origin is dict and isinstance(value, dict) and len(args) == 2:
        for key, item in value.items():
            _check_value(args[1], item, (*path, str(key)), found)
    elif origin is list and isinstance(value, list) and args:
        for i, item in enumerate(value):
            _check_value(args[0], item, (*path, str(i)), found)
