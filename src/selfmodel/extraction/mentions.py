"""What a sentence mentions, for the reviser and the traits: its topics (lemmas of what it is
about), its interests (what it shows the person likes or does for its own sake), and the people
and pets of theirs it names."""

from __future__ import annotations

from collections.abc import Sequence

from lemminflect import getInflection
from spacy.tokens import Token

from selfmodel.domain import BeliefKind, Related
from selfmodel.extraction.lexicon import lexicon
from selfmodel.extraction.parse import (
    is_first_person_subject,
    owned,
    proper_name,
    said_of_someone_else,
    verb_lemma,
)
from selfmodel.extraction.speech import FIRST_PERSON

_TOPIC_ROLES = frozenset(
    ["dobj", "pobj", "attr", "nsubj", "nsubjpass", "conj", "xcomp", "pcomp", "appos", "compound",
     "oprd", "acomp", "npadvmod", "advcl", "ccomp"]
)  # fmt: skip


def topics(words: Sequence[Token]) -> tuple[str, ...]:
    """Lemmas of what the sentence is about: nouns and activities ("paint", "lake", "sunrise")."""
    w = lexicon()
    found: list[str] = []
    for token in words:
        lemma = token.lemma_.lower()
        if token.lower_ in FIRST_PERSON or token.is_stop or len(lemma) < 3:
            continue
        if token.pos_ in ("NOUN", "PROPN") and lemma not in w.generic_nouns:
            if token.dep_ in _TOPIC_ROLES or token.dep_ in ("ROOT",):
                if token.pos_ == "PROPN":
                    found.append(token.text.lower())
                else:
                    found.append(verb_lemma(token) or lemma)
        elif (
            token.pos_ == "VERB"
            and token.tag_ == "VBG"
            and token.dep_
            in ("xcomp", "dobj", "pobj", "pcomp", "csubj", "nsubj", "ROOT", "conj", "advcl")
        ):
            if lemma not in w.light_verbs:
                found.append(lemma)  # "running" and "runs" are one topic: "run"
        elif (
            token.pos_ == "VERB"
            and (
                token.dep_ in ("ROOT", "conj")
                or (token.dep_ == "xcomp" and token.head.lemma_.lower() in w.liking_verbs)
            )
            and lemma not in w.light_verbs | w.liking_verbs | w.disliking_verbs | w.change_verbs
        ):
            found.append(lemma)  # the activity itself: "I smoke", "I paint"
    return tuple(dict.fromkeys(found))


# A pastime's verb that, with an object, means managing it: "running a business".
_MANAGING = frozenset(["run"])

# Verbs whose object is a pastime: "play tennis", "do yoga", "practise piano", "take up pottery".
_PASTIME_VERBS = frozenset(["play", "do", "practice", "practise"])


def _is_pastime(verb: Token) -> bool:
    lemma = verb.lemma_.lower()
    return lemma in _PASTIME_VERBS or (
        lemma == "take" and any(c.dep_ == "prt" and c.lower_ == "up" for c in verb.children)
    )


def _wished(verb: Token) -> bool:
    """ "I'd love to check them out", "I'd love to see your paintings": a wish about one thing
    someone else has, not a taste ("I'd love to run a marathon" still shows one)."""
    if not any(c.dep_ == "aux" and c.lower_ in ("would", "'d") for c in verb.children):
        return False
    wanted = [c for c in verb.children if c.dep_ == "xcomp"]
    objects = [o for w in wanted for o in w.children if o.dep_ == "dobj"]
    return any(
        o.pos_ == "PRON" or any(p.lower_ in ("your", "his", "her", "their") for p in o.children)
        for o in objects
    )


