"""Recording outcomes through the library: each kind's rules, traces, idempotency, reading back."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest

from selfmodel import SelfModel
from selfmodel.domain import OutcomeKind
from selfmodel.errors import (
    ConflictError,
    InvalidInputError,
    TraceNotFoundError,
    UserNotFoundError,
)


@pytest.fixture
def answered(sm: SelfModel) -> tuple[str, list[str]]:
    """A trace of a context call for maya, and the ids of the items it chose."""
    sm.observe("maya", "I'm training for the Berlin marathon in April.")
    sm.observe("tom", "I play chess on Sundays.")
    result = sm.context("maya", "What is she training for?")
    assert result.items
    return result.trace_id, [item.id for item in result.items]


def test_each_kind_is_recorded_with_what_it_takes(sm: SelfModel, answered: tuple) -> None:
    trace_id, items = answered
    at = datetime(2024, 5, 8, 13, 56, tzinfo=UTC)
    recorded = [
        sm.record_outcome("maya", "thumbs_up", trace_id=trace_id, used_item_ids=items[:1]),
        sm.record_outcome("maya", OutcomeKind.THUMBS_DOWN, label="too long"),
        sm.record_outcome("maya", "rating", trace_id=trace_id, value=4.5),
        sm.record_outcome("maya", "correction", label="Berlin, in April 2025"),
        sm.record_outcome("maya", "accepted", trace_id=trace_id),
        sm.record_outcome("maya", "task_completed"),
        sm.record_outcome("maya", "continued", occurred_at="2024-05-08T13:56:00Z"),
        sm.record_outcome("maya", "returned", value=0),
        sm.record_outcome("maya", "metric", name="checkout.conversion", value=-2, occurred_at=at),
    ]
    assert [o.kind.value for o in sm.outcomes("maya")] == [o.kind.value for o in recorded]
    assert sm.outcomes("maya") == recorded
    assert recorded[0].used_item_ids == tuple(items[:1])
    assert recorded[2].value == 4.5 and recorded[7].value == 0.0
    assert recorded[6].occurred_at == at and recorded[8].occurred_at == at
    assert recorded[8].name == "checkout.conversion"
    assert {o.user_id for o in recorded} == {sm.user("maya").id}
    assert sm.outcomes("tom") == []


def test_outcomes_are_listed_by_trace_and_kind(sm: SelfModel, answered: tuple) -> None:
    trace_id, _ = answered
    up = sm.record_outcome("maya", "thumbs_up", trace_id=trace_id)
    sm.record_outcome("maya", "thumbs_down")
    rating = sm.record_outcome("maya", "rating", trace_id=trace_id, value=2)
    assert sm.outcomes("maya", trace_id=trace_id) == [up, rating]
    assert sm.outcomes("maya", kind="rating") == [rating]
    assert sm.outcomes("maya", trace_id=trace_id, kind=OutcomeKind.THUMBS_UP) == [up]
    with pytest.raises(InvalidInputError, match="kind 'stars' is not one of"):
        sm.outcomes("maya", kind="stars")


@pytest.mark.parametrize(
    ("kind", "fields", "field"),
    [
        ("rating", {}, "value"),
        ("rating", {"value": 0.99}, "value"),
        ("rating", {"value": 5.01}, "value"),
        ("rating", {"value": math.nan}, "value"),
        ("rating", {"value": "4"}, "value"),
        ("rating", {"value": True}, "value"),
        ("thumbs_up", {"value": 1}, "value"),
        ("accepted", {"value": 1}, "value"),
        ("returned", {}, "value"),
        ("returned", {"value": -1}, "value"),
        ("metric", {"value": 1}, "name"),
        ("metric", {"name": "latency_ms"}, "value"),
        ("metric", {"name": "latency_ms", "value": math.inf}, "value"),
        ("metric", {"name": "Latency", "value": 1}, "name"),
        ("metric", {"name": "9lives", "value": 1}, "name"),
        ("metric", {"name": "drop table;", "value": 1}, "name"),
        ("metric", {"name": "a" * 65, "value": 1}, "name"),
        ("thumbs_up", {"name": "x"}, "name"),
        ("continued", {"label": "they kept going"}, "label"),
        ("metric", {"name": "m", "value": 1, "label": "why"}, "label"),
        ("correction", {"label": ""}, "label"),
        ("correction", {"label": "x" * 2001}, "label"),
        ("correction", {"label": "nul \x00 here"}, "label"),
        ("thumbs_up", {"used_item_ids": ["bel_x"]}, "used_item_ids"),
        ("thumbs_up", {"id": ""}, "id"),
        ("thumbs_up", {"id": "x" * 201}, "id"),
        ("thumbs_up", {"id": "a\x00b"}, "id"),
        ("thumbs_up", {"occurred_at": "yesterday"}, "occurred_at"),
        ("thumbs_up", {"occurred_at": "9999-12-31T23:00:00-05:00"}, "occurred_at"),
        ("stars", {}, "kind"),
    ],
)
def test_what_a_kind_does_not_take_is_refused_and_nothing_is_stored(
    sm: SelfModel, kind: str, fields: dict, field: str
) -> None:
    sm.observe("maya", "I like tea.")
    with pytest.raises(InvalidInputError) as raised:
        sm.record_outcome("maya", kind, **fields)
    assert raised.value.details["field"] == field
    assert sm.outcomes("maya") == []


def test_an_unknown_user_is_not_found_and_not_created(sm: SelfModel) -> None:
    with pytest.raises(UserNotFoundError):
        sm.record_outcome("nobody", "thumbs_up")
    with pytest.raises(UserNotFoundError):
        sm.outcomes("nobody")
    assert sm.users() == []


def test_a_trace_must_exist_read_the_user_and_have_chosen_the_used_items(
    sm: SelfModel, answered: tuple
) -> None:
    trace_id, items = answered
    with pytest.raises(TraceNotFoundError):
        sm.record_outcome("maya", "thumbs_up", trace_id="trc_01a2b3c4d5e6f7a8b9c0d1e2")
    with pytest.raises(InvalidInputError, match="did not read this user") as raised:
        sm.record_outcome("tom", "thumbs_up", trace_id=trace_id)
    assert raised.value.details["field"] == "trace_id"
    with pytest.raises(InvalidInputError, match="bel_made_up, obs_too") as raised:
        sm.record_outcome(
            "maya",
            "accepted",
            trace_id=trace_id,
            used_item_ids=[items[0], "bel_made_up", "obs_too"],
        )
    assert raised.value.details["unknown"] == ["bel_made_up", "obs_too"]
    # A trace of another workspace is not found from this one.
    other = sm.in_workspace("other")
    other.observe("maya", "I like tea.")
    with pytest.raises(TraceNotFoundError):
        other.record_outcome("maya", "thumbs_up", trace_id=trace_id)
    assert sm.outcomes("maya") == [] and sm.outcomes("tom") == [] and other.outcomes("maya") == []


def test_recording_an_id_again_returns_the_first_record(sm: SelfModel, answered: tuple) -> None:
    trace_id, items = answered
    first = sm.record_outcome(
        "maya", "rating", trace_id=trace_id, value=4, used_item_ids=items[:1], id="fb-1"
    )
    again = sm.record_outcome(
        "maya", "rating", trace_id=trace_id, value=4.0, used_item_ids=items[:1], id="fb-1"
    )
    assert again == first
    assert sm.outcomes("maya") == [first]
    # The same id of another user is another outcome.
    sm.record_outcome("tom", "thumbs_up", id="fb-1")
    assert len(sm.outcomes("tom")) == 1


@pytest.mark.parametrize(
    ("changes", "differ"),
    [
        ({"value": 3}, ["value"]),
        ({"kind": "thumbs_up", "value": None}, ["kind", "value"]),
        ({"trace_id": None, "used_item_ids": None}, ["trace_id", "used_item_ids"]),
        ({"occurred_at": "2020-01-01T00:00:00Z"}, ["occurred_at"]),
    ],
)
def test_recording_an_id_again_with_other_content_is_a_conflict(
    sm: SelfModel, answered: tuple, changes: dict, differ: list[str]
) -> None:
    trace_id, items = answered
    fields: dict = {"kind": "rating", "trace_id": trace_id, "value": 4, "used_item_ids": items[:1]}
    first = sm.record_outcome("maya", id="fb-1", **fields)
    with pytest.raises(ConflictError) as raised:
        sm.record_outcome("maya", id="fb-1", **(fields | changes))
    assert raised.value.details["fields"] == differ
    assert sm.outcomes("maya") == [first]
