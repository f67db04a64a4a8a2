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
    # Numbers first, and loops rather than ``any`` over generators: every stored trace is walked
    # (mostly numbers: each candidate's signals), and the ``Mapping`` check (an ABC's) of each
    # number made the walk cost as much as writing the trace.
    if value is None or isinstance(value, (int, float)):
        return False
    if isinstance(value, (dict, Mapping)):
        for key, item in value.items():
            if contains_nul(key) or contains_nul(item):
                return True
    elif isinstance(value, (list, tuple)):
        for item in value:
            if contains_nul(item):
                return True
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
