"""Time in queries: "when…" questions, and date expressions that name a period.

Two general signals, both cheap enough for every call:
- a *when-question* ("When did…", "What year…", "How long ago…") is best answered by items that
  carry a time: a belief with a resolved date, a message that says "yesterday" or "in May";
- a *date expression* in the query ("in May 2023", "last summer", "in 2022") names a window;
  items that happened inside it are preferred. Relative expressions resolve against ``now``.
Relational expressions ("before she moved") have no anchor without reading the history, so they
are left to the keyword and meaning signals (see docs/retrieval.md).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from selfmodel.extraction.dates import Granularity, find_relative_dates

_MONTH_NAMES = (
    "january|february|march|april|may|june|july|august|september|october|november|december"
)
_WHEN = re.compile(
    r"^\s*(?:when|since\s+when|until\s+when|what\s+(?:date|year|month|day|time|week)"
    r"|which\s+(?:date|year|month|day|week)|how\s+long\s+ago)\b"
    r"|\b(?:when\s+(?:did|was|were|is|are|will|has|had|do|does)|what\s+(?:date|year|month))\b",
    re.IGNORECASE,
)
# A text "carries a time" if it names one: a relative expression, a month, a weekday, a year.
_TIME_MENTION = re.compile(
    rf"\b(?:yesterday|today|tonight|tomorrow|ago|last\s+(?:night|week|weekend|month|year)"
    rf"|this\s+(?:past|morning|week|weekend|month|year)|next\s+(?:week|month|year)"
    rf"|weekend|(?:mon|tues|wednes|thurs|fri|satur|sun)day|{_MONTH_NAMES}"
    rf"|spring|summer|autumn|fall|winter|(?:19|20)\d\d)\b",
    re.IGNORECASE,
)
_MONTH_YEAR = re.compile(rf"\b(?P<month>{_MONTH_NAMES})(?:\s+(?P<year>(?:19|20)\d\d))\b", re.I)
_YEAR = re.compile(r"\b(?:in|during|of|since|from)\s+(?P<year>(?:19|20)\d\d)\b", re.IGNORECASE)
_GRANULARITY_DAYS = {
    Granularity.DAY: 1,
    Granularity.WEEK: 7,
    Granularity.WEEKEND: 2,
    Granularity.MONTH: 31,
    Granularity.SEASON: 92,
    Granularity.YEAR: 366,
}


@dataclass(frozen=True)
class TimeWindow:
    """A period named by the query, as [start, end) in UTC."""

    start: datetime
    end: datetime
    expression: str

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


@dataclass(frozen=True)
class TemporalQuery:
    """What a query says about time."""

    asks_when: bool
    windows: tuple[TimeWindow, ...] = ()

    def as_dict(self) -> dict[str, object]:
        return {
            "asks_when": self.asks_when,
            "windows": [
                {"expression": w.expression, "start": w.start.isoformat(), "end": w.end.isoformat()}
                for w in self.windows
            ],
        }


def carries_time(text: str) -> bool:
    """Whether ``text`` names a time (a date, a month, a weekday, "yesterday", "last year"…)."""
    return _TIME_MENTION.search(text) is not None


def _day(value: date) -> datetime:
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


def analyse(query: str, now: datetime) -> TemporalQuery:
    """Whether ``query`` asks "when", and which periods its date expressions name."""
    windows: list[TimeWindow] = []
    for match in _MONTH_YEAR.finditer(query):
        month = _MONTH_NAMES.split("|").index(match.group("month").lower()) + 1
        year = int(match.group("year"))
        days = calendar.monthrange(year, month)[1]
        start = datetime(year, month, 1, tzinfo=UTC)
        windows.append(TimeWindow(start, start + timedelta(days=days), match.group(0)))
    for match in _YEAR.finditer(query):
        year = int(match.group("year"))
        windows.append(
            TimeWindow(
                datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC), match[0]
            )
        )
    for mention in find_relative_dates(query, now, prefer_future=False):
        start = _day(mention.period_start)
        span = timedelta(days=_GRANULARITY_DAYS.get(mention.granularity, 1))
        windows.append(TimeWindow(start, start + span, mention.expression))
    return TemporalQuery(asks_when=_WHEN.search(query) is not None, windows=tuple(windows))


__all__ = ["TemporalQuery", "TimeWindow", "analyse", "carries_time"]
