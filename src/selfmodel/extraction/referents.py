"""What "it", "that", "those" and "there" refer to, from the same message and the ones before.

"It's special to me" is no belief on its own. Read after "I painted that lake sunrise last year"
it is about the painting; read after the friend's "Is this your own painting?" it is too. The
resolution is deliberately simple and explainable — the nearest earlier noun phrase that fits
(number, person or thing, place for "there") — and when nothing fits the sentence is not a
belief: a statement that cannot stand on its own is worse than none.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from spacy.tokens import Doc, Span, Token

from selfmodel.extraction.lexicon import lexicon

SINGULAR = frozenset(["it", "this", "that"])
PLURAL = frozenset(["they", "them", "those", "these"])
PLACE = frozenset(["there"])
REFERRING = SINGULAR | PLURAL | PLACE
# Roles in which an unresolved pronoun carries the point of the sentence.
CORE_ROLES = frozenset(["nsubj", "nsubjpass", "dobj", "pobj", "attr", "dative", "oprd"])
_PLACE_ENTITIES = frozenset(["GPE", "LOC", "FAC"])
_CENTRAL_ROLES = frozenset(["nsubj", "nsubjpass", "dobj", "attr", "appos", "ROOT", "oprd"])
_POSSESSIVES = frozenset(["my", "your", "his", "her", "their", "our", "its"])
_DETERMINERS = frozenset(["a", "an", "the", "this", "that", "these", "those", "some", "any"])


@dataclass(frozen=True)
class Antecedent:
    text: str  # how to write it in place of the pronoun ("the lake sunrise")
    in_same_message: bool
    same_sentence: bool = False


def referring_pronouns(tokens: Sequence[Token]) -> list[Token]:
    """Pronouns in ``tokens`` that need an antecedent for the sentence to stand on its own."""
    found = []
    for token in tokens:
        lower = token.lower_
        if lower not in REFERRING:
            continue
        if _is_idiomatic(token):
            continue
        if lower in PLACE:
            if token.dep_ == "advmod" and token.head.pos_ in ("VERB", "AUX"):
                found.append(token)  # "I love it there" — not the "there" of "there is"
            continue
        if token.pos_ != "PRON" or token.dep_ not in CORE_ROLES:
            continue
        if lower in PLURAL and any(c.dep_ == "relcl" for c in token.children):
            continue  # "those who accept me": the clause says who
        if lower == "that" and token.head.dep_ in ("relcl", "ccomp"):
            continue  # a relative pronoun or complementiser: "the one that…"
        if lower == "it" and _is_pleonastic(token):
            continue
        found.append(token)
    return found


# Verbs that make an idiom with a bare "it": "I'm gonna make it", "you nailed it", "kill it".
_IDIOM_VERBS = frozenset(["make", "nail", "kill", "rock", "ace", "crush"])


def _is_idiomatic(token: Token) -> bool:
    """ "make it" (succeed), "go for it", "hang in there": the pronoun refers to nothing said."""
    head = token.head
    lemma = head.lemma_.lower()
    if token.lower_ == "there":
        return lemma == "hang"
    if _makes_it_happen(token) or _sees_where_it_goes(token):
        return True
    if token.lower_ != "it":
        return False
    if token.dep_ == "pobj" and lemma == "for":
        return head.head.lemma_.lower() == "go"
    return (
        token.dep_ == "dobj"
        and lemma in _IDIOM_VERBS
        # "make it work", "make it big": then "it" is something that works or grows.
        and not any(c.dep_ in ("xcomp", "ccomp", "oprd", "acomp") for c in head.children)
    )


def _makes_it_happen(token: Token) -> bool:
    """ "I'm gonna make it happen", "I'll make this work": resolve, about nothing in particular
    (with more said — "make it work with the old laptop" — "it" is a thing)."""
    verb = token.head
    return (
        token.lower_ in ("it", "this")
        and token.dep_ == "nsubj"
        and verb.lemma_.lower() in ("happen", "work")
        and verb.dep_ in ("ccomp", "xcomp")
        and verb.head.lemma_.lower() == "make"
        and all(c == token or c.is_punct for c in verb.children)
    )


def _sees_where_it_goes(token: Token) -> bool:
    """ "I'm excited to see where it takes me", "let's see where this goes": looking ahead,
    about nothing in particular."""
    verb = token.head
    return (
        token.lower_ in ("it", "this")
        and token.dep_ == "nsubj"
        and verb.lemma_.lower() in ("take", "lead", "go")
        and verb.dep_ == "ccomp"
        and verb.head.lemma_.lower() == "see"
        and any(c.lower_ == "where" for c in verb.children)
    )


def judges_an_event(token: Token) -> bool:
    """ "It wasn't easy", "it was a real scary experience": a verdict on what was just said."""
    head = token.head
    return (
        token.dep_ == "nsubj"
        and head.lemma_ == "be"
        and any(c.dep_ in ("acomp", "attr") and c.pos_ in ("ADJ", "NOUN") for c in head.children)
    )


def _is_pleonastic(token: Token) -> bool:
    """ "It's great that…", "it's been hard to…", "it rains": no referent needed."""
    head = token.head
    if head.lemma_.lower() in ("rain", "snow"):
        return True
    return any(c.dep_ in ("xcomp", "ccomp", "csubj") for c in head.children) and head.lemma_ in (
        "be",
        "seem",
        "feel",
        "look",
        "sound",
        "take",
        "make",
    )


def resolve(
    pronoun: Token, before_in_message: Sequence[Span], earlier_messages: Sequence[Doc]
) -> Antecedent | None:
    """The nearest fitting noun phrase before ``pronoun``: same message first, then earlier."""
    found = _fitting(pronoun, pronoun.sent, before=pronoun.i)
    if found is not None:
        return Antecedent(found, True, same_sentence=True)
    for sentence in reversed(before_in_message):
        found = _fitting(pronoun, sentence)
        if found is not None:
            return Antecedent(found, True)
    # Only the message just before: further back, "it" is rarely what was said then.
    for doc in list(earlier_messages)[-1:]:
        for sentence in reversed(list(doc.sents)):
            found = _fitting(pronoun, sentence)
            if found is not None:
                return Antecedent(found, False)
    return None


def _fitting(pronoun: Token, sentence: Span, before: int | None = None) -> str | None:
    lower = pronoun.lower_
    if lower in PLACE:
        places = [e for e in sentence.ents if e.label_ in _PLACE_ENTITIES]
        if before is not None:
            places = [e for e in places if e.end <= before]
        return places[-1].text if places else None
    chunks = [c for c in sentence.noun_chunks if before is None or c.end <= before]
    # What a sentence is about (its subject, object or predicate noun) before what sits in a
    # prepositional phrase: "your own painting of the lake" -> the painting.
    central = [c for c in chunks if c.root.dep_ in _CENTRAL_ROLES]
    ordered = [*reversed(central), *(c for c in reversed(chunks) if c not in central)]
    for chunk in ordered:
        head = chunk.root
        lemma = head.lemma_.lower()
        if head.pos_ not in ("NOUN", "PROPN") or lemma in lexicon().generic_nouns:
            continue
        if head.lower_ in ("gon", "wan"):
            continue  # "Tomorrow's gonna be…": the tagger's noun is half of "gonna"
        if lemma in lexicon().small_talk or head.lower_ in ("thanks", "worries"):
            continue  # "Thanks", "No worries": pleasantries, never what "they" stands for
        if head.ent_type_ in ("DATE", "TIME", "CARDINAL", "ORDINAL", "MONEY", "PERCENT"):
            continue  # "in June" is never what "it" stands for
        plural = head.tag_ in ("NNS", "NNPS") or any(c.dep_ == "conj" for c in head.children)
        if lower in PLURAL and not plural:
            continue
        # People say "I started pottery classes and I love it": within one sentence "it" may
        # stand for a plural; across sentences the number must agree.
        if lower in SINGULAR and (head.ent_type_ == "PERSON" or (plural and before is None)):
            continue
        return _as_reference(chunk)
    if before is not None and lower in SINGULAR:
        # "I love running, it clears my head": an activity just named is what "it" is.
        activities = [
            t
            for t in sentence
            if t.i < before and t.tag_ == "VBG" and t.dep_ in ("xcomp", "dobj", "pcomp", "csubj")
        ]
        if activities:
            return activities[-1].text
    return None


def _as_reference(chunk: Span) -> str:
    """The noun phrase as a definite reference: "your own painting" -> "the painting"."""
    words = [t for t in chunk if t.lower_ not in ("own",)]
    if words and words[0].lower_ in _POSSESSIVES | _DETERMINERS:
        rest = "".join(t.text_with_ws for t in words[1:]).strip()
        return f"the {rest}" if rest and chunk.root.pos_ != "PROPN" else rest
    return "".join(t.text_with_ws for t in words).strip()
