"""What a first-person sentence asserts, read from its parse: kind, hedging, polarity and
change; with its facets (``facets``) and what it mentions (``mentions``) they make its frame.

The parts go into the candidate's ``BeliefFrame`` so the reviser can compare statements by what
they assert rather than by their words: a denial against an affirmation, a new value of a
single-valued facet against the old one, paraphrases about the same topic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise

from lemminflect import getInflection
from spacy.tokens import Token

from selfmodel.domain import BeliefFrame, BeliefKind, Facet
from selfmodel.extraction.facets import facets
from selfmodel.extraction.lexicon import lexicon
from selfmodel.extraction.mentions import interests, related, topics
from selfmodel.extraction.parse import (
    clause_about_speaker,
    has_prep,
    is_first_person_subject,
    is_gerund,
    main_verb,
    owned,
    said_of_someone_else,
    verb_lemma,
)
from selfmodel.extraction.speech import SUBJECTS

#: "maybe", "might", "not sure": the speaker is undecided; evidence counts half.
STRONG_HEDGE_STRENGTH = 0.5
#: "I think I'll", "probably": mostly meant, softened.
MILD_HEDGE_STRENGTH = 0.7
# Kinds that, said plainly by the speaker about themselves, are self-descriptions.
STATED_KINDS = frozenset(
    {
        BeliefKind.PREFERENCE,
        BeliefKind.IDENTITY,
        BeliefKind.VALUE,
        BeliefKind.EXPERTISE,
        BeliefKind.FACT,
        BeliefKind.RELATIONSHIP,
        BeliefKind.HABIT,
        BeliefKind.GOAL,
        BeliefKind.OPINION,
        BeliefKind.PLAN,
    }
)
_EXPERTISE_WORDS = frozenset(
    ["expert", "skilled", "proficient", "fluent", "certified", "degree", "experience", "trained",
     "qualified", "specialize", "specialise", "professional"]
)  # fmt: skip


@dataclass
class Assertion:
    """What one sentence asserts about the speaker, and how to write the claim it denies."""

    kind: BeliefKind
    strength: float
    stated: bool
    frame: BeliefFrame
    # To write the affirmative claim a denial denies: tokens to leave out and to rewrite.
    claim_drop: set[int] = field(default_factory=set)
    claim_replace: dict[int, str] = field(default_factory=dict)
    claim_object: str | None = None  # "gave up coffee": the claim is only known as its object
    # "I'm flying to Lisbon on Friday": the present progressive, English's way to state an
    # arrangement, so an ambiguous date ("on Friday", "in May") lies ahead.
    progressive: bool = False
    # Further facets the sentence sets ("I joined Stripe as a product manager": the employer
    # beside the occupation); each becomes a belief of its own.
    extra_facets: list[tuple[Facet, str]] = field(default_factory=list)


def read_assertion(tokens: Sequence[Token], *, subjectless: bool) -> Assertion:
    """Kind, hedging, polarity and frame of a sentence about its speaker."""
    words = [t for t in tokens if not t.is_punct]
    main = main_verb(words)
    negation = _negation(words, main)
    kind = _kind(words, main, subjectless=subjectless)
    strength = _strength(words, main)
    found_facets = facets(words, main)
    # Only a facet of the main clause is the sentence's own (its negation applies to it); the
    # others are stated beside it ("I don't eat meat, I've been vegetarian for years").
    own = [(f, v) for f, v, in_main in found_facets if in_main]
    beside = [(f, v) for f, v, in_main in found_facets if not in_main]
    facet, value = own[0] if own else (None, None)
    if facet is Facet.RELATIONSHIP_STATUS or facet is Facet.NAME:
        kind = BeliefKind.RELATIONSHIP if facet is Facet.RELATIONSHIP_STATUS else kind
    if facet is Facet.OCCUPATION or facet is Facet.DIET:
        kind = BeliefKind.IDENTITY if kind not in (BeliefKind.PLAN, BeliefKind.GOAL) else kind
    if facet is Facet.RESIDENCE or facet is Facet.EMPLOYER:
        kind = BeliefKind.FACT if kind not in (BeliefKind.PLAN, BeliefKind.GOAL) else kind
    if facet is not None and kind in (BeliefKind.PLAN, BeliefKind.GOAL):
        facet, value = None, None  # "I want to move to Lisbon" moves nothing yet
    if negation.gerund_change:
        kind = BeliefKind.HABIT  # "I stopped drinking coffee" ends a habit
    people_and_pets = related(words)
    if people_and_pets and (
        kind in (BeliefKind.FACT, BeliefKind.EXPERTISE) or said_of_someone_else(main)
    ):
        # "My dog Biscuit loves the beach": about someone in their life, not their own liking.
        kind = BeliefKind.RELATIONSHIP
    extra_facets = [] if negated_facet_blocked(kind) else [*own[1:], *beside]
    negated = negation.negated
    change = negation.change or (facet is not None and _marks_a_shift(words))
    if kind is BeliefKind.EXPERIENCE and facet in (Facet.RESIDENCE, Facet.EMPLOYER):
        kind = BeliefKind.FACT  # "I moved to Leeds" is where they live now
    subject_is_speaker = subjectless or (main is not None and is_first_person_subject(main))
    stated = strength == 1.0 and kind in STATED_KINDS and subject_is_speaker and not subjectless
    communication = kind is BeliefKind.PREFERENCE and any(
        t.lemma_.lower() in lexicon().communication_nouns and t.dep_ in ("dobj", "pobj", "attr")
        for t in words
    )  # "I prefer short, direct answers": how they want to be answered
    displaces = not negated and _takes_the_place_of_another(words, main)
    if displaces and kind not in (BeliefKind.PREFERENCE, BeliefKind.HABIT):
        kind = BeliefKind.PREFERENCE  # "I've switched to tea": what they now go for
    frame = BeliefFrame(
        domain="communication" if communication else None,
        negated=negated,
        facet=facet,
        value=value,
        topics=topics(words),
        interests=() if negated else interests(words, main, kind),
        related=people_and_pets,
        displaces=displaces,
        change=change or displaces,
    )
    return Assertion(
        kind=kind,
        strength=strength,
        stated=stated,
        frame=frame,
        claim_drop=negation.drop,
        claim_replace=negation.replace,
        claim_object=negation.object_text,
        extra_facets=extra_facets if not negation.negated else beside,
        progressive=main is not None
        and main.tag_ == "VBG"
        and any(c.lemma_ == "be" and c.tag_ in ("VBP", "VBZ") for c in main.children),
    )


# -- the main verb -----------------------------------------------------------------------------
# -- negation and change -----------------------------------------------------------------------
@dataclass
class _Negation:
    negated: bool = False
    change: bool = False
    drop: set[int] = field(default_factory=set)
    replace: dict[int, str] = field(default_factory=dict)
    object_text: str | None = None
    gerund_change: bool = False  # a habit ended: "stopped drinking coffee"


def _negation(words: Sequence[Token], main: Token | None) -> _Negation:
    found = _Negation()
    if main is None:
        return found
    words_lex = lexicon()
    persists = _persists(main)
    for token in words:
        lower = token.lower_
        if token.dep_ == "neg" and token.head == main and not persists and not _unsure(main):
            found.negated = True
            found.drop.add(token.i)
            _undo_do_support(token.head, found)
        elif lower == "never" and token.head == main and not persists:
            found.negated = True
            found.drop.add(token.i)
        elif lower == "longer" and token.i > 0 and token.nbor(-1).lower_ == "no":
            found.negated = found.change = True
            found.drop |= {token.i, token.i - 1}
        elif lower in ("anymore",) or (
            lower == "more" and token.i > 0 and token.nbor(-1).lower_ == "any"
        ):
            found.change = True
            found.drop.add(token.i)
            if lower == "more":
                found.drop.add(token.i - 1)
    lemma = main.lemma_.lower()
    particles = {c.lower_ for c in main.children if c.dep_ == "prt"}
    wanted = words_lex.change_particles.get(lemma)
    is_change_verb = lemma in words_lex.change_verbs and (
        wanted is None or bool(wanted & particles) or (not wanted and not particles)
    )
    if lemma in ("go", "give", "cut") and not (wanted and wanted & particles):
        is_change_verb = False
    if lemma == "lose" and not any(
        c.dep_ == "dobj" and c.lemma_.lower() in ("interest", "habit") for c in main.children
    ):
        is_change_verb = False  # "I lost my job", "lost my grandma": something that happened
    if is_change_verb and is_first_person_subject(main) and not found.negated and not persists:
        gerund = next(
            (c for c in main.children if c.dep_ in ("xcomp", "dobj", "advcl") and is_gerund(c)),
            None,
        )
        obj = next((c for c in main.children if c.dep_ in ("dobj", "pobj")), None)
        if obj is not None and obj.lemma_.lower() == "interest":
            # "I lost interest in running": what they lost interest in is what ended.
            preps = [*obj.children, *main.children]
            lost = [g for p in preps if p.lower_ == "in" for g in p.children]
            gerund = next((g for g in lost if is_gerund(g)), gerund)
            obj = next((g for g in lost if not is_gerund(g)), None) if lost else obj
        if gerund is not None or obj is not None:
            found.negated = found.change = True
            if gerund is not None:
                found.object_text = _present_phrase(gerund)
                found.gerund_change = True
            elif obj is not None and obj.pos_ == "PROPN":
                pass  # "I left Google": an employer denied (see facets), no habit ended
            elif obj is not None and obj.lemma_.lower() not in lexicon().generic_nouns | {"habit"}:
                found.object_text = _phrase(obj)
                found.gerund_change = True  # "I gave up coffee" ends a habit too
    if lemma == "break" and any(c.dep_ == "dobj" and c.lemma_ == "habit" for c in main.children):
        found.negated = found.change = True  # "I broke the habit" (which one: see the reviser)
    if found.negated:
        # The claim denied is the main clause's: "I don't eat meat, I've been vegetarian for
        # years" denies "eats meat", not the clause beside it.
        own = {t.i for t in main.subtree}
        for clause in main.children:
            if clause.dep_ == "conj" and any(c.dep_ in SUBJECTS for c in clause.children):
                own -= {t.i for t in clause.subtree}
                own -= {c.i for c in main.children if c.dep_ in ("cc", "punct") and c.i < clause.i}
        found.drop |= {t.i for t in words if t.i not in own}
    disliked = _disliked(main)
    if disliked is not None:
        # "I hate running now", "Running bores me", "I'm done with running": a dislike denies
        # the liking, and with "now" or "done with" it reports that the liking has ended.
        found.negated = True
        found.object_text = f"likes {_thing_phrase(disliked)}"
        found.change = found.change or (main.lower_ in ("done", "fed") or _marks_a_shift(words))
    if main.lower_ == "used" and any(c.tag_ == "VB" for c in main.children):
        # "I used to love running": that was then, so it no longer holds.
        verb = next(c for c in main.children if c.tag_ == "VB")
        found.negated = found.change = True
        found.object_text = _present_phrase(verb)
    return found


def _marks_a_shift(words: Sequence[Token]) -> bool:
    """ "now", "these days", "lately": the sentence says how things are as against before."""
    markers = lexicon().shift_markers
    lowers = [t.lower_ for t in words]
    pairs = [f"{a} {b}" for a, b in pairwise(lowers)]
    return any(w in markers for w in [*lowers, *pairs])


def _takes_the_place_of_another(words: Sequence[Token], main: Token | None) -> bool:
    """ "I'm more into cycling now", "These days I prefer cycling", "I've switched to tea", "I
    drink tea instead": a pastime or a drink taken up in place of another of its kind."""
    if main is None or not is_first_person_subject(main):
        return False
    lowers = {t.lower_ for t in words}
    lemma = main.lemma_.lower()
    cue = (
        ("more" in lowers and _marks_a_shift(words))
        or (lemma == "prefer" and _marks_a_shift(words))
        or (lemma == "switch" and has_prep(main, "to"))
        or "instead" in lowers
    )
    return cue and bool(pastimes_named(words))


