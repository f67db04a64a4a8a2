"""What the Mirror's pages show, in the person's language: sections, labels, a readable timeline.

Pure functions from engine records to small view records; the templates only lay them out. Every
statement is said to the person ("You love hiking", ``voice``), never about them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
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
    Facet,
    ResonanceCard,
    Role,
    User,
)
from selfmodel.domain.profile import Conflict, Profile, ProfileItem
from selfmodel.engine.understanding import NEUTRAL_SUBJECT
from selfmodel.mirror.voice import first_person, second_person

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
    "traits": "from several conversations",
}
# What the page says after each action (the notice codes are the only thing read from the URL).
NOTICES = {
    "confirmed": "Thanks — marked as true of you.",
    "rejected": "Got it — this won't be used any more.",
    "settled": "Thanks — we'll go by what's true now and set the other aside.",
    "edited": "Saved in your words.",
    "outdated": "Marked as no longer true.",
    "added": "Added in your words.",
    "answered": "Thanks — your answers were recorded.",
    "dismissed": "Thanks — noted that none of those fit you.",
    "nothing": "Those cards were already answered, so nothing changed.",
}


# "About you": the profile's facets in the order a person introduces themselves.
FACET_LABELS: dict[Facet, str] = {
    Facet.RESIDENCE: "Where you live",
    Facet.OCCUPATION: "What you do",
    Facet.EMPLOYER: "Where you work",
    Facet.RELATIONSHIP_STATUS: "Your relationship",
    Facet.DIET: "How you eat",
}
# Each list of "About you" shows this many things at most: enough to recognise yourself.
ABOUT_ITEMS = 6


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
    statement: str  # said to the person: "You love hiking"
    wording: str  # as the person would say it, for them to reword: "I love hiking"
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


@dataclass(frozen=True)
class CardView:
    """A resonance card to tick, its statement said to the person."""

    id: str
    statement: str


@dataclass(frozen=True)
class FactView:
    """A facet's current value, since when, and the values it replaced (newest first)."""

    label: str
    value: str
    since: datetime | None
    before: list[str]
    belief_id: str


@dataclass(frozen=True)
class ItemView:
    statement: str
    belief_id: str


@dataclass(frozen=True)
class ListView:
    key: str
    title: str
    items: list[ItemView]


@dataclass(frozen=True)
class QuestionView:
    """Two things the person said that deny each other, asked back: which is true now?"""

    text: str
    sides: tuple[ItemView, ItemView]  # said first, said later

    @property
    def answers(self) -> tuple[tuple[ItemView, ItemView], ...]:
        """Each side with the one it settles against: (true now, over)."""
        first, later = self.sides
        return ((first, later), (later, first))


@dataclass(frozen=True)
class RaisedAgainView:
    """A claim the person rejected that came back in other words, asked back: is it you now?"""

    text: str
    statement: str  # the new belief, said to the person
    belief_id: str


@dataclass(frozen=True)
class AboutView:
    """The "About you" section: the profile, said to the person."""

    facts: list[FactView]
    lists: list[ListView]
    questions: list[QuestionView]
    raised_again: list[RaisedAgainView] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.facts or self.lists or self.questions or self.raised_again)


def person_names(user: User, details: Iterable[BeliefDetail]) -> tuple[str, ...]:
    """What statements may call the person: their display name, the name they spoke under
    (statements written before a display name was known use it), or "The user"."""
    names = {NEUTRAL_SUBJECT, NEUTRAL_SUBJECT.lower()}
    if user.display_name:
        names.add(user.display_name)
    for detail in details:
        for link in detail.evidence:
            observation = link.observation  # None once a retention policy deleted it
            if observation and observation.speaker and observation.role is Role.USER:
                names.add(observation.speaker)
    return tuple(sorted(names))


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


