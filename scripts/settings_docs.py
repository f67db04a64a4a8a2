"""Regenerate docs/configuration.md from ``selfmodel.config`` (tests fail when it drifts).

python scripts/settings_docs.py     # rewrite docs/configuration.md
"""

from __future__ import annotations

import inspect
import sys
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import annotated_types
from pydantic.fields import FieldInfo

from selfmodel.config import Settings, SettingsGroup, env_var

DOC = Path(__file__).resolve().parent.parent / "docs" / "configuration.md"

INTRO = """\
# Configuration

Generated from `selfmodel/config.py` by `scripts/settings_docs.py`; do not edit by hand.

Every setting is an environment variable `SELFMODEL_<NAME>`, read when the engine, the server, a
worker or a command starts. The settings are grouped by concern: `selfmodel.Settings` holds one
group per section below (`settings.retrieval.default_budget_tokens` is
`SELFMODEL_DEFAULT_BUDGET_TOKENS`). A value out of its bounds, of the wrong type or not among the
choices stops the start with a `ConfigurationError` that names the variable (on the command line,
one line and exit code 1):

```text
error: invalid setting SELFMODEL_EXTRACTOR='gpt': Input should be 'local' or 'llm'
```

In code, pass a group to override it; its other fields still come from the environment:

```python
from selfmodel import SelfModel, Settings
from selfmodel.config import RetrievalSettings

settings = Settings(retrieval=RetrievalSettings(default_budget_tokens=500))
sm = SelfModel.open("selfmodel.db", settings=settings)
```

Command-line options that name a setting (`--db`, `--workspace`, `context --budget`, `serve --host
--port --max-body-bytes`, `worker --concurrency --batch --lease`, `eval drift --reference-days
--current-days --alpha`, `eval compare --alpha`) override it for that command and are checked
against the same bounds; left out, the setting decides.
"""


def _number(value: Any) -> str:
    """``86400.0`` -> ``86_400``, ``0.2`` -> ``0.2``, ``8000`` -> ``8000`` (a port stays a port)."""
    if isinstance(value, float) and not value.is_integer():
        return f"{value:g}"
    whole = int(value)
    return f"{whole:_}" if whole >= 10_000 else str(whole)


def bounds(field: FieldInfo) -> str:
    """The field's constraints, as a reader wants them: ``1 ≤ x ≤ 32_000``, ``one of …``."""
    if get_origin(field.annotation) is Literal:
        return "one of " + ", ".join(f"`{choice}`" for choice in get_args(field.annotation))
    lower = upper = ""
    parts: list[str] = []
    for rule in field.metadata:
        if isinstance(rule, annotated_types.Ge):
            lower = f"{_number(rule.ge)} ≤ "
        elif isinstance(rule, annotated_types.Gt):
            lower = f"{_number(rule.gt)} < "
        elif isinstance(rule, annotated_types.Le):
            upper = f" ≤ {_number(rule.le)}"
        elif isinstance(rule, annotated_types.Lt):
            upper = f" < {_number(rule.lt)}"
        elif isinstance(rule, annotated_types.MinLen):
            parts.append(
                "not empty" if rule.min_length == 1 else f"at least {rule.min_length} characters"
            )
    if lower or upper:
        parts.insert(0, f"{lower}x{upper}")
    return ", ".join(parts)


def _default(field: FieldInfo) -> str:
    if field.default is None:
        return "(none)"
    if isinstance(field.default, int | float) and not isinstance(field.default, bool):
        return f"`{_number(field.default)}`"
    return f"`{field.default}`"


def section(name: str, group: type[SettingsGroup]) -> str:
    lines = [
        f"## {name.capitalize()}\n",
        inspect.cleandoc(group.__doc__ or "")
        + f" In code: `settings.{name}`, a `selfmodel.config.{group.__name__}`.\n",
        "| Variable | Default | Bounds | What it is |",
        "| --- | --- | --- | --- |",
    ]
    for field_name, field in group.model_fields.items():
        row = [
            f"`{env_var(field_name)}`",
            _default(field),
            bounds(field),
            field.description or "",
        ]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def render() -> str:
    parts = [INTRO]
    for name, field in Settings.model_fields.items():
        group = field.annotation
        assert isinstance(group, type) and issubclass(group, SettingsGroup), name
        parts.append(section(name, group))
    return "\n".join(parts)


if __name__ == "__main__":
    DOC.write_text(render(), encoding="utf-8")
    sys.stdout.write(f"wrote {DOC}\n")
