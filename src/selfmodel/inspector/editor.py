"""The replay page's configuration editor: a field per setting of the recorded configuration,
and a JSON box laid over them, read back into the overrides ``SelfModel.replay`` takes.

Only what differs from the recorded value becomes an override, so the form as it first shows
replays the call exactly. The engine judges the values (ranges, the embedder); this module only
reads the text of the form, with an error that names the field.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from math import isfinite
from typing import Any

from selfmodel.errors import InvalidInputError

# The call's own settings, in the order the editor shows them (the ranking weights follow).
CALL_FIELDS = ("budget_tokens", "limit", "moments", "personalized")
# The JSON box holds at most this much text (the whole form is size-limited too).
MAX_JSON_CHARS = 8_000
# Suggested values carried from "why not?" to the editor, by URL (``?budget_tokens=400``).
SUGGESTIBLE = frozenset({"budget_tokens", "limit", "ranking.candidate_pool", "ranking.mmr_lambda"})

Form = Mapping[str, list[str]]


@dataclass(frozen=True)
class Field:
    """One setting in the editor: its form name, what it holds, and the recorded value."""

    name: str  # "budget_tokens", "ranking.keyword_weight"
    kind: str  # "int", "float", "bool", "limit" (a whole number, or blank for none)
    value: str  # as the form shows it
    recorded: str
    changed: bool


def shown(value: Any) -> str:
    """A setting as the form shows it: ``true``/``false``, blank for none, numbers as written."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _kind(name: str, recorded: Any) -> str:
    if name == "limit":
        return "limit"
    if isinstance(recorded, bool):
        return "bool"
    return "int" if isinstance(recorded, int) else "float"


def settings_of(config: Mapping[str, Any]) -> dict[str, Any]:
    """The recorded configuration flattened to the editor's names."""
    flat = {name: config.get(name) for name in CALL_FIELDS if name in config}
    flat.setdefault("limit", None)
    for name, value in dict(config.get("ranking", {})).items():
        flat[f"ranking.{name}"] = value
    return flat


def fields(config: Mapping[str, Any], values: Mapping[str, str] | None = None) -> list[Field]:
    """The editor's fields for a recorded ``config``, showing ``values`` (as typed, or
    suggested) where given and the recorded value elsewhere."""
    given = values or {}
    out = []
    for name, recorded in settings_of(config).items():
        value = given.get(name, shown(recorded))
        out.append(
            Field(name, _kind(name, recorded), value, shown(recorded), value != shown(recorded))
        )
    return out


def typed_values(form: Form, config: Mapping[str, Any]) -> dict[str, str]:
    """What the operator typed in each field, to show again beside an error."""
    return {name: form[name][0] for name in settings_of(config) if form.get(name)}


def suggested(params: Mapping[str, str]) -> dict[str, str]:
    """Values "why not?" suggests trying, from the URL (anything else in it is ignored)."""
    return {name: params[name] for name in SUGGESTIBLE if params.get(name)}


def overrides(form: Form, config: Mapping[str, Any]) -> dict[str, Any]:
    """The configuration changes the form asks for, in the shape ``replay`` takes:
    the fields that differ from ``config``, then the JSON box laid over them.

    Raises ``InvalidInputError`` naming the field whose text is not of its kind, or a JSON box
    that is not a JSON object.
    """
    changes: dict[str, Any] = {}
    ranking: dict[str, Any] = {}
    for name, recorded in settings_of(config).items():
        values = form.get(name)
        if not values:
            continue
        value = _parse(name, values[0].strip(), _kind(name, recorded))
        if value == recorded and type(value) is type(recorded):
            continue
        if name.startswith("ranking."):
            ranking[name.removeprefix("ranking.")] = value
        else:
            changes[name] = value
    box = _json_box(form)
    if isinstance(box.get("ranking"), Mapping):
        ranking |= box.pop("ranking")
    if ranking:
        changes["ranking"] = ranking
    # A "ranking" in the box that is no object stays, for the engine to refuse.
    return {**changes, **box}


def _parse(name: str, text: str, kind: str) -> Any:
    if kind == "limit" and text == "":
        return None
    if kind == "bool":
        if text in ("true", "false"):
            return text == "true"
        raise InvalidInputError(f"{name} must be true or false, not {text!r}", field=name)
    try:
        number = float(text) if kind == "float" else int(text)
    except ValueError:
        article = "a number" if kind == "float" else "a whole number"
        raise InvalidInputError(f"{name} must be {article}, not {text!r}", field=name) from None
    if not isfinite(number):
        raise InvalidInputError(f"{name} must be a finite number, not {text!r}", field=name)
    return number


def _json_box(form: Form) -> dict[str, Any]:
    values = form.get("config")
    text = values[0].strip() if values else ""
    if not text:
        return {}
    if len(text) > MAX_JSON_CHARS:
        raise InvalidInputError(
            f"the JSON box holds at most {MAX_JSON_CHARS} characters", field="config"
        )
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise InvalidInputError(
            f"the JSON box is not JSON: {exc.args[0]}", field="config"
        ) from None
    if not isinstance(data, dict):
        raise InvalidInputError(
            'the JSON box must hold an object, like {"budget_tokens": 500}', field="config"
        )
    return data


__all__ = [
    "MAX_JSON_CHARS",
    "Field",
    "fields",
    "overrides",
    "settings_of",
    "shown",
    "suggested",
    "typed_values",
]
