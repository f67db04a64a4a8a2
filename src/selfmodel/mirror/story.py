"""One belief told to the person: how sure we are in words, and its history as a story.

"We've heard this on 4 occasions since March 2026; you haven't confirmed it." is computed from
the belief's occasions (one per day with evidence, docs/confidence.md), its origin and its
history. Each history event becomes a sentence dated by when it happened in the person's world
(the day they said it), with the day selfmodel recorded it given second.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from selfmodel.domain import (
    BeliefDetail,
    BeliefEvent,
    BeliefEventType,
    BeliefOrigin,
    BeliefStatus,
    EvidenceStance,
    Observation,
    ObservationKind,
)
from selfmodel.mirror.voice import second_person
from selfmodel.revision.confidence import (
    CEILING,
    KIND_POLICIES,
    USER_CONFIRMED_CONFIDENCE,
    against_occasions,
    support_occasions,
)

# This many "said it again" in a row are told as one sentence.
MIN_RUN = 3
# What one plain statement is worth on its own (docs/confidence.md, "one-statement").
ONE_STATEMENT = 0.60
# Half-lives read as a person would say them.
_DAYS_PER_MONTH = 30.4
_DAYS_PER_YEAR = 365.0
# Where an observation came from, in the person's words.
SOURCE_WORDS: dict[ObservationKind, str] = {
    ObservationKind.MESSAGE: "in a conversation",
    ObservationKind.EVENT: "from something you did in the app",
    ObservationKind.ANSWER: "in an answer to the app's question",
    ObservationKind.SELECTION: "in your answer here in the Mirror",
}


@dataclass(frozen=True)
class Chapter:
    """One event of a belief's history as a sentence, dated when it happened."""

    happened: datetime  # when it happened in the person's world
    recorded: datetime  # when selfmodel recorded it
    sentence: str
    quote: str | None
    type: BeliefEventType
    again: bool = False  # plain "said it again": runs of them are told once (``condensed``)
    moved: str = ""  # " (87%)" where confidence moved

    @property
    def late(self) -> bool:
        """Recorded on another day than it happened (a history imported, or caught up on)."""
        return self.recorded.date() != self.happened.date()


def heard(detail: BeliefDetail) -> str:
    """How often we've heard it and since when: "We've heard this on 4 occasions since March
    2026", "We've heard this once, on 3 March 2026", "You told us this directly"."""
    b = detail.belief
    occasions = support_occasions(b.occasions)
    days = sorted(o.at for o in b.occasions if o.support > 0)
    if occasions == 0 or not days:
        if b.origin is BeliefOrigin.EDITED:
            return "You wrote this here in your own words"
        return "We have no conversation behind this"
    if occasions == 1:
        said = f"We've heard this once, on {days[0]:%-d %B %Y}"
    else:
        said = f"We've heard this on {occasions} occasions since {days[0]:%B %Y}"
    against = against_occasions(b.occasions)
    if against:
        said += f", and {_times(against)} something that points the other way"
    return said


def stance(detail: BeliefDetail, confirmed_at: datetime | None) -> str:
    """Where the person stands on it, in words."""
    b = detail.belief
    if b.origin is BeliefOrigin.CONFIRMED:
        when = f" on {confirmed_at:%-d %B %Y}" if confirmed_at else ""
        return f"you confirmed it{when}"
    if b.origin is BeliefOrigin.EDITED:
        return "it is in your own words"
    if b.origin is BeliefOrigin.REJECTED:
        return "you told us it isn't you"
    if b.origin is BeliefOrigin.STATED:
        return "you said it about yourself but haven't confirmed it"
    return "we inferred it from what you said; you haven't confirmed it"