def interests(words: Sequence[Token], main: Token | None, kind: BeliefKind) -> tuple[str, ...]:
    """What the sentence shows the person likes or does for its own sake, by the parse alone:
    the object of a liking ("I love pottery", "I'm into jazz", "a big fan of sci-fi"), an outing
    ("went camping"), a pastime's object ("play tennis", "do yoga", "took up pottery"), or the
    activity of a habit ("I run every morning")."""
    w = lexicon()
    found: list[str] = []
    liked: set[str] = set()

    def add(token: Token, *, liking: bool = False) -> None:
        if liking and owned(token):
            return  # "loving my new job" is about the job they have, not a taste
        before = len(found)
        _add(token)
        if liking and len(found) > before:
            liked.add(found[-1])

    def _add(token: Token) -> None:
        lemma = token.lemma_.lower()
        if token.tag_ == "VBG" or (token.pos_ == "VERB" and token.dep_ == "xcomp"):
            gerund = (
                token.lower_
                if token.tag_ == "VBG"
                else (getInflection(lemma, tag="VBG") or [lemma])[0]
            )
            done_to = [c for c in token.children if c.dep_ == "dobj" and c.pos_ == "NOUN"]
            thing = done_to[0] if done_to else None
            if thing is not None and _is_pastime(token):
                _add(thing)  # "playing tennis", "doing yoga": the object is the pastime
            elif thing is not None and (
                owned(thing) or (lemma in _MANAGING and not _pastime(_as_named(thing)))
            ):
                return  # "running my own studio" is about the studio, not a love of running
            elif thing is not None and not _pastime(gerund) and _pastime(_as_named(thing)):
                _add(thing)  # "creating art", "watching movies": the object is the pastime
            elif thing is not None and not _pastime(gerund):
                # "checking out galleries", "teaching kids": the activity with what it is done to
                particle = [c.lower_ for c in token.children if c.dep_ == "prt"]
                found.append(" ".join([gerund, *particle, _as_named(done_to[0])]))
            elif lemma not in w.light_verbs and lemma not in w.communication_verbs:
                found.append(gerund)
        elif token.pos_ in ("NOUN", "PROPN") and lemma not in w.generic_nouns and not token.is_stop:
            # "braised dishes", "science fiction": the words that make it a kind of thing.
            words_ = [
                t
                for t in token.lefts
                if (t.dep_ == "compound" and t.pos_ in ("NOUN", "PROPN"))
                or (t.dep_ == "amod" and t.lemma_.lower() not in w.evaluative_adjectives)
            ]
            named = _as_named(token) if not words_ else _as_said(token)  # "video games"
            found.append(" ".join([*(t.lower_ for t in words_), named]))

    if main is None:
        return ()
    liking = (
        main.lemma_.lower() in w.liking_verbs
        and main.tag_ != "VBD"
        and not said_of_someone_else(main)  # "our dog loves the beach" is the dog's liking
        and not _wished(main)
    )
    for token in words:
        head = token.head
        head_lemma = head.lemma_.lower()
        if (liking and head == main and token.dep_ in ("dobj", "xcomp", "ccomp")) or (
            token.dep_ == "pobj"
            and head.lower_ in ("into", "about", "of")
            and (
                head.head.lemma_.lower() in w.liking_adjectives | {"be", "fan", "passionate"}
                or head.head.lower_ in w.liking_adjectives
            )
            and kind is BeliefKind.PREFERENCE
        ):
            add(token, liking=True)  # what they say they love, whatever it is
        elif (
            token.tag_ == "VBG"
            and head_lemma == "go"
            and token.dep_ in ("xcomp", "advcl", "dobj", "npadvmod")
        ):
            add(token)  # "went camping", "go hiking"
        elif (
            token.dep_ == "dobj"
            and head == main
            and _is_pastime(head)
            and kind in (BeliefKind.HABIT, BeliefKind.PREFERENCE, BeliefKind.EXPERIENCE)
        ):
            add(token)
    if (
        kind is BeliefKind.HABIT
        and main.pos_ == "VERB"
        and main.lemma_.lower() not in w.light_verbs
        and not _is_pastime(main)
    ):
        gerund = getInflection(main.lemma_.lower(), tag="VBG")
        if gerund:
            found.append(gerund[0])
    # What they say they love is an interest whatever it is; what they merely did is one only
    # when it is a pastime ("went camping" yes, "went checking" no).
    return tuple(dict.fromkeys(f for f in found if f in liked or _pastime(f)))


def _as_named(noun: Token) -> str:
    """How an interest is named: "dance(s)" and "hike(s)" as the activity ("dancing", "hiking")
    so that "I love dance" and "I love dancing" are one interest; a plural as said ("fashion
    trends", "video games")."""
    lemma = noun.lemma_.lower()
    gerund: str = (getInflection(lemma, tag="VBG") or [""])[0]
    if gerund in lexicon().pastimes:
        return gerund  # "dance", "dances", "hikes": the activity
    return _as_said(noun)


def _as_said(noun: Token) -> str:
    said: str = noun.lower_ if noun.tag_ in ("NNS", "NNPS") else noun.lemma_.lower()
    return said


def _pastime(interest: str) -> bool:
    pastimes = lexicon().pastimes
    last = interest.split()[-1]
    return interest in pastimes or last in pastimes or f"{last}s" in pastimes


def related(words: Sequence[Token]) -> tuple[Related, ...]:
    """People and pets of the speaker's the sentence names ("my husband John", "our dog Max")."""
    w = lexicon()
    found: list[Related] = []
    for token in words:
        lemma = token.lemma_.lower()
        if token.pos_ != "NOUN" or (lemma not in w.kinship and lemma not in w.pets):
            continue
        theirs = owned(token) or (
            token.dep_ == "dobj"
            and token.head.lemma_.lower() in ("have", "get", "adopt")
            and is_first_person_subject(token.head)
        )
        if not theirs:
            continue
        # "You're like family to me, Caroline": a group is not someone with a name.
        name = None if w.kinship.get(lemma) == "family" else _given_name(token)
        if lemma in w.pets:
            found.append(Related(relation="pet", name=name, species=w.pets[lemma]))
        else:
            found.append(Related(relation=w.kinship[lemma], name=name))
    return tuple(dict.fromkeys(found))


def _given_name(token: Token) -> str | None:
    for child in token.children:
        if (
            child.dep_ in ("appos", "compound", "npadvmod")
            and child.pos_ == "PROPN"
            and child.i > token.i
        ):
            return proper_name(child)
        if child.dep_ == "acl" and child.lemma_.lower() in ("name", "call"):
            value = next((c for c in child.children if c.pos_ == "PROPN"), None)
            if value is not None:
                return proper_name(value)
    if token.dep_ == "appos" and token.head.pos_ == "PROPN":
        return proper_name(token.head)
    return None
