"""How the speaker stands toward the person they talk to: cheering them on, valuing their
support, drawing inspiration from them.

One "Keep going, you got this!" is pep talk and says nothing about the speaker; the same stance
on many days says how they relate to that person — something a friend would tell you about them
("Gina is always cheering Jon on"). So a sentence that takes one of these stances toward a
*named* listener (never the assistant, never someone we cannot name) becomes the same short
statement every time it occurs ("Gina encourages Jon"). Repeated, it is one belief whose
evidence is every such turn and whose confidence grows with the days it showed on
(docs/confidence.md), instead of a heap of pleasantries or nothing at all.

Read from the parse (lemmas, dependencies) and the word classes below, never from raw strings.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from spacy.tokens import Token

from selfmodel.extraction.speech import FIRST_SINGULAR, SECOND_PERSON, SUBJECTS, is_imperative


class Stance(StrEnum):
    ENCOURAGES = "encourages"
    VALUES_SUPPORT = "values_support"
    VALUES_FRIENDSHIP = "values_friendship"
    INSPIRED_BY = "inspired_by"
    ADMIRES = "admires"


# The statement each stance becomes, about ``subject`` toward ``listener``.
STATEMENTS = {
    Stance.ENCOURAGES: "{subject} encourages {listener}",
    Stance.VALUES_SUPPORT: "{subject} values {listener}'s support",
    Stance.VALUES_FRIENDSHIP: "{subject} values their friendship with {listener}",
    Stance.INSPIRED_BY: "{subject} is inspired by {listener}",
    Stance.ADMIRES: "{subject} admires {listener}",
}

# Imperatives that cheer someone on: "Keep going!", "Hang in there", "Push through", "Believe in
# yourself", "Chase your dreams", "Rock on".
_CHEERING_IMPERATIVES = frozenset(
    ["keep", "hang", "push", "believe", "chase", "pursue", "rock", "tackle", "shine", "persevere"]
)
# Negated imperatives that do: "Don't give up", "Never quit", "Don't let anything stop you",
# "Don't lose hope", "Don't doubt yourself", "Don't forget your passion".
_CHEERING_PROHIBITIONS = frozenset(["give", "quit", "stop", "let", "lose", "doubt", "forget"])
# "Keep me posted", "keep in touch", "hang on a sec": requests, not cheering.
_NOT_CHEERING_OBJECTS = FIRST_SINGULAR | frozenset(["us", "touch", "sec", "second", "minute"])
# "I'm rooting for you", "I'm proud of you", "I believe in you", "I'm cheering you on",
# "I'm here to support you", "I've got your back".
_BACKING_WORDS = frozenset(["root", "proud", "believe", "cheer", "support", "back"])
# What the speaker is grateful for in the listener: "your support", "your belief in me",
# "your encouragement", "your faith in me".
_SUPPORT_NOUNS = frozenset(["support", "encouragement", "belief", "faith", "backing", "kindness"])
# "...for supporting me", "...believing in me", "you always have my back".
_SUPPORT_VERBS = frozenset(["support", "encourage", "believe", "cheer", "back"])
# "You're so inspiring", "You're an inspiration", "Your journey is inspiring".
_INSPIRING_WORDS = frozenset(["inspiring", "inspiration"])
# "I admire your …", "I'm in awe of your courage", "I'm impressed by your …", "Respect for …".
_ADMIRING_WORDS = frozenset(["admire", "awe", "impress", "impressed", "respect"])
# "a great friend", "a true friend".
_GOOD_FRIEND = frozenset(["great", "good", "true", "best", "amazing", "wonderful", "awesome"])


def stance_toward_listener(tokens: Sequence[Token]) -> Stance | None:
    """The stance a sentence (its words without lead-in and vocatives) takes toward the person
    spoken to, or None. Questions are never a stance."""
    words = [t for t in tokens if not t.is_punct]
    if not words or tokens[-1].text == "?":
        return None
    if _values_support(words):
        return Stance.VALUES_SUPPORT
    if _values_friendship(words):
        return Stance.VALUES_FRIENDSHIP
    if _inspired(words):
        return Stance.INSPIRED_BY
    if _admires(words):
        return Stance.ADMIRES
    if _cheers_on(tokens, words):
        return Stance.ENCOURAGES
    return None


def _second_person(token: Token) -> bool:
    return token.lower_ in SECOND_PERSON


def _cheers_on(tokens: Sequence[Token], words: list[Token]) -> bool:
    if words[0].lower_ == "never" and len(words) > 1:
        words = words[1:]  # "Never give up!" is "Don't give up!"
        return words[0].lemma_.lower() in _CHEERING_PROHIBITIONS
    verb = _imperative_verb(tokens, words)
    if verb is not None:
        lemma = verb.lemma_.lower()
        negated = any(
            w.lower_ in ("never", "n't", "not") for w in words if w.i < verb.i or w.head == verb
        )
        objects = {c.lower_ for c in verb.subtree if c.i > verb.i}
        if objects & _NOT_CHEERING_OBJECTS:
            return False
        if negated:
            return lemma in _CHEERING_PROHIBITIONS
        if lemma == "go":
            return any(c.lower_ in ("for", "after") for c in verb.children)  # "Go for it!"
        return lemma in _CHEERING_IMPERATIVES
    for word in words:
        lemma = word.lemma_.lower()
        subject = next((c for c in word.children if c.dep_ in SUBJECTS), None)
        if subject is None:
            if lemma == "proud" and word.dep_ == "ROOT":
                return any(_second_person(t) for t in word.subtree)  # "So proud of you!"
            continue
        if (
            _second_person(subject)
            and lemma in ("get", "have", "do")
            and any(c.lower_ in ("this", "it") for c in word.children if c.dep_ == "dobj")
        ):
            return True  # "You got this", "You've got this", "You can do it"
        if subject.lower_ in FIRST_SINGULAR and lemma in _BACKING_WORDS | {"be"}:
            backing = [t for t in word.subtree if t.lemma_.lower() in _BACKING_WORDS]
            if backing and any(_second_person(t) for t in word.subtree):
                # "I'm rooting for you", "I'm so proud of you" — but "proud of you for finishing
                # the course" says what the listener did: that stays a statement of its own.
                return not any(t.pos_ == "VERB" and t.dep_ == "pcomp" for t in word.subtree)
    return False


def _imperative_verb(tokens: Sequence[Token], words: list[Token]) -> Token | None:
    """The verb of a command: of the whole sentence, or of its first clause ("Hang in there,
    Jon, you'll find it" has a subject later on, but not for "hang")."""
    first = words[0]
    opens = first.tag_ == "VB" and not any(c.dep_ in SUBJECTS for c in first.children)
    if not (opens or is_imperative(tuple(tokens))):
        return None
    return next((w for w in words if w.tag_ == "VB" and w.dep_ not in ("aux", "neg")), None)


def _values_support(words: list[Token]) -> bool:
    for word in words:
        lemma = word.lemma_.lower()
        your = any(c.lower_ in ("your", "ur") for c in word.children)
        if lemma in _SUPPORT_NOUNS and word.pos_ == "NOUN" and your:
            return True  # "Your support means a lot"
        if lemma in _SUPPORT_VERBS and word.pos_ == "VERB":
            me = any(t.lower_ == "me" for t in word.subtree if t.i > word.i)
            by_you = word.tag_ == "VBN" and any(_second_person(t) for t in word.subtree)
            if me or by_you:
                return True  # "thanks for believing in me", "feeling supported by you all"
        if any(c.lower_ == "my" for c in word.children) and (
            (lemma == "corner" and word.head.lower_ == "in")
            or (lemma == "back" and word.head.lemma_.lower() in ("have", "get"))
        ):
            return True  # "Glad I have you in my corner", "thanks for having my back"
    return False


def _yours(token: Token) -> bool:
    """ "you", or something of the listener's ("your journey")."""
    return _second_person(token) or any(c.lower_ in ("your", "ur") for c in token.children)


def _clause_subject(token: Token) -> Token | None:
    """The subject of the clause ``token`` is in ("strong and inspiring" -> "You")."""
    head = token
    while head.pos_ not in ("VERB", "AUX") and head.head.i != head.i:
        head = head.head
    return next((c for c in head.children if c.dep_ in SUBJECTS), None)


def _values_friendship(words: list[Token]) -> bool:
    for word in words:
        lemma = word.lemma_.lower()
        if lemma == "friendship" and any(c.lower_ == "our" for c in word.children):
            return True  # "I appreciate our friendship"
        if lemma == "friend" and word.pos_ == "NOUN":
            subject = _clause_subject(word)
            good = any(c.lemma_.lower() in _GOOD_FRIEND for c in word.children)
            if subject is not None and subject.lower_ == "we":
                return True  # "So glad we're friends"
            if good and (subject is None or _second_person(subject)):
                return True  # "You're a great friend", "thanks for being a great friend"
    return False


def _inspired(words: list[Token]) -> bool:
    for word in words:
        if word.lemma_.lower() == "inspire" and word.pos_ == "VERB":
            subject = next((c for c in word.children if c.dep_ in SUBJECTS), None)
            if (
                subject is not None
                and _yours(subject)
                and any(c.lower_ == "me" for c in word.children)
            ):
                return True  # "Your success inspires me", "You inspire me"
        elif word.lower_ in _INSPIRING_WORDS:
            subject = _clause_subject(word)
            if subject is not None and _yours(subject):
                return True  # "You're so inspiring", "Your journey is an inspiration"
    return False


def _admires(words: list[Token]) -> bool:
    for word in words:
        admiring = word.lemma_.lower() in _ADMIRING_WORDS or word.lower_ in _ADMIRING_WORDS
        if admiring and any(_yours(t) for t in word.subtree):
            subject = _clause_subject(word)
            if subject is None or subject.lower_ in FIRST_SINGULAR:
                return True  # "I'm in awe of your courage", "Respect for what you've done"
    return False
