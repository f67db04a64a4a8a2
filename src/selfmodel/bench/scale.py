"""How ``context`` cost grows with history: synthetic users, a growing store, real queries.

Embedding a million texts with MiniLM on two cores would take hours, so stored observations get
*synthetic* vectors (random unit vectors, generated straight into the store) and synthetic text
from a small vocabulary; the cost of scoring them is the same as for real ones. Queries are real:
each ``context`` call embeds its query with the real model. So the figures measure storage,
index building, scoring and assembly at scale, not retrieval quality (LoCoMo measures that).

At each step every user grows to the step's size; then for a sample of users the bench times the
first call (a cold index: the per-scope build), warm calls (what a product pays per turn), and a
call right after one new observation (the warm index applies just that write), and reads the
process RSS. The JSON also has the index work alone, without the query embedding: a full build
(``index_build_p50_ms``) against the refresh after one write (``index_refresh_after_write_p50_ms``).
"""

from __future__ import annotations

import random
import resource
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from selfmodel.bench.report import Stopwatch, percentile
from selfmodel.domain import Observation, new_id
from selfmodel.domain.time import utcnow
from selfmodel.embedding import Embedder
from selfmodel.errors import InvalidInputError
from selfmodel.retrieval.freshness import ScopeLoader
from selfmodel.retrieval.retriever import Scope
from selfmodel.storage import OBSERVATION_VECTORS

DEFAULT_USERS = 20
DEFAULT_PER_USER = 2_000
DEFAULT_STEPS = 4  # sizes per user: per_user / 2^(steps-1), …, per_user / 2, per_user
SAMPLED_USERS = 3  # users whose context calls are timed at each step
WARM_QUERIES = 30  # warm calls per sampled user per step (90 samples: a steadier p95)
INSERT_CHUNK = 2_000  # observations written per transaction
HISTORY_DAYS = 730  # synthetic history spans two years
SEED = 20240501
BYTES_PER_KIB = 1024

_SUBJECTS = (
    "running", "my sister", "the new job", "pottery class", "our trip to Lisbon", "the garden",
    "marathon training", "my dog Max", "the book club", "cooking Thai food", "the move",
    "learning piano", "my manager", "the kids' school", "climbing", "a podcast on history",
)  # fmt: skip
_VERBS = (
    "I really enjoyed", "I'm worried about", "I've been thinking about", "I finally finished",
    "I can't stop talking about", "I decided to give up", "I started", "I love",
)  # fmt: skip
_QUERIES = (
    "What does the user enjoy doing on weekends?",
    "When did they start training for the marathon?",
    "How is the new job going?",
    "What are they worried about lately?",
    "Suggest a hobby they would like",
)
# Warm calls ask a question never asked before in the run, as a product's users do: a repeated
# query would find its parse (and other per-text work) cached and time less than a real turn.
_ASKED = (
    "What does the user think about {}?", "How do they feel about {}?",
    "When did they last mention {}?", "Has anything changed with {}?",
    "Suggest something to do with {}",
)  # fmt: skip
_WHEN = ("", " lately", " this year", " last month", " these days", " since spring")
DISTINCT_WARM_QUERIES = len(_ASKED) * len(_SUBJECTS) * len(_WHEN)


def warm_query(number: int) -> str:
    """The ``number``-th warm query; the first ``DISTINCT_WARM_QUERIES`` are all different."""
    asked, rest = _ASKED[number % len(_ASKED)], number // len(_ASKED)
    subject, rest = _SUBJECTS[rest % len(_SUBJECTS)], rest // len(_SUBJECTS)
    subject = subject.replace("my ", "their ").replace("our ", "their ")
    question = asked.format(subject)
    when = _WHEN[rest % len(_WHEN)]
    return question[:-1] + when + question[-1] if question.endswith("?") else question + when


