"""Building the profile (``domain.profile``) and the open conflicts from a user's beliefs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from selfmodel.domain import Belief, BeliefKind, BeliefStatus, Facet, User
from selfmodel.domain.profile import Conflict, CurrentFacet, FacetValue, Profile, ProfileItem
from selfmodel.revision.confidence import as_of

# Each list of the profile is cut to what a person reads at a glance.
MAX_ITEMS = 8


def build_profile(
    user: User,
    beliefs: Sequence[Belief],
    supporters: Mapping[str, set[str]],
    now: datetime,
) -> Profile:
    """The profile of ``user`` from all their beliefs (every status) as of ``now``.

    ``supporters`` maps an observation id to the ids of the beliefs it supports (for conflicts).
    """
    seen = [as_of(b, now) for b in beliefs]
    current = [
        b for b in seen if b.status is BeliefStatus.ACTIVE and "after_rejection" not in b.metadata
    ]
    return Profile(
        user_id=user.id,
        name=user.display_name,
        as_of=now,
        facets=_facets(current, [b for b in seen if b.status is BeliefStatus.SUPERSEDED]),
        people=_items(b for b in current if (b.frame.trait or "").startswith("person:")),
        pets=_items(b for b in current if (b.frame.trait or "").startswith("pet:")),
        # The summary of all interests first, then each interest.
        interests=_items(b for b in current if b.frame.trait == "interests")
        + _items(b for b in current if (b.frame.trait or "").startswith("interest:")),
        likes=_items(
            b for b in _plain(current) if b.kind is BeliefKind.PREFERENCE and not b.frame.negated
        ),
        dislikes=_items(
            b for b in _plain(current) if b.kind is BeliefKind.PREFERENCE and b.frame.negated
        ),
        values=_items(b for b in _plain(current) if b.kind is BeliefKind.VALUE),
        goals=_items(b for b in _plain(current) if b.kind in (BeliefKind.GOAL, BeliefKind.PLAN)),
        communication=_items(b for b in current if b.frame.domain == "communication"),
        conflicts=conflicts(current, supporters),
        questions=_items(
            b for b in seen if b.status is BeliefStatus.ACTIVE and "after_rejection" in b.metadata
        ),
    )


def conflicts(current: Sequence[Belief], supporters: Mapping[str, set[str]]) -> list[Conflict]:
    """Pairs of active beliefs where one's contradicting evidence supports the other."""
    by_id = {b.id: b for b in current}
    found: list[Conflict] = []
    pairs: set[frozenset[str]] = set()
    for belief in current:
        for observation_id in belief.metadata.get("conflicting_observations", []):
            for other_id in supporters.get(observation_id, set()):
                other = by_id.get(other_id)
                pair = frozenset((belief.id, other_id))
                if other is None or other_id == belief.id or pair in pairs:
                    continue
                pairs.add(pair)
                found.append(Conflict(belief=belief, against=other))
    return found


def _plain(beliefs: Sequence[Belief]) -> list[Belief]:
    """Statements, not traits, facets or instructions."""
    return [
        b
        for b in beliefs
        if b.frame.trait is None and b.frame.facet is None and b.frame.domain is None
    ]


def _items(beliefs: object) -> list[ProfileItem]:
    ranked = sorted(
        beliefs,  # type: ignore[call-overload]
        key=lambda b: (-b.confidence * (1 + b.support_count), b.statement),
    )
    return [
        ProfileItem(
            statement=b.statement,
            belief_id=b.id,
            kind=b.kind,
            confidence=b.confidence,
            occasions=b.support_count,
        )
        for b in ranked[:MAX_ITEMS]
    ]


def _facets(current: Sequence[Belief], superseded: Sequence[Belief]) -> dict[Facet, CurrentFacet]:
    out: dict[Facet, CurrentFacet] = {}
    for facet in Facet:
        if facet is Facet.NAME:
            continue  # the name is the profile's own field
        holding = [
            b for b in current if b.frame.facet is facet and not b.frame.negated and b.frame.value
        ]
        if not holding:
            continue
        now_value = max(holding, key=lambda b: b.valid_from or b.created_at)
        past = sorted(
            (b for b in superseded if b.frame.facet is facet and b.frame.value),
            key=lambda b: b.valid_to or b.updated_at,
            reverse=True,
        )
        out[facet] = CurrentFacet(
            facet=facet,
            value=now_value.frame.value or "",
            statement=now_value.statement,
            belief_id=now_value.id,
            confidence=now_value.confidence,
            since=now_value.valid_from,
            replaced=[
                FacetValue(
                    value=b.frame.value or "",
                    statement=b.statement,
                    belief_id=b.id,
                    confidence=b.confidence,
                    since=b.valid_from,
                    until=b.valid_to,
                )
                for b in past
            ],
        )
    return out
