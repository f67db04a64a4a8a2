"""``selfmodel bench drift``: how often the worker's drift check alarms, with and without drift.

For each seed, a fresh SQLite store gets two workspaces, built through the real pipeline (every
query a real ``context`` call, every statement a real ``observe``), and one worker check runs
over both (``Worker.run_drift_checks``, the settings' thresholds):

- **steady**: one user asks 40 questions drawn from a mix of cooking and travel/finance topics
  in days 29–8 before the check, and 40 others from the same mix in the last week; twelve users
  state two facts about themselves 20 days before and the same two again 3 days before. Any
  alert here is a **false alarm**.
- **shifted**: cooking questions in the reference window, travel and finance in the current one;
  six of the twelve users (chosen by the seed) say the opposite of what they said (they moved,
  they stopped enjoying something). An input-drift and a self-model-drift alert are expected.

The false alarm rate is the share of seeds whose steady workspace raised any alert; detection,
per expected kind, the share of seeds whose shifted workspace raised it.
"""

from __future__ import annotations

import itertools
import random
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from selfmodel.domain import AlertKind
from selfmodel.embedding import Embedder
from selfmodel.engine import SelfModel

# The moment the worker checks at; the data is placed before it.
CHECK_AT = datetime(2026, 6, 30, 12, tzinfo=UTC)
DEFAULT_SEEDS = 20
QUERIES_PER_WINDOW = 40
USERS = 12
FLIPPING = 6

COOKING = [
    f"{start} {dish}?"
    for start, dish in itertools.product(
        ("How do I make", "What goes well with", "How long should I cook", "Any tips for"),
        (
            "risotto",
            "banana bread",
            "a roast chicken",
            "vegetable curry",
            "homemade pasta",
            "pancakes",
            "lentil soup",
            "sourdough bread",
            "a chocolate cake",
            "fried rice",
            "tomato sauce",
            "grilled salmon",
        ),
    )
]
TRAVEL_FINANCE = [
    f"{start} {topic}?"
    for start, topic in itertools.product(
        (
            "What should I know about",
            "Can you help me plan",
            "How much does it cost for",
            "Advice on",
        ),
        (
            "a flight to Tokyo",
            "a weekend in Lisbon",
            "travel insurance",
            "a train across Europe",
            "a hotel in New York",
            "my pension savings",
            "an index fund",
            "paying off my mortgage",
            "a savings account",
            "my income tax return",
            "a visa for Canada",
            "budgeting my salary",
        ),
    )
]
# What each user says about themselves (one of each list), and its opposite (the flip). One
# of each, so a user's two statements never contradict each other (two homes would).
LOVES = [
    ("I love running.", "I no longer enjoy running."),
    ("I love swimming.", "I no longer enjoy swimming."),
]
HOMES = [
    ("I live in London.", "I moved to Leeds."),
    ("I live in Paris.", "I moved to Lyon."),
]


def _ask(sm: SelfModel, queries: list[str], *, days_ago: tuple[float, float]) -> None:
    first, last = days_ago
    for i, query in enumerate(queries):
        when = CHECK_AT - timedelta(days=first - (first - last) * i / max(len(queries) - 1, 1))
        sm.context("asker", query, now=when)


def _say(sm: SelfModel, user: str, texts: list[str], *, days_ago: float) -> None:
    when = (CHECK_AT - timedelta(days=days_ago)).isoformat()
    sm.observe(user, [{"content": t, "occurred_at": when} for t in texts])


def build(sm: SelfModel, *, shifted: bool, seed: int) -> None:
    """One workspace's traces and self-models, steady or shifted, drawn from ``seed``."""
    rng = random.Random(seed)
    sm.observe("asker", "I love cooking and I travel a lot.", at=CHECK_AT - timedelta(days=40))
    if shifted:
        reference = rng.sample(COOKING, QUERIES_PER_WINDOW)
        current = rng.sample(TRAVEL_FINANCE, QUERIES_PER_WINDOW)
    else:
        pool = rng.sample(COOKING, QUERIES_PER_WINDOW) + rng.sample(
            TRAVEL_FINANCE, QUERIES_PER_WINDOW
        )
        rng.shuffle(pool)
        reference, current = pool[:QUERIES_PER_WINDOW], pool[QUERIES_PER_WINDOW:]
    _ask(sm, reference, days_ago=(29, 8))
    _ask(sm, current, days_ago=(6.5, 0.1))
    flips = set(rng.sample(range(USERS), FLIPPING)) if shifted else set()
    for i in range(USERS):
        facts = [rng.choice(LOVES), rng.choice(HOMES)]
        _say(sm, f"user-{i}", [said for said, _ in facts], days_ago=20)
        again = [flip if i in flips else said for said, flip in facts]
        _say(sm, f"user-{i}", again, days_ago=3)


def run_drift_bench(
    embedder: Embedder,
    *,
    seeds: int = DEFAULT_SEEDS,
    first_seed: int = 0,
    on_progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """False alarm rate and detection of the worker's drift check over ``seeds`` seeds."""
    from selfmodel.worker import Worker  # the worker imports the engine; so does the CLI

    started = time.perf_counter()
    false_alarms: Counter[str] = Counter()
    detected: Counter[str] = Counter()
    steady_with_alarm = 0
    per_seed: list[dict[str, Any]] = []
    settings: dict[str, Any] = {}
    for seed in range(first_seed, first_seed + seeds):
        with tempfile.TemporaryDirectory(prefix="selfmodel-drift-bench-") as scratch:
            db = Path(scratch) / "drift.db"
            with SelfModel.open(str(db), embedder=embedder, workspace="steady") as sm:
                settings = sm.settings.monitoring.model_dump(exclude={"alert_webhook_url"})
                build(sm, shifted=False, seed=seed)
                build(sm.in_workspace("shifted"), shifted=True, seed=seed)
                Worker(sm, clock=lambda: CHECK_AT).run_drift_checks()
                steady = [a.kind.value for a in sm.in_existing_workspace("steady").alerts()]
                moved = [a.kind.value for a in sm.in_existing_workspace("shifted").alerts()]
        false_alarms.update(steady)
        detected.update(set(moved))
        steady_with_alarm += bool(steady)
        per_seed.append({"seed": seed, "steady": steady, "shifted": moved})
        if on_progress is not None:
            on_progress(1)
    expected = (AlertKind.INPUT_DRIFT.value, AlertKind.SELF_MODEL_DRIFT.value)
    return {
        "seeds": seeds,
        "first_seed": first_seed,
        "false_alarm_rate": steady_with_alarm / seeds,
        "steady_seeds_with_alarm": steady_with_alarm,
        "false_alarms_by_kind": dict(sorted(false_alarms.items())),
        "detection_rate": {kind: detected[kind] / seeds for kind in expected},
        "also_raised_when_shifted": {
            kind: n for kind, n in sorted(detected.items()) if kind not in expected
        },
        "per_seed": per_seed,
        "thresholds": settings,
        "seconds": time.perf_counter() - started,
    }


__all__ = ["CHECK_AT", "DEFAULT_SEEDS", "build", "run_drift_bench"]