def rss_mib() -> float:
    """Current resident memory of this process (peak RSS where /proc is unavailable)."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / BYTES_PER_KIB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / BYTES_PER_KIB


def step_sizes(per_user: int, steps: int) -> list[int]:
    """Per-user sizes of each step, doubling up to ``per_user``."""
    sizes = sorted({max(1, per_user >> (steps - 1 - i)) for i in range(steps)})
    return sizes


def checked_sizes(sizes: Sequence[int]) -> list[int]:
    """Explicit per-user sizes, ascending and without repeats."""
    if not sizes or any(size <= 0 for size in sizes):
        raise InvalidInputError("sizes must be positive observation counts per user")
    return sorted(set(sizes))


def _synthetic(
    rng: random.Random, workspace_id: str, user_id: str, count: int, start: datetime
) -> list[Observation]:
    recorded = utcnow()
    return [
        Observation(
            id=new_id("obs"),
            workspace_id=workspace_id,
            user_id=user_id,
            content=f"{rng.choice(_VERBS)} {rng.choice(_SUBJECTS)} "
            f"and {rng.choice(_SUBJECTS)} (note {rng.randrange(10**6)})",
            occurred_at=start + timedelta(minutes=rng.randrange(HISTORY_DAYS * 24 * 60)),
            recorded_at=recorded,
            source="bench:scale",
        )
        for _ in range(count)
    ]


def run_scale(
    embedder: Embedder,
    *,
    users: int = DEFAULT_USERS,
    per_user: int = DEFAULT_PER_USER,
    steps: int = DEFAULT_STEPS,
    sizes: Sequence[int] | None = None,
    on_total: Callable[[int], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Grow a temporary store step by step and time ``context`` at each size.

    ``sizes`` (observations per user at each step) replaces the doubling of ``per_user``.
    """
    from selfmodel.engine import SelfModel

    if users <= 0 or per_user <= 0 or steps <= 0:
        raise InvalidInputError("users, per-user and steps must be positive")
    sizes = checked_sizes(sizes) if sizes else step_sizes(per_user, steps)
    advance = on_progress or (lambda n: None)
    if on_total:
        on_total(users * sizes[-1])
    rng = random.Random(SEED)
    np_rng = np.random.default_rng(SEED)
    start = datetime(2023, 1, 1, tzinfo=UTC)
    rows: list[dict[str, Any]] = []
    with (
        tempfile.TemporaryDirectory(prefix="selfmodel-scale-") as tmp,
        SelfModel.open(str(Path(tmp) / "scale.db"), embedder=embedder) as sm,
    ):
        store = sm.store
        ws = sm.workspace.id
        names = [f"user-{i:05d}" for i in range(users)]
        user_ids = [store.get_or_create_user(ws, name).id for name in names]
        embedder.embed_one("warm up")  # the model's lazy start is not part of any step
        have = 0
        for size in sizes:
            insert_started = time.perf_counter()
            for uid in user_ids:
                _grow(store, embedder, np_rng, rng, ws, uid, size - have, start, advance)
            insert_s = time.perf_counter() - insert_started
            have = size
            sampled = names[: min(SAMPLED_USERS, users)]
            first = len(rows) * len(sampled) * WARM_QUERIES
            rows.append(_measure(sm, sampled, size, users, insert_s, first_query=first))
            # Leave nothing warm between steps: each step measures its own cold build.
            sm._c.retriever.cache.clear()
    return {
        "synthetic_vectors": True,
        "users": users,
        "per_user": sizes[-1],
        "steps": rows,
    }


def _grow(
    store: Any,
    embedder: Embedder,
    np_rng: np.random.Generator,
    rng: random.Random,
    ws: str,
    uid: str,
    count: int,
    start: datetime,
    advance: Callable[[int], None],
) -> None:
    for offset in range(0, count, INSERT_CHUNK):
        n = min(INSERT_CHUNK, count - offset)
        observations = _synthetic(rng, ws, uid, n, start)
        vectors = np_rng.standard_normal((n, embedder.dim)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        with store.transaction():
            store.lock_user(ws, uid)  # as every writer of a user's rows does
            store.insert_observations(observations)
            store.put_vectors(
                ws,
                uid,
                OBSERVATION_VECTORS,
                embedder.name,
                [(o.id, vectors[i]) for i, o in enumerate(observations)],
            )
        advance(n)


def _measure(
    sm: Any,
    sampled: Sequence[str],
    size: int,
    users: int,
    insert_s: float,
    *,
    first_query: int,
) -> dict[str, Any]:
    cold = Stopwatch()
    warm = Stopwatch()
    after_write = Stopwatch()
    # The index work alone, without the query embedding (which dominates on a busy machine):
    # a full build from the store versus bringing a warm index up to date after one write.
    build = Stopwatch()
    refresh = Stopwatch()
    retriever = sm._c.retriever
    for number, name in enumerate(sampled):
        with cold.time():
            sm.context(name, _QUERIES[0])
        for q in range(WARM_QUERIES):
            query = warm_query(first_query + number * WARM_QUERIES + q)
            with warm.time():
                sm.context(name, query)
        sm.observe(name, f"I just signed up for a new class (step {size})")
        with after_write.time():
            sm.context(name, _QUERIES[1])
        scope = Scope(sm.workspace.id, (sm.user(name),))
        with build.time():
            _loader(sm, scope).build()
        sm.observe(name, f"I also joined a reading group (step {size})")
        with refresh.time():
            retriever._index(scope)
    return {
        "observations_per_user": size,
        "observations_total": size * users,
        "insert_s": insert_s,
        "context_cold_p50_ms": cold.p(50),
        "context_warm_p50_ms": warm.p(50),
        "context_warm_p95_ms": warm.p(95),
        "context_after_write_p50_ms": after_write.p(50),
        "index_build_p50_ms": build.p(50),
        "index_refresh_after_write_p50_ms": refresh.p(50),
        "rss_mib": rss_mib(),
        "warm_samples": len(warm.samples_ms),
        "warm_p99_ms": percentile(warm.samples_ms, 99),
    }


def _loader(sm: Any, scope: Scope) -> ScopeLoader:
    embedder = sm._c.embedder
    users = [u.id for u in scope.users]
    return ScopeLoader(sm.store, scope.workspace_id, users, None, embedder.name, embedder.dim)


__all__ = ["DEFAULT_PER_USER", "DEFAULT_STEPS", "DEFAULT_USERS", "rss_mib", "run_scale"]