def pastimes_named(words: Sequence[Token]) -> set[str]:
    """The pastimes and drinks of a known kind a sentence names ("cycling", "video games")."""
    kinds = lexicon().kind_of_pastime
    lowers = [t.lower_ for t in words]
    said = {*lowers, *(t.lemma_.lower() for t in words), *(f"{a} {b}" for a, b in pairwise(lowers))}
    return {w for w in said if w in kinds}


def _disliked(main: Token) -> Token | None:
    """What the speaker says they dislike or are weary of, if the sentence says so: "I hate
    running", "I can't stand running", "Running bores me", "I'm sick of my job", "I'm done with
    running". Only a thing or an activity, not a clause ("I hate that you had to go")."""
    w = lexicon()
    lemma = main.lemma_.lower()
    children = list(main.children)
    denied = any(c.dep_ == "neg" for c in children)
    thing: Token | None = None
    if lemma == "bore" and any(c.dep_ == "dobj" and c.lower_ == "me" for c in children):
        thing = next((c for c in children if c.dep_ in ("nsubj", "csubj")), None)
        return thing if thing is not None and _is_thing(thing) else None
    if not is_first_person_subject(main):
        return None
    if (lemma in w.disliking_verbs and not denied) or (
        lemma == "stand" and denied and any(c.lemma_ == "can" for c in children)
    ):
        thing = next((c for c in children if c.dep_ in ("dobj", "xcomp")), None)
    elif not denied:
        weary = main if main.lower_ in w.disliking_adjectives else None
        weary = weary or next(
            (c for c in children if c.dep_ == "acomp" and c.lower_ in w.disliking_adjectives),
            None,
        )
        after = weary.children if weary is not None else ()
        preposition = next((c for c in after if c.lower_ in ("of", "with")), None)
        if preposition is not None:
            thing = next((c for c in preposition.children if c.dep_ in ("pobj", "pcomp")), None)
    return thing if thing is not None and _is_thing(thing) else None


