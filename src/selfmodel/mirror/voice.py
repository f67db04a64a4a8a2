"""Statements said to the person: "Maya loves hiking" read in the Mirror as "You love hiking".

Statements are written in the third person (``extraction/wording.py``): they name the person once
("Maya", or "The user" when no name is known) and then say singular "they". The Mirror speaks to
the person, so it rewrites three things and leaves every other word as written:

- the person's name: "You" as a subject, "you" as an object, "Your" for "Maya's";
- the verb that agrees with it: "loves" -> "love", "is" -> "are", "has" -> "have", "was" ->
  "were", "doesn't" -> "don't";
- the "they", "them", "their", "theirs" and "themselves" that follow a mention of the person.

Statements the person wrote themselves ("I am learning Portuguese") come out in the second person
too. ``first_person`` is the same rewrite towards "I" ("I love hiking"): the wording the edit form
offers the person to change, as they would say it.

Verb forms come from lemminflect (which form of a verb goes with a subject, and that "really" or
"no longer" may stand between them), so nothing here lists verbs or adverbs. A statement is not
parsed: a name followed by a verb that shows the third person ("Maya loves", "Tom thinks Maya is")
or standing first in its sentence is a subject, otherwise an object ("Tom calls Maya"). A "they"
after the person was named is taken to be them, as statements are written; a "they" the person
said of others after naming themselves ("Maya has two cats; they are twins") is rewritten too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from lemminflect import getAllLemmas, getInflection

_LETTERS = r"[^\W\d_]"
_WORD = rf"{_LETTERS}+(?:['’]{_LETTERS}+)*"
_POSSESSIVE = r"['’]s"
_NEGATION = re.compile(r"(n['’]t)$", re.IGNORECASE)
_SENTENCE_END = (".", "!", "?", ";", ":")
# Adverbs that may stand between a subject and its verb ("Maya no longer really drinks").
_MAX_ADVERBS = 3
_THIRD_SINGULAR, _PRESENT, _PAST = "VBZ", "VBP", "VBD"


@dataclass(frozen=True)
class Voice:
    """Who the statement speaks as: the person's pronouns and which form of "be" goes with them.

    ``form`` picks from the verb forms lemminflect gives per person: ("am", "are") in the
    present, ("was", "were") in the past; 0 is the first person, -1 the second.
    """

    subject: str
    object: str
    possessive: str
    independent: str
    reflexive: str
    form: int


SECOND = Voice("you", "you", "your", "yours", "yourself", -1)
FIRST = Voice("I", "me", "my", "mine", "myself", 0)
# Pronouns that may stand for the person, and which of a voice's pronouns each becomes.
_THEY = {
    "they": "subject",
    "them": "object",
    "their": "possessive",
    "theirs": "independent",
    "themselves": "reflexive",
    "themself": "reflexive",
}
_I = {
    "i": "subject",
    "me": "object",
    "my": "possessive",
    "mine": "independent",
    "myself": "reflexive",
}


def second_person(statement: str, names: Iterable[str]) -> str:
    """``statement`` about the person called ``names`` (e.g. "Maya", "The user"), said to them."""
    return speak(statement, names, SECOND)


def first_person(statement: str, names: Iterable[str]) -> str:
    """``statement`` about the person called ``names``, as they would say it themselves."""
    return speak(statement, names, FIRST)


@dataclass(frozen=True)
class _Token:
    start: int
    end: int
    text: str
    name: bool = False
    possessive: bool = False


@dataclass(frozen=True)
class _Finite:
    """A verb form that can agree with a subject: its lemma and tag (VBZ, VBP or VBD)."""

    lemma: str
    tag: str
    negated: str  # the "n't" it carried, as written ("" when none)
    only_verb: bool  # lemminflect knows the word as a verb only, not a noun or adjective

    def shows_third_person(self) -> bool:
        """Only a subject named in the third person goes with it: "loves", "is", "was"."""
        if self.tag == _THIRD_SINGULAR:
            return True
        return self.tag == _PAST and len(getInflection(self.lemma, tag=_PAST)) > 1

    def said_by(self, voice: Voice, like: str) -> str:
        forms: tuple[str, ...] = getInflection(
            self.lemma, tag=_PAST if self.tag == _PAST else _PRESENT
        )
        word = forms[voice.form] if len(forms) > 1 else forms[0]
        if self.negated:
            # There is no "amn't".
            word = f"{word} not" if word == "am" else word + self.negated
        return word.capitalize() if like[:1].isupper() else word


def speak(statement: str, names: Iterable[str], voice: Voice) -> str:
    """``statement`` rewritten in ``voice`` (``SECOND`` or ``FIRST``); see the module docstring."""
    pattern = _pattern(tuple(sorted(set(names), key=len, reverse=True)))
    tokens = [_token(m) for m in pattern.finditer(statement)]
    own_words = _in_own_words(tokens)
    new: dict[int, str] = {}
    mentioned = False
    for i, token in enumerate(tokens):
        if i in new:
            continue  # a verb that already agrees with its subject
        head, _, tail = token.text.lower().replace("’", "'").partition("'")
        role: str | None = None
        verb: tuple[int, _Finite] | None = None
        if token.name:
            tail = ""  # "Maya's": the possessive is the name's, not a clitic
            if token.possessive:
                role = "possessive"
            else:
                verb = _verb_after(tokens, i, statement)
                subject = _starts_sentence(statement, token.start) or (
                    verb is not None and (verb[1].shows_third_person() or verb[1].only_verb)
                )
                role = "subject" if subject else "object"
                mentioned = True
        elif head in _THEY and mentioned:
            role = _THEY[head]
        elif own_words and head in _I and (head != "i" or token.text[:1] == "I"):
            mentioned = True
            if voice is FIRST:
                continue  # already the person's own words
            role = _I[head]
        if role is None:
            continue
        if role == "subject":
            verb = verb or _verb_after(tokens, i, statement)
            if verb is not None and (token.name or not tail):
                new[verb[0]] = verb[1].said_by(voice, tokens[verb[0]].text)
        word = getattr(voice, role)
        if tail:
            word += _contraction(tail, token.text, voice)
        new[i] = _cased(word, statement, token.start)
    return _joined(statement, tokens, new)


def _in_own_words(tokens: list[_Token]) -> bool:
    """Said by the person ("I am learning Portuguese"): a first-person word and no name of theirs.

    Statements about the person never say "I" of them, so "mine" in "Maya works in a coal mine"
    is a pit, and "My Way" in a song title stays.
    """
    if any(t.name for t in tokens):
        return False
    heads = {t.text.replace("’", "'").partition("'")[0] for t in tokens}
    return bool(heads & {"I", "me", "my", "My", "myself", "Myself"})


@lru_cache(maxsize=64)
def _pattern(names: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(n) for n in names if n.strip())
    word = rf"(?P<word>{_WORD})"
    if not alternatives:
        return re.compile(word)
    return re.compile(rf"(?<!\w)(?P<name>{alternatives})(?P<poss>{_POSSESSIVE})?(?!\w)|{word}")


def _token(match: re.Match[str]) -> _Token:
    named = match.lastgroup != "word" and match.group("name") is not None
    return _Token(
        match.start(),
        match.end(),
        match.group(0),
        name=named,
        possessive=named and match.group("poss") is not None,
    )


def _verb_after(tokens: list[_Token], i: int, text: str) -> tuple[int, _Finite] | None:
    """The verb agreeing with the subject at ``i``: the next word, past a few adverbs."""
    adverbs = 0
    for j in range(i + 1, len(tokens)):
        if text[tokens[j - 1].end : tokens[j].start].strip() or tokens[j].name:
            return None  # punctuation or another name: no verb of this subject
        finite = _finite(tokens[j].text)
        if finite is not None and finite.tag == _THIRD_SINGULAR:
            return j, finite
        if adverbs < _MAX_ADVERBS and "ADV" in getAllLemmas(tokens[j].text.lower()):
            adverbs += 1
            continue
        return (j, finite) if finite is not None else None
    return None


@lru_cache(maxsize=4096)
def _finite(word: str) -> _Finite | None:
    negation = _NEGATION.search(word)
    base = word[: negation.start()] if negation else word
    lower = base.lower()
    lemmas = getAllLemmas(lower)
    for upos in ("AUX", "VERB"):
        for lemma in lemmas.get(upos, ()):
            for tag in (_THIRD_SINGULAR, _PAST, _PRESENT):
                if lower in getInflection(lemma, tag=tag):
                    only_verb = set(lemmas) <= {"AUX", "VERB"}
                    return _Finite(lemma, tag, negation.group(1) if negation else "", only_verb)
    return None


def _contraction(tail: str, written: str, voice: Voice) -> str:
    """The clitic after a pronoun ("I'm", "they're") for the new subject; "'ve", "'ll" stay."""
    apostrophe = "’" if "’" in written else "'"
    if tail in ("m", "re"):
        tail = "m" if voice.form == 0 else "re"
    return apostrophe + tail


def _starts_sentence(text: str, start: int) -> bool:
    before = text[:start].rstrip()
    return not before or before.endswith(_SENTENCE_END)


def _cased(word: str, text: str, start: int) -> str:
    before = text[:start].rstrip()
    if word != "I" and before and not before.endswith((".", "!", "?")):
        return word
    return word[:1].upper() + word[1:]


def _joined(text: str, tokens: list[_Token], new: dict[int, str]) -> str:
    out: list[str] = []
    position = 0
    for i, token in enumerate(tokens):
        out.append(text[position : token.start])
        out.append(new.get(i, token.text))
        position = token.end
    out.append(text[position:])
    return "".join(out)


__all__ = ["FIRST", "SECOND", "Voice", "first_person", "second_person", "speak"]
