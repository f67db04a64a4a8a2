"""What the Mirror asks rather than lists: plans whose date has passed, and check-ins on what the
model is unsure of ("Is this still you?").

Conflicts (two current beliefs that deny each other) come from the profile (``views.question``);
this module finds the other two kinds of question from the person's beliefs, read as of now.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from selfmodel.domain import (
    BeliefDetail,
    BeliefEventType,
    BeliefKind,
    BeliefOrigin,
    BeliefStatus,
    ObservationKind,
)
from selfmodel.mirror.voice import second_person
from selfmodel.revision.confidence import KIND_POLICIES, support_occasions

# A check-in asks about a belief the model holds between these confidences: below, it is too
# unsure to put to the person; above, it is settled enough not to bother them.
CHECK_IN_LOW = 0.4
CHECK_IN_HIGH = 0.7
# A belief whose last evidence is older than this share of its kind's half-life is fading: worth
# asking about even when its confidence is still high.
FADING_SHARE = 0.5
# A belief weakened or contradicted this recently is worth asking about.
RECENT_CHANGE = timedelta(days=30)
# How many check-ins the first screen asks at once: a handful is what a person answers.
MAX_CHECK_INS = 3
MAX_STALE_PLANS = 3

_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
# The absolute dates statements carry (``extraction.dates`` rewrites "next month" into them).
_DAY = re.compile(r"\b(\d{1,2}) (" + "|".join(_MONTHS) + r") (\d{4})\b", re.IGNORECASE)
_MONTH = re.compile(r"\b(" + "|".join(_MONTHS) + r") (\d{4})\b", re.IGNORECASE)
_SEASON = re.compile(r"\b(spring|summer|autumn|fall|winter) (\d{4})\b", re.IGNORECASE)
_YEAR = re.compile(r"\bin (\d{4})\b")
_WEEK_DAYS = 6
_SEASON_END_MONTH = {"spring": 5, "summer": 8, "autumn": 11, "fall": 11, "winter": 14}


@dataclass(frozen=True)
class StalePlan:
    """A current plan whose date has passed: did it happen?"""

    text: str
    statement: str
    belief_id: str
    ended: date


@dataclass(frozen=True)
class CheckIn:
    """A belief the model is unsure of, put to the person: "Is this still you?"."""

    statement: str
    belief_id: str
    percent: int
    reason: str


def plan_ends(statement: str) -> date | None:
    """The last day of the period a plan names ("in June 2026" -> 30 June 2026, "in the week of
    26 June 2023" -> 2 July 2023), if any; the latest when it names several."""
    found: list[date] = []
    rest = statement
    for m in _DAY.finditer(statement):
        day = date(int(m[3]), _MONTHS[m[2].lower()], int(m[1]))
        before = statement[: m.start()].rstrip().lower()
        span = (
            _WEEK_DAYS if before.endswith("week of") else 1 if before.endswith("weekend of") else 0
        )
        found.append(day + timedelta(days=span))
        rest = rest.replace(m[0], " ")
    for m in _MONTH.finditer(rest):
        year, month = int(m[2]), _MONTHS[m[1].lower()]
        found.append(date(year, month, calendar.monthrange(year, month)[1]))
    for m in _SEASON.finditer(rest):
        year, last = int(m[2]), _SEASON_END_MONTH[m[1].lower()]
        year, month = (year + 1, last - 12) if last > 12 else (year, last)
        found.append(date(year, month, calendar.monthrange(year, month)[1]))
    if not found:
        found += [date(int(m[1]), 12, 31) for m in _YEAR.finditer(rest)]
    return max(found) if found else None


def stale_plans(
    details: Iterable[BeliefDetail], names: Sequence[str], now: datetime
) -> list[StalePlan]:
    """Current plans whose date is behind us, soonest passed first."""
    today = now.astimezone(UTC).date()
    out: list[StalePlan] = []
    for detail in details:
        b = detail.belief
        if b.kind is not BeliefKind.PLAN or b.status is not BeliefStatus.ACTIVE:
            continue
        ended = plan_ends(b.statement)
        if ended is None or ended >= today:
            continue
        said = second_person(b.statement, names)
        out.append(
            StalePlan(
                text=f"{said} — that date has passed. Did it happen, or is it still on?",
                statement=said,
                belief_id=b.id,
                ended=ended,
            )
        )
    out.sort(key=lambda p: p.ended, reverse=True)
    return out[:MAX_STALE_PLANS]


def check_ins(
    details: Iterable[BeliefDetail],
    names: Sequence[str],
    now: datetime,
    *,
    asked: set[str],
) -> list[CheckIn]:
    """Beliefs worth asking "Is this still you?" about, most uncertain first.

    A candidate is current, not the person's own word (confirmed or edited), not already asked
    elsewhere (``asked``: conflicts, stale plans, claims raised again), never answered in a
    check-in, and either middling in confidence, fading (no evidence for half its kind's
    half-life), or weakened or contradicted in the last month.
    """
    found: list[tuple[float, CheckIn]] = []
    for detail in details:
        b = detail.belief
        if (
            b.status is not BeliefStatus.ACTIVE
            or b.origin in (BeliefOrigin.CONFIRMED, BeliefOrigin.EDITED)
            or b.id in asked
            or "after_rejection" in b.metadata
            or any(
                e.observation is not None and e.observation.kind is ObservationKind.SELECTION
                for e in detail.evidence
            )
        ):
            continue
        reason = _reason(detail, now)
        if reason is None:
            continue
        check = CheckIn(
            statement=second_person(b.statement, names),
            belief_id=b.id,
            percent=round(b.confidence * 100),
            reason=reason,
        )
        found.append((abs(b.confidence - 0.5), check))
    found.sort(key=lambda pair: (pair[0], pair[1].statement))
    return [check for _, check in found[:MAX_CHECK_INS]]


def _reason(detail: BeliefDetail, now: datetime) -> str | None:
    """Why the model asks about this belief, in words; None when it need not."""
    b = detail.belief
    recent = [
        e
        for e in detail.history
        if e.type in (BeliefEventType.WEAKENED, BeliefEventType.CONTRADICTED)
        and now - e.at <= RECENT_CHANGE
    ]
    if recent:
        return "You recently said something that points the other way."
    half_life = KIND_POLICIES[b.kind].half_life_days
    if half_life is not None and b.last_evidence_at is not None:
        quiet = now - b.last_evidence_at
        if quiet >= timedelta(days=half_life * FADING_SHARE):
            return f"It hasn't come up since {b.last_evidence_at:%B %Y}."
    if CHECK_IN_LOW <= b.confidence <= CHECK_IN_HIGH:
        heard = support_occasions(b.occasions)
        return f"We've heard it on only {heard} occasion{'' if heard == 1 else 's'}."
    return None


__all__ = ["CheckIn", "StalePlan", "check_ins", "plan_ends", "stale_plans"]
