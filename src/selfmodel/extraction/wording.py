"""Statements in the third person, written from the parse: "I love my kids" -> "Mel loves her…".

A belief must stand on its own when it is read out of context, so it names its subject once and
then refers back with singular "they" (we do not know the person's pronouns): "Melanie painted
the lake sunrise in 2022; it is special to them". Verb agreement follows the dependency parse —
the verb whose subject was "I" takes the third person (lemminflect inflects it) — so nothing
depends on lists of verbs.

``core`` gives what a statement says without whom it is about, the form statements are compared
and embedded in (a shared name would make any two statements about one person look alike).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from lemminflect import getInflection
from spacy.tokens import Token

from selfmodel.extraction.lexicon import lexicon
from selfmodel.extraction.speech import FIRST_PLURAL, FIRST_SINGULAR, SUBJECTS, is_gotta

# What chat spellings and contractions become when written out.
_SPELLED_OUT = {
    "gon": "going", "wan": "want", "cuz": "because", "cos": "because", "'cause": "because",
    "coz": "because", "bc": "because", "tho": "though", "thru": "through", "ur": "your",
    "u": "you", "ya": "you", "im": "I'm", "ive": "I've", "dont": "don't", "cant": "can't",
    "pls": "please", "plz": "please", "biz": "business", "edu": "education",
}  # fmt: skip
_CONTRACTIONS = {"'m": "am", "'re": "are", "'ve": "have", "'ll": "will", "'d": "would"}
_GROUP_WITH_FAMILY = "{name} and their family"
_GROUP = "{name} and others"
_TRAILING = re.compile(r"[\s,;:\-–—]+$")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([,;:.!?%)])")
_SPACES = re.compile(r"\s{2,}")


def third_person(
    tokens: Sequence[Token],
    subject: str,
    *,
    replace: Mapping[int, str] | None = None,
    drop: Iterable[int] = (),
    listener: str | None = None,
    family: bool = False,
    named: bool = False,
) -> str:
    """``tokens`` rewritten about ``subject``: first person -> the name, then "they".

    ``replace`` maps token indices to new text (a resolved referent), ``drop`` lists tokens to
    leave out; ``listener`` is what "you" becomes; ``named`` says the subject was already named
    earlier in the statement (so "I" becomes "they" from the start).
    """
    replace = dict(replace or {})
    dropped = set(drop)
    kept = [t for t in tokens if t.i not in dropped]
    mentioned = named
    agree: dict[int, str] = {}  # verb index -> "singular" | "plural"
    out: list[str] = []
    group = (_GROUP_WITH_FAMILY if family else _GROUP).format(name=subject)
    for token in kept:
        if token.i in replace:
            out.append(replace[token.i] + token.whitespace_)
            continue
        lower = token.lower_
        text: str | None = None
        # "a buddy of mine": the tagger may not call that "mine" a pronoun.
        of_mine = lower == "mine" and token.i > 0 and token.nbor(-1).lower_ == "of"
        if (lower in FIRST_SINGULAR and token.pos_ == "PRON") or lower == "i" or of_mine:
            # "The user" is capitalised only where it starts the statement.
            as_said = subject if not out or not subject.startswith("The ") else "t" + subject[1:]
            text = _first_singular(lower, as_said, mentioned)
            if lower == "i" and token.dep_ in SUBJECTS:
                _mark_agreement(token, "plural" if mentioned else "singular", agree)
            if lower in ("i", "me"):
                mentioned = True  # named as a person; "Melanie's husband and Melanie" stays
        elif lower in FIRST_PLURAL and token.pos_ == "PRON":
            text = _first_plural(lower, subject, group, mentioned)
            if lower in ("we", "us"):
                mentioned = True
        elif lower in ("you", "your", "yours", "yourself") and listener:
            text = {"you": listener, "yourself": listener}.get(lower, f"{listener}'s")
            if lower == "you" and token.dep_ in SUBJECTS:
                _mark_agreement(token, "singular", agree)
        elif token.i in agree:
            text = _agreeing(token, agree[token.i])
        elif lower in _SPELLED_OUT:
            text = _SPELLED_OUT[lower]
        elif is_gotta(token):
            text = "have"  # "Gotta stay focused" with its "I" put back: "I have to stay…"
        elif (
            lower in ("na", "ta") and token.i > 0 and token.nbor(-1).lower_ in ("gon", "wan", "got")
        ):
            text = "to"  # "gonna", "wanna", "gotta" come as two tokens
            out[-1] = out[-1].rstrip() + " "
        elif lower in _CONTRACTIONS and token.pos_ in ("AUX", "VERB"):
            text = _CONTRACTIONS[lower]
        elif not any(c.isalnum() for c in token.text) and not token.is_punct:
            text = ""  # emoji and symbols
        if text is None:
            out.append(token.text + token.whitespace_)
        else:
            lead = " " if token.text.startswith("'") and out and not out[-1].endswith(" ") else ""
            out.append(lead + text + (token.whitespace_ if text else " "))
    return finish("".join(out))


def finish(statement: str) -> str:
    """Tidy spacing and end punctuation; capitalise the first letter."""
    statement = statement.replace("  ", " ")
    statement = _SPACE_BEFORE_PUNCT.sub(r"\1", _SPACES.sub(" ", statement)).strip()
    statement = statement.rstrip(".!?… ")
    statement = _TRAILING.sub("", statement).lstrip(",;:-–— ")  # a clause split off its comma
    return statement[:1].upper() + statement[1:]


def core(statement: str, names: Iterable[str]) -> str:
    """``statement`` without the names of whom it is about (and their possessive forms)."""
    text = statement
    for name in sorted({n for n in names if n}, key=len, reverse=True):
        text = re.sub(rf"\b{re.escape(name)}(?:'s|’s)?\b", " ", text, flags=re.IGNORECASE)
    text = re.sub(r"\b(?:they|them|their|theirs|themselves)\b", " ", text, flags=re.IGNORECASE)
    words = " ".join(text.split())
    return words or statement


def _first_singular(lower: str, subject: str, mentioned: bool) -> str:
    if lower == "i":
        return "they" if mentioned else subject
    if lower == "me":
        return "them" if mentioned else subject
    if lower == "my":
        return "their" if mentioned else f"{subject}'s"
    if lower == "mine":
        return "theirs" if mentioned else f"{subject}'s"
    return "themselves"


_POSSESSED = frozenset(["my", "mine", "our", "ours"])


def _first_plural(lower: str, subject: str, group: str, mentioned: bool) -> str:
    if lower in ("we", "us"):
        return group if not mentioned else ("they" if lower == "we" else "them")
    if lower in ("our", "ours"):
        return "their" if mentioned else f"{subject}'s"
    return "themselves"


def _mark_agreement(subject: Token, number: str, agree: dict[int, str]) -> None:
    """Mark the finite verb of ``subject``'s clause (and verbs coordinated with it)."""
    verb = subject.head
    for clause_verb in [verb, *_coordinated(verb)]:
        finite = _finite(clause_verb)
        if finite is not None:
            agree[finite.i] = number


