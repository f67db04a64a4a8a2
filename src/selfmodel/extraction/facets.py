"""Single-valued facets a sentence sets: where the person lives, whom they work for, what they
work as, their relationship status, their diet, and the name they go by.

A facet is read from the clause whose verb has the speaker as subject (``facets``): a residence
verb with a place ("relocated to Manchester", "home is now Edinburgh"), an employer verb with an
organisation ("joined Stripe", "work at the clinic"), an occupation after "be", "become" or "as"
("I'm a nurse", "work as a data engineer"), a relationship status ("got married"), a diet ("went
vegan"), a self-introduction ("I'm Priya", "call me Sam"). The reviser replaces an older value of
the same facet whatever the wording (see revision/reviser.py).
"""

from __future__ import annotations

from collections.abc import Sequence

from lemminflect import getInflection
from spacy.tokens import Token

from selfmodel.domain import Facet
from selfmodel.extraction.lexicon import lexicon
from selfmodel.extraction.parse import is_first_person_subject, owned, proper_name
from selfmodel.extraction.speech import SUBJECTS

_PLACE_ENTITIES = frozenset(["GPE", "LOC", "FAC"])


_ORGANISATION_ENTITIES = frozenset(["ORG", "PRODUCT", "PERSON", "NORP", "GPE", "FAC"])


def facets(words: Sequence[Token], main: Token | None) -> list[tuple[Facet, str, bool]]:
    """The single-valued attributes the sentence sets, with their values and whether the main
    clause sets them: "I quit the night shifts, I work days at the clinic now" sets where they
    work in its second clause."""
    if main is None:
        return []
    verbs = [main] + [
        t for t in words if t.pos_ in ("VERB", "AUX") and t != main and is_first_person_subject(t)
    ]
    found: dict[Facet, tuple[str, bool]] = {}
    for verb in verbs:
        clause = words if verb == main else [t for t in words if t in set(verb.subtree)]
        for facet, value in _facets_of(clause, verb):
            found.setdefault(facet, (value, verb == main))
    return [(facet, value, in_main) for facet, (value, in_main) in found.items()]


def _facets_of(words: Sequence[Token], main: Token) -> list[tuple[Facet, str]]:
    """The facets one clause (its verb ``main``) sets."""
    w = lexicon()
    lemma = main.lemma_.lower()
    speaker = is_first_person_subject(main) or not any(c.dep_ in SUBJECTS for c in main.children)
    name = _name(words, main)
    if name:
        return [(Facet.NAME, name)]
    home = next((t for t in words if t.lemma_.lower() == "home" and t.dep_ in SUBJECTS), None)
    if home is not None and (owned(home) or not any(c.dep_ == "poss" for c in home.children)):
        place = _place(home.head)
        if place:
            return [(Facet.RESIDENCE, place)]
    if not speaker:
        return []
    found: list[tuple[Facet, str]] = []
    if lemma in w.facet_verbs["residence"] or lemma == "base" or main.lower_ == "based":
        place = _place(main)
        if place:
            found.append((Facet.RESIDENCE, place))
    occupation = _occupation(main)
    if occupation:
        found.append((Facet.OCCUPATION, occupation))
    if lemma in w.facet_verbs["employer"] or _names_a_job(main):
        employer = _employer(main)
        if employer:
            found.append((Facet.EMPLOYER, employer))
    elif lemma in ("leave", "quit"):
        left = next((c for c in main.children if c.dep_ == "dobj" and _organisation(c)), None)
        if left is not None:
            found.append((Facet.EMPLOYER, proper_name(left)))  # "I left Google": a denial
    status = _relationship_status(words, main)
    if status:
        found.append((Facet.RELATIONSHIP_STATUS, status))
    diet = next(
        (
            t.lower_
            for t in words
            if t.lower_ in w.diets
            and t.head == main
            and t.dep_ in ("acomp", "attr", "oprd", "amod")
        ),
        None,
    )
    if diet is None and lemma in ("be", "go", "become", "turn", "stay"):
        diet = next((t.lower_ for t in words if t.lower_ in w.diets), None)
    if diet is None and _eats_meat_again(words, main):
        diet = "omnivore"  # "I eat meat again": no longer vegetarian, whatever the word was
    if diet:
        found.append((Facet.DIET, diet))
    return found


_JOBS = frozenset(["job", "role", "position", "post", "gig", "internship", "placement"])


def _names_a_job(verb: Token) -> bool:
    """ "I got a new job at Stripe", "I took a role with Monzo": the job says who employs them."""
    return any(c.dep_ == "dobj" and c.lemma_.lower() in _JOBS for c in verb.children)


def _organisation(token: Token) -> bool:
    return token.ent_type_ == "ORG" or (
        token.pos_ == "PROPN" and token.ent_type_ not in ("GPE", "LOC", "PERSON")
    )


def _eats_meat_again(words: Sequence[Token], main: Token) -> bool:
    """ "I eat meat again", "I'm eating meat now": back from a meatless diet."""
    return (
        main.lemma_.lower() == "eat"
        and any(c.dep_ == "dobj" and c.lemma_.lower() == "meat" for c in main.children)
        and not any(c.dep_ == "neg" for c in main.children)
        and any(t.lower_ in ("again", "now") for t in words)
    )


