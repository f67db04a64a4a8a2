"""What debugging a context call returns: the self-model as it was, a replay's diff, "why not X?"
and the lineage of an item (docs/debugging.md).

Two times are kept apart (bi-temporal). **Record time** is when selfmodel learnt or wrote
something — the store's own clock and each user's revision; "as of" a record time means "what had
been written by then". **Valid time** is the moment in the user's world a reading is for —
confidence fades and beliefs decay along it, and a trace's ``now`` is one. A question about the
past names both: what was known by record time T, read as of valid time V.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from selfmodel.domain.models import Belief, BeliefEvent, Observation
from selfmodel.domain.results import ContextItem, EvidenceDetail


class _Result(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)


class BeliefAsOf(_Result):
    """A belief as it stood, with the observations that supported and contradicted it then."""

    belief: Belief
    supported_by: list[str] = Field(default_factory=list)
    contradicted_by: list[str] = Field(default_factory=list)


class ModelAsOf(_Result):
    """A user's beliefs as they were: written by record time ``recorded_at`` (or by the user's
    ``revision``, which a trace records), with confidence and status read at valid time
    ``valid_at``."""

    user_id: str
    valid_at: datetime
    recorded_at: datetime | None = None
    revision: int | None = None
    trace_id: str | None = None
    beliefs: list[BeliefAsOf] = Field(default_factory=list)


class SignalChange(_Result):
    before: float | None = None
    after: float | None = None


class ItemChange(_Result):
    """One item of either block: where it stood before and after, and which signals moved."""

    id: str
    item_type: str
    text: str
    change: str  # "gained", "lost" or "kept"
    evidence_ids: list[str] = Field(default_factory=list)  # the observations it covers
    rank_before: int | None = None  # 1-based position in the block
    rank_after: int | None = None
    score_before: float | None = None
    score_after: float | None = None
    tokens_before: int | None = None
    tokens_after: int | None = None
    signals: dict[str, SignalChange] = Field(default_factory=dict)  # only those that changed


class ReplayResult(_Result):
    """A context call computed again against the self-model as it was, and how it differs.

    ``reproduced`` is true when every recorded field of the choice (candidates with their
    scores and signals, chosen items, covered moments, block text, tokens) came out identical;
    ``differences`` names the fields that did not.
    """

    trace_id: str
    config: dict[str, Any]  # what the replay ran under
    recorded_config: dict[str, Any]
    overrides: dict[str, Any] = Field(default_factory=dict)
    reproduced: bool
    differences: list[str] = Field(default_factory=list)
    # How items of the two blocks were matched: "id", or "evidence_and_text" when the
    # self-model was rebuilt under another extractor (its beliefs have new ids; a gained
    # belief's id is of the throwaway store).
    compared_by: str = "id"
    gained: list[str] = Field(default_factory=list)
    lost: list[str] = Field(default_factory=list)
    items: list[ItemChange] = Field(default_factory=list)
    chosen: list[ContextItem] = Field(default_factory=list)  # the replayed block's items
    tokens_before: int = 0
    tokens_after: int = 0
    text_before: str = ""
    text_after: str = ""
    model_version: dict[str, Any] = Field(default_factory=dict)


class Verdict(StrEnum):
    """Why an item is or is not in a trace's block."""

    CHOSEN = "chosen"
    NOT_IN_SCOPE = "not_in_scope"  # another user's, or another area's
    NOT_YET = "not_yet"  # did not exist (or was not yet indexed) when the call ran
    REJECTED = "rejected"
    SUPERSEDED = "superseded"
    DECAYED = "decayed"
    AWAITING_USER = "awaiting_user"  # came back after a rejection: held until the user answers
    WITHHELD = "withheld"  # a moment that only chats, or evidence of a rejected belief
    MOMENTS_OFF = "moments_off"  # the call asked the self-model alone
    NOT_PERSONALIZED = "not_personalized"  # an experiment's control: it read no self-model
    HELD_BY_BELIEF = "held_by_belief"  # a moment a current belief stands in for
    BELOW_POOL = "below_pool"  # scored, but under every candidate considered
    DIVERSITY = "diversity"  # too close to what was already chosen
    RANK_CUTOFF = "rank_cutoff"  # ranked below the number of items asked for
    BUDGET = "budget"  # ranked in, but its line did not fit the token budget


class WhyNot(_Result):
    """Why ``item_id`` was (not) in the block of ``trace_id``, with the figures behind it."""

    trace_id: str
    item_id: str
    item_type: str
    verdict: Verdict
    explanation: str
    details: dict[str, Any] = Field(default_factory=dict)


class Extraction(_Result):
    """Which extractor read the belief from an observation, at which version (and, for the LLM
    extractor, which prompt version), as the belief's history recorded it."""

    event_id: str
    event: str
    at: datetime
    observation_id: str | None = None
    extractor: str | None = None  # "name:version" as recorded
    name: str | None = None
    version: str | None = None
    prompt_version: str | None = None


class Lineage(_Result):
    """From an item of a block back to where it came from: the belief (as it was at the call
    and as it is now), every change in its history, its evidence, and the extractions."""

    trace_id: str
    item_id: str
    item_type: str
    observation: Observation | None = None  # the item itself, when it is a raw moment
    belief_then: Belief | None = None
    belief_now: Belief | None = None
    history: list[BeliefEvent] = Field(default_factory=list)
    evidence: list[EvidenceDetail] = Field(default_factory=list)
    extractions: list[Extraction] = Field(default_factory=list)
