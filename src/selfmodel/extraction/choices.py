"""Preferences shown by choosing: "the second one, the quieter hotel" after offered options.

People often state a preference by picking among options the assistant offered rather than by
describing it. The options sit in the assistant's turn (a numbered or bulleted list, or "A or
B?"), the pick in the user's reply (an ordinal, "option 2", or words of one option). Together
they make a belief: "Maya chose a quiet lakeside hotel over a lively hostel downtown".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from spacy.tokens import Doc, Token

from selfmodel.extraction.lexicon import lexicon

# A reply longer than this is a statement of its own, not a pick among options.
MAX_CHOICE_TOKENS = 30
MAX_OPTION_WORDS = 14
_LIST_ITEM = re.compile(r"^\s*(?:\(?(\d{1,2})[.):]|[-*•]|\(?([a-eA-E])[.)])\s+(.+?)\s*$")
_INLINE_ITEM = re.compile(r"(?:^|\s)\(?(\d{1,2})[.)]\s+")
_CONTENT_POS = frozenset(["NOUN", "PROPN", "ADJ", "VERB", "NUM"])


@dataclass(frozen=True)
class Option:
    number: int  # 1-based position
    text: str
    lemmas: frozenset[str]


def offered_options(doc: Doc) -> list[Option]:
    """Options offered in ``doc``: list items (one per line or inline "1) … 2) …"), or "A or B"."""
    texts = _listed(doc.text)
    if len(texts) < 2:
        texts = _alternatives(doc)
    options = []
    for number, text in enumerate(texts, start=1):
        span = doc.char_span(*_locate(doc.text, text), alignment_mode="expand")
        tokens = list(span) if span is not None else []
        options.append(Option(number, _trim(text), _content_lemmas(tokens)))
    return options if len(options) >= 2 else []


def chosen_option(tokens: Sequence[Token], options: Sequence[Option]) -> Option | None:
    """The option a short reply picks, by position or by its words; None when unclear."""
    if not options or len(tokens) > MAX_CHOICE_TOKENS:
        return None
    if any(t.dep_ == "neg" for t in tokens):
        return None  # "not the second one": a rejection, not a choice
    words = lexicon()
    lowered = [t.lower_.strip(".#") for t in tokens]
    for position, word in enumerate(lowered):
        number = None
        if word.isdigit() and (
            len([t for t in tokens if not t.is_punct]) <= 2
            or (position and lowered[position - 1] in ("option", "number", "#", "no"))
        ):
            number = int(word)
        elif word in words.ordinals and word not in ("one", "two", "three", "four", "five"):
            following = lowered[position + 1] if position + 1 < len(lowered) else ""
            if following in ("one", "option", "choice", "") or tokens[position].dep_ in (
                "amod",
                "ROOT",
            ):
                number = words.ordinals[word]
        if number is not None:
            index = number - 1 if number > 0 else len(options) + number
            if 0 <= index < len(options):
                return options[index]
    said = _content_lemmas(tokens)
    overlaps = [(len(said & o.lemmas), o) for o in options]
    best = max(n for n, _ in overlaps)
    winners = [o for n, o in overlaps if n == best]
    return winners[0] if best >= 1 and len(winners) == 1 else None


def _listed(text: str) -> list[str]:
    lines = [m.group(3) for m in map(_LIST_ITEM.match, text.splitlines()) if m]
    if len(lines) >= 2:
        return lines
    marks = list(_INLINE_ITEM.finditer(text))
    if len(marks) < 2 or [int(m.group(1)) for m in marks] != list(range(1, len(marks) + 1)):
        return []
    items = []
    for mark, following in zip(marks, [*marks[1:], None], strict=True):
        end = following.start() if following else len(text)
        item = text[mark.end() : end]
        items.append(re.split(r"(?<=[.?!])\s", item.strip(), maxsplit=1)[0])
    return items


def _alternatives(doc: Doc) -> list[str]:
    """ "Would you like a window or an aisle seat?": the noun phrases joined by "or"."""
    for sentence in doc.sents:
        if not sentence.text.rstrip().endswith("?"):
            continue
        for token in sentence:
            if token.lower_ == "or" and token.dep_ == "cc":
                head = token.head
                conj = [c for c in head.children if c.dep_ == "conj"]
                if conj and head.pos_ in ("NOUN", "PROPN", "ADJ", "VERB"):
                    return [_phrase(head), *(_phrase(c) for c in conj)]
    return []


def _phrase(token: Token) -> str:
    """The phrase of ``token`` without the alternatives coordinated with it."""
    left_out = {
        t.i
        for child in token.children
        if child.dep_ in ("cc", "conj", "punct") and child.i > token.i
        for t in child.subtree
    }
    words = [t for t in token.subtree if t.i not in left_out]
    return "".join(t.text_with_ws for t in words).strip()


def _locate(text: str, part: str) -> tuple[int, int]:
    start = text.find(part)
    return (start, start + len(part)) if start >= 0 else (0, 0)


def _trim(text: str) -> str:
    words = text.strip().rstrip(".,;:!?").split()
    head = re.split(r"\s[-–—:]\s", " ".join(words), maxsplit=1)[0]
    return " ".join(head.split()[:MAX_OPTION_WORDS])


def _content_lemmas(tokens: Sequence[Token]) -> frozenset[str]:
    generic = lexicon().generic_nouns
    return frozenset(
        t.lemma_.lower()
        for t in tokens
        if t.pos_ in _CONTENT_POS
        and not t.is_stop
        and t.lemma_.lower() not in generic
        and t.lemma_.lower() not in ("option", "choice", "one", "sound", "go", "take", "pick")
    )