def explained(detail: BeliefDetail) -> list[str]:
    """The confidence explained: how often, where the person stands, what the number means,
    and whether it fades."""
    b = detail.belief
    confirmed = next(
        (e.at for e in reversed(detail.history) if e.type is BeliefEventType.CONFIRMED), None
    )
    lines = [f"{heard(detail)}; {stance(detail, confirmed)}."]
    percent = round(b.confidence * 100)
    if b.status is BeliefStatus.REJECTED:
        lines.append("We don't use it any more.")
        return lines
    if b.origin in (BeliefOrigin.CONFIRMED, BeliefOrigin.EDITED):
        lines.append(
            f"{percent}% sure: your word counts for more than anything we infer"
            f" ({round(USER_CONFIRMED_CONFIDENCE * 100)}%), and it doesn't fade."
        )
        return lines
    lines.append(
        f"{percent}% sure. Saying something once makes us about {round(ONE_STATEMENT * 100)}%"
        f" sure; each further day it comes up adds a little less, and what we infer never"
        f" passes {round(CEILING * 100)}% — only your confirmation does."
    )
    half_life = KIND_POLICIES[b.kind].half_life_days
    if half_life is not None and b.status is BeliefStatus.ACTIVE:
        lines.append(
            "Things like this change, so what you said counts for less as time passes:"
            f" half as much after {_duration(half_life)}, unless it comes up again."
        )
    return lines


def chapters(
    detail: BeliefDetail,
    names: Sequence[str],
    statements: Mapping[str, str] | None = None,
    observations: Mapping[str, Observation] | None = None,
) -> list[Chapter]:
    """The belief's history as sentences, in the order things happened.

    ``statements`` names other beliefs by id (said to the person) for the events that point at
    them ("you told us “You quit coffee” is true now"); ``observations`` (by id) are those of
    the person's other beliefs, for events caused by what supports another belief (a move that
    replaced this home).
    """
    observations = {
        **(observations or {}),
        **{e.observation.id: e.observation for e in detail.evidence if e.observation},
    }
    quotes = {e.evidence.observation_id: e.said for e in detail.evidence}
    out = [
        chapter(event, observations.get(event.observation_id or ""), quotes, names, statements)
        for event in detail.history
    ]
    out.sort(key=lambda c: (c.happened, c.recorded))
    return condensed(out)


def condensed(story: Sequence[Chapter]) -> list[Chapter]:
    """Runs of ``MIN_RUN`` or more "said it again" told once: "It came up again on 12 more
    days, the last on 3 May 2026 (87%)." A story reads in a minute, however often it was said."""
    out: list[Chapter] = []
    run: list[Chapter] = []

    def close() -> None:
        if len(run) < MIN_RUN:
            out.extend(run)
        else:
            last = run[-1]
            out.append(
                Chapter(
                    happened=last.happened,
                    recorded=last.recorded,
                    sentence=(
                        f"It came up again on {len(run)} more days, from"
                        f" {run[0].happened:%-d %B %Y}{last.moved}."
                    ),
                    quote=last.quote,
                    type=BeliefEventType.REINFORCED,
                )
            )
        run.clear()

    for c in story:
        if c.type is BeliefEventType.REINFORCED and c.again:
            run.append(c)
        else:
            close()
            out.append(c)
    close()
    return out


def happened_at(event: BeliefEvent, observation: Observation | None) -> datetime:
    """When an event happened in the person's world: the day they said what caused it (for a
    trait, its latest occasion); else when it was recorded."""
    if observation is not None:
        return observation.occurred_at
    noted = event.details.get("happened_at")
    if isinstance(noted, str):
        try:
            return datetime.fromisoformat(noted)
        except ValueError:
            pass  # not a moment we wrote: the recording time stands
    return event.at


