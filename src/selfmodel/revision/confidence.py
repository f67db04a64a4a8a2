"""Confidence as accumulated log-odds of evidence, decaying toward a per-kind prior.

The full derivation and worked examples are in ``docs/confidence.md``. In short:

    confidence(now) = sigmoid(logit(prior[kind]) + Σ_i w_i · 2^(-(now - t_i) / half_life[kind]))

where each piece of evidence ``i`` observed at ``t_i`` contributes log-odds ``w_i`` (positive when
it supports the belief, negative when it contradicts it), scaled by how reliable its source is and
how strongly it was asserted. Because the sum of exponentially decaying terms can be folded into one
number at a reference time, a belief stores only ``(evidence_logit, reference time)`` and the result
is exactly the same whatever order the evidence arrives in.

A belief the user confirmed or wrote themselves is not subject to this: it sits at
``USER_CONFIRMED_CONFIDENCE`` and does not decay (the user has the last word).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from selfmodel.domain import BeliefKind, ObservationKind

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

# Log-odds one unhedged piece of evidence adds, by what kind of observation it came from.
# An explicit answer or a selection in the Mirror is deliberate: it outweighs chat.
SOURCE_WEIGHTS: dict[ObservationKind, float] = {
    ObservationKind.MESSAGE: 1.2,
    ObservationKind.EVENT: 0.8,
    ObservationKind.ANSWER: 2.5,
    ObservationKind.SELECTION: 2.5,
}
# Extra log-odds when the user said it about themselves outright ("I am…", "I love…").
STATED_BONUS = 0.6

USER_CONFIRMED_CONFIDENCE = 0.98
# An inferred belief whose evidence has faded below this share of its peak is marked decayed.
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


def evidence_weight(
    source: ObservationKind, strength: float, *, stated: bool = False, supports: bool = True
) -> float:
    """Log-odds one piece of evidence contributes: source weight (+ stated bonus) × strength."""
    magnitude = (SOURCE_WEIGHTS[source] + (STATED_BONUS if stated else 0.0)) * strength
    return magnitude if supports else -magnitude


@dataclass(frozen=True)
class EvidenceState:
    """Decayed sum of evidence log-odds, expressed at reference time ``at``."""

    logit_sum: float = 0.0
    at: datetime | None = None

    def add(self, weight: float, when: datetime, kind: BeliefKind) -> EvidenceState:
        """Fold in one more piece of evidence observed at ``when`` (any order gives one result)."""
        half_life = KIND_POLICIES[kind].half_life_days
        if self.at is None:
            return EvidenceState(weight, when)
        if when >= self.at:
            carried = self.logit_sum * decay_factor((when - self.at).total_seconds(), half_life)
            return EvidenceState(carried + weight, when)
        # Older evidence arriving late: decay it to our reference time instead.
        late = weight * decay_factor((self.at - when).total_seconds(), half_life)
        return EvidenceState(self.logit_sum + late, self.at)

    def logit_at(self, now: datetime, kind: BeliefKind) -> float:
        if self.at is None:
            return 0.0
        half_life = KIND_POLICIES[kind].half_life_days
        return self.logit_sum * decay_factor((now - self.at).total_seconds(), half_life)


def confidence(state: EvidenceState, kind: BeliefKind, now: datetime | None = None) -> float:
    """Confidence in [0, 1] given the evidence so far, as of ``now`` (default: last evidence)."""
    prior = logit(KIND_POLICIES[kind].prior)
    if now is None or state.at is None:
        return sigmoid(prior + state.logit_sum)
    return sigmoid(prior + state.logit_at(now, kind))


def has_decayed(state: EvidenceState, kind: BeliefKind, now: datetime) -> bool:
    """True when positive evidence has faded below ``DECAYED_EVIDENCE_SHARE`` of what it was."""
    if state.at is None or state.logit_sum <= 0:
        return False
    return state.logit_at(now, kind) < state.logit_sum * DECAYED_EVIDENCE_SHARE
