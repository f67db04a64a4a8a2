"""Running a suite: ingest each history into a scratch store, ask every item, score the block.

Histories are ingested into a temporary SQLite file under the configuration being evaluated,
never into the workspace the run is recorded in: an eval must not leave its people behind in
production data. Each item is asked with ``limit=k`` and the configuration's budget, so the score
is what a product would be handed: evidence recall@k of that block, the must-not-contain phrases
it holds, its tokens, and the latency of the call as the caller sees it.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from selfmodel.bench.locomo import observation_dia_ids
from selfmodel.bench.report import MS_PER_S
from selfmodel.domain import ContextResult, EvalItemScore
from selfmodel.domain.time import utcnow
from selfmodel.embedding import Embedder
from selfmodel.engine import SelfModel
from selfmodel.evaluation.configuration import EvalConfiguration
from selfmodel.evaluation.golden import covers
from selfmodel.evaluation.suites import Suite, SuiteItem, SuiteKind

Progress = Callable[[int], None]


@dataclass(frozen=True)
class ScoredSuite:
    """A suite's items as scored under one configuration, and when the run took place.

    ``history_messages``: per item id, the messages of the history it was asked after (what
    recall is plotted against to see whether context holds as histories grow)."""

    items: list[EvalItemScore]
    started_at: datetime
    finished_at: datetime
    history_messages: dict[str, int] = field(default_factory=dict)


def run_suite(
    suite: Suite,
    configuration: EvalConfiguration,
    embedder: Embedder,
    *,
    on_progress: Progress | None = None,
) -> ScoredSuite:
    """Score every item of ``suite``. ``on_progress`` counts messages ingested and items asked
    (``suite.message_count + suite.item_count`` in all)."""
    advance = on_progress or (lambda n: None)
    started_at = utcnow()
    scores: list[EvalItemScore] = []
    sizes: dict[str, int] = {}
    with (
        tempfile.TemporaryDirectory(prefix="selfmodel-eval-") as scratch_dir,
        SelfModel.open(
            str(Path(scratch_dir) / "scratch.db"),
            settings=configuration.settings,
            embedder=embedder,
            ranking=configuration.ranking,
        ) as scratch,
    ):
        for number, history in enumerate(suite.histories):
            # A workspace per history: items whose users share an id but not a past stay apart.
            sm = scratch.in_workspace(f"history-{number}")
            sm.ingest(history.batches, on_progress=advance)
            messages = sum(len(b.messages) for b in history.batches)
            found_in = _evidence_finder(suite.kind, sm, history.items)
            for item in history.items:
                started = time.perf_counter()
                result = sm.context(
                    list(item.users),
                    item.query,
                    limit=configuration.k,
                    budget_tokens=configuration.budget,
                    now=item.now,
                )
                latency_ms = (time.perf_counter() - started) * MS_PER_S
                scores.append(_score(item, result, found_in(item, result), latency_ms))
                sizes[item.id] = messages
                advance(1)
    return ScoredSuite(scores, started_at, utcnow(), sizes)


def _evidence_finder(
    kind: SuiteKind, sm: SelfModel, items: list[SuiteItem]
) -> Callable[[SuiteItem, ContextResult], set[str]]:
    """How the evidence an item names is found in a block, for this suite's kind of evidence."""
    users = sorted({u for item in items for u in item.users})
    if kind is SuiteKind.LOCOMO:
        turn_of = observation_dia_ids(sm, users)
        return lambda item, result: _turns_found(item, result, turn_of)
    texts = {
        o.id: o.content
        for o in sm.store.list_observations(sm.workspace.id, [sm.user(u).id for u in users])
    }
    return lambda item, result: _quotes_found(item, result, texts)


def _turns_found(item: SuiteItem, result: ContextResult, turn_of: dict[str, str]) -> set[str]:
    """The item's LoCoMo turns that an item of the block stands for (itself or as evidence)."""
    covered = {turn_of[e] for chosen in result.items for e in chosen.evidence_ids if e in turn_of}
    return covered & set(item.evidence)


def _quotes_found(item: SuiteItem, result: ContextResult, texts: dict[str, str]) -> set[str]:
    """The item's evidence quotes held by the block: in the text of an item chosen, or in a
    message a chosen belief stands for (the block says what was understood, not the words)."""
    held = [chosen.text for chosen in result.items]
    held += [texts[e] for chosen in result.items for e in chosen.evidence_ids if e in texts]
    return {quote for quote in item.evidence if any(covers(text, quote) for text in held)}


def _score(
    item: SuiteItem, result: ContextResult, found: set[str], latency_ms: float
) -> EvalItemScore:
    total = len(set(item.evidence))
    return EvalItemScore(
        item_id=item.id,
        recall=len(found) / total,
        evidence_found=len(found),
        evidence_total=total,
        violations=sum(1 for phrase in item.must_not_contain if covers(result.text, phrase)),
        tokens=result.tokens,
        latency_ms=latency_ms,
        category=item.category,
    )


__all__ = ["ScoredSuite", "run_suite"]
