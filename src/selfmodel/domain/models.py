"""Workspaces, users, areas, observations, beliefs, evidence and belief history.

These are plain validated records (pydantic). Behaviour lives in the engine, the reviser and the
retriever; storage maps these records to rows.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field


class Role(StrEnum):
    """Who produced an observation. Only ``user`` observations are evidence about the user."""

    USER = "user"
    ASSISTANT = "assistant"
    SYSTEM = "system"
    OTHER = "other"


class ObservationKind(StrEnum):
    MESSAGE = "message"
    EVENT = "event"
    ANSWER = "answer"  # an explicit answer to a question the product asked
    SELECTION = "selection"  # the user picked a statement (e.g. a resonance card)


class BeliefKind(StrEnum):
    PREFERENCE = "preference"
    GOAL = "goal"
    PLAN = "plan"
    EXPERIENCE = "experience"
    EXPERTISE = "expertise"
    VALUE = "value"
    OPINION = "opinion"
    IDENTITY = "identity"
    RELATIONSHIP = "relationship"
    HABIT = "habit"
    STATE = "state"  # moods and temporary conditions: decay fastest
    FACT = "fact"  # other stable facts about the person (where they live, what they own)


class BeliefOrigin(StrEnum):
    INFERRED = "inferred"  # derived by an extractor from what the user said or did
    STATED = "stated"  # the user said it about themselves, explicitly
    CONFIRMED = "confirmed"  # the user confirmed it ("this is me")
    REJECTED = "rejected"  # the user rejected it ("not me")
    EDITED = "edited"  # the user rewrote it (or wrote it in their own words)


class BeliefStatus(StrEnum):
    ACTIVE = "active"
    SUPERSEDED = "superseded"
    REJECTED = "rejected"
    DECAYED = "decayed"


class EvidenceStance(StrEnum):
    SUPPORTS = "supports"
    CONTRADICTS = "contradicts"


class BeliefEventType(StrEnum):
    CREATED = "created"
    REINFORCED = "reinforced"
    WEAKENED = "weakened"
    CONTRADICTED = "contradicted"
    SUPERSEDED = "superseded"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    EDITED = "edited"
    DECAYED = "decayed"
    FORGOTTEN = "forgotten"


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, use_enum_values=False, defer_build=True)


class Workspace(_Record):
    id: str
    name: str
    created_at: datetime
    settings: dict[str, Any] = Field(default_factory=dict)


class User(_Record):
    id: str
    workspace_id: str
    external_id: str
    created_at: datetime
    display_name: str | None = None


class Area(_Record):
    """Where interactions happen (an app surface, a topic, a project): ``area=`` in the API.

    Called ``Context`` before "context" came to mean only the block handed to the model; the
    storage layer still names it so (table ``contexts``, column ``context_id``).
    """

    id: str
    workspace_id: str
    name: str
    created_at: datetime


class Observation(_Record):
    """Immutable evidence: something the user (or someone in the conversation) said or did."""

    id: str
    workspace_id: str
    user_id: str
    content: str
    occurred_at: datetime  # when it happened in the user's world
    recorded_at: datetime  # when selfmodel learnt it
    kind: ObservationKind = ObservationKind.MESSAGE
    role: Role = Role.USER
    speaker: str | None = None  # the name of whoever spoke, as the product knows it
    source: str | None = None  # e.g. "chat", "locomo:26", "mirror"
    area_id: str | None = None  # where it happened (an Area); None: nowhere in particular
    external_id: str | None = None  # the caller's id; re-observing it changes nothing
    metadata: dict[str, Any] = Field(default_factory=dict)


class Evidence(_Record):
    """A link between a belief and an observation that supports or contradicts it."""

    belief_id: str
    observation_id: str
    stance: EvidenceStance
    weight: float  # log-odds this piece of evidence contributed
    created_at: datetime
    span_start: int | None = None  # character span of the observation the belief came from
    span_end: int | None = None
    quote: str | None = None


class Related(_Record):
    """Someone or some animal in the person's life, as a statement mentions them."""

    relation: str  # "husband", "daughter", "friend", "dog"
    name: str | None = None
    species: str | None = None  # pets: "dog", "cat"; people: None