def _coordinated(verb: Token) -> list[Token]:
    """Verbs joined to ``verb`` that share its subject ("I study chemistry and teach")."""
    found = []
    for child in verb.children:
        shares_subject = not any(c.dep_ in SUBJECTS for c in child.children)
        if child.dep_ == "conj" and child.pos_ in ("VERB", "AUX") and shares_subject:
            found.append(child)
            found.extend(_coordinated(child))
    return found


def _finite(verb: Token) -> Token | None:
    """The token that carries tense and person in ``verb``'s clause, if it shows agreement."""
    for child in verb.children:
        if child.dep_ in ("aux", "auxpass") and child.i < verb.i:
            if child.tag_ in ("VBG", "VBN"):
                # "I'm feeling inspired": the parser may hang "'m" on "feeling", not "inspired".
                nested = _finite(child)
                if nested is not None:
                    return nested
                continue
            return child if child.tag_ in ("VBP", "VBD") else None
    # A bare verb after "I" is present tense, whatever the tagger made of it ("I no longer drink").
    # Nor is a bare "participle" that is the verb's base form ("I no longer run", "I come
    # from Oslo"): with no auxiliary it is no participle.
    base = verb.tag_ == "VBN" and verb.lower_ == verb.lemma_.lower()
    return verb if verb.tag_ in ("VBP", "VBD", "VB") or base else None


def _agreeing(verb: Token, number: str) -> str:
    """``verb`` in the third person: singular after a name, plural after "they"."""
    lower = verb.lower_
    if is_gotta(verb):
        return "have" if number == "plural" else "has"  # "I gotta…": "has to", not "got to"
    if number == "plural":
        return {"am": "are", "'m": "are", "was": "were"}.get(lower, _expanded(lower))
    habitual = any(
        c.dep_ == "advmod" and c.lemma_.lower() in lexicon().frequency for c in verb.children
    )
    if verb.tag_ == "VBD" and not (habitual and _ambiguous_past(verb)):
        return {"were": "was"}.get(lower, verb.text)
    if lower in ("'m", "am", "'re", "are"):
        return "is"
    if lower in ("'ve", "have"):
        return "has"
    if lower == "do":
        return "does"
    if lower in _CONTRACTIONS:
        return _CONTRACTIONS[lower]
    if verb.pos_ not in ("VERB", "AUX"):
        return verb.text
    if _ambiguous_past(verb) and not habitual:
        return verb.text  # "I quit", "I read": past or present, the words do not tell
    inflected = getInflection(verb.lemma_.lower(), tag="VBZ")
    return inflected[0] if inflected else verb.text


def _ambiguous_past(verb: Token) -> bool:
    """The past form is the present form ("quit", "read", "put")."""
    return (getInflection(verb.lemma_.lower(), tag="VBD") or ("",))[0] == verb.lower_


def _expanded(lower: str) -> str:
    return _CONTRACTIONS.get(lower, lower)
