"""What the Mirror's pages show, in the person's language: sections, labels, a readable timeline.

Pure functions from engine records to small view records; the templates only lay them out. Every
statement is said to the person ("You love hiking", ``voice``), never about them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from selfmodel.domain import (
    Belief,
    BeliefDetail,
    BeliefEvent,
    BeliefEventType,
    BeliefKind,
    BeliefOrigin,
    BeliefStatus,
    Facet,
    Observation,
    ObservationKind,
    ResonanceCard,
    Role,
    User,
)
from selfmodel.domain.profile import Conflict, Profile, ProfileItem
from selfmodel.engine.understanding import NEUTRAL_SUBJECT
from selfmodel.mirror.story import SOURCE_WORDS, happened_at, observations_of, quotes_for
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
    BeliefOrigin.INFERRED: "We inferred this",
    BeliefOrigin.STATED: "You said so",
    BeliefOrigin.CONFIRMED: "You confirmed this",
    BeliefOrigin.REJECTED: "You said this isn't you",
    BeliefOrigin.EDITED: "In your own words",
}
# A belief the person stated by picking a card (or answering a check-in) in the Mirror.
PICKED_LABEL = "You picked this"
STATUS_LABELS: dict[BeliefStatus, str] = {
    BeliefStatus.ACTIVE: "Current",
    BeliefStatus.SUPERSEDED: "No longer true",
    BeliefStatus.REJECTED: "Not you",
    BeliefStatus.DECAYED: "Faded",
}
# Confidence bands for the words beside the bar (the bar itself shows the exact value).
HIGH_CONFIDENCE = 0.8
MEDIUM_CONFIDENCE = 0.5

# One sentence per event, with the belief's statement quoted. The person's own actions name them
# as the subject ("You confirmed"); the others say what the model did.
EVENT_SENTENCES: dict[BeliefEventType, str] = {
    BeliefEventType.CREATED: "Started believing",
    BeliefEventType.REINFORCED: "Heard again",
    BeliefEventType.WEAKENED: "Became less sure",
    BeliefEventType.CONTRADICTED: "Heard something against",
    BeliefEventType.SUPERSEDED: "No longer holds",
    BeliefEventType.CONFIRMED: "You confirmed",
    BeliefEventType.REJECTED: "You said this isn't you",
    BeliefEventType.EDITED: "You reworded",
    BeliefEventType.DECAYED: "Faded with time",
    BeliefEventType.FORGOTTEN: "Forgot",
}
USER_SENTENCES: dict[BeliefEventType, str] = {
    BeliefEventType.CREATED: "You wrote",
    BeliefEventType.REINFORCED: "You said this is still you",
    BeliefEventType.SUPERSEDED: "You said this no longer holds",
}
# Where a change came from, when it was not the person acting here (their actions say "You").
CAUSE_LABELS = {
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
    "still-you": "Thanks — noted that this is still you.",
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
# Each group of beliefs below the first screen shows this many until "show more".
SECTION_ITEMS = 3
# "What changed recently": this many changes of the last this many days.
RECENT_ITEMS = 5
RECENT_DAYS = 30
RECENT_TYPES = frozenset(
    {
        BeliefEventType.CREATED,
        BeliefEventType.SUPERSEDED,
        BeliefEventType.CONFIRMED,
        BeliefEventType.REJECTED,
        BeliefEventType.EDITED,
        BeliefEventType.DECAYED,
        BeliefEventType.CONTRADICTED,
    }
)


@dataclass(frozen=True)
class Quote:
    text: str
    at: datetime  # when it was said, in the person's world
    recorded: datetime  # when selfmodel recorded it
    supports: bool
    where: str  # "in a conversation", "in your answer here in the Mirror"

    @property
    def late(self) -> bool:
        return self.recorded.date() != self.at.date()


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
    score: float  # confidence × evidence: the order within a group

    @property
    def active(self) -> bool:
        return self.status == BeliefStatus.ACTIVE


@dataclass(frozen=True)
class EventView:
    at: datetime  # when it happened in the person's world
    recorded: datetime
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
    hidden: int = 0  # how many more there are behind "show more"


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

    @property
    def belief_ids(self) -> set[str]:
        """The beliefs "About you" shows (facets, lists), so the groups below need not."""
        return {f.belief_id for f in self.facts} | {
            i.belief_id for entry in self.lists for i in entry.items
        }


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


def event_view(
    event: BeliefEvent, statement: str, observation: Observation | None = None
) -> EventView:
    """One change, dated by when it happened (the day the person said what caused it)."""
    detail = ""
    if event.type == BeliefEventType.EDITED and event.details.get("previous"):
        detail = f"was “{event.details['previous']}”"
    elif event.details.get("negation"):
        detail = f"because: “{event.details['negation']}”"
    by_person = event.cause == "user"
    verb = (USER_SENTENCES if by_person else {}).get(event.type) or EVENT_SENTENCES.get(
        event.type, event.type.value.capitalize()
    )
    if event.details.get("check_in") == "no":
        verb = "You said this no longer holds"
    if by_person:
        cause = "in the Mirror or the app"
    elif observation is not None:
        cause = SOURCE_WORDS.get(observation.kind, "")
    else:
        cause = CAUSE_LABELS.get(event.cause, "")
    return EventView(
        at=happened_at(event, observation),
        recorded=event.at,
        verb=verb,
        statement=statement,
        detail=detail,
        cause=cause,
        belief_id=event.belief_id,
        type=event.type,
    )


def origin_label(detail: BeliefDetail) -> str:
    """The belief's origin in words; a statement the person picked in the Mirror says so."""
    b = detail.belief
    if (
        b.origin is BeliefOrigin.STATED
        and detail.evidence
        and all(
            e.observation is not None and e.observation.kind is ObservationKind.SELECTION
            for e in detail.evidence
        )
    ):
        return PICKED_LABEL
    return ORIGIN_LABELS[b.origin]


