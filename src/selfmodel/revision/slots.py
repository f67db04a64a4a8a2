"""Exclusive attributes: things a person has one of at a time, so a new value replaces the old.

"Tom lives in Paris" and, months later, "Tom moved to Berlin" never negate each other in words, and
their embeddings are only moderately close (MiniLM cosine 0.74 — below "Tom lives in Berlin" /
"Tom works in Berlin" at 0.92), so neither negation nor similarity can see the change. What does
see it is that both fill the same *slot* — where Tom lives — with different values.

A slot is a named pattern over third-person statements (the form every extractor produces). Only a
handful of attributes are exclusive in everyday life and worth the risk of a wrong supersession:
where someone lives, whom they work for, what they work as, and whom they are married to or dating.
Everything else (likes, hobbies, friends) can hold many values at once and is left alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# The value of a slot: one word (after an optional article), then any capitalised words that
# continue a name ("New York", "Acme Robotics"). Lower-case words end it ("Berlin with a partner").
_VALUE = r"(?:(?:the|a|an)\s+)?(?P<value>[\w'-]+(?:\s+[A-Z][\w'-]*)*)"

SLOT_PATTERNS: dict[str, re.Pattern[str]] = {
    "residence": re.compile(
        r"\b(?:lives|is living|has lived|has been living|moved|has moved|relocated|has relocated"
        r"|is moving|just moved)\s+(?:in|to)\s+" + _VALUE
    ),
    "employer": re.compile(
        r"\b(?:works|is working|started working|has started working|got a job|has a job|"
        r"started a new job|took a job|joined)\s+(?:at|for)\s+" + _VALUE
    ),
    "occupation": re.compile(r"\b(?:works as|is working as|started working as)\s+" + _VALUE),
    "partner": re.compile(
        r"\b(?:is married to|got married to|married|is dating|started dating|is engaged to|"
        r"got engaged to)\s+" + _VALUE
    ),
}
# A slot phrase in a negated clause ("doesn't live in Paris") says nothing about the new value.
_NEGATED = re.compile(r"\b(?:not|never|no longer)\b|n't\b", re.IGNORECASE)
# The slot must belong to the statement's subject, not to someone it mentions: "Tom's sister lives
# in Paris", "Tom and Ana live…", "the friend who moved to Rome" say nothing of where Tom lives.
_SOMEONE_ELSE = re.compile(r"'s\b|\b(?:and|who|that|whose|friend|sister|brother|mother|father)\b")
MAX_SUBJECT_WORDS = 8  # room for a date before the name: "In the week of 26 June 2023 Tom"


@dataclass(frozen=True)
class SlotValue:
    """Which exclusive attribute a statement sets, and to what (lower-cased)."""

    slot: str
    value: str


def slot_value(statement: str) -> SlotValue | None:
    """The exclusive attribute ``statement`` asserts, or None when it asserts none."""
    for slot, pattern in SLOT_PATTERNS.items():
        match = pattern.search(statement)
        if match is None:
            continue
        prefix = statement[: match.start()]
        if (
            _NEGATED.search(prefix)
            or _NEGATED.search(match.group(0))
            or _SOMEONE_ELSE.search(prefix)
            or len(prefix.split()) > MAX_SUBJECT_WORDS
        ):
            return None
        return SlotValue(slot, match.group("value").lower())
    return None


def conflicts(new: SlotValue | None, old: SlotValue | None) -> bool:
    """True when both fill the same slot with different values (one replaces the other)."""
    return new is not None and old is not None and new.slot == old.slot and new.value != old.value
