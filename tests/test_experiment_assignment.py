"""Assignment by hashing: deterministic (in this process and in another), weighted as asked,
and exclusive within a layer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from selfmodel.domain import Experiment, Variant
from selfmodel.domain.experiments import BUCKETS
from selfmodel.experiments.assignment import (
    assign,
    bucket,
    free_range,
    pick_variant,
    traffic_buckets,
    variant_draw,
)

ROOT = Path(__file__).resolve().parent.parent
user_ids = st.text(min_size=1, max_size=40).filter(lambda s: "\x00" not in s)


def experiment(
    name: str = "exp",
    *,
    salt: str = "salt-1",
    weights: tuple[float, ...] = (1.0, 1.0),
    layer: str | None = None,
    start: int = 0,
    end: int = BUCKETS,
) -> Experiment:
    return Experiment(
        id=f"exp_{name}",
        workspace_id="ws_1",
        name=name,
        variants=tuple(Variant(name=f"v{i}", weight=w) for i, w in enumerate(weights)),
        control="v0",
        layer=layer,
        bucket_start=start,
        bucket_end=end,
        salt=salt,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


@given(user=user_ids, salt=st.text(min_size=1, max_size=20))
def test_the_same_user_always_gets_the_same_variant(user: str, salt: str) -> None:
    x = experiment(salt=salt)
    first = assign(x, user)
    assert first is not None
    assert all(assign(x, user) == first for _ in range(3))
    # A copy of the definition (as read back from the store) assigns the same.
    assert assign(Experiment.model_validate(x.model_dump()), user) == first


def test_assignments_are_the_same_in_another_process() -> None:
    """Nothing per process (no seed, no PYTHONHASHSEED) enters the hash."""
    users = [f"user-{n}" for n in range(200)]
    x = experiment(weights=(1.0, 2.0, 1.0))
    here = [v.name if (v := assign(x, u)) else None for u in users]
    script = (
        "import json, sys\n"
        "from tests.test_experiment_assignment import experiment\n"
        "from selfmodel.experiments.assignment import assign\n"
        "x = experiment(weights=(1.0, 2.0, 1.0))\n"
        "users = json.load(sys.stdin)\n"
        "print(json.dumps([v.name if (v := assign(x, u)) else None for u in users]))\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        [sys.executable, "-c", script],
        input=json.dumps(users),
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        check=True,
    )
    assert json.loads(done.stdout) == here


def test_a_known_assignment_never_changes() -> None:
    """Pinned values (sha256 of namespace, key and user id, joined by U+001F): changing the
    hashing would move the users of every running experiment."""
    users = ("ada", "bob", "carol")
    x = experiment(salt="pinned")
    assert [bucket(x, u) for u in users] == [5633, 3364, 1230]
    assert [round(variant_draw(x, u), 6) for u in users] == [0.046827, 0.488781, 0.673428]
    layered = experiment(salt="pinned", layer="ranking")
    assert [bucket(layered, u) for u in users] == [864, 3889, 7388]


def test_variants_get_their_weighted_share_of_users() -> None:
    x = experiment(weights=(1.0, 3.0))
    counts = {"v0": 0, "v1": 0}
    n = 20_000
    for i in range(n):
        v = assign(x, f"u{i}")
        assert v is not None
        counts[v.name] += 1
    # Binomial sd at n = 20 000, p = 0.25 is 0.003: 0.015 is five of them.
    assert abs(counts["v0"] / n - 0.25) < 0.015


def test_traffic_leaves_the_rest_of_the_users_out() -> None:
    x = experiment(end=traffic_buckets(0.2))
    inside = sum(assign(x, f"u{i}") is not None for i in range(20_000)) / 20_000
    assert abs(inside - 0.2) < 0.015


def test_the_variant_draw_is_independent_of_the_layer_bucket() -> None:
    """Users of one layer range are split between variants like any users."""
    x = experiment(layer="ranking", start=0, end=BUCKETS // 10, weights=(1.0, 1.0))
    names = [v.name for i in range(40_000) if (v := assign(x, f"u{i}")) is not None]
    assert 3_600 < len(names) < 4_400
    assert abs(names.count("v0") / len(names) - 0.5) < 0.03


@settings(max_examples=60)
@given(
    widths=st.lists(st.integers(min_value=1, max_value=4_000), min_size=1, max_size=6),
    users=st.lists(user_ids, min_size=1, max_size=30),
)
def test_a_user_is_in_at_most_one_experiment_of_a_layer(
    widths: list[int], users: list[str]
) -> None:
    held: list[tuple[int, int]] = []
    layered = []
    for n, width in enumerate(widths):
        room = free_range(held, width)
        if room is None:
            # No room only when no gap between the held ranges (and the ends) is wide enough.
            edges = sorted(held)
            gaps = zip(
                [0] + [h for _, h in edges], [lo for lo, _ in edges] + [BUCKETS], strict=True
            )
            assert all(end - start < width for start, end in gaps)
            continue
        low, high = room
        assert high - low == width and low >= 0 and high <= BUCKETS
        assert all(high <= a or low >= b for a, b in held), "ranges of a layer overlap"
        held.append(room)
        layered.append(experiment(f"e{n}", salt=f"s{n}", layer="L", start=low, end=high))
    for user in users:
        assert sum(assign(x, user) is not None for x in layered) <= 1


def test_a_freed_range_is_found_again() -> None:
    assert free_range([], 3_000) == (0, 3_000)
    assert free_range([(0, 3_000), (6_000, 10_000)], 3_000) == (3_000, 6_000)
    assert free_range([(0, 3_000), (6_000, 10_000)], 3_001) is None
    assert free_range([(2_000, 4_000)], 2_000) == (0, 2_000)


@given(draw=st.floats(min_value=0.0, max_value=1.0, exclude_max=True))
def test_every_draw_picks_a_variant_in_cumulative_order(draw: float) -> None:
    variants = (Variant(name="a", weight=1), Variant(name="b", weight=2), Variant(name="c"))
    picked = pick_variant(variants, draw)
    expected = "a" if draw < 0.25 else "b" if draw < 0.75 else "c"
    # Within rounding of an edge either neighbour is right.
    if min(abs(draw - 0.25), abs(draw - 0.75)) > 1e-12:
        assert picked.name == expected
