"""The extractor's word classes (selfmodel/data/lexicon.json): present, lower-case lemmas."""

from __future__ import annotations

import json
from dataclasses import fields
from importlib import resources

from selfmodel.domain import Facet
from selfmodel.extraction.lexicon import Lexicon, lexicon


def test_every_word_class_is_loaded_non_empty_and_lower_case() -> None:
    words = lexicon()
    for f in fields(Lexicon):
        value = getattr(words, f.name)
        assert value, f"{f.name} is empty"
        entries = value.keys() if isinstance(value, dict) else value
        assert all(e == e.lower() and e.strip() == e for e in entries), f.name


def test_the_file_is_valid_json_with_an_explanation() -> None:
    raw = json.loads(resources.files("selfmodel").joinpath("data", "lexicon.json").read_text())
    assert "lexicon.py" in raw["_about"] and "test_lexicon" in raw["_about"]


def test_word_classes_that_must_not_overlap_do_not() -> None:
    words = lexicon()
    assert not words.liking_verbs & words.disliking_verbs
    assert not words.strong_hedges & words.mild_hedges
    assert set(words.kinship).isdisjoint(words.pets)


def test_facet_verbs_cover_the_facets_read_by_verbs() -> None:
    assert {"residence", "employer", "occupation"} <= set(lexicon().facet_verbs)
    assert {f.value for f in Facet} >= set(lexicon().facet_verbs)