def _name(words: Sequence[Token], main: Token) -> str | None:
    """ "My name is Priya", "call me Sam", "I'm Priya": the name the person goes by."""
    for token in words:
        if token.lemma_.lower() == "name" and owned(token) and token.dep_ in SUBJECTS:
            value = next((c for c in token.head.children if c.dep_ == "attr"), None)
            if value is not None and value.pos_ == "PROPN":
                return proper_name(value)
    if main.lemma_.lower() == "call" and any(c.lower_ == "me" for c in main.children):
        value = next(
            (c for c in main.children if c.dep_ in ("oprd", "dobj") and c.pos_ == "PROPN"), None
        )
        if value is not None:
            return proper_name(value)
    if main.lemma_.lower() == "be" and is_first_person_subject(main) and len(words) <= 4:
        value = next((c for c in main.children if c.dep_ == "attr"), None)
        if (
            value is not None
            and value.pos_ == "PROPN"
            and value.ent_type_ in ("PERSON", "")
            and not any(c.dep_ == "det" for c in value.children)
        ):
            return proper_name(value)  # "I'm Priya" (not "I'm a Londoner", not "I'm the Smiths")
    return None


def _place(verb: Token) -> str | None:
    for child in verb.children:
        if child.dep_ == "prep" and child.lower_ in ("in", "to", "near", "at", "outside"):
            for obj in child.children:
                if obj.dep_ == "pobj" and (obj.ent_type_ in _PLACE_ENTITIES or obj.pos_ == "PROPN"):
                    return proper_name(obj)
        if child.dep_ in ("attr", "dobj", "npadvmod") and (
            child.ent_type_ in _PLACE_ENTITIES or child.pos_ == "PROPN"
        ):
            return proper_name(child)
    return None


def _employer(verb: Token) -> str | None:
    # "at Monzo" may hang on the verb or on the role ("work as a data analyst at Monzo").
    roles = [
        obj for c in verb.children if c.dep_ == "prep" and c.lower_ == "as"
        for obj in c.children if obj.dep_ == "pobj"
    ]  # fmt: skip
    jobs = [c for c in verb.children if c.dep_ == "dobj" and c.lemma_.lower() in _JOBS]
    for child in [
        *verb.children,
        *(c for role in roles for c in role.children),
        *(c for job in jobs for c in job.children),
    ]:
        if child.dep_ == "prep" and child.lower_ in ("at", "for", "with"):
            for obj in child.children:
                if obj.dep_ != "pobj":
                    continue
                if obj.pos_ == "PROPN" or obj.ent_type_ in _ORGANISATION_ENTITIES:
                    return proper_name(obj)
                if (
                    verb.lemma_.lower() == "work"
                    and obj.pos_ == "NOUN"
                    and obj.lemma_.lower() not in lexicon().generic_nouns | {"home", "moment"}
                    and any(c.dep_ in ("det", "poss", "compound") for c in obj.children)
                ):
                    # "at the clinic", "for a bank", "at the children's hospital"
                    return "".join(t.text_with_ws for t in obj.subtree).strip()
        if verb.lemma_.lower() == "join" and child.dep_ == "dobj" and child.pos_ == "PROPN":
            return proper_name(child)
    return None


def _occupation(verb: Token) -> str | None:
    occupations = lexicon().occupations
    lemma = verb.lemma_.lower()
    candidates: list[Token] = []
    if lemma in ("be", "become") and is_first_person_subject(verb):
        candidates += [c for c in verb.children if c.dep_ == "attr"]
    for child in verb.children:
        if (child.dep_ == "prep" and child.lower_ in ("as",)) or (
            lemma == "promote" and child.dep_ == "prep" and child.lower_ == "to"
        ):
            candidates += [c for c in child.children if c.dep_ == "pobj"]
    for noun in candidates:
        if noun.pos_ == "NOUN" and noun.lemma_.lower() in occupations:
            words = [t for t in noun.subtree if t.dep_ in ("compound", "amod") and t.i < noun.i]
            words = [
                t
                for t in words
                if t.pos_ in ("NOUN", "PROPN", "ADJ")
                and t.lower_ not in ("big", "huge", "great", "good")
            ]
            return " ".join([*(t.lower_ for t in words), noun.lower_])
    return None


def _relationship_status(words: Sequence[Token], main: Token) -> str | None:
    statuses = lexicon().relationship_status
    lemma = main.lemma_.lower()
    if lemma in ("marry", "divorce", "engage", "separate", "widow") and main.tag_ in ("VBN", "VBD"):
        return statuses.get(
            getInflection(lemma, tag="VBN")[0] if getInflection(lemma, tag="VBN") else lemma
        )
    if lemma == "date" and main.tag_ == "VBG":
        return statuses["dating"]
    if lemma == "break" and any(c.lower_ == "up" for c in main.children):
        return statuses["single"]
    for token in words:
        if (
            token.head == main
            and token.dep_ in ("acomp", "attr", "oprd")
            and token.lower_ in statuses
        ):
            return statuses[token.lower_]
        if token.lower_ == "relationship" and token.head.lower_ == "in":
            return statuses["relationship"]
    return None
