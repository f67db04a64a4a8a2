"""Confidence from evidence counted by occasion, with diminishing returns and decay by kind.

The derivation, the curve and worked examples are in ``docs/confidence.md``. In short, a belief's
evidence is grouped by **occasion** (the day it was given in the user's world): saying a thing
five times in one conversation is one occasion, saying it on five days is five. Each occasion
contributes its strongest support and its strongest contradiction, in *statement units* (one
plain first-person statement in a message is 1.0), faded by the kind's half-life:

    S(now) = Σ_occasions support_o · 2^(-(now - t_o) / half_life[kind])
    C(now) = Σ_occasions against_o · 2^(-(now - t_o) / half_life[kind])

    confidence = CEILING · σ( logit(prior / CEILING) + GROWTH · ln(1 + S / UNIT_SCALE)
                                                   − AGAINST · ln(1 + C / UNIT_SCALE) )

The logarithm gives diminishing returns (the fourteenth occasion adds less than the second), the
ceiling keeps inference alone below 1.0, and as time passes without evidence the value slides
back to the kind's prior (monotonically when the evidence is all on one side).
Because confidence is a function of the occasions and the moment, it is computed at read time:
decay needs no job to happen.

A belief the user confirmed or wrote themselves is not subject to this: it sits at
``USER_CONFIRMED_CONFIDENCE`` and does not decay (the user has the last word).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from selfmodel.domain import (
    Belief,
    BeliefKind,
    BeliefOrigin,
    BeliefStatus,
    ObservationKind,
    Occasion,
)

SECONDS_PER_DAY = 86_400.0


@dataclass(frozen=True)
class KindPolicy:
    """How much a statement of this kind is believed with no evidence; how fast evidence fades."""

    prior: float
    half_life_days: float | None  # None: evidence never fades (it happened; it stays true)


# Priors sit below 0.5: an unsupported statement about a person is more likely wrong than right.
# Half-lives follow how long such things stay true of a person: identities and expertise for years,
# preferences for about a year, plans for weeks, moods for days. Experiences are dated facts about
# the past ("went camping in June 2023"): they do not stop being true, so they do not decay.
KIND_POLICIES: dict[BeliefKind, KindPolicy] = {
    BeliefKind.IDENTITY: KindPolicy(prior=0.35, half_life_days=5 * 365.0),
    BeliefKind.FACT: KindPolicy(prior=0.35, half_life_days=3 * 365.0),
    BeliefKind.EXPERTISE: KindPolicy(prior=0.35, half_life_days=3 * 365.0),
    BeliefKind.RELATIONSHIP: KindPolicy(prior=0.35, half_life_days=3 * 365.0),
    BeliefKind.VALUE: KindPolicy(prior=0.35, half_life_days=2 * 365.0),
    BeliefKind.EXPERIENCE: KindPolicy(prior=0.35, half_life_days=None),
    BeliefKind.PREFERENCE: KindPolicy(prior=0.35, half_life_days=365.0),
    BeliefKind.OPINION: KindPolicy(prior=0.35, half_life_days=365.0),
    BeliefKind.HABIT: KindPolicy(prior=0.35, half_life_days=180.0),
    BeliefKind.GOAL: KindPolicy(prior=0.35, half_life_days=180.0),
    BeliefKind.PLAN: KindPolicy(prior=0.35, half_life_days=60.0),
    BeliefKind.STATE: KindPolicy(prior=0.35, half_life_days=7.0),
}

# Statement units one piece of evidence is worth, by what kind of observation it came from: a
# plain first-person statement in a message is the unit. An explicit answer or a selection in the
# Mirror is the person saying "this is me" on purpose: worth six (0.81 on its own, short of a
# confirmation's 0.98); a logged event is indirect.
SOURCE_UNITS: dict[ObservationKind, float] = {
    ObservationKind.MESSAGE: 1.0,
    ObservationKind.EVENT: 0.7,
    ObservationKind.ANSWER: 6.0,
    ObservationKind.SELECTION: 6.0,
}
# What the extractor read between the lines (a past event, a sentence without "I") rather than
# what the user said about themselves outright counts this share of a unit.
INFERRED_SHARE = 0.8

# The curve. Solved so that one plain statement gives 0.60 and fourteen consistent occasions
# 0.87 (the published reference: 0.4 -> 0.85 after 14 observations), with a ceiling inference
# never passes, and so that one fresh contradiction takes fourteen occasions' 0.87 to 0.50 (a
# contradiction counts about twice a confirmation: people repeat what stays true and mention a
# change once). docs/confidence.md tabulates it; tests/test_confidence_curve.py recomputes it.
CEILING = 0.95
GROWTH = 0.7986
AGAINST = 1.7195
UNIT_SCALE = 0.35

USER_CONFIRMED_CONFIDENCE = 0.98
# A claim the user rejected that comes back in other words on another day is only a question
# for the Mirror: it never rises above this, whatever the evidence, until the user answers.
AFTER_REJECTION_CONFIDENCE = 0.3
USER_ORIGINS = (BeliefOrigin.CONFIRMED, BeliefOrigin.EDITED)
# An inferred belief whose support has faded below this share of its peak is marked decayed.
DECAYED_EVIDENCE_SHARE = 0.1


def logit(p: float) -> float:
    p = min(max(p, 1e-9), 1 - 1e-9)
    return math.log(p / (1 - p))


def sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def decay_factor(elapsed_s: float, half_life_days: float | None) -> float:
    """Share of evidence weight left after ``elapsed_s`` seconds (1.0 when it never fades)."""
    if half_life_days is None or elapsed_s <= 0:
        return 1.0
    return float(2.0 ** (-elapsed_s / (half_life_days * SECONDS_PER_DAY)))


def evidence_units(source: ObservationKind, strength: float, *, stated: bool) -> float:
    """Statement units of one piece of evidence: source × strength (× the inferred share)."""
    return SOURCE_UNITS[source] * strength * (1.0 if stated else INFERRED_SHARE)


def occasion_day(at: datetime) -> str:
    return at.date().isoformat()


def with_evidence(
    occasions: Iterable[Occasion], at: datetime, *, support: float = 0.0, against: float = 0.0
) -> tuple[Occasion, ...]:
    """``occasions`` with one more piece of evidence folded into the occasion (day) of ``at``.

    Within a day only the strongest support and the strongest contradiction count, so the result
    does not depend on how often, or in which order, the same day's evidence arrives.
    """
    day = occasion_day(at)
    by_day = {o.day: o for o in occasions}
    old = by_day.get(day)
    if old is None:
        by_day[day] = Occasion(day=day, at=at, support=support, against=against)
    else:
        by_day[day] = Occasion(
            day=day,
            at=max(old.at, at),
            support=max(old.support, support),
            against=max(old.against, against),
        )
    return tuple(by_day[d] for d in sorted(by_day))


def latest(occasions: Iterable[Occasion]) -> datetime | None:
    return max((o.at for o in occasions), default=None)


def masses(occasions: Iterable[Occasion], kind: BeliefKind, now: datetime) -> tuple[float, float]:
    """Support and contradiction, each faded to ``now`` by the kind's half-life."""
    half_life = KIND_POLICIES[kind].half_life_days
    support = against = 0.0
    for o in occasions:
        # An occasion fades from the start of its day: evidence given later that day moves
        # nothing (the same day's support and contradiction stay comparable).
        start = datetime.fromisoformat(o.day).replace(tzinfo=UTC)
        left = decay_factor((now - start).total_seconds(), half_life)
        support += o.support * left
        against += o.against * left
    return support, against


