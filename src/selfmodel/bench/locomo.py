"""The LoCoMo retrieval benchmark: evidence recall of ``context`` against three raw-turn baselines.

For each conversation file: every speaker becomes a user of a fresh temporary SQLite store, all
turns are ingested through the real pipeline (extraction, revision, embeddings), and every question
of categories 1–4 is asked of ``SelfModel.context`` scoped to both speakers. An item covers the
LoCoMo turns it stands for: an observation its own turn, a belief the turns it cites as evidence.

In the same run four baselines rank the raw turns, formatted ``[8 May 2023] Caroline: text``:
BM25 only, dense only, reciprocal-rank fusion (k = 60) of the full dense ranking with the BM25
ranking of the turns that score above zero, and that fusion with the system's own handling of
names in the query (``hybrid_names``: names out of the matched query, the named speaker's turns
weighted up) — so the system's lead is not just that one trick.

``recall@k`` for the system calls ``context(limit=k)`` with a budget large enough never to cut an
item (``UNCUT_BUDGET``), so it measures ranking, not the budget; ``tokens@10`` is the size of that
k = 10 block. Latency is the wall time of the k = 10 call as the caller sees it. ``beliefs_only``
asks the self-model alone (``moments=False``) under a small budget: what the beliefs are worth
without the transcript behind them. The system's lead over the best baseline in recall@10 comes
with a paired bootstrap 95 % interval over questions.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from selfmodel.bench.baselines import RawTurnBaselines
from selfmodel.bench.report import (
    Stopwatch,
    bootstrap_note,
    lead_over_best,
    mean,
    percentile,
)
from selfmodel.domain.time import human_date
from selfmodel.embedding import Embedder
from selfmodel.errors import InvalidFileError, InvalidInputError
from selfmodel.ingest.files import (
    LocomoTurn,
    locomo_batches,
    locomo_turns,
    read_locomo_file,
)
from selfmodel.retrieval.tokens import TokenCounter

CATEGORIES = ("1", "2", "3", "4")  # 5 (adversarial, unanswerable) is excluded from retrieval
DEFAULT_KS = (1, 5, 10, 20)
ALL_AT_K = 10  # "all evidence found" and the token count are measured at this k
# Large enough that no item is ever dropped for budget: recall measures ranking alone.
UNCUT_BUDGET = 1_000_000
EMBED_BATCH_PROBE = 256  # texts embedded in one batch to measure the model's throughput
# What a product would hand its model from the self-model alone: about a paragraph. The target
# for the beliefs-only block is recall@10 >= 0.50 within this budget (docs/benchmarks.md).
BELIEFS_ONLY_BUDGET = 300
SYSTEM = "system"
BELIEFS_ONLY = "beliefs_only"
BASELINES = ("bm25", "dense", "hybrid", "hybrid_names")
LEAD_METRIC = f"recall@{ALL_AT_K}"

Progress = Callable[[int], None]


@dataclass(frozen=True)
class Question:
    text: str
    category: str
    evidence: frozenset[str]
    number: int  # position in the file's "qa" list: the question's stable id


@dataclass
class Conversation:
    """One LoCoMo file: its turns and its scored questions."""

    stem: str
    data: dict[str, Any]
    turns: list[LocomoTurn]
    questions: list[Question]


def load_conversation(path: str | Path) -> Conversation:
    """Read a LoCoMo conversation file, or raise ``InvalidFileError`` saying why not."""
    path = Path(path)
    data = read_locomo_file(path)
    qa = data.get("qa")
    if not isinstance(qa, list):
        raise InvalidFileError(f"{path} has no 'qa' list of questions")
    questions = []
    for number, item in enumerate(qa):
        try:
            category = str(item["category"])
            if category not in CATEGORIES:
                continue
            evidence = frozenset(_dia_ids(item["evidence"]))
            text = str(item["question"])
        except (KeyError, TypeError) as exc:
            raise InvalidFileError(
                f"{path}: question {number} lacks question, category or evidence"
            ) from exc
        if evidence:  # a question without evidence cannot be scored on recall
            questions.append(Question(text, category, evidence, number))
    return Conversation(path.stem, data, list(locomo_turns(data)), questions)


def _dia_ids(raw: Any) -> list[str]:
    """Evidence ids as given; a few LoCoMo entries pack several ids into one string."""
    ids: list[str] = []
    for entry in raw:
        ids.extend(part.strip() for part in str(entry).replace(",", ";").split(";"))
    return [i for i in ids if i]


def turn_unit(turn: LocomoTurn) -> str:
    """A raw turn as the baselines (and the full-history token count) see it."""
    return f"[{human_date(turn.occurred_at)}] {turn.speaker}: {turn.text}"


@dataclass
class Scores:
    """Per-question results of one system, grouped by category."""

    ks: tuple[int, ...]
    recall: dict[str, dict[int, list[float]]] = field(default_factory=dict)
    all_found: dict[str, list[float]] = field(default_factory=dict)
    tokens: dict[str, list[float]] = field(default_factory=dict)
    # (category, recall@ALL_AT_K) per question in the order asked: every system is asked the
    # same questions in the same order, so these line up for paired comparisons.
    asked: list[tuple[str, float]] = field(default_factory=list)

    def add(
        self, category: str, covered: Sequence[set[str]], evidence: frozenset[str], tokens: int
    ) -> None:
        """``covered[i]`` is the evidence covered by the top ``ks[i]`` items."""
        by_k = self.recall.setdefault(category, {k: [] for k in self.ks})
        for k, found in zip(self.ks, covered, strict=True):
            by_k[k].append(len(found & evidence) / len(evidence))
            if k == ALL_AT_K:
                self.all_found.setdefault(category, []).append(float(evidence <= found))
                self.asked.append((category, by_k[k][-1]))
        self.tokens.setdefault(category, []).append(float(tokens))

    def per_question(self, category: str | None = None) -> list[float]:
        """recall@ALL_AT_K of each question (of ``category``, or all), in the order asked."""
        return [value for c, value in self.asked if category is None or c == category]

    def _summary(self, categories: Sequence[str]) -> dict[str, float]:
        out = {
            f"recall@{k}": mean([v for c in categories for v in self.recall.get(c, {}).get(k, [])])
            for k in self.ks
        }
        out[f"all@{ALL_AT_K}"] = mean([v for c in categories for v in self.all_found.get(c, [])])
        out[f"tokens@{ALL_AT_K}"] = mean([v for c in categories for v in self.tokens.get(c, [])])
        return out

    def summary(self) -> dict[str, Any]:
        present = [c for c in CATEGORIES if c in self.recall]
        return {
            "overall": self._summary(present),
            "by_category": {c: self._summary([c]) for c in present},
        }


def measure_embedder(embedder: Embedder, texts: Sequence[str]) -> tuple[float, list[float]]:
    """The model's floor: batch throughput (texts/s) and single-query latencies (ms)."""
    probe = list(texts[:EMBED_BATCH_PROBE])
    embedder.embed(probe[:8])  # warm-up: first calls pay for lazy initialisation
    started = time.perf_counter()
    embedder.embed(probe)
    batch_per_s = len(probe) / (time.perf_counter() - started)
    single = Stopwatch()
    for text in probe[:64]:
        with single.time():
            embedder.embed_one(text)
    return batch_per_s, single.samples_ms