def _is_thing(token: Token) -> bool:
    return token.pos_ in ("NOUN", "PROPN") or (token.pos_ == "VERB" and is_gerund(token))


def _thing_phrase(token: Token) -> str:
    """The disliked thing as its words, without when ("running now" -> "running")."""
    timing = {
        t.i
        for c in token.children
        if c.dep_ in ("advmod", "npadvmod") and c.i > token.i
        for t in c.subtree
    }
    kept = [t for t in token.subtree if t.i not in timing and not t.is_punct]
    return " ".join(_THEIR.get(t.lower_, t.text if t.pos_ == "PROPN" else t.lower_) for t in kept)


def _unsure(main: Token) -> bool:
    """ "I'm not sure I'll stay": a hedge on what follows, not a denial of anything."""
    return main.lemma_ == "be" and any(c.lower_ == "sure" for c in main.children)


def _persists(main: Token) -> bool:
    """ "I won't give up", "never quit", "can't wait": a denied ending or an eager wait is no
    denial of anything about the person."""
    lemma = main.lemma_.lower()
    denied = any(c.dep_ == "neg" or c.lower_ == "never" for c in main.children)
    if not denied:
        return False
    if lemma == "wait":
        return True
    particles = {c.lower_ for c in main.children if c.dep_ == "prt"}
    wanted = lexicon().change_particles.get(lemma)
    return lemma in lexicon().change_verbs and (wanted is None or bool(wanted & particles))