def evidence_logit(support: float, against: float) -> float:
    """Log-odds the evidence adds above the prior (before the ceiling)."""
    return GROWTH * math.log1p(support / UNIT_SCALE) - AGAINST * math.log1p(against / UNIT_SCALE)


def confidence(
    occasions: Iterable[Occasion], kind: BeliefKind, now: datetime | None = None
) -> float:
    """Confidence in [0, CEILING] from the evidence, as of ``now`` (default: latest evidence)."""
    occasions = tuple(occasions)
    moment = now or latest(occasions)
    if moment is None:
        return KIND_POLICIES[kind].prior
    prior = logit(KIND_POLICIES[kind].prior / CEILING)
    return CEILING * sigmoid(prior + evidence_logit(*masses(occasions, kind, moment)))


def has_decayed(occasions: Iterable[Occasion], kind: BeliefKind, now: datetime) -> bool:
    """True when the support has faded below ``DECAYED_EVIDENCE_SHARE`` of what it was."""
    occasions = tuple(occasions)
    at = latest(occasions)
    if at is None or KIND_POLICIES[kind].half_life_days is None:
        return False
    peak, _ = masses(occasions, kind, at)
    if peak <= 0:
        return False
    return masses(occasions, kind, now)[0] < peak * DECAYED_EVIDENCE_SHARE


def current_confidence(belief: Belief, now: datetime) -> float:
    """``belief``'s confidence as of ``now``: what every read shows (decay needs no job)."""
    if belief.origin in USER_ORIGINS or belief.status is BeliefStatus.REJECTED:
        return belief.confidence
    if not belief.occasions:
        return belief.confidence
    value = confidence(belief.occasions, belief.kind, now)
    if "after_rejection" in belief.metadata:
        value = min(value, AFTER_REJECTION_CONFIDENCE)
    return value


def decays_at(belief: Belief) -> datetime | None:
    """When ``belief`` counts as decayed if nothing new supports it (None: never).

    All of a belief's evidence fades at one rate, so its support falls below
    ``DECAYED_EVIDENCE_SHARE`` of the peak log2(1 / share) half-lives after the latest evidence.
    """
    half_life = KIND_POLICIES[belief.kind].half_life_days
    at = latest(belief.occasions)
    if belief.origin in USER_ORIGINS or half_life is None or at is None:
        return None
    return at + timedelta(days=half_life * math.log2(1 / DECAYED_EVIDENCE_SHARE))


def current_status(belief: Belief, now: datetime) -> BeliefStatus:
    """``belief``'s status as of ``now``: an active inferred belief whose evidence has faded
    is decayed at read time, whether or not ``decay()`` has recorded it yet."""
    if (
        belief.status is BeliefStatus.ACTIVE
        and belief.origin not in USER_ORIGINS
        and has_decayed(belief.occasions, belief.kind, now)
    ):
        return BeliefStatus.DECAYED
    return belief.status


def as_of(belief: Belief, now: datetime) -> Belief:
    """``belief`` as a read at ``now`` sees it (confidence and status)."""
    value, status = current_confidence(belief, now), current_status(belief, now)
    if value == belief.confidence and status is belief.status:
        return belief
    return belief.model_copy(update={"confidence": value, "status": status})


def support_occasions(occasions: Iterable[Occasion]) -> int:
    return sum(1 for o in occasions if o.support > 0)


def against_occasions(occasions: Iterable[Occasion]) -> int:
    return sum(1 for o in occasions if o.against > 0)
