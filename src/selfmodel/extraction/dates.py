"""Relative time expressions resolved against the date an observation occurred.

"I started pottery last week", said on Monday 3 July 2023, is about the week of 26 June 2023. A
belief stored as "started pottery last week" would be wrong a month later, so every relative
expression we recognise is rewritten as an absolute one, with the granularity the speaker used
(a day, a week, a weekend, a month, a season, a year).

dateparser resolves the day-level and "N units ago" expressions; it has no notion of granularity
and does not know weekends or seasons, so the period arithmetic around it is ours. Seasons assume
the northern hemisphere (a documented limitation: "last summer" in Sydney is December).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import lru_cache

import dateparser

# Resolved day-level expressions are cached per (expression, base day, direction): a conversation
# repeats "yesterday" on the same day many times, and dateparser costs ~0.3 ms a call.
_DATEPARSER_CACHE_SIZE = 4096

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTHS = (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)  # fmt: skip
# Meteorological seasons (northern hemisphere): the month each starts in.
_SEASON_START_MONTH = {"spring": 3, "summer": 6, "fall": 9, "autumn": 9, "winter": 12}
_SMALL_NUMBERS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    # Vague quantities get their usual reading; the resolved period says how precise it is.
    "a couple of": 2, "couple of": 2, "a couple": 2, "a few": 3, "few": 3, "several": 3,
}  # fmt: skip
_EXACT_NUMBER_WORDS = frozenset(
    k for k in _SMALL_NUMBERS if " " not in k and k not in ("few", "several")
)
# Prepositions that already frame the date: "since last year" -> "since 2022", not "since in 2022".
_FRAMING_PREPOSITIONS = frozenset(
    {"since", "until", "till", "by", "before", "after", "from", "during", "through", "around"}
)

_NUMBER = (
    r"\d{1,2}|a\s+couple(?:\s+of)?|couple\s+of|a\s+few|few|several|an?|one|two|three|four|five|six|"
    r"seven|eight|nine|ten|eleven|twelve"
)
_DAY = "|".join(_WEEKDAYS)
_MONTH = "|".join(_MONTHS)
_SEASON = "spring|summer|fall|autumn|winter"

# Alternatives are tried in order; the longer phrases come first.
_PATTERN = re.compile(
    rf"""\b(?:
        (?P<daybefore>the\s+day\s+before\s+yesterday)
      | (?P<dayword>yesterday|today|tonight|tomorrow|last\s+night
          |this\s+(?:morning|afternoon|evening))
      | (?P<pastweekend>(?:over\s+the|this\s+past|the\s+past)\s+weekend)
      | (?:(?P<wdrel>last|this|next|this\s+past|on)\s+)(?P<weekday>{_DAY})
      | (?P<prel>last|this|next|this\s+past|past)\s+(?P<period>week|weekend|month|year|{_SEASON})
      | (?P<agonum>{_NUMBER})\s+(?P<agounit>day|week|month|year)s?\s+ago
      | in\s+(?P<innum>{_NUMBER})\s+(?P<inunit>day|week|month|year)s?(?!\s+ago)
      | (?P<mprep>in|this|last|next|since|until|by)\s+(?P<month>{_MONTH})(?!\s+\d)
    )\b""",
    re.IGNORECASE | re.VERBOSE,
)


class Granularity(StrEnum):
    DAY = "day"
    WEEK = "week"
    WEEKEND = "weekend"
    MONTH = "month"
    SEASON = "season"
    YEAR = "year"


@dataclass(frozen=True, slots=True)
class ResolvedDate:
    """A relative expression found in a text and the absolute period it names."""

    start: int  # character span of the expression in the input text
    end: int
    expression: str
    period_start: date
    granularity: Granularity
    phrase: str  # the absolute rewrite, e.g. "in the week of 26 June 2023"


def format_day(day: date) -> str:
    """``7 May 2023`` — the day first, no leading zero, the month spelled out."""
    return f"{day.day} {_MONTHS[day.month - 1].capitalize()} {day.year}"


def find_relative_dates(text: str, base: datetime, *, prefer_future: bool) -> list[ResolvedDate]:
    """Every relative time expression in ``text`` resolved against ``base``.

    ``prefer_future`` decides ambiguous expressions ("on Friday", "in May"): a sentence about a
    plan means the coming one, anything else the last one.
    """
    found: list[ResolvedDate] = []
    for match in _PATTERN.finditer(text):
        resolved = _resolve(match, base.date(), prefer_future)
        if resolved is None:
            continue
        period_start, granularity = resolved
        preceding = text[: match.start()].rstrip().rsplit(None, 1)
        framed = bool(preceding) and preceding[-1].lower() in _FRAMING_PREPOSITIONS
        # "Tomorrow's gonna be great", "yesterday's game": the day is named, not a time "on" it.
        framed = framed or text[match.end() : match.end() + 2] in ("'s", "’s")
        phrase = _phrase(period_start, granularity, framed=framed)
        own_preposition = (match.group("mprep") or "").lower()
        if own_preposition in _FRAMING_PREPOSITIONS:  # "since May" keeps its "since"
            phrase = f"{own_preposition} {_phrase(period_start, granularity, framed=True)}"
        quantity = match.group("agonum") or match.group("innum") or ""
        if _is_vague(quantity):  # "a few days ago" is not a precise day
            phrase = f"around {_phrase(period_start, granularity, framed=True)}"
        found.append(
            ResolvedDate(
                start=match.start(),
                end=match.end(),
                expression=match.group(0),
                period_start=period_start,
                granularity=granularity,
                phrase=phrase,
            )
        )
    return found


def rewrite_relative_dates(text: str, mentions: list[ResolvedDate]) -> str:
    """``text`` with each resolved expression replaced by its absolute phrase."""
    pieces: list[str] = []
    cursor = 0
    for mention in mentions:
        pieces.append(text[cursor : mention.start])
        pieces.append(mention.phrase)
        cursor = mention.end
    pieces.append(text[cursor:])
    return "".join(pieces)


def _resolve(
    match: re.Match[str], base: date, prefer_future: bool
) -> tuple[date, Granularity] | None:
    groups = match.groupdict()
    if groups["daybefore"]:
        return base - timedelta(days=2), Granularity.DAY
    if groups["dayword"]:
        word = " ".join(groups["dayword"].lower().split())
        if word.startswith("this ") or word == "tonight":
            return base, Granularity.DAY
        parsed = _dateparser_day(word, base, prefer_future)
        return (parsed, Granularity.DAY) if parsed else None
    if groups["pastweekend"]:
        return _weekend(base, -1), Granularity.WEEKEND
    if groups["weekday"]:
        relation = " ".join(groups["wdrel"].lower().split())
        return _weekday(groups["weekday"].lower(), relation, base, prefer_future), Granularity.DAY
    if groups["period"]:
        relation = " ".join(groups["prel"].lower().split())
        offset = {"last": -1, "past": -1, "this past": -1, "this": 0, "next": 1}[relation]
        return _period(groups["period"].lower(), offset, base)
    if groups["agounit"] or groups["inunit"]:
        count = _count(groups["agonum"] or groups["innum"])
        unit = (groups["agounit"] or groups["inunit"]).lower()
        sign = -1 if groups["agounit"] else 1
        return _shift(unit, sign * count, base)
    if groups["month"]:
        return _month(groups["month"].lower(), groups["mprep"].lower(), base, prefer_future)
    return None


@lru_cache(maxsize=_DATEPARSER_CACHE_SIZE)
def _dateparser_day(expression: str, base: date, prefer_future: bool) -> date | None:
    # Noon avoids "last night" style expressions slipping over a day boundary.
    relative_base = datetime(base.year, base.month, base.day, 12)
    parsed = dateparser.parse(
        expression,
        languages=["en"],
        settings={
            "RELATIVE_BASE": relative_base,
            "PREFER_DATES_FROM": "future" if prefer_future else "past",
            "RETURN_AS_TIMEZONE_AWARE": False,
        },
    )
    return parsed.date() if parsed else None


def _is_vague(quantity: str) -> bool:
    key = " ".join(quantity.lower().split())
    return bool(key) and not key.isdigit() and key not in _EXACT_NUMBER_WORDS


def _count(raw: str) -> int:
    key = " ".join(raw.lower().split())
    return int(key) if key.isdigit() else _SMALL_NUMBERS[key]


def _weekday(name: str, relation: str, base: date, prefer_future: bool) -> date:
    target = _WEEKDAYS.index(name)
    if relation in ("last", "this past"):
        # "last Friday" said on a Friday is a week ago, never today.
        back = (base.weekday() - target) % 7 or 7
        return base - timedelta(days=back)
    if relation == "next" or (relation in ("this", "on") and prefer_future):
        ahead = (target - base.weekday()) % 7 or 7
        return base + timedelta(days=ahead)
    if relation == "this":
        # "this Friday" in a past-tense sentence: the Friday of the current week.
        return base - timedelta(days=base.weekday()) + timedelta(days=target)
    back = (base.weekday() - target) % 7
    return base - timedelta(days=back)


def _weekend(base: date, offset: int) -> date:
    """The Saturday of the weekend ``offset`` weekends from the one of ``base``'s week."""
    saturday = base - timedelta(days=base.weekday()) + timedelta(days=5)
    if base.weekday() == 6:  # Sunday: "this weekend" is the one we are in
        saturday = base - timedelta(days=1)
    return saturday + timedelta(weeks=offset)


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + (day.month - 1) + months
    return date(index // 12, index % 12 + 1, 1)


def _period(unit: str, offset: int, base: date) -> tuple[date, Granularity]:
    if unit == "week":
        return _monday(base + timedelta(weeks=offset)), Granularity.WEEK
    if unit == "weekend":
        return _weekend(base, offset), Granularity.WEEKEND
    if unit == "month":
        return _add_months(base, offset), Granularity.MONTH
    if unit == "year":
        return date(base.year + offset, 1, 1), Granularity.YEAR
    return _season(unit, offset, base), Granularity.SEASON


def _season(name: str, offset: int, base: date) -> date:
    start_month = _SEASON_START_MONTH[name]
    # The start of this year's season; winter starts in December and belongs to that year.
    current = date(base.year, start_month, 1)
    if start_month == 12 and base.month < 3:
        current = date(base.year - 1, 12, 1)
    season_end = _add_months(current, 3)
    if offset == 0:
        return current
    if offset < 0:
        # "last summer" means the most recent summer that is over.
        latest_over = current if season_end <= base else date(current.year - 1, start_month, 1)
        return date(latest_over.year + offset + 1, start_month, 1)
    upcoming = current if current > base else date(current.year + 1, start_month, 1)
    return date(upcoming.year + offset - 1, start_month, 1)


def _shift(unit: str, amount: int, base: date) -> tuple[date, Granularity]:
    if unit == "day":
        return base + timedelta(days=amount), Granularity.DAY
    if unit == "week":
        return _monday(base + timedelta(weeks=amount)), Granularity.WEEK
    if unit == "month":
        return _add_months(base, amount), Granularity.MONTH
    return date(base.year + amount, 1, 1), Granularity.YEAR


def _month(
    name: str, preposition: str, base: date, prefer_future: bool
) -> tuple[date, Granularity]:
    month = _MONTHS.index(name) + 1
    this_year = date(base.year, month, 1)
    if preposition == "last" or (preposition == "since" and month > base.month):
        year = base.year if month < base.month else base.year - 1
    elif preposition == "next" or (preposition in ("in", "until", "by") and prefer_future):
        year = base.year if month > base.month else base.year + 1
    elif preposition == "this":
        year = base.year
    else:
        # Past reading, but the current month counts as "in May" said in May.
        year = base.year if this_year <= base else base.year - 1
    return date(year, month, 1), Granularity.MONTH


def _phrase(start: date, granularity: Granularity, *, framed: bool) -> str:
    if granularity is Granularity.DAY:
        bare, framing = format_day(start), "on"
    elif granularity is Granularity.WEEK:
        bare, framing = f"the week of {format_day(start)}", "in"
    elif granularity is Granularity.WEEKEND:
        bare, framing = f"the weekend of {format_day(start)}", "on"
    elif granularity is Granularity.MONTH:
        bare, framing = f"{_MONTHS[start.month - 1].capitalize()} {start.year}", "in"
    elif granularity is Granularity.SEASON:
        name = next(s for s, m in _SEASON_START_MONTH.items() if m == start.month)
        year = f"{start.year}/{(start.year + 1) % 100:02d}" if name == "winter" else str(start.year)
        bare, framing = f"{name} {year}", "in"
    else:
        bare, framing = str(start.year), "in"
    return bare if framed else f"{framing} {bare}"
