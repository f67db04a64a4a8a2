"""Suites: what an eval run asks, read from a golden set or a LoCoMo conversation file.

A suite is histories to ingest and, for each, the items asked of it. Its identity is its name
and the sha256 of the file's bytes: two runs can be compared item by item only when both match.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from selfmodel.bench.locomo import load_conversation
from selfmodel.errors import InvalidFileError
from selfmodel.evaluation.golden import GoldenItem, parse_golden_set
from selfmodel.ingest.files import Batch, locomo_batches


class SuiteKind(StrEnum):
    """Where a suite came from, which also says what its evidence names."""

    GOLDEN = "golden"  # evidence: quotes, matched by ``golden.covers``
    LOCOMO = "locomo"  # evidence: LoCoMo turn ids (dia_id)


@dataclass(frozen=True)
class SuiteItem:
    """One question of a suite and what a good answer's context must (not) hold."""

    id: str
    users: tuple[str, ...]
    query: str
    now: datetime
    evidence: tuple[str, ...]
    must_not_contain: tuple[str, ...] = ()
    category: str | None = None


@dataclass
class History:
    """Messages to ingest into a fresh scratch workspace, and the items asked of them."""

    batches: list[Batch]
    items: list[SuiteItem] = field(default_factory=list)


@dataclass
class Suite:
    name: str
    kind: SuiteKind
    dataset_sha256: str
    histories: list[History]

    @property
    def item_count(self) -> int:
        return sum(len(h.items) for h in self.histories)

    @property
    def message_count(self) -> int:
        return sum(len(b.messages) for h in self.histories for b in h.batches)


def _read(path: Path) -> bytes:
    if not path.is_file():
        raise InvalidFileError(f"{path} does not exist or is not a file")
    return path.read_bytes()


def golden_suite(path: str | Path, *, name: str | None = None) -> Suite:
    """A golden-set file as a suite; items with the same user and history share one ingest."""
    path = Path(path)
    raw = _read(path)
    histories: dict[str, History] = {}
    for item in parse_golden_set(path, raw):
        key = item.user + "\x00" + "\x00".join(m.model_dump_json() for m in item.history)
        history = histories.get(key)
        if history is None:
            history = histories[key] = History([_golden_batch(item, len(histories))])
        history.items.append(
            SuiteItem(
                id=item.id,
                users=(item.user,),
                query=item.query,
                now=item.asked_at,
                evidence=tuple(item.evidence),
                must_not_contain=tuple(item.must_not_contain),
                category=item.category,
            )
        )
    return Suite(
        name or path.stem,
        SuiteKind.GOLDEN,
        hashlib.sha256(raw).hexdigest(),
        list(histories.values()),
    )


def _golden_batch(item: GoldenItem, number: int) -> Batch:
    return Batch(
        user=item.user,
        source=f"golden:{number}",
        messages=[
            {
                "id": f"golden:{number}:{position}",
                "content": message.text,
                "role": message.role.value,
                "speaker": message.speaker,
                "occurred_at": message.timestamp,
                "metadata": {"session": message.session} if message.session else {},
            }
            for position, message in enumerate(item.history)
        ],
    )


def locomo_suite(path: str | Path, *, name: str | None = None) -> Suite:
    """A LoCoMo conversation file as a suite: its scored questions (categories 1–4), asked of
    both speakers at the time of the last turn, as ``selfmodel bench locomo`` asks them."""
    path = Path(path)
    raw = _read(path)
    conversation = load_conversation(path)
    if not conversation.questions:
        raise InvalidFileError(f"{path} has no question with evidence in categories 1–4")
    batches = locomo_batches(conversation.data, source=f"locomo:{conversation.stem}")
    speakers = tuple(b.user for b in batches)
    now = max(t.occurred_at for t in conversation.turns)
    items = [
        SuiteItem(
            id=f"{conversation.stem}:q{q.number}",
            users=speakers,
            query=q.text,
            now=now,
            evidence=tuple(sorted(q.evidence)),
            category=q.category,
        )
        for q in conversation.questions
    ]
    return Suite(
        name or path.stem,
        SuiteKind.LOCOMO,
        hashlib.sha256(raw).hexdigest(),
        [History(batches, items)],
    )


__all__ = ["History", "Suite", "SuiteItem", "SuiteKind", "golden_suite", "locomo_suite"]
