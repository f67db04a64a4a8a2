"""What a first-person sentence asserts, read from its parse: kind, hedging, polarity, facet,
topics, and the people and pets it names.

The parts go into the candidate's ``BeliefFrame`` so the reviser can compare statements by what
they assert rather than by their words: a denial against an affirmation, a new value of a
single-valued facet against the old one, paraphrases about the same topic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from lemminflect import getInflection, getLemma
from spacy.tokens import Token

from selfmodel.domain import BeliefFrame, BeliefKind, Facet, Related
from selfmodel.extraction.lexicon import lexicon
from selfmodel.extraction.speech import FIRST_PERSON, SUBJECTS

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
_PLACE_ENTITIES = frozenset(["GPE", "LOC", "FAC"])
_ORGANISATION_ENTITIES = frozenset(["ORG", "PRODUCT", "PERSON", "NORP", "GPE", "FAC"])
_TOPIC_ROLES = frozenset(
    ["dobj", "pobj", "attr", "nsubj", "nsubjpass", "conj", "xcomp", "pcomp", "appos", "compound",
     "oprd", "acomp", "npadvmod", "advcl", "ccomp"]
)  # fmt: skip
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
    main = _main_verb(words)
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
        kind in (BeliefKind.FACT, BeliefKind.EXPERTISE) or _said_of_someone_else(main)
    ):
        # "My dog Biscuit loves the beach": about someone in their life, not their own liking.
        kind = BeliefKind.RELATIONSHIP
    extra_facets = [] if negated_facet_blocked(kind) else [*own[1:], *beside]
    negated = negation.negated
    change = negation.change or (
        facet is not None and any(t.lower_ in lexicon().shift_markers for t in words)
    )
    if kind is BeliefKind.EXPERIENCE and facet in (Facet.RESIDENCE, Facet.EMPLOYER):
        kind = BeliefKind.FACT  # "I moved to Leeds" is where they live now
    subject_is_speaker = subjectless or (main is not None and _is_first_person_subject(main))
    stated = strength == 1.0 and kind in STATED_KINDS and subject_is_speaker and not subjectless
    communication = kind is BeliefKind.PREFERENCE and any(
        t.lemma_.lower() in lexicon().communication_nouns and t.dep_ in ("dobj", "pobj", "attr")
        for t in words
    )  # "I prefer short, direct answers": how they want to be answered
    frame = BeliefFrame(
        domain="communication" if communication else None,
        negated=negated,
        change=change,
        facet=facet,
        value=value,
        topics=topics(words),
        interests=() if negated else interests(words, main, kind),
        related=people_and_pets,
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
def _main_verb(words: Sequence[Token]) -> Token | None:
    """The verb whose subject is the speaker, else the sentence root."""
    for token in words:
        if token.lower_ in FIRST_PERSON and token.dep_ in SUBJECTS:
            return token.head
    roots = [t for t in words if t.dep_ == "ROOT"]
    return roots[0] if roots else (words[0] if words else None)


def _said_of_someone_else(verb: Token | None) -> bool:
    """The clause's subject is a person or pet of theirs ("my dog", "my husband Tom")."""
    if verb is None:
        return False
    w = lexicon()
    subjects = [c for c in verb.children if c.dep_ in SUBJECTS]
    if any(t.lower_ in FIRST_PERSON and t.dep_ != "poss" for s in subjects for t in s.subtree):
        return False  # "My husband Tom and I went to the coast": they were there too
    return any(c.lemma_.lower() in w.kinship or c.lemma_.lower() in w.pets for c in subjects)