def chapter(
    event: BeliefEvent,
    observation: Observation | None,
    quotes: Mapping[str, str],
    names: Sequence[str],
    statements: Mapping[str, str] | None = None,
) -> Chapter:
    quote = quotes.get(event.observation_id or "")
    where = SOURCE_WORDS.get(observation.kind, "") if observation else ""
    after, before = event.confidence_after, event.confidence_before
    moved = after is not None and (before is None or round(after, 2) != round(before, 2))
    pct = f" ({round(after * 100)}%)" if moved and after is not None else ""
    others = statements or {}
    d = event.details
    t = event.type
    if d.get("check_in") == "yes":
        sentence = f"You told us this is still you{pct}."
    elif d.get("check_in") == "no":
        sentence = "You told us this is no longer true of you, so we stopped using it."
    elif t is BeliefEventType.CREATED:
        if event.cause == "user":
            sentence = "You wrote this here in your own words."
        elif event.cause == "traits":
            sentence = f"We noticed this across several conversations{pct}."
        else:
            sentence = f"You said it {where}, and we started believing it{pct}.".replace("  ", " ")
    elif t is BeliefEventType.REINFORCED:
        if event.cause == "traits":
            sentence = f"It came up again in another conversation{pct}."
        else:
            sentence = f"You said it again {where}{pct}.".replace(" .", ".")
    elif t in (BeliefEventType.WEAKENED, BeliefEventType.CONTRADICTED):
        sentence = f"You said something {where} that points the other way{pct}."
    elif t is BeliefEventType.SUPERSEDED:
        if d.get("settled_for"):
            other = others.get(str(d["settled_for"]))
            said = f"“{other}”" if other else "the other one"
            sentence = f"You told us {said} is true now, so this one ended."
        elif d.get("replaced_by"):
            sentence = f"It was replaced by “{second_person(str(d['replaced_by']), names)}”."
        elif event.cause == "user":
            sentence = "You marked it as no longer true."
        else:
            sentence = f"You said something {where} that ends it."
    elif t is BeliefEventType.CONFIRMED:
        sentence = "You confirmed it."
    elif t is BeliefEventType.REJECTED:
        sentence = "You told us this isn't you, so we stopped using it."
    elif t is BeliefEventType.EDITED:
        before = d.get("previous")
        was = f" (it was “{second_person(str(before), names)}”)" if before else ""
        sentence = f"You reworded it{was}."
    elif t is BeliefEventType.DECAYED:
        sentence = f"It faded, as it hadn't come up for a while{pct}."
    else:
        sentence = f"It was {t.value}."
    shown_quote = quote if t not in (BeliefEventType.CONFIRMED, BeliefEventType.REJECTED) else None
    return Chapter(
        happened=happened_at(event, observation),
        recorded=event.at,
        sentence=" ".join(sentence.split()),
        quote=shown_quote,
        type=t,
        again=t is BeliefEventType.REINFORCED and "check_in" not in d and not d.get("previous"),
        moved=pct,
    )


def quotes_for(detail: BeliefDetail) -> list[tuple[str, datetime, datetime, bool, str]]:
    """Each quote: words, when said, when recorded, supports, where (newest said first)."""
    out = []
    for e in detail.evidence:
        o = e.observation
        out.append(
            (
                e.said,
                e.said_at,
                o.recorded_at if o else e.evidence.created_at,
                e.evidence.stance is EvidenceStance.SUPPORTS,
                SOURCE_WORDS.get(o.kind, "") if o else "",
            )
        )
    out.sort(key=lambda q: q[1], reverse=True)
    return out


def _times(n: int) -> str:
    return "once heard" if n == 1 else f"on {n} days heard"


def _duration(days: float) -> str:
    if days >= _DAYS_PER_YEAR:
        years = round(days / _DAYS_PER_YEAR)
        return "a year" if years == 1 else f"{years} years"
    if days >= _DAYS_PER_MONTH:
        months = round(days / _DAYS_PER_MONTH)
        return "a month" if months == 1 else f"{months} months"
    weeks = max(round(days / 7), 1)
    return "a week" if weeks == 1 else f"{weeks} weeks"


def observations_of(details: Iterable[BeliefDetail]) -> dict[str, Observation]:
    """Every observation quoted by any of ``details``, by id."""
    return {e.observation.id: e.observation for d in details for e in d.evidence if e.observation}


__all__ = [
    "Chapter",
    "chapter",
    "chapters",
    "condensed",
    "explained",
    "happened_at",
    "heard",
    "observations_of",
    "quotes_for",
    "stance",
]
