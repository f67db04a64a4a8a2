"""Golden sets: a team's own eval items, one JSON object a line (docs/evaluation.md).

Each item carries a user's history, a query, the evidence a good context block must contain
(quotes of what was said, or of beliefs the system should hold) and, optionally, phrases it must
not contain. Evidence is matched by ``covers``: word for word, ignoring case and punctuation.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from selfmodel.domain import Role
from selfmodel.domain.time import parse_timestamp
from selfmodel.errors import InvalidFileError, InvalidInputError
from selfmodel.ingest.files import json_lines
from selfmodel.ingest.messages import first_problem

MAX_ITEM_ID_CHARS = 200


def normalized(text: str) -> str:
    """``text`` as the words a match compares: NFKC, case-folded, punctuation dropped, one space
    between words (so "I'm" is "i m" on both sides, and curly quotes equal straight ones)."""
    return " ".join(re.findall(r"\w+", unicodedata.normalize("NFKC", text).casefold()))


def covers(text: str, phrase: str) -> bool:
    """Whether ``text`` holds ``phrase`` as a run of whole words, by the ``normalized`` rule."""
    wanted = normalized(phrase)
    return bool(wanted) and f" {wanted} " in f" {normalized(text)} "


def _timestamp(value: Any) -> datetime:
    try:
        return parse_timestamp(value)
    except InvalidInputError as exc:
        raise ValueError(exc.message) from None


def _phrases(values: list[str]) -> list[str]:
    for value in values:
        if not normalized(value):
            raise ValueError(f"{value!r} has no word to match")
    return values


class GoldenMessage(BaseModel):
    """One message of the item's history."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1)
    timestamp: datetime
    role: Role = Role.USER
    speaker: str | None = None
    session: str | None = None

    @field_validator("timestamp", mode="before")
    @classmethod
    def _when(cls, value: Any) -> datetime:
        return _timestamp(value)


class GoldenItem(BaseModel):
    """One line of a golden set."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=MAX_ITEM_ID_CHARS)
    user: str = Field(min_length=1, max_length=MAX_ITEM_ID_CHARS)
    history: list[GoldenMessage] = Field(min_length=1)
    query: str = Field(min_length=1)
    evidence: list[str] = Field(min_length=1)
    must_not_contain: list[str] = Field(default_factory=list)
    # When the question is asked (recency and "last week" are read against it); default: the
    # last message's time, so a rerun next year scores the same.
    now: datetime | None = None
    category: str | None = None

    @field_validator("now", mode="before")
    @classmethod
    def _when(cls, value: Any) -> datetime | None:
        return None if value is None else _timestamp(value)

    @field_validator("evidence", "must_not_contain")
    @classmethod
    def _words(cls, values: list[str]) -> list[str]:
        return _phrases(values)

    @property
    def asked_at(self) -> datetime:
        return self.now or max(m.timestamp for m in self.history)


def parse_golden_set(path: Path, raw: bytes) -> list[GoldenItem]:
    """The items of a golden-set file's bytes, or ``InvalidFileError`` naming line and field."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidFileError(f"{path} is not UTF-8 text ({exc.reason})") from exc
    items: list[GoldenItem] = []
    first_line: dict[str, int] = {}
    for number, data in json_lines(path, text):
        try:
            item = GoldenItem.model_validate(data)
        except ValidationError as exc:
            field, problem = first_problem(exc, whole="(item)")
            raise InvalidFileError(
                f"{path}:{number}: {field}: {problem}", line=number, field=field
            ) from None
        if item.id in first_line:
            raise InvalidFileError(
                f"{path}:{number}: id: {item.id!r} is already the id of line {first_line[item.id]}",
                line=number,
                field="id",
            )
        first_line[item.id] = number
        items.append(item)
    if not items:
        raise InvalidFileError(f"{path} holds no golden-set items")
    return items


__all__ = ["GoldenItem", "GoldenMessage", "covers", "normalized", "parse_golden_set"]