def _undo_do_support(verb: Token, found: _Negation) -> None:
    """ "I don't like" -> claim "I like": drop "do" and give its tense to the verb."""
    for child in verb.children:
        if child.dep_ == "aux" and child.lemma_.lower() == "do":
            found.drop.add(child.i)
            tag = "VBD" if child.tag_ == "VBD" else "VBZ"
            inflected = getInflection(verb.lemma_.lower(), tag=tag)
            if inflected:
                found.replace[verb.i] = inflected[0]


_THEIR = {"my": "their", "me": "them", "i": "they", "myself": "themselves", "mine": "theirs"}


def _present_phrase(verb: Token) -> str:
    """A gerund or base verb phrase as a habit: "drinking coffee" -> "drinks coffee"."""
    lemma = verb_lemma(verb) or verb.lemma_.lower()
    inflected = getInflection(lemma, tag="VBZ")
    head = inflected[0] if inflected else lemma
    # What the habit acts on ("drinking coffee"), not when or why it ended ("after my surgery").
    kept = {
        t.i
        for c in verb.children
        if c.dep_ in ("dobj", "xcomp", "prt", "compound", "attr", "acomp") and c.i > verb.i
        for t in c.subtree
    }
    rest = [t for t in verb.doc if t.i in kept and not t.is_punct and t.lower_ != "anymore"]
    return " ".join([head, *(_THEIR.get(t.lower_, t.text) for t in rest)])


def _phrase(token: Token) -> str:
    return " ".join(t.text for t in token.subtree if not t.is_punct)