def run_locomo(
    paths: Sequence[str | Path],
    embedder: Embedder,
    *,
    ks: Sequence[int] = DEFAULT_KS,
    on_total: Callable[[int], None] | None = None,
    on_progress: Progress | None = None,
) -> dict[str, Any]:
    """Run the benchmark over ``paths``; returns the JSON-ready report (fractions in [0, 1])."""
    from selfmodel.engine import SelfModel  # the bench is an outer shell around the engine

    ks = tuple(sorted(set(ks) | {ALL_AT_K}))
    if not ks or ks[0] <= 0:
        raise InvalidInputError("every k must be a positive integer")
    conversations = [load_conversation(p) for p in paths]
    advance = on_progress or (lambda n: None)
    if on_total:
        on_total(sum(len(c.turns) * 2 + len(c.questions) for c in conversations))

    counter = TokenCounter()
    scores = {name: Scores(ks) for name in (SYSTEM, BELIEFS_ONLY, *BASELINES)}
    context_ms = Stopwatch()
    query_ms: list[float] = []
    full_tokens: list[float] = []
    ingest_turns = 0
    ingest_s = 0.0
    batch_rates: list[float] = []

    for conv in conversations:
        units = [turn_unit(t) for t in conv.turns]
        dia_of_unit = [t.dia_id for t in conv.turns]
        full_tokens.append(float(counter.count("\n".join(units))))
        rate, single = measure_embedder(embedder, units)
        batch_rates.append(rate)
        query_ms.extend(single)
        baselines = RawTurnBaselines(units, embedder.embed(units), [t.speaker for t in conv.turns])
        advance(len(units))

        with (
            tempfile.TemporaryDirectory(prefix="selfmodel-locomo-") as tmp,
            SelfModel.open(str(Path(tmp) / "locomo.db"), embedder=embedder) as sm,
        ):
            batches = locomo_batches(conv.data, source=f"locomo:{conv.stem}")
            started = time.perf_counter()
            sm.ingest(batches, on_progress=advance)
            ingest_s += time.perf_counter() - started
            ingest_turns += len(conv.turns)
            speakers = [b.user for b in batches]
            dia_of_obs = observation_dia_ids(sm, speakers)
            now = max(t.occurred_at for t in conv.turns)
            for q in conv.questions:
                _ask_system(sm, speakers, q, ks, now, dia_of_obs, scores[SYSTEM], context_ms)
                _ask_beliefs_only(sm, speakers, q, ks, now, dia_of_obs, scores[BELIEFS_ONLY])
                for name, order in baselines.rankings(q.text, embedder.embed_one).items():
                    covered = [{dia_of_unit[i] for i in order[:k]} for k in ks]
                    block = "\n".join(units[i] for i in order[:ALL_AT_K])
                    scores[name].add(q.category, covered, q.evidence, counter.count(block))
                advance(1)

    return {
        "system": scores[SYSTEM].summary(),
        BELIEFS_ONLY: scores[BELIEFS_ONLY].summary(),
        "beliefs_only_budget": BELIEFS_ONLY_BUDGET,
        "baselines": {name: scores[name].summary() for name in BASELINES},
        "lead": lead_over_best_baseline(scores[SYSTEM], {n: scores[n] for n in BASELINES}),
        "full_tokens": mean(full_tokens),
        "latency_ms": {
            "context_p50": context_ms.p(50),
            "context_p95": context_ms.p(95),
            "embed_query_p50": percentile(query_ms, 50),
        },
        "ingest_turns_per_s": ingest_turns / ingest_s if ingest_s else float("nan"),
        "embed_batch_per_s": mean(batch_rates),
        "questions": sum(len(c.questions) for c in conversations),
        "conversations": [c.stem for c in conversations],
    }


