"""What the engine's calls return: plain validated records, serialisable as JSON."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from selfmodel.domain.models import Belief, BeliefEvent, Evidence, Observation


class _Result(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)


class ObserveResult(_Result):
    """Outcome of ``observe``: what was stored and how the self-model changed."""

    user_id: str
    new_observation_ids: list[str]
    duplicates: int = 0  # messages skipped because their id was already observed
    created: list[str] = Field(default_factory=list)  # belief ids
    reinforced: list[str] = Field(default_factory=list)
    contradicted: list[str] = Field(default_factory=list)
    superseded: list[str] = Field(default_factory=list)
    redactions: int = 0  # PII values redacted before storing
    # Set when observe(wait=False) queued the understanding: the belief lists above stay empty
    # until a worker has processed this job (see SelfModel.wait_for).
    job_id: str | None = None


class EvidenceDetail(_Result):
    """One evidence link with the observation it points to.

    ``observation`` is None once a retention policy has deleted the raw message: the evidence
    keeps the words it quotes (``evidence.quote``), so "why do you think that?" still answers.
    """

    evidence: Evidence
    observation: Observation | None = None

    @property
    def said(self) -> str:
        """The words the belief rests on: the quote, else the whole message."""
        if self.evidence.quote or self.observation is None:
            return self.evidence.quote or ""
        return self.observation.content

    @property
    def said_at(self) -> datetime:
        """When it was said; once the message is gone, when selfmodel linked it."""
        return self.observation.occurred_at if self.observation else self.evidence.created_at


class BeliefDetail(_Result):
    """A belief with everything needed to answer "why do you think that?"."""

    belief: Belief
    evidence: list[EvidenceDetail]
    history: list[BeliefEvent]


class BeliefUses(_Result):
    """How often a belief was part of a context block the product asked for: what it is used for,
    told from the traces (``SelfModel.belief_uses``)."""

    belief_id: str
    blocks: int  # context blocks that included it
    first: datetime | None = None
    last: datetime | None = None


class ContextItem(_Result):
    """One item chosen for a context block, and why."""

    id: str
    item_type: str  # "belief" or "observation"
    user_id: str
    text: str
    score: float
    tokens: int
    occurred_at: datetime
    confidence: float
    evidence_ids: list[str]  # observations this item covers
    signals: dict[str, float] = Field(default_factory=dict)
    reason: str = ""
    kind: str | None = None
    speaker: str | None = None


class ContextResult(_Result):
    """A prompt-ready block plus the structured items behind it and the trace that records it."""

    text: str
    items: list[ContextItem]
    tokens: int
    budget_tokens: int
    trace_id: str
    latency_ms: float
    config: dict[str, Any] = Field(default_factory=dict)
