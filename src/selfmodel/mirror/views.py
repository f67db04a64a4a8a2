"""What the Mirror's pages show, in the person's language: sections, labels, a readable timeline.

Pure functions from engine records to small view records; the templates only lay them out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from selfmodel.domain import (
    Belief,
    BeliefDetail,
    BeliefEvent,
    BeliefEventType,
    BeliefKind,
    BeliefOrigin,
    BeliefStatus,
    EvidenceStance,
)

# Sections in the order a person reads about themselves: who they are before what they did.
KIND_SECTIONS: dict[BeliefKind, str] = {
    BeliefKind.IDENTITY: "Who you are",
    BeliefKind.VALUE: "What matters to you",
    BeliefKind.GOAL: "What you're working towards",
    BeliefKind.PLAN: "Your plans",
    BeliefKind.PREFERENCE: "What you like",
    BeliefKind.HABIT: "Your habits",
    BeliefKind.EXPERTISE: "What you know",
    BeliefKind.EXPERIENCE: "What you've done",
    BeliefKind.RELATIONSHIP: "People in your life",
    BeliefKind.OPINION: "Your opinions",
    BeliefKind.STATE: "How you've been",
    BeliefKind.FACT: "Other things about you",
}
# Singular names for the kind picker of the "add" form.
KIND_NAMES: dict[BeliefKind, str] = {
    BeliefKind.FACT: "Something about me",
    BeliefKind.IDENTITY: "Who I am",
    BeliefKind.VALUE: "Something I value",
    BeliefKind.GOAL: "A goal",
    BeliefKind.PLAN: "A plan",
    BeliefKind.PREFERENCE: "A preference",
    BeliefKind.HABIT: "A habit",
    BeliefKind.EXPERTISE: "Something I know",
    BeliefKind.EXPERIENCE: "Something I did",
    BeliefKind.RELATIONSHIP: "Someone in my life",
    BeliefKind.OPINION: "An opinion",
    BeliefKind.STATE: "How I am lately",
}
ORIGIN_LABELS: dict[BeliefOrigin, str] = {
    BeliefOrigin.INFERRED: "Inferred",
    BeliefOrigin.STATED: "You said so",
    BeliefOrigin.CONFIRMED: "Confirmed by you",
    BeliefOrigin.REJECTED: "Rejected by you",
    BeliefOrigin.EDITED: "In your words",
}
STATUS_LABELS: dict[BeliefStatus, str] = {
    BeliefStatus.ACTIVE: "Current",
    BeliefStatus.SUPERSEDED: "No longer true",
    BeliefStatus.REJECTED: "Not you",
    BeliefStatus.DECAYED: "Faded",
}
# Confidence bands for the words beside the bar (the bar itself shows the exact value).
HIGH_CONFIDENCE = 0.8
MEDIUM_CONFIDENCE = 0.5

# One sentence per event, with the belief's statement quoted.
EVENT_SENTENCES: dict[BeliefEventType, str] = {
    BeliefEventType.CREATED: "Started believing",
    BeliefEventType.REINFORCED: "Found more evidence that",
    BeliefEventType.WEAKENED: "Became less sure that",
    BeliefEventType.CONTRADICTED: "Heard something that contradicts",
    BeliefEventType.SUPERSEDED: "No longer holds",
    BeliefEventType.CONFIRMED: "You confirmed",
    BeliefEventType.REJECTED: "You said this isn't you",
    BeliefEventType.EDITED: "You reworded",
    BeliefEventType.DECAYED: "Faded with time",
    BeliefEventType.FORGOTTEN: "Forgot",
}
CAUSE_LABELS = {
    "user": "by you",
    "observation": "from a conversation",
    "decay": "over time",
    "revision": "on review",
}
# What the page says after each action (the notice codes are the only thing read from the URL).
NOTICES = {
    "confirmed": "Thanks — marked as true of you.",
    "rejected": "Got it — this won't be used any more.",
    "edited": "Saved in your words.",
    "outdated": "Marked as no longer true.",
    "added": "Added in your words.",
    "answered": "Thanks — your answers were recorded.",
    "dismissed": "Thanks — noted that none of those fit you.",
    "nothing": "Those cards were already answered, so nothing changed.",
}


@dataclass(frozen=True)
class Quote:
    text: str
    at: datetime
    supports: bool
    source: str | None


@dataclass(frozen=True)
class BeliefView:
    """One belief as a card: statement, confidence, origin, why, and what happened to it."""

    id: str
    statement: str
    kind: BeliefKind
    status: BeliefStatus
    percent: int
    level: str
    origin: str
    status_label: str
    since: datetime | None
    quotes: list[Quote]
    history: list[EventView]

    @property
    def active(self) -> bool:
        return self.status == BeliefStatus.ACTIVE


@dataclass(frozen=True)
class EventView:
    at: datetime
    verb: str
    statement: str
    detail: str
    cause: str
    belief_id: str
    type: BeliefEventType


@dataclass(frozen=True)
class Section:
    kind: BeliefKind
    title: str
    beliefs: list[BeliefView] = field(default_factory=list)


def confidence_level(value: float) -> str:
    if value >= HIGH_CONFIDENCE:
        return "high"
    if value >= MEDIUM_CONFIDENCE:
        return "medium"
    return "low"


def event_view(event: BeliefEvent, statement: str) -> EventView:
    detail = ""
    if event.type == BeliefEventType.EDITED and event.details.get("previous"):
        detail = f"was “{event.details['previous']}”"
    elif event.details.get("negation"):
        detail = f"because: “{event.details['negation']}”"
    return EventView(
        at=event.at,
        verb=EVENT_SENTENCES.get(event.type, event.type.value.capitalize()),
        statement=statement,
        detail=detail,
        cause=CAUSE_LABELS.get(event.cause, event.cause),
        belief_id=event.belief_id,
        type=event.type,
    )


def belief_view(detail: BeliefDetail) -> BeliefView:
    b = detail.belief
    quotes = [
        Quote(
            text=d.evidence.quote or d.observation.content,
            at=d.observation.occurred_at,
            supports=d.evidence.stance == EvidenceStance.SUPPORTS,
            source=d.observation.source,
        )
        for d in sorted(detail.evidence, key=lambda d: d.observation.occurred_at, reverse=True)
    ]
    return BeliefView(
        id=b.id,
        statement=b.statement,
        kind=b.kind,
        status=b.status,
        percent=round(b.confidence * 100),
        level=confidence_level(b.confidence),
        origin=ORIGIN_LABELS[b.origin],
        status_label=STATUS_LABELS[b.status],
        since=b.valid_from,
        quotes=quotes,
        history=[event_view(e, b.statement) for e in reversed(detail.history)],
    )


def sections(views: Sequence[BeliefView]) -> list[Section]:
    """Current beliefs grouped by kind, in reading order; most confident first in each."""
    grouped = {kind: Section(kind, title) for kind, title in KIND_SECTIONS.items()}
    for view in views:
        if view.active:
            grouped[view.kind].beliefs.append(view)
    for section in grouped.values():
        section.beliefs.sort(key=lambda v: -v.percent)
    return [s for s in grouped.values() if s.beliefs]


def timeline(events: Sequence[BeliefEvent], beliefs: Sequence[Belief]) -> list[EventView]:
    """Events newest first, each quoting its belief's current statement."""
    statements = {b.id: b.statement for b in beliefs}
    return [event_view(e, statements.get(e.belief_id, "")) for e in events]


__all__ = [
    "KIND_NAMES",
    "KIND_SECTIONS",
    "NOTICES",
    "BeliefView",
    "EventView",
    "Quote",
    "Section",
    "belief_view",
    "confidence_level",
    "sections",
    "timeline",
]