def _is_first_person_subject(verb: Token) -> bool:
    return any(c.lower_ in FIRST_PERSON and c.dep_ in SUBJECTS for c in verb.children)


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
    if is_change_verb and _is_first_person_subject(main) and not found.negated and not persists:
        gerund = next(
            (c for c in main.children if c.dep_ in ("xcomp", "dobj", "advcl") and _is_gerund(c)),
            None,
        )
        obj = next((c for c in main.children if c.dep_ in ("dobj", "pobj")), None)
        if gerund is not None or obj is not None:
            found.negated = found.change = True
            if gerund is not None:
                found.object_text = _present_phrase(gerund)
                found.gerund_change = True
            elif obj is not None and obj.lemma_.lower() not in lexicon().generic_nouns | {"habit"}:
                found.object_text = _phrase(obj)
                found.gerund_change = True  # "I gave up coffee" ends a habit too
    if found.negated:
        # The claim denied is the main clause's: "I don't eat meat, I've been vegetarian for
        # years" denies "eats meat", not the clause beside it.
        own = {t.i for t in main.subtree}
        for clause in main.children:
            if clause.dep_ == "conj" and any(c.dep_ in SUBJECTS for c in clause.children):
                own -= {t.i for t in clause.subtree}
                own -= {c.i for c in main.children if c.dep_ in ("cc", "punct") and c.i < clause.i}
        found.drop |= {t.i for t in words if t.i not in own}
    if main.lower_ == "used" and any(c.tag_ == "VB" for c in main.children):
        # "I used to love running": that was then, so it no longer holds.
        verb = next(c for c in main.children if c.tag_ == "VB")
        found.negated = found.change = True
        found.object_text = _present_phrase(verb)
    return found


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


def _is_gerund(token: Token) -> bool:
    """A gerund, also where the tagger made it a noun ("quit smoking": smoking/NN)."""
    return token.tag_ == "VBG" or (token.tag_ == "NN" and verb_lemma(token) is not None)


