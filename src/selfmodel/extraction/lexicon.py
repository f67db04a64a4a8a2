"""The word classes the local extractor needs beyond what the language pipeline knows.

spaCy gives lemmas, parts of speech, dependencies and named entities; it does not know that
"adore" states a preference, that "quit" reports a change, or that "nurse" is an occupation. Those
classes are data (``selfmodel/data/lexicon.json``), not code: one file to read and extend, checked
by ``tests/test_lexicon.py``. Every entry is a lower-case lemma.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from lemminflect import getLemma


@dataclass(frozen=True)
class Lexicon:
    small_talk: frozenset[str]
    light_verbs: frozenset[str]
    evaluative_adjectives: frozenset[str]
    judgements: frozenset[str]
    generic_nouns: frozenset[str]
    liking_verbs: frozenset[str]
    disliking_verbs: frozenset[str]
    liking_adjectives: frozenset[str]
    disliking_adjectives: frozenset[str]
    preference_nouns: frozenset[str]
    goal_verbs: frozenset[str]
    plan_verbs: frozenset[str]
    value_words: frozenset[str]
    opinion_verbs: frozenset[str]
    frequency: frozenset[str]
    change_verbs: frozenset[str]
    change_particles: dict[str, frozenset[str]]
    change_adverbs: frozenset[str]
    shift_markers: frozenset[str]
    strong_hedges: frozenset[str]
    mild_hedges: frozenset[str]
    emotion_adjectives: frozenset[str]
    kinship: dict[str, str]
    family_words: frozenset[str]
    pets: dict[str, str]
    occupations: frozenset[str]
    relationship_status: dict[str, str]
    diets: frozenset[str]
    facet_verbs: dict[str, frozenset[str]]
    communication_nouns: frozenset[str]
    communication_verbs: frozenset[str]
    communication_adjectives: frozenset[str]
    request_markers: frozenset[str]
    ordinals: dict[str, int]
    choice_verbs: frozenset[str]
    pastimes: frozenset[str]
    kind_of_pastime: dict[str, str]  # "cycling" -> "exercise"


def _set(values: Any) -> frozenset[str]:
    return frozenset(str(v).lower() for v in values)


@cache
def lexicon() -> Lexicon:
    """The packaged lexicon, read once per process on first use."""
    raw = json.loads(
        resources.files("selfmodel").joinpath("data", "lexicon.json").read_text(encoding="utf-8")
    )
    change = raw["change"]
    communication = raw["communication"]
    return Lexicon(
        small_talk=_set(raw["small_talk"]),
        light_verbs=_set(raw["light_verbs"]),
        evaluative_adjectives=_set(raw["evaluative_adjectives"]),
        judgements=_set(raw["judgements"]),
        generic_nouns=_set(raw["generic_nouns"]),
        liking_verbs=_set(raw["preference_verbs"]["positive"]),
        disliking_verbs=_set(raw["preference_verbs"]["negative"]),
        liking_adjectives=_set(raw["preference_adjectives"]["positive"]),
        disliking_adjectives=_set(raw["preference_adjectives"]["negative"]),
        preference_nouns=_set(raw["preference_nouns"]),
        goal_verbs=_set(raw["goal_verbs"]),
        plan_verbs=_set(raw["plan_verbs"]),
        value_words=_set(raw["value_phrases"]),
        opinion_verbs=_set(raw["opinion_verbs"]),
        frequency=_set(raw["frequency"]),
        change_verbs=_set(change["verbs"]),
        change_particles={k: _set(v) for k, v in change["particles"].items()},
        change_adverbs=_set(change["adverbs"]),
        shift_markers=_set(change["shift_markers"]),
        strong_hedges=_set(raw["hedges"]["strong"]),
        mild_hedges=_set(raw["hedges"]["mild"]),
        emotion_adjectives=_set(raw["emotion_adjectives"]),
        kinship={str(k): str(v) for k, v in raw["kinship"].items()},
        family_words=_set(raw["family_words"]),
        pets={str(k): str(v) for k, v in raw["pets"].items()},
        occupations=_set(raw["occupations"]),
        relationship_status={str(k): str(v) for k, v in raw["relationship_status"].items()},
        diets=_set(raw["diets"]),
        facet_verbs={k: _set(v) for k, v in raw["facet_verbs"].items()},
        communication_nouns=_set(communication["nouns"]),
        communication_verbs=_set(communication["verbs"]),
        communication_adjectives=_set(communication["adjectives"]),
        request_markers=_set(raw["request_markers"]),
        ordinals={str(k): int(v) for k, v in raw["ordinals"].items()},
        choice_verbs=_set(raw["choice_verbs"]),
        pastimes=_set(raw["pastimes"]),
        kind_of_pastime=_with_verb_lemmas(
            {
                str(word).lower(): kind
                for kind, words in raw["kinds_of_pastime"].items()
                if not kind.startswith("_")
                for word in words
            }
        ),
    )


def _with_verb_lemmas(kinds: dict[str, str]) -> dict[str, str]:
    """Each "-ing" pastime under its verb's lemma too ("cycling" -> "cycle"), as topics hold it."""
    lemmas = {
        lemma: kind
        for word, kind in kinds.items()
        if word.endswith("ing") and " " not in word
        for lemma in getLemma(word, upos="VERB")[:1]
    }
    return {**lemmas, **kinds}


def taken_up_instead(new: str, old: str) -> bool:
    """Whether taking up ``new`` ("cycling") may be in place of ``old`` ("running"): two
    different pastimes of one kind."""
    kinds = lexicon().kind_of_pastime
    return new != old and kinds.get(new) is not None and kinds.get(new) == kinds.get(old)
