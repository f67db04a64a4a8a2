"""Every table of docs/confidence.md, recomputed from ``selfmodel.revision.confidence``.

Tables marked ``<!-- check: NAME -->`` are parsed out of the page; each row states its inputs and
the numbers the code must give for them (rounded as printed).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from selfmodel.domain import BeliefKind, ObservationKind, Occasion
from selfmodel.revision.confidence import (
    CEILING,
    DECAYED_EVIDENCE_SHARE,
    GROWTH,
    KIND_POLICIES,
    UNIT_SCALE,
    confidence,
    evidence_units,
    has_decayed,
    logit,
    sigmoid,
    with_evidence,
)
from tests.support.markdown import DOCS, checked_tables

TABLES = checked_tables(DOCS / "confidence.md")
START = datetime(2024, 3, 4, 9, tzinfo=UTC)


def said_daily(days: int, units: float = 1.0) -> tuple[Occasion, ...]:
    """One statement of ``units`` a day for ``days`` consecutive days from START."""
    found: tuple[Occasion, ...] = ()
    for day in range(days):
        found = with_evidence(found, START + timedelta(days=day), support=units)
    return found


def number(cell: str) -> float:
    return float(cell.replace("−", "-"))


def test_every_documented_table_is_there() -> None:
    assert set(TABLES) == {
        "one-statement",
        "units",
        "curve",
        "contradiction",
        "half-lives",
        "plan-decay",
        "caveat",
    }


def test_one_statement_step_by_step() -> None:
    prior = logit(0.35 / CEILING)
    support = GROWTH * math.log1p(1 / UNIT_SCALE)
    computed = [prior, support, sigmoid(prior + support), CEILING * sigmoid(prior + support)]
    documented = [number(row["value"]) for row in TABLES["one-statement"]]
    assert [round(v, 3) for v in computed] == documented
    assert computed[-1] == pytest.approx(confidence(said_daily(1), BeliefKind.EXPERIENCE))


@pytest.mark.parametrize("row", TABLES["units"], ids=lambda r: "-".join(r.values())[:40])
def test_units_and_the_confidence_of_one_piece_of_evidence(row: dict[str, str]) -> None:
    units = evidence_units(
        ObservationKind(row["source"]), float(row["strength"]), stated=row["stated"] == "yes"
    )
    assert f"{units:.2f}" == row["units"]
    alone = confidence(said_daily(1, units), BeliefKind.PREFERENCE)
    assert f"{alone:.2f}" == row["confidence"]


@pytest.mark.parametrize("row", TABLES["curve"], ids=lambda r: r["occasions"])
def test_the_curve_of_consistent_occasions(row: dict[str, str]) -> None:
    occasions = said_daily(int(row["occasions"]))
    assert f"{confidence(occasions, BeliefKind.PREFERENCE):.3f}" == row["preference"]
    assert f"{confidence(occasions, BeliefKind.EXPERIENCE):.3f}" == row["experience"]


@pytest.mark.parametrize("row", TABLES["contradiction"], ids=lambda r: "-".join(r.values()))
def test_one_contradiction_after_consistent_support(row: dict[str, str]) -> None:
    days = int(row["support occasions"])
    held = said_daily(days)
    contradicted = with_evidence(
        held, START + timedelta(days=days), against=float(row["contradiction (units)"])
    )
    assert f"{confidence(held, BeliefKind.PREFERENCE):.3f}" == row["before"]
    assert f"{confidence(contradicted, BeliefKind.PREFERENCE):.3f}" == row["after"]


@pytest.mark.parametrize("row", TABLES["half-lives"], ids=lambda r: r["kind"])
def test_half_lives_and_decay_of_one_statement(row: dict[str, str]) -> None:
    one = said_daily(1)
    for name in row["kind"].split(", "):
        kind = BeliefKind(name)
        half_life = KIND_POLICIES[kind].half_life_days
        if half_life is None:
            assert row["half-life (days)"] == row["decayed after (days)"] == "never"
        else:
            assert f"{half_life:.0f}" == row["half-life (days)"]
            after = half_life * math.log2(1 / DECAYED_EVIDENCE_SHARE)
            assert f"{after:.0f}" == row["decayed after (days)"]
        later = [confidence(one, kind, START + timedelta(days=d)) for d in (30, 365)]
        assert [f"{v:.2f}" for v in later] == [row["after 30 days"], row["after 1 year"]]


@pytest.mark.parametrize("row", TABLES["plan-decay"], ids=lambda r: r["days later"])
def test_a_plan_fades_and_decays(row: dict[str, str]) -> None:
    plan = said_daily(1)
    at = START + timedelta(days=int(row["days later"]))
    assert f"{confidence(plan, BeliefKind.PLAN, at):.3f}" == row["confidence"]
    assert has_decayed(plan, BeliefKind.PLAN, at) == (row["decayed"] == "yes")


def test_the_caveat_a_weakened_belief_rises_before_it_fades() -> None:
    support_days = 30
    occasions = with_evidence(
        said_daily(support_days), START + timedelta(days=support_days), against=1.0
    )
    values = []
    for row in TABLES["caveat"]:
        at = START + timedelta(days=support_days + int(row["days after the contradiction"]))
        value = confidence(occasions, BeliefKind.PREFERENCE, at)
        assert f"{value:.3f}" == row["confidence"]
        values.append(value)
    peak = values.index(max(values))
    assert 0 < peak < len(values) - 1  # not monotone: up, then down
