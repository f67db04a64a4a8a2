"""Text selfmodel accepts: anything Unicode except the NUL character.

PostgreSQL's ``text`` and ``jsonb`` cannot hold NUL (U+0000); SQLite can. Refusing it wherever
text comes in keeps the backends answering alike — one clear input error — instead of PostgreSQL
failing inside its driver on input SQLite would have stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from selfmodel.errors import InvalidInputError

NUL = "\x00"


def contains_nul(value: Any) -> bool:
    """Whether ``value`` — a string, or JSON-like data of them (keys included) — holds a NUL."""
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, Mapping):
        return any(contains_nul(key) or contains_nul(item) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return any(contains_nul(item) for item in value)
    return False


def nul_refused(field: str) -> InvalidInputError:
    return InvalidInputError(
        f"{field} contains the NUL character (U+0000), which selfmodel does not store",
        field=field,
    )


def check_text(value: Any, field: str) -> None:
    """Raise ``InvalidInputError`` if ``value`` (text or JSON-like data) holds a NUL."""
    if contains_nul(value):
        raise nul_refused(field)


__all__ = ["NUL", "check_text", "contains_nul", "nul_refused"]