# -- kind ------------------------------------------------------------------------------------
def _kind(words: Sequence[Token], main: Token | None, *, subjectless: bool) -> BeliefKind:
    w = lexicon()
    lemmas = {t.lemma_.lower() for t in words}
    lowers = [t.lower_ for t in words]
    main_lemma = main.lemma_.lower() if main is not None else ""
    framed = _framed_clause(main)
    if framed is not None and _is_future(words, framed):
        return BeliefKind.PLAN  # "I think I'll switch to night shifts": a plan, hedged
    if _is_future(words, main) or (main_lemma in w.plan_verbs and not _is_past(main)):
        return BeliefKind.PLAN
    if main is not None and (
        (main_lemma in w.goal_verbs and any(c.dep_ == "xcomp" for c in main.children))
        or (
            main_lemma in ("love", "like")
            and any(c.lower_ in ("would", "'d") for c in main.children)
        )
        or any(t.lemma_.lower() in ("goal", "dream", "ambition") and owned(t) for t in words)
    ):
        return BeliefKind.GOAL
    if (
        main_lemma in ("value", "care", "matter")
        or ("important" in lemmas and "me" in lowers)
        or ("mean" in lemmas and "me" in lowers and "lot" in lemmas)
        or (main is not None and main_lemma == "believe" and has_prep(main, "in"))
    ):
        return BeliefKind.VALUE
    if main_lemma in w.opinion_verbs and any(
        c.dep_ == "ccomp" and not clause_about_speaker(c) for c in (main.children if main else ())
    ):
        return BeliefKind.OPINION
    if (
        main is not None
        and main.tag_ != "VBD"
        and (
            main_lemma in w.liking_verbs | w.disliking_verbs
            or any(t.lemma_.lower() in w.liking_adjectives and t.head == main for t in words)
            or any(t.lemma_.lower() in w.preference_nouns and owned(t) for t in words)
            or ("stand" in lemmas and any(t.dep_ == "neg" for t in words))
            or _disliked(main) is not None
        )
    ):
        return BeliefKind.PREFERENCE
    if any(t.lemma_.lower() in _EXPERTISE_WORDS for t in words) and main_lemma in ("be", "have"):
        return BeliefKind.EXPERTISE
    if main is not None and main_lemma == "be" and is_first_person_subject(main):
        attr = next((c for c in main.children if c.dep_ == "attr"), None)
        if attr is not None and attr.pos_ == "NOUN" and attr.lemma_.lower() not in w.generic_nouns:
            return BeliefKind.IDENTITY
        if any(c.dep_ == "prep" and c.lower_ == "from" for c in main.children):
            return BeliefKind.IDENTITY
    if (
        any(t.lemma_.lower() in w.frequency or _per_period(t) for t in words)
        or (main is not None and main.lower_ == "used")
        or _keeps_doing(main)
    ):
        return BeliefKind.HABIT
    if _is_past(main) and not _is_state(words, main):
        return BeliefKind.EXPERIENCE
    if any(t.lemma_.lower() in w.kinship and owned(t) for t in words) or main_lemma in (
        "marry",
        "date",
        "divorce",
    ):
        return BeliefKind.RELATIONSHIP
    if _is_state(words, main):
        return BeliefKind.STATE
    if main_lemma == "identify":
        return BeliefKind.IDENTITY
    return BeliefKind.FACT


def negated_facet_blocked(kind: BeliefKind) -> bool:
    """Plans and goals set no facet yet ("I want to move to Lisbon")."""
    return kind in (BeliefKind.PLAN, BeliefKind.GOAL)


def _framed_clause(main: Token | None) -> Token | None:
    """The speaker's own clause under "I think" / "I guess" / "I'm (not) sure", if any."""
    if main is None:
        return None
    framing = main.lemma_.lower() in ("think", "guess", "suppose", "reckon") or (
        main.lemma_ == "be" and any(c.lower_ == "sure" for c in main.children)
    )
    if not framing:
        return None
    clauses = [c for c in main.subtree if c.dep_ == "ccomp" and clause_about_speaker(c)]
    return clauses[0] if clauses else None


# "I've been painting a lot lately": going on for a while now, so a habit.
_LATELY = frozenset(["lot", "lately", "recently", "days"])


