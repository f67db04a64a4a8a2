"""Clauses inside a sentence, and the person a message is addressed to.

Chat sentences often join a fact about the speaker to a remark to the listener ("You've worked
so hard and I'm so pumped for the launch") or two facts about the speaker ("I moved in June and
I love it here"). The local extractor reads such sentences clause by clause, so the speaker's
own clauses survive a "you" elsewhere in the sentence and each fact gets its own span.

The listener is named when the message names them as a vocative ("Thanks, Jon!", "Hey Mel,");
then "you" in the speaker's own clauses can be written as that name ("I'm so proud of you" ->
"Gina is so proud of Jon"). A message that names nobody leaves those clauses out.
"""

from __future__ import annotations

import re

from selfmodel.extraction import rules

# Where a sentence divides into clauses: a dash or semicolon, or a comma before a conjunction
# or a first-person subject ("..., but I ...", "..., I ...").
_FIRST_PERSON_SUBJECT = r"(?:i|i'm|i've|i'll|i'd|we|we're|we've|we'll|we'd|my)\b"
# The joining conjunction is left out of both clauses (and so of the quoted spans).
_ANY_BOUNDARY = re.compile(
    r"\s+-\s+|\s*;\s*|,\s+(?:(?:but|and|so|plus)\s+)?(?=(?:because|though|although|while)\b)|"
    r",\s+(?:but|and|so|plus)\s+|"
    rf",\s+(?={_FIRST_PERSON_SUBJECT})|"
    rf"\s+(?:and|but|so|plus)\s+(?={_FIRST_PERSON_SUBJECT})",
    re.IGNORECASE,
)
# Only a conjunction followed by a new first-person subject starts an independent fact
# ("I study chemistry and I teach"); "My husband and I" is one subject, not two clauses.
_COORDINATION = re.compile(rf",?\s+(?:and|but|plus)\s+(?={_FIRST_PERSON_SUBJECT})", re.IGNORECASE)
_ENDS_WITH_OBJECT_PRONOUN = re.compile(r"\b(?:it|this|that|them|these|those)\W*$", re.I)
_SUBJECT_PRONOUN = re.compile(r"\b(?:i|i'm|i've|i'll|i'd|we|we're|we've|we'll|we'd)\b", re.I)
# A clause needs a subject pronoun and this many words after it to stand alone as a fact.
MIN_WORDS_AFTER_SUBJECT = 2

# The listener named as a vocative: after a greeting or thanks ("Hey Mel!", "Thanks, Jon.") or
# at the end of a sentence after a comma ("Great job, Jon!").
_NAME = r"([A-Z][a-z]{1,19})"
_GREETING_VOCATIVE = re.compile(
    r"\b(?:[Hh]ey|[Hh]i|[Hh]ello|[Tt]hanks|[Tt]hank you|[Cc]ongrats|[Ss]orry|[Yy]eah|[Yy]ep|"
    rf"[Ww]ow|[Oo]h|[Ww]oah|[Nn]o worries|[Dd]ear)[,!]?\s+{_NAME}\b(?=\s*[,!.?])"
)
_TRAILING_VOCATIVE = re.compile(rf",\s+{_NAME}\s*(?=[!.?]|$)", re.MULTILINE)
# Capitalised words that end a sentence after a comma without naming anyone.
_NOT_NAMES = frozenset(
    [
        "I", "Ok", "Okay", "Yes", "No", "Yeah", "Yep", "Thanks", "Sure", "Too", "Lol", "Haha",
        "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday", "January",
        "February", "March", "April", "May", "June", "July", "August", "September", "October",
        "November", "December", "Today", "Tomorrow", "Yesterday", "Tonight", "Again", "Everyone",
        "Guys", "All",
    ]
)  # fmt: skip


def addressee(content: str, speaker: str) -> str | None:
    """The name the message addresses its listener by, or None when it names nobody."""
    for pattern in (_GREETING_VOCATIVE, _TRAILING_VOCATIVE):
        for match in pattern.finditer(content):
            name = match.group(1)
            if name not in _NOT_NAMES and name.lower() != speaker.lower():
                return name
    return None


def all_clauses(text: str) -> list[tuple[int, int]]:
    """Spans of the clauses of ``text`` (split at dashes, semicolons and clause commas)."""
    return _split(text, _ANY_BOUNDARY)


def coordinated_clauses(text: str) -> list[tuple[int, int]]:
    """Spans of independent first-person clauses ("I X and I Y"), or the whole of ``text``."""
    spans = _split(text, _COORDINATION)
    if len(spans) > 1 and all(_stands_alone(text[s:e]) for s, e in spans):
        return spans
    return [(0, len(text))]


def _stands_alone(clause: str) -> bool:
    """A clause with its own subject and content; "... and I love it" stays with its sentence."""
    match = _SUBJECT_PRONOUN.search(clause)
    return (
        match is not None
        # "... and I really enjoy it": the object is the other clause's, so it cannot go alone.
        and not _ENDS_WITH_OBJECT_PRONOUN.search(clause)
        and len(clause[match.end() :].split()) >= MIN_WORDS_AFTER_SUBJECT
        and rules.content_word_count(clause.lower()) >= rules.MIN_CONTENT_WORDS
    )


def _split(text: str, boundary: re.Pattern[str]) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    start = 0
    for match in boundary.finditer(text):
        if match.start() > start:
            spans.append(_trimmed(text, start, match.start()))
        start = match.end()
    if start < len(text):
        spans.append(_trimmed(text, start, len(text)))
    return [(s, e) for s, e in spans if e > s]


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    chunk = text[start:end]
    left = len(chunk) - len(chunk.lstrip())
    return start + left, start + len(chunk.rstrip())