class Facet(StrEnum):
    """Single-valued attributes: a person has one value at a time, so a new one replaces the old."""

    NAME = "name"
    RESIDENCE = "residence"
    EMPLOYER = "employer"
    OCCUPATION = "occupation"
    RELATIONSHIP_STATUS = "relationship_status"
    DIET = "diet"


class BeliefFrame(_Record):
    """What a statement asserts, in parts the reviser can compare without reading the words.

    Two statements can differ in every word and still be about one thing ("moved to Leeds" and
    "home is now Leeds" set the same facet); two can share most words and deny each other
    ("likes running" and "doesn't like running anymore"). See docs/extraction.md.
    """

    negated: bool = False  # the statement denies something ("doesn't eat meat")
    change: bool = False  # it reports a change ("no longer", "quit", "anymore", "now")
    facet: Facet | None = None  # the single-valued attribute it sets
    value: str | None = None  # the facet's value ("Edinburgh"), or what a change leaves behind
    topics: tuple[str, ...] = ()  # lemmas of what it is about ("painting", "coffee")
    interests: tuple[str, ...] = ()  # what it shows the person likes or does for its own sake
    related: tuple[Related, ...] = ()  # people and pets it names
    domain: str | None = None  # what a preference governs, when known: "communication"
    trait: str | None = None  # set on traits: the key of what they aggregate
    # Set on a stance toward someone the person talks with ("encourages:Jon"): read from how they
    # talk on many occasions, it sums those moments up as a trait does (extraction/stance.py).
    stance: str | None = None
    # A liking said to have taken another's place ("I'm more into cycling now", "I've switched
    # to tea"): it ends the likings of the same kind it names no more (see revision.reviser).
    displaces: bool = False


class Occasion(_Record):
    """The evidence of one day for a belief: repeating a sentence that day adds nothing."""

    day: str  # ISO date of the evidence in the user's world
    at: datetime  # the latest moment of that day's evidence
    support: float = 0.0  # strongest support that day, in statement units (docs/confidence.md)
    against: float = 0.0  # strongest contradiction that day


class Belief(_Record):
    """A statement about the user with confidence, origin, status, validity and evidence."""

    id: str
    workspace_id: str
    user_id: str
    statement: str
    kind: BeliefKind
    confidence: float = Field(ge=0.0, le=1.0)
    origin: BeliefOrigin
    status: BeliefStatus
    created_at: datetime
    updated_at: datetime
    area_id: str | None = None  # the Area it is scoped to; None: global to the user
    valid_from: datetime | None = None
    valid_to: datetime | None = None  # set when superseded / outdated
    # Accumulated log-odds of evidence above the kind's prior (see docs/confidence.md).
    evidence_logit: float = 0.0
    last_evidence_at: datetime | None = None  # occurred_at of the newest evidence (drives decay)
    support_count: int = 0
    contradict_count: int = 0
    superseded_by: str | None = None
    frame: BeliefFrame = Field(default_factory=BeliefFrame)
    # Evidence per occasion (day), from which confidence is computed at any moment.
    occasions: tuple[Occasion, ...] = ()
    metadata: dict[str, Any] = Field(default_factory=dict)


class BeliefEvent(_Record):
    """One append-only entry of a belief's history, with its cause."""

    id: str
    workspace_id: str
    user_id: str
    belief_id: str
    type: BeliefEventType
    at: datetime
    cause: str  # "observation", "user", "decay", "revision", ...
    observation_id: str | None = None
    confidence_before: float | None = None
    confidence_after: float | None = None
    details: dict[str, Any] = Field(default_factory=dict)


# Old names, importable for one release (selfmodel.deprecation).
_RENAMED = {"Context": "Area"}


def __getattr__(name: str) -> Any:
    from selfmodel.deprecation import renamed_attribute

    return renamed_attribute(__name__, name, _RENAMED, globals())


if TYPE_CHECKING:
    Context = Area