def lead_over_best_baseline(system: Scores, baselines: dict[str, Scores]) -> dict[str, Any]:
    """The system's recall@10 minus the best baseline's, overall and per category, with CIs."""

    def one(category: str | None) -> dict[str, Any]:
        return lead_over_best(
            system.per_question(category),
            {name: b.per_question(category) for name, b in baselines.items()},
        )

    present = [c for c in CATEGORIES if system.per_question(c)]
    return {
        "metric": LEAD_METRIC,
        "overall": one(None),
        "by_category": {c: one(c) for c in present},
        "bootstrap": bootstrap_note("question"),
    }


def observation_dia_ids(sm: Any, speakers: Sequence[str]) -> dict[str, str]:
    """Observation id → LoCoMo dia_id, from the metadata (or the external id) of each turn."""
    users = [sm.user(name).id for name in speakers]
    mapping: dict[str, str] = {}
    for o in sm.store.list_observations(sm.workspace.id, users):
        dia = o.metadata.get("dia_id")
        if dia is None and o.external_id and o.external_id.startswith("locomo:"):
            dia = o.external_id.rsplit(":", 2)[-2] + ":" + o.external_id.rsplit(":", 1)[-1]
        if dia is not None:
            mapping[o.id] = str(dia)
    return mapping


def _ask_system(
    sm: Any,
    speakers: Sequence[str],
    question: Question,
    ks: Sequence[int],
    now: datetime,
    dia_of_obs: dict[str, str],
    scores: Scores,
    latency: Stopwatch,
) -> None:
    covered: list[set[str]] = []
    tokens = 0
    for k in ks:
        if k == ALL_AT_K:
            with latency.time():
                result = sm.context(
                    speakers, question.text, limit=k, budget_tokens=UNCUT_BUDGET, now=now
                )
            tokens = result.tokens
        else:
            result = sm.context(
                speakers, question.text, limit=k, budget_tokens=UNCUT_BUDGET, now=now
            )
        covered.append(
            {dia_of_obs[e] for item in result.items for e in item.evidence_ids if e in dia_of_obs}
        )
    scores.add(question.category, covered, question.evidence, tokens)


def _ask_beliefs_only(
    sm: Any,
    speakers: Sequence[str],
    question: Question,
    ks: Sequence[int],
    now: datetime,
    dia_of_obs: dict[str, str],
    scores: Scores,
) -> None:
    """The self-model alone: beliefs only, within ``BELIEFS_ONLY_BUDGET`` tokens."""
    covered: list[set[str]] = []
    tokens = 0
    for k in ks:
        result = sm.context(
            speakers,
            question.text,
            limit=k,
            budget_tokens=BELIEFS_ONLY_BUDGET,
            now=now,
            moments=False,
        )
        if k == ALL_AT_K:
            tokens = result.tokens
        covered.append(
            {dia_of_obs[e] for item in result.items for e in item.evidence_ids if e in dia_of_obs}
        )
    scores.add(question.category, covered, question.evidence, tokens)


__all__ = [
    "BELIEFS_ONLY_BUDGET",
    "DEFAULT_KS",
    "Conversation",
    "Question",
    "Scores",
    "lead_over_best_baseline",
    "load_conversation",
    "observation_dia_ids",
    "run_locomo",
    "turn_unit",
]
