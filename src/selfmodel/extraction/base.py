"""The extraction interface: observations in, candidate beliefs about the speaker out.

Extractors only *propose*. Whether a candidate becomes a new belief, reinforces an existing one or
contradicts one is decided by the reviser (``selfmodel.revision``), the same way for every
extractor.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from selfmodel.domain import BeliefFrame, BeliefKind, BeliefOrigin, Observation


class CandidateBelief(BaseModel):
    """A belief an extractor proposes, citing the observation (and span) it came from."""

    model_config = ConfigDict(frozen=True)

    statement: str = Field(min_length=1, description="Third-person statement about the subject.")
    kind: BeliefKind
    observation_id: str
    # How strongly the text asserts the statement, in (0, 1]: 1 for a plain assertion, lower for
    # hedged speech ("I think", "maybe"). The reviser scales the evidence weight by it.
    strength: float = Field(default=1.0, gt=0.0, le=1.0)
    origin: BeliefOrigin = BeliefOrigin.INFERRED
    # The affirmative claim this candidate negates, when the text signals a negation or a change
    # ("I no longer eat meat" -> contradicts "X eats meat"). The reviser looks for beliefs like it.
    contradicts: str | None = None
    # What the statement asserts in comparable parts: polarity, facet, topics, people and pets.
    frame: BeliefFrame = Field(default_factory=BeliefFrame)
    span_start: int | None = None
    span_end: int | None = None
    quote: str | None = None
    # When the statement became true in the user's world, if the text says (dates resolved).
    valid_from: datetime | None = None
    # "name:version" of the extractor that proposed it (recorded in the belief's history).
    extractor: str | None = None


class ExtractionRequest(BaseModel):
    """One observation to read, and the name of the person it is about (the speaker).

    ``preceding`` holds what was said just before in the same conversation (any speaker, oldest
    first): what "it", "that one" or "the second one" refer to is often there.
    """

    model_config = ConfigDict(frozen=True)

    observation: Observation
    subject: str
    preceding: tuple[Observation, ...] = ()


class Extractor(ABC):
    """Reads observations and proposes candidate beliefs about their subjects."""

    #: A short stable name recorded with every belief event ("local", "llm").
    name: str = "extractor"
    #: Bumped whenever the rules/prompts change, so traces and benchmarks say which produced what.
    version: str = "0"

    @abstractmethod
    def extract(self, requests: Sequence[ExtractionRequest]) -> list[CandidateBelief]:
        """Propose candidate beliefs for a batch of observations (any order, any number each)."""
