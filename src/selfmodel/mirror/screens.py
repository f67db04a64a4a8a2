"""What each Mirror page shows, gathered for one session: the first screen and a belief's page.

The router (``pages``) answers requests; this module reads the person's self-model through the
session (never anyone else's) and hands the templates the view records of ``views``,
``questions`` and ``story``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request

from selfmodel.domain import BeliefDetail, BeliefKind
from selfmodel.domain.time import utcnow
from selfmodel.errors import BeliefNotFoundError
from selfmodel.mirror import questions, story, views
from selfmodel.mirror.access import MirrorSession
from selfmodel.mirror.voice import second_person
from selfmodel.revision.confidence import USER_CONFIRMED_CONFIDENCE, as_of

MAX_SEARCH_CHARS = 100
# The set-aside list shows this many until "show all".
SET_ASIDE_ITEMS = 5
# A belief's page quotes this many (the newest) until "show all": a trait rests on dozens.
QUOTES_SHOWN = 5


def owned_belief(session: MirrorSession, belief_id: str) -> BeliefDetail:
    """The belief if it is this person's; someone else's answers as not found."""
    try:
        detail = session.model.belief(belief_id)
    except BeliefNotFoundError:
        detail = None
    if detail is None or detail.belief.user_id != session.user.id:
        raise BeliefNotFoundError("there is no such belief in your Mirror")
    return detail.model_copy(update={"belief": as_of(detail.belief, utcnow())})


def all_beliefs(session: MirrorSession) -> tuple[list[BeliefDetail], tuple[str, ...]]:
    """Every belief of the person (any status) in detail, and the names statements call them."""
    model = session.model
    # Each belief as of now (confidence and status read at this moment, as ``beliefs`` gives
    # them), with the evidence and history ``belief`` adds.
    details = [
        model.belief(b.id).model_copy(update={"belief": b})
        for b in model.beliefs(session.external_id, status=None)
    ]
    return details, views.person_names(session.user, details)


@dataclass(frozen=True)
class HomeQuery:
    """What the visitor asked of the home page: a notice to show, a belief to focus, a search,
    and which group to show in full ("show more" is a link, so it works without JavaScript)."""

    notice: str = ""
    focus: str = ""
    search: str = ""
    more: BeliefKind | None = None
    more_aside: bool = False

    @classmethod
    def of(cls, request: Request) -> HomeQuery:
        params = request.query_params
        more = params.get("more", "")
        kind = next((k for k in BeliefKind if k.value == more), None)
        return cls(
            notice=params.get("notice", ""),
            focus=params.get("b", ""),
            search=params.get("q", "").strip()[:MAX_SEARCH_CHARS],
            more=kind,
            more_aside=more == "set-aside",
        )


def home_values(session: MirrorSession, query: HomeQuery) -> dict[str, Any]:
    model, user = session.model, session.external_id
    now = utcnow()
    details, names = all_beliefs(session)
    cards = [views.belief_view(d, names) for d in details]
    by_id = {d.belief.id: d.belief for d in details}
    about = views.about(model.profile(user), names, by_id)
    plans = questions.stale_plans(details, names, now)
    asked = {
        *(side.belief_id for q in about.questions for side in q.sides),
        *(q.belief_id for q in about.raised_again),
        *(p.belief_id for p in plans),
    }
    checks = questions.check_ins(details, names, now, asked=asked)
    # The first screen already shows these: the groups below hold everything else.
    shown = asked | {c.belief_id for c in checks} | about.belief_ids
    set_aside = sorted((c for c in cards if not c.active), key=lambda c: c.statement)
    return {
        "session": session,
        "about": about,
        "recent": views.recent_changes(details, names, now),
        "stale_plans": plans,
        "check_ins": checks,
        "sections": views.sections(cards, expanded=query.more, exclude=shown),
        "found": views.matching(cards, query.search) if query.search else None,
        "search": query.search,
        "set_aside": set_aside if query.more_aside else set_aside[:SET_ASIDE_ITEMS],
        "set_aside_hidden": 0 if query.more_aside else max(len(set_aside) - SET_ASIDE_ITEMS, 0),
        "count": sum(1 for c in cards if c.active),
        "resonance_cards": views.resonance_cards(model.cards(user, open_only=True), names),
        "kinds": views.KIND_NAMES,
        "notice": views.NOTICES.get(query.notice, ""),
        "focus": query.focus,
    }


def belief_values(
    session: MirrorSession, belief_id: str, notice: str, *, all_quotes: bool = False
) -> dict[str, Any]:
    detail = owned_belief(session, belief_id)
    details, names = all_beliefs(session)
    statements = {d.belief.id: second_person(d.belief.statement, names) for d in details}
    return {
        "session": session,
        "card": views.belief_view(detail, names),
        "explained": story.explained(detail),
        "chapters": story.chapters(detail, names, statements, story.observations_of(details)),
        "raised_again": "after_rejection" in detail.belief.metadata,
        "uses": session.model.belief_uses(session.external_id, belief_id),
        "confirmed_percent": round(USER_CONFIRMED_CONFIDENCE * 100),
        "quotes_shown": None if all_quotes else QUOTES_SHOWN,
        "notice": views.NOTICES.get(notice, ""),
        "focus": "",
    }


__all__ = [
    "QUOTES_SHOWN",
    "HomeQuery",
    "all_beliefs",
    "belief_values",
    "home_values",
    "owned_belief",
]
