"""Opaque cursors for lists: a page ends with ``next_cursor``, to pass back as ``cursor``."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from typing import TypeVar

from selfmodel.errors import InvalidInputError

T = TypeVar("T")


def encode_cursor(after: str) -> str:
    raw = json.dumps({"after": after}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        after = data["after"]
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeError):
        raise InvalidInputError("cursor is not one this server issued", field="cursor") from None
    if not isinstance(after, str):
        raise InvalidInputError("cursor is not one this server issued", field="cursor")
    return after


def page(
    items: Sequence[T],
    key: Callable[[T], str],
    *,
    cursor: str | None,
    limit: int,
    descending: bool = False,
) -> tuple[list[T], str | None]:
    """The ``limit`` items after ``cursor`` in ``items`` (already sorted by ``key``)."""
    rest = list(items)
    if cursor is not None:
        after = decode_cursor(cursor)
        rest = [i for i in rest if (key(i) < after if descending else key(i) > after)]
    chunk = rest[:limit]
    more = len(rest) > limit
    return chunk, (encode_cursor(key(chunk[-1])) if more and chunk else None)


__all__ = ["decode_cursor", "encode_cursor", "page"]