def belief_view(detail: BeliefDetail, names: Sequence[str]) -> BeliefView:
    b = detail.belief
    statement = second_person(b.statement, names)
    quotes = [
        Quote(
            text=d.said,
            at=d.said_at,
            supports=d.evidence.stance == EvidenceStance.SUPPORTS,
            source=d.observation.source if d.observation else None,
        )
        for d in sorted(detail.evidence, key=lambda d: d.said_at, reverse=True)
    ]
    return BeliefView(
        id=b.id,
        statement=statement,
        wording=first_person(b.statement, names),
        kind=b.kind,
        status=b.status,
        percent=round(b.confidence * 100),
        level=confidence_level(b.confidence),
        origin=ORIGIN_LABELS[b.origin],
        status_label=STATUS_LABELS[b.status],
        since=b.valid_from,
        quotes=quotes,
        history=[event_view(e, statement) for e in reversed(detail.history)],
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


def timeline(
    events: Sequence[BeliefEvent], beliefs: Sequence[Belief], names: Sequence[str]
) -> list[EventView]:
    """Events newest first, each quoting its belief's current statement."""
    statements = {b.id: second_person(b.statement, names) for b in beliefs}
    return [event_view(e, statements.get(e.belief_id, "")) for e in events]


def resonance_cards(cards: Sequence[ResonanceCard], names: Sequence[str]) -> list[CardView]:
    return [CardView(c.id, second_person(c.statement, names)) for c in cards]


def about(
    profile: Profile, names: Sequence[str], beliefs: Mapping[str, Belief] | None = None
) -> AboutView:
    """The profile as "About you": facets, people, pets, interests, how to answer, questions.

    ``beliefs`` (the person's beliefs by id, any status) names the rejected claim each claim
    raised again echoes.
    """
    facts = []
    for facet, label in FACET_LABELS.items():
        current = profile.facets.get(facet)
        if current is None:
            continue
        seen = {current.value.lower()}
        before: list[str] = []
        for old in current.replaced:  # a value held twice (Leeds, Oslo, Leeds) is named once
            if old.value.lower() not in seen:
                seen.add(old.value.lower())
                before.append(old.value)
        facts.append(
            FactView(label, _capitalised(current.value), current.since, before, current.belief_id)
        )
    # What is in question is asked below, not stated as known.
    asked = {b.id for c in profile.conflicts for b in (c.belief, c.against)}
    into = {i.belief_id: i for i in [*profile.interests, *profile.likes]}
    lists = []
    for key, title, items in (
        ("people", "People in your life", profile.people),
        ("pets", "Your pets", profile.pets),
        ("into", "What you're into", list(into.values())),
        ("answers", "How you like to be answered", profile.communication),
    ):
        shown = [_item(i, names) for i in items if i.belief_id not in asked]
        if key == "into":
            # A like said of someone else ("Your dog Biscuit loves the beach") is not yours.
            shown = [i for i in shown if i.statement.partition(" ")[0] == "You"]
        shown = shown[:ABOUT_ITEMS]
        if shown:
            lists.append(ListView(key, title, shown))
    known = beliefs or {}
    return AboutView(
        facts,
        lists,
        [question(c, names) for c in profile.conflicts],
        [raised_again(i, known, names) for i in profile.questions],
    )


def question(conflict: Conflict, names: Sequence[str]) -> QuestionView:
    """A conflict asked back: "You said you like jazz, and later that you don't — which is
    true now?", with the two beliefs to confirm or reject."""
    first, later = sorted(
        (conflict.belief, conflict.against), key=lambda b: (b.valid_from or b.created_at, b.id)
    )
    said, then = (second_person(b.statement, names) for b in (first, later))
    text = f"You said {_clause(said)}, and later that {_clause(_elided(then, said))}"
    return QuestionView(
        text=f"{text} — which is true now?",
        sides=(ItemView(said, first.id), ItemView(then, later.id)),
    )


def raised_again(
    item: ProfileItem, beliefs: Mapping[str, Belief], names: Sequence[str]
) -> RaisedAgainView:
    """A claim raised again after a rejection, asked back: "You told us “You are a huge fan of
    heavy metal” wasn't you. Recently you said your favourite music is heavy metal — is it you
    now?" The rejected claim is quoted as the Mirror showed it when the person said "Not me"; the
    new one is quoted too unless it starts with "You" (a capital mid-sentence could be a name)."""
    said = second_person(item.statement, names)
    raised = beliefs.get(item.belief_id)
    rejected_id = raised.metadata.get("after_rejection") if raised else None
    rejected = beliefs.get(rejected_id) if isinstance(rejected_id, str) else None
    if rejected is None:  # not known to the caller: still ask, without quoting it
        before = "You told us something like this wasn't you."
    else:
        before = f"You told us “{second_person(rejected.statement, names)}” wasn't you."
    return RaisedAgainView(
        text=f"{before} Recently you said {_reported(said)} — is it you now?",
        statement=said,
        belief_id=item.belief_id,
    )


def _item(item: ProfileItem, names: Sequence[str]) -> ItemView:
    return ItemView(second_person(item.statement, names), item.belief_id)


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def _clause(statement: str) -> str:
    """A statement inside a sentence: "You like jazz" -> "you like jazz" (names keep capitals)."""
    first, _, rest = statement.partition(" ")
    if first in ("You", "Your"):
        return f"{first.lower()} {rest}".rstrip()
    return statement


def _reported(statement: str) -> str:
    """What the person said, inside a sentence: a clause when it is about "you", else quoted."""
    clause = _clause(statement)
    return clause if clause != statement else f"“{statement}”"


def _elided(later: str, first: str) -> str:
    """``later`` without what it repeats of ``first``: "You don't like jazz" -> "You don't"."""
    subject, _, predicate = first.partition(" ")
    kept = later.removesuffix(f" {predicate}")
    if predicate and kept != later and kept.startswith(f"{subject} ") and kept != subject:
        return kept
    return later


__all__ = [
    "FACET_LABELS",
    "KIND_NAMES",
    "KIND_SECTIONS",
    "NOTICES",
    "AboutView",
    "BeliefView",
    "CardView",
    "EventView",
    "FactView",
    "ItemView",
    "ListView",
    "QuestionView",
    "Quote",
    "RaisedAgainView",
    "Section",
    "about",
    "belief_view",
    "confidence_level",
    "person_names",
    "question",
    "raised_again",
    "resonance_cards",
    "sections",
    "timeline",
]