def evidence_score(belief: Belief) -> float:
    """Confidence × evidence: how sure, weighted by on how many occasions (the profile's order)."""
    return belief.confidence * (1 + belief.support_count)


def belief_view(detail: BeliefDetail, names: Sequence[str]) -> BeliefView:
    b = detail.belief
    statement = second_person(b.statement, names)
    quotes = [
        Quote(text=text, at=said, recorded=recorded, supports=supports, where=where)
        for text, said, recorded, supports, where in quotes_for(detail)
    ]
    return BeliefView(
        id=b.id,
        statement=statement,
        wording=first_person(b.statement, names),
        kind=b.kind,
        status=b.status,
        percent=round(b.confidence * 100),
        level=confidence_level(b.confidence),
        origin=origin_label(detail),
        status_label=STATUS_LABELS[b.status],
        since=b.valid_from,
        quotes=quotes,
        score=evidence_score(b),
    )


def sections(
    views: Sequence[BeliefView],
    *,
    per_kind: int | None = SECTION_ITEMS,
    expanded: BeliefKind | None = None,
    exclude: set[str] | None = None,
) -> list[Section]:
    """Current beliefs grouped by kind, in reading order; each ranked by confidence × evidence
    and cut to ``per_kind`` (None: all), except the ``expanded`` kind. ``exclude``: ids the
    first screen already shows (the profile, the questions)."""
    skip = exclude or set()
    grouped = {kind: Section(kind, title) for kind, title in KIND_SECTIONS.items()}
    for view in views:
        if view.active and view.id not in skip:
            grouped[view.kind].beliefs.append(view)
    out = []
    for section in grouped.values():
        if not section.beliefs:
            continue
        ranked = sorted(section.beliefs, key=lambda v: (-v.score, v.statement))
        limit = None if per_kind is None or section.kind == expanded else per_kind
        shown = ranked if limit is None else ranked[:limit]
        out.append(Section(section.kind, section.title, shown, len(ranked) - len(shown)))
    return out


def matching(views: Sequence[BeliefView], query: str) -> list[BeliefView]:
    """Beliefs (any status) whose statement, as shown, contains every word of ``query``."""
    words = query.casefold().split()
    found = [v for v in views if all(w in v.statement.casefold() for w in words)]
    return sorted(found, key=lambda v: (not v.active, -v.score, v.statement))


def timeline(details: Sequence[BeliefDetail], names: Sequence[str]) -> list[EventView]:
    """Every change, by when it happened (newest first), each quoting its belief's statement."""
    events: list[EventView] = []
    seen = observations_of(details)  # a move is caused by what supports the new home
    for detail in details:
        statement = second_person(detail.belief.statement, names)
        for event in detail.history:
            events.append(event_view(event, statement, seen.get(event.observation_id or "")))
    events.sort(key=lambda e: (e.at, e.recorded), reverse=True)
    return events


def recent_changes(
    details: Sequence[BeliefDetail], names: Sequence[str], now: datetime
) -> list[EventView]:
    """What changed lately: new beliefs, endings and the person's own corrections of the last
    ``RECENT_DAYS`` (not each time something was heard again), newest first."""
    since = now - timedelta(days=RECENT_DAYS)
    shown = [
        replace(e, statement=_clause(e.statement))  # inside a sentence: "… you love jazz"
        for e in timeline(details, names)
        if e.type in RECENT_TYPES and e.at >= since and e.statement
    ]
    return shown[:RECENT_ITEMS]


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
    first_at, later_at = (b.valid_from or b.created_at for b in (first, later))
    if (first_at.year, first_at.month) == (later_at.year, later_at.month):
        text = f"You said {_clause(said)}, and later that {_clause(_elided(then, said))}"
    else:
        fmt = "%B" if first_at.year == later_at.year else "%B %Y"
        text = (
            f"You said {_clause(said)} in {first_at:{fmt}},"
            f" and in {later_at:{fmt}} that {_clause(_elided(then, said))}"
        )
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
    "evidence_score",
    "matching",
    "origin_label",
    "person_names",
    "question",
    "raised_again",
    "recent_changes",
    "resonance_cards",
    "sections",
    "timeline",
]
