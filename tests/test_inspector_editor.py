"""The replay editor reads a form back into the overrides ``replay`` takes: only what changed,
the JSON box laid over the fields, and an error that names the field."""

from __future__ import annotations

import pytest

from selfmodel.errors import InvalidInputError
from selfmodel.inspector import editor

RECORDED = {
    "ranking": {"keyword_weight": 0.5, "candidate_pool": 60, "strip_names": True},
    "embedder": "all-MiniLM-L6-v2",
    "budget_tokens": 300,
    "limit": None,
    "moments": True,
}


def form_of(recorded: dict, **typed: str) -> dict[str, list[str]]:
    """The editor's form as it first shows ``recorded``, with ``typed`` changed."""
    shown = {f.name: f.value for f in editor.fields(recorded)}
    return {name: [value] for name, value in (shown | typed).items()}


def test_the_form_as_shown_asks_for_no_change() -> None:
    assert editor.overrides(form_of(RECORDED), RECORDED) == {}
    names = [f.name for f in editor.fields(RECORDED)]
    assert names[:3] == ["budget_tokens", "limit", "moments"]
    assert "ranking.keyword_weight" in names and "embedder" not in names


def test_changed_fields_become_overrides_of_their_type() -> None:
    typed = {
        "budget_tokens": "400",
        "limit": "5",
        "moments": "false",
        "ranking.keyword_weight": "0",
        "ranking.strip_names": "false",
    }
    assert editor.overrides(form_of(RECORDED, **typed), RECORDED) == {
        "budget_tokens": 400,
        "limit": 5,
        "moments": False,
        "ranking": {"keyword_weight": 0.0, "strip_names": False},
    }
    limited = {**RECORDED, "limit": 5}
    assert editor.overrides(form_of(limited, limit=""), limited) == {"limit": None}


def test_the_json_box_is_laid_over_the_fields() -> None:
    form = form_of(
        RECORDED,
        **{"ranking.keyword_weight": "0.1", "budget_tokens": "400"},
        config='{"ranking": {"candidate_pool": 80, "keyword_weight": 0.2}, "budget_tokens": 500}',
    )
    assert editor.overrides(form, RECORDED) == {
        "budget_tokens": 500,
        "ranking": {"keyword_weight": 0.2, "candidate_pool": 80},
    }


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ({"ranking.keyword_weight": "a lot"}, "ranking.keyword_weight must be a number"),
        ({"ranking.keyword_weight": "nan"}, "must be a finite number"),
        ({"ranking.candidate_pool": "6.5"}, "ranking.candidate_pool must be a whole number"),
        ({"moments": "yes"}, "moments must be true or false"),
        ({"config": "{"}, "the JSON box is not JSON"),
        ({"config": '"budget_tokens"'}, "must hold an object"),
        ({"config": "x" * (editor.MAX_JSON_CHARS + 1)}, "at most"),
    ],
)
def test_text_that_is_not_of_its_kind_is_refused_naming_it(typed: dict, says: str) -> None:
    with pytest.raises(InvalidInputError, match=says):
        editor.overrides(form_of(RECORDED, **typed), RECORDED)


def test_a_suggestion_shows_in_its_field_and_nothing_else_is_taken_from_the_url() -> None:
    params = {"budget_tokens": "350", "embedder": "other", "item": "bel_x"}
    fields = {f.name: f for f in editor.fields(RECORDED, editor.suggested(params))}
    assert (fields["budget_tokens"].value, fields["budget_tokens"].changed) == ("350", True)
    assert fields["budget_tokens"].recorded == "300"
    assert not any(f.changed for name, f in fields.items() if name != "budget_tokens")
