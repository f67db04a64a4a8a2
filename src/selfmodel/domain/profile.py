"""The profile: the layer of the self-model above single beliefs, as a read shows it.

Single-valued facets with their current value, when it became true and what it replaced; the
people, pets and interests traits aggregate; what the person likes, values, aims for; how they
want to be answered; and the conflicts to ask them about. Built from the beliefs at read time
(``revision.profile``), never stored.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from selfmodel.domain.models import Belief, BeliefKind, Facet


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)


class FacetValue(_Record):
    """One value a facet held: the belief that says it, and when it held."""

    value: str
    statement: str
    belief_id: str
    confidence: float
    since: datetime | None = None
    until: datetime | None = None  # set on values that were replaced


class CurrentFacet(FacetValue):
    """A facet's current value and the values it replaced, newest first."""

    facet: Facet
    replaced: list[FacetValue] = Field(default_factory=list)


class ProfileItem(_Record):
    statement: str
    belief_id: str
    kind: BeliefKind
    confidence: float
    occasions: int  # distinct days of supporting evidence


class Conflict(_Record):
    """Two active beliefs that deny each other: a question for the user, not two truths."""

    belief: Belief
    against: Belief


class Profile(_Record):
    user_id: str
    name: str | None = None
    as_of: datetime
    facets: dict[Facet, CurrentFacet] = Field(default_factory=dict)
    people: list[ProfileItem] = Field(default_factory=list)
    pets: list[ProfileItem] = Field(default_factory=list)
    interests: list[ProfileItem] = Field(default_factory=list)
    likes: list[ProfileItem] = Field(default_factory=list)
    dislikes: list[ProfileItem] = Field(default_factory=list)
    values: list[ProfileItem] = Field(default_factory=list)
    goals: list[ProfileItem] = Field(default_factory=list)
    communication: list[ProfileItem] = Field(default_factory=list)
    conflicts: list[Conflict] = Field(default_factory=list)
    # Claims the user rejected that came back on another day in other words: held back from
    # every block until the user answers (confirm or reject).
    questions: list[ProfileItem] = Field(default_factory=list)
