"""How personal context blocks are: the records of a personalization report (the metrics are
computed by ``selfmodel.evaluation.personalization``; docs/experiments.md defines them)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

DEFAULT_DAYS = 30.0
# Enough to personalise: three beliefs more likely right than wrong (one plain statement gives
# about 0.6, docs/confidence.md; the prior is 0.35).
DEFAULT_MIN_BELIEFS = 3
DEFAULT_MIN_CONFIDENCE = 0.5
# A belief offered this many times in answers that reported their use, and never used, is idle.
DEFAULT_MIN_OFFERS = 3


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True)


class VariantPersonalization(_Record):
    """Specificity and distinctiveness of the blocks given under one variant."""

    variant: str  # "experiment:variant", or "-" for calls under no experiment
    traces: int
    specificity: float  # mean over the blocks
    empty_blocks: int
    queries_compared: int  # queries asked for two users or more
    distinctiveness: float | None  # mean over those queries (None: none)


class UncoveredUser(_Record):
    user: str
    confident_beliefs: int


class Coverage(_Record):
    active_users: int
    covered: int
    share: float | None
    below: list[UncoveredUser] = Field(default_factory=list)  # fewest confident beliefs first


class IdleBelief(_Record):
    belief_id: str
    user: str
    text: str
    offered: int
    tokens: int


class BeliefUse(_Record):
    reported_traces: int  # traces whose answer reported the items it used
    offered: int  # belief items in those traces' blocks
    used: int
    use_rate: float | None
    idle: list[IdleBelief] = Field(default_factory=list)  # most tokens first


class PersonalizationReport(_Record):
    start: datetime
    end: datetime
    variants: list[VariantPersonalization]
    coverage: Coverage
    belief_use: BeliefUse


__all__ = [
    "DEFAULT_DAYS",
    "DEFAULT_MIN_BELIEFS",
    "DEFAULT_MIN_CONFIDENCE",
    "DEFAULT_MIN_OFFERS",
    "BeliefUse",
    "Coverage",
    "IdleBelief",
    "PersonalizationReport",
    "UncoveredUser",
    "VariantPersonalization",
]