def _keeps_doing(main: Token | None) -> bool:
    """A present perfect progressive said of a stretch of time ("I've been painting a lot",
    "been running lately", "been cooking these days"): something the person does now."""
    if main is None or main.tag_ != "VBG":
        return False
    if not any(c.dep_ == "aux" and c.lower_ == "been" for c in main.children):
        return False
    return any(
        t.lower_ in _LATELY and t.dep_ in ("npadvmod", "advmod", "dobj") for t in main.children
    )


def _per_period(token: Token) -> bool:
    """ "a pack a day", "twice a week", "per month": a rate, so a habit ("a few days ago" is
    not)."""
    children = list(token.children)
    return (
        token.lemma_.lower() in ("day", "week", "month", "night", "morning", "evening")
        and any(
            c.dep_ == "det" and c.lower_ in ("a", "an", "per", "every", "each") for c in children
        )
        and not any(c.lower_ in ("few", "couple", "ago") for c in [*children, token.head])
    )


def _is_future(words: Sequence[Token], main: Token | None) -> bool:
    if main is None:
        return False
    for child in main.children:
        if child.dep_ == "aux" and child.lower_ in ("will", "'ll", "shall"):
            return True
    # "I'm going to…", "gonna": the progressive of "go" with an infinitive.
    if main.lemma_.lower() == "go" and main.tag_ == "VBG":
        return any(c.dep_ == "xcomp" for c in main.children)
    # "I have to finish my thesis", "I gotta move out by May": an obligation still to be met.
    if main.lemma_.lower() == "have" and main.tag_ in ("VBP", "VBZ"):
        to_do = [c for c in main.children if c.dep_ == "xcomp" and c.pos_ in ("VERB", "AUX")]
        if any(any(a.lower_ in ("to", "ta") for a in c.children) for c in to_do):
            return True
    return any(t.lower_ in ("tomorrow",) for t in words) or (
        main.lemma_.lower() == "be" and any(c.lower_ == "about" for c in main.children)
    )


def _is_past(main: Token | None) -> bool:
    if main is None:
        return False
    if main.tag_ == "VBD" and main.lemma_.lower() not in ("be",):
        return True
    auxes = [c for c in main.children if c.dep_ in ("aux", "auxpass")]
    if any(a.tag_ == "VBD" and a.lemma_.lower() != "do" for a in auxes) and main.tag_ == "VBN":
        return True
    if any(a.lemma_.lower() == "do" and a.tag_ == "VBD" for a in auxes):
        return True
    # Present perfect of an event: "I've been to Japan", "I have visited Rome".
    return main.tag_ == "VBN" and any(a.lemma_.lower() == "have" for a in auxes)


def _is_state(words: Sequence[Token], main: Token | None) -> bool:
    emotions = lexicon().emotion_adjectives
    if main is None:
        return False
    if main.lemma_.lower() == "feel":
        return True
    return any(
        t.lemma_.lower() in emotions or t.lower_ in emotions
        for t in words
        if t.head == main and t.dep_ in ("acomp", "ROOT", "oprd")
    ) or (main.lower_ in emotions)


# -- strength ----------------------------------------------------------------------------------
def _strength(words: Sequence[Token], main: Token | None) -> float:
    w = lexicon()
    for token in words:
        lemma = token.lemma_.lower()
        if lemma in w.strong_hedges and (token.pos_ in ("ADV", "AUX", "VERB", "ADJ")):
            if lemma in ("may", "might", "could") and token.tag_ != "MD":
                continue
            return STRONG_HEDGE_STRENGTH
        if token.lower_ == "sure" and any(t.dep_ == "neg" for t in token.head.children):
            return STRONG_HEDGE_STRENGTH  # "I'm not sure…"
    for token in words:
        lemma = token.lemma_.lower()
        if lemma in ("probably", "likely", "somewhat", "fairly", "apparently"):
            return MILD_HEDGE_STRENGTH
        framing = lemma in ("think", "guess", "suppose", "reckon") and token == main
        if framing and any(c.dep_ == "ccomp" and clause_about_speaker(c) for c in token.children):
            return MILD_HEDGE_STRENGTH  # "I think I'll…" hedges the speaker's own clause
        if (
            lemma in ("kind", "sort")
            and token.i + 1 < len(token.doc)
            and token.nbor().lower_ == "of"
        ):
            return MILD_HEDGE_STRENGTH
    return 1.0


# -- facets ------------------------------------------------------------------------------------
# -- topics, people and pets -------------------------------------------------------------------