def verb_lemma(token: Token) -> str | None:
    """The verb an -ing form comes from ("smoking" -> "smoke"), or None."""
    if token.tag_ == "VBG":
        return token.lemma_.lower()
    if not token.lower_.endswith("ing"):
        return None
    for lemma in getLemma(token.lower_, upos="VERB"):
        if lemma != token.lower_ and (getInflection(lemma, tag="VBG") or ("",))[0] == token.lower_:
            return lemma
    return None


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
        or any(t.lemma_.lower() in ("goal", "dream", "ambition") and _owned(t) for t in words)
    ):
        return BeliefKind.GOAL
    if (
        main_lemma in ("value", "care", "matter")
        or ("important" in lemmas and "me" in lowers)
        or ("mean" in lemmas and "me" in lowers and "lot" in lemmas)
        or (main is not None and main_lemma == "believe" and _has_prep(main, "in"))
    ):
        return BeliefKind.VALUE
    if main_lemma in w.opinion_verbs and any(
        c.dep_ == "ccomp" and not _clause_about_speaker(c) for c in (main.children if main else ())
    ):
        return BeliefKind.OPINION
    if (
        main is not None
        and main.tag_ != "VBD"
        and (
            main_lemma in w.liking_verbs | w.disliking_verbs
            or any(t.lemma_.lower() in w.liking_adjectives and t.head == main for t in words)
            or any(t.lemma_.lower() in w.preference_nouns and _owned(t) for t in words)
            or ("stand" in lemmas and any(t.dep_ == "neg" for t in words))
        )
    ):
        return BeliefKind.PREFERENCE
    if any(t.lemma_.lower() in _EXPERTISE_WORDS for t in words) and main_lemma in ("be", "have"):
        return BeliefKind.EXPERTISE
    if main is not None and main_lemma == "be" and _is_first_person_subject(main):
        attr = next((c for c in main.children if c.dep_ == "attr"), None)
        if attr is not None and attr.pos_ == "NOUN" and attr.lemma_.lower() not in w.generic_nouns:
            return BeliefKind.IDENTITY
        if any(c.dep_ == "prep" and c.lower_ == "from" for c in main.children):
            return BeliefKind.IDENTITY
    if any(t.lemma_.lower() in w.frequency or _per_period(t) for t in words) or (
        main is not None and main.lower_ == "used"
    ):
        return BeliefKind.HABIT
    if _is_past(main) and not _is_state(words, main):
        return BeliefKind.EXPERIENCE
    if any(t.lemma_.lower() in w.kinship and _owned(t) for t in words) or main_lemma in (
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
    clauses = [c for c in main.subtree if c.dep_ == "ccomp" and _clause_about_speaker(c)]
    return clauses[0] if clauses else None


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


def _owned(token: Token) -> bool:
    """A noun the speaker owns or relates to: "my husband", "our dog", "my goal"."""
    return any(c.dep_ == "poss" and c.lower_ in FIRST_PERSON for c in token.children)


def _clause_about_speaker(verb: Token) -> bool:
    return any(c.lower_ in FIRST_PERSON and c.dep_ in SUBJECTS for c in verb.children)


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
        if framing and any(c.dep_ == "ccomp" and _clause_about_speaker(c) for c in token.children):
            return MILD_HEDGE_STRENGTH  # "I think I'll…" hedges the speaker's own clause
        if (
            lemma in ("kind", "sort")
            and token.i + 1 < len(token.doc)
            and token.nbor().lower_ == "of"
        ):
            return MILD_HEDGE_STRENGTH
    return 1.0


# -- facets ------------------------------------------------------------------------------------
def facets(words: Sequence[Token], main: Token | None) -> list[tuple[Facet, str, bool]]:
    """The single-valued attributes the sentence sets, with their values and whether the main
    clause sets them: "I quit the night shifts, I work days at the clinic now" sets where they
    work in its second clause."""
    if main is None:
        return []
    verbs = [main] + [
        t for t in words if t.pos_ in ("VERB", "AUX") and t != main and _is_first_person_subject(t)
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
    speaker = _is_first_person_subject(main) or not any(c.dep_ in SUBJECTS for c in main.children)
    name = _name(words, main)
    if name:
        return [(Facet.NAME, name)]
    home = next((t for t in words if t.lemma_.lower() == "home" and t.dep_ in SUBJECTS), None)
    if home is not None and (_owned(home) or not any(c.dep_ == "poss" for c in home.children)):
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
    if lemma in w.facet_verbs["employer"]:
        employer = _employer(main)
        if employer:
            found.append((Facet.EMPLOYER, employer))
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
    if diet:
        found.append((Facet.DIET, diet))
    return found


def _name(words: Sequence[Token], main: Token) -> str | None:
    """ "My name is Priya", "call me Sam", "I'm Priya": the name the person goes by."""
    for token in words:
        if token.lemma_.lower() == "name" and _owned(token) and token.dep_ in SUBJECTS:
            value = next((c for c in token.head.children if c.dep_ == "attr"), None)
            if value is not None and value.pos_ == "PROPN":
                return _proper(value)
    if main.lemma_.lower() == "call" and any(c.lower_ == "me" for c in main.children):
        value = next(
            (c for c in main.children if c.dep_ in ("oprd", "dobj") and c.pos_ == "PROPN"), None
        )
        if value is not None:
            return _proper(value)
    if main.lemma_.lower() == "be" and _is_first_person_subject(main) and len(words) <= 4:
        value = next((c for c in main.children if c.dep_ == "attr"), None)
        if (
            value is not None
            and value.pos_ == "PROPN"
            and value.ent_type_ in ("PERSON", "")
            and not any(c.dep_ == "det" for c in value.children)
        ):
            return _proper(value)  # "I'm Priya" (not "I'm a Londoner", not "I'm the Smiths")
    return None


def _place(verb: Token) -> str | None:
    for child in verb.children:
        if child.dep_ == "prep" and child.lower_ in ("in", "to", "near", "at", "outside"):
            for obj in child.children:
                if obj.dep_ == "pobj" and (obj.ent_type_ in _PLACE_ENTITIES or obj.pos_ == "PROPN"):
                    return _proper(obj)
        if child.dep_ in ("attr", "dobj", "npadvmod") and (
            child.ent_type_ in _PLACE_ENTITIES or child.pos_ == "PROPN"
        ):
            return _proper(child)
    return None


def _employer(verb: Token) -> str | None:
    # "at Monzo" may hang on the verb or on the role ("work as a data analyst at Monzo").
    roles = [
        obj for c in verb.children if c.dep_ == "prep" and c.lower_ == "as"
        for obj in c.children if obj.dep_ == "pobj"
    ]  # fmt: skip
    for child in [*verb.children, *(c for role in roles for c in role.children)]:
        if child.dep_ == "prep" and child.lower_ in ("at", "for", "with"):
            for obj in child.children:
                if obj.dep_ != "pobj":
                    continue
                if obj.pos_ == "PROPN" or obj.ent_type_ in _ORGANISATION_ENTITIES:
                    return _proper(obj)
                if (
                    verb.lemma_.lower() == "work"
                    and obj.pos_ == "NOUN"
                    and obj.lemma_.lower() not in lexicon().generic_nouns | {"home", "moment"}
                    and any(c.dep_ in ("det", "poss", "compound") for c in obj.children)
                ):
                    # "at the clinic", "for a bank", "at the children's hospital"
                    return "".join(t.text_with_ws for t in obj.subtree).strip()
        if verb.lemma_.lower() == "join" and child.dep_ == "dobj" and child.pos_ == "PROPN":
            return _proper(child)
    return None


def _occupation(verb: Token) -> str | None:
    occupations = lexicon().occupations
    lemma = verb.lemma_.lower()
    candidates: list[Token] = []
    if lemma in ("be", "become") and _is_first_person_subject(verb):
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


def _has_prep(verb: Token, word: str) -> bool:
    return any(c.dep_ == "prep" and c.lower_ == word for c in verb.children)


def _proper(token: Token) -> str:
    """A name with the words that continue it ("New York", "Acme Robotics")."""
    parts = [t for t in token.subtree if t.dep_ in ("compound", "flat") or t.i == token.i]
    parts = [t for t in parts if t.pos_ == "PROPN" or t.i == token.i]
    return " ".join(t.text for t in sorted(parts, key=lambda t: t.i))


# -- topics, people and pets -------------------------------------------------------------------
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


# Verbs whose object is a pastime: "play tennis", "do yoga", "practise piano", "take up pottery".
_PASTIME_VERBS = frozenset(["play", "do", "practice", "practise"])


def _is_pastime(verb: Token) -> bool:
    lemma = verb.lemma_.lower()
    return lemma in _PASTIME_VERBS or (
        lemma == "take" and any(c.dep_ == "prt" and c.lower_ == "up" for c in verb.children)
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
        if liking and _owned(token):
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
            if lemma not in w.light_verbs and lemma not in w.communication_verbs:
                found.append(gerund)
        elif token.pos_ in ("NOUN", "PROPN") and lemma not in w.generic_nouns and not token.is_stop:
            # "braised dishes", "science fiction": the words that make it a kind of thing.
            words_ = [
                t
                for t in token.lefts
                if (t.dep_ == "compound" and t.pos_ in ("NOUN", "PROPN"))
                or (t.dep_ == "amod" and t.lemma_.lower() not in w.evaluative_adjectives)
            ]
            found.append(" ".join([*(t.lower_ for t in words_), lemma]))

    if main is None:
        return ()
    liking = (
        main.lemma_.lower() in w.liking_verbs
        and main.tag_ != "VBD"
        and not _said_of_someone_else(main)  # "our dog loves the beach" is the dog's liking
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


def _pastime(interest: str) -> bool:
    pastimes = lexicon().pastimes
    return interest in pastimes or interest.split()[-1] in pastimes


def related(words: Sequence[Token]) -> tuple[Related, ...]:
    """People and pets of the speaker's the sentence names ("my husband John", "our dog Max")."""
    w = lexicon()
    found: list[Related] = []
    for token in words:
        lemma = token.lemma_.lower()
        if token.pos_ != "NOUN" or (lemma not in w.kinship and lemma not in w.pets):
            continue
        owned = _owned(token) or (
            token.dep_ == "dobj"
            and token.head.lemma_.lower() in ("have", "get", "adopt")
            and _is_first_person_subject(token.head)
        )
        if not owned:
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
            return _proper(child)
        if child.dep_ == "acl" and child.lemma_.lower() in ("name", "call"):
            value = next((c for c in child.children if c.pos_ == "PROPN"), None)
            if value is not None:
                return _proper(value)
    if token.dep_ == "appos" and token.head.pos_ == "PROPN":
        return _proper(token.head)
    return None
