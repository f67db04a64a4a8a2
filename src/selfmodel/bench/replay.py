"""Replay on a LoCoMo conversation: do hundreds of recorded context calls come out again exactly?

The conversation is ingested session by session into a fresh temporary SQLite store; after each
session a few of its questions are asked (so the traces read many versions of the self-model,
most of them long gone by the end): with ``limit=10`` and an uncut budget as ``bench locomo``
asks, with the default budget (profile lines and a token cut), and of the self-model alone.
At the end every question is asked once more, as ``bench locomo`` asks it.

Then every trace is replayed under its recorded configuration: ``reproduced`` counts those whose
every field of the choice came out identical. The final traces are also replayed dense-only
(the keyword signal weighted 0): the diff summary and the evidence recall@10 of the recorded and
the dense-only blocks are reported beside the raw-turn dense and BM25 baselines of ``bench
locomo``, which the dense-only replay should move toward.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from selfmodel.bench.baselines import RawTurnBaselines
from selfmodel.bench.locomo import (
    ALL_AT_K,
    BELIEFS_ONLY_BUDGET,
    UNCUT_BUDGET,
    Question,
    load_conversation,
    observation_dia_ids,
    turn_unit,
)
from selfmodel.bench.report import mean, percentile
from selfmodel.embedding import Embedder
from selfmodel.ingest.files import Batch, locomo_batches

# Questions asked after each session (rotating through the file's questions), per shape.
QUESTIONS_PER_SESSION = 2
# The dense-only configuration: what meaning alone ranks (both keyword weights at 0).
DENSE_ONLY: dict[str, Any] = {"ranking": {"keyword_weight": 0.0, "request_keyword_weight": 0.0}}
# Traces that did not reproduce, listed in the report (the count is always complete).
LISTED_FAILURES = 20

Progress = Callable[[int], None]


def run_replay_bench(
    path: str | Path,
    embedder: Embedder,
    *,
    on_total: Callable[[int], None] | None = None,
    on_progress: Progress | None = None,
) -> dict[str, Any]:
    """Ingest, ask, replay; returns the JSON-ready report."""
    from selfmodel.engine import SelfModel  # the bench is an outer shell around the engine

    conv = load_conversation(path)
    advance = on_progress or (lambda n: None)
    sessions = sorted({t.session for t in conv.turns})
    questions = conv.questions
    mid_calls = len(sessions) * QUESTIONS_PER_SESSION * 3
    if on_total:
        on_total(len(conv.turns) + 2 * (mid_calls + len(questions)) + len(questions))
    source = f"locomo:{conv.stem}"
    by_speaker = locomo_batches(conv.data, source=source)
    speakers = [b.user for b in by_speaker]
    traces: list[str] = []
    final: dict[str, Question] = {}  # trace id -> the question it asked
    with (
        tempfile.TemporaryDirectory(prefix="selfmodel-replay-") as tmp,
        SelfModel.open(str(Path(tmp) / "replay.db"), embedder=embedder) as sm,
    ):
        asked = 0
        for session in sessions:
            batches = [
                Batch(
                    b.user,
                    [m for m in b.messages if m["metadata"]["session"] == session],
                    source,
                )
                for b in by_speaker
            ]
            batches = [b for b in batches if b.messages]
            sm.ingest(batches)
            advance(sum(len(b.messages) for b in batches))
            now = max(t.occurred_at for t in conv.turns if t.session == session)
            for _ in range(QUESTIONS_PER_SESSION):
                text = questions[asked % len(questions)].text
                asked += 1
                traces += [
                    sm.context(
                        speakers, text, limit=ALL_AT_K, budget_tokens=UNCUT_BUDGET, now=now
                    ).trace_id,
                    sm.context(speakers, text, now=now).trace_id,
                    sm.context(
                        speakers, text, budget_tokens=BELIEFS_ONLY_BUDGET, now=now, moments=False
                    ).trace_id,
                ]
                advance(3)
        now = max(t.occurred_at for t in conv.turns)
        for q in questions:
            result = sm.context(
                speakers, q.text, limit=ALL_AT_K, budget_tokens=UNCUT_BUDGET, now=now
            )
            traces.append(result.trace_id)
            final[result.trace_id] = q
            advance(1)

        failures: list[dict[str, Any]] = []
        replay_ms: list[float] = []
        for trace_id in traces:
            started = time.perf_counter()
            replayed = sm.replay(trace_id)
            replay_ms.append((time.perf_counter() - started) * 1000)
            if not replayed.reproduced:
                failures.append({"trace_id": trace_id, "differences": replayed.differences})
            advance(1)

        dia_of_obs = observation_dia_ids(sm, speakers)
        recorded_recall: list[float] = []
        dense_recall: list[float] = []
        changed = gained = lost = moved = 0
        for trace_id, q in final.items():
            diff = sm.replay(trace_id, DENSE_ONLY)
            changed += bool(diff.gained or diff.lost)
            gained += len(diff.gained)
            lost += len(diff.lost)
            moved += sum(
                1 for i in diff.items if i.change == "kept" and i.rank_before != i.rank_after
            )
            before = sm.trace(trace_id).payload["chosen"]
            recorded_recall.append(_recall(before, dia_of_obs, q.evidence))
            after = [i.model_dump() for i in diff.chosen]
            dense_recall.append(_recall(after, dia_of_obs, q.evidence))
            advance(1)

    units = [turn_unit(t) for t in conv.turns]
    baselines = RawTurnBaselines(units, embedder.embed(units), [t.speaker for t in conv.turns])
    dia_of_unit = [t.dia_id for t in conv.turns]
    raw: dict[str, list[float]] = {"dense": [], "bm25": []}
    for q in questions:
        rankings = baselines.rankings(q.text, embedder.embed_one)
        for name in raw:
            found = {dia_of_unit[i] for i in rankings[name][:ALL_AT_K]}
            raw[name].append(len(found & q.evidence) / len(q.evidence))
    return {
        "conversation": conv.stem,
        "turns": len(conv.turns),
        "sessions": len(sessions),
        "traces": len(traces),
        "reproduced": len(traces) - len(failures),
        "not_reproduced": failures[:LISTED_FAILURES],
        "replay_ms_p50": percentile(replay_ms, 50),
        "replay_ms_p95": percentile(replay_ms, 95),
        "dense_only": {
            "config": DENSE_ONLY,
            "traces": len(final),
            "blocks_changed": changed,
            "items_gained_mean": gained / len(final) if final else 0.0,
            "items_lost_mean": lost / len(final) if final else 0.0,
            "items_moved_mean": moved / len(final) if final else 0.0,
            f"recall@{ALL_AT_K}": {
                "recorded": mean(recorded_recall),
                "dense_only_replay": mean(dense_recall),
                "raw_turns_dense_baseline": mean(raw["dense"]),
                "raw_turns_bm25_baseline": mean(raw["bm25"]),
            },
        },
    }


def _recall(
    items: list[dict[str, Any]], dia_of_obs: dict[str, str], wanted: frozenset[str]
) -> float:
    found = {dia_of_obs[e] for item in items for e in item["evidence_ids"] if e in dia_of_obs}
    return len(found & wanted) / len(wanted) if wanted else 0.0
