"""Bad input gets a typed error with a clear message, and leaves the store unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest

from selfmodel import (
    BeliefNotFoundError,
    InvalidFileError,
    InvalidInputError,
    PayloadTooLargeError,
    SelfModel,
    Settings,
    TraceNotFoundError,
    UserNotFoundError,
)
from selfmodel.config import LimitSettings
from selfmodel.ingest.files import read_conversation_file
from tests.support.sqlite_files import row_counts


@pytest.fixture
def seeded(sm: SelfModel) -> SelfModel:
    sm.observe("maya", [{"id": "a", "content": "I love hiking."}])
    return sm


def test_unknown_user_is_a_user_not_found_error(seeded: SelfModel) -> None:
    for call in (
        lambda: seeded.beliefs("nobody"),
        lambda: seeded.context("nobody", "hi"),
        lambda: seeded.export("nobody"),
        lambda: seeded.forget("nobody"),
    ):
        with pytest.raises(UserNotFoundError, match="nobody"):
            call()


def test_unknown_belief_and_trace_ids_are_not_found(seeded: SelfModel) -> None:
    for call in (
        lambda: seeded.belief("bel_missing"),
        lambda: seeded.confirm("bel_missing"),
        lambda: seeded.reject("bel_missing"),
        lambda: seeded.edit("bel_missing", "x"),
    ):
        with pytest.raises(BeliefNotFoundError, match="bel_missing"):
            call()
    with pytest.raises(TraceNotFoundError):
        seeded.trace("trc_missing")


@pytest.mark.parametrize(
    ("messages", "error", "message"),
    [
        ("", InvalidInputError, "empty"),
        ("   \n ", InvalidInputError, "empty"),
        ([], InvalidInputError, "no messages"),
        ([{"content": "fine"}, {"content": ""}], InvalidInputError, "message 1 is empty"),
        ({"content": "hi", "occurred_at": "last tuesday-ish"}, InvalidInputError, "occurred_at"),
        ({"content": "hi", "role": "robot"}, InvalidInputError, "role"),
        ({"content": "hi", "colour": "red"}, InvalidInputError, "colour"),
        ({"text": 42}, InvalidInputError, "content"),
        (42, InvalidInputError, "not int"),
    ],
)
def test_malformed_messages_are_refused_before_anything_is_written(
    seeded: SelfModel, db_path: Path, messages: object, error: type, message: str
) -> None:
    before = row_counts(db_path)
    with pytest.raises(error, match=message):
        seeded.observe("maya", messages)  # type: ignore[arg-type]
    assert row_counts(db_path) == before


def test_oversized_messages_and_batches_are_refused(db_path: Path, embedder: object) -> None:
    settings = Settings(limits=LimitSettings(max_message_chars=100, max_batch_messages=3))
    with SelfModel.open(str(db_path), settings=settings, embedder=embedder) as sm:  # type: ignore[arg-type]
        with pytest.raises(PayloadTooLargeError, match="limit is 100"):
            sm.observe("maya", "x" * 101)
        with pytest.raises(PayloadTooLargeError, match="limit is 3"):
            sm.observe("maya", ["a", "b", "c", "d"])
        assert sm.users() == []


def test_malformed_call_arguments_are_invalid_input(seeded: SelfModel) -> None:
    with pytest.raises(InvalidInputError, match="user"):
        seeded.observe("", "hello")
    with pytest.raises(InvalidInputError, match="ISO 8601"):
        seeded.observe("maya", "hello", at="yesterday at noon")
    with pytest.raises(InvalidInputError, match="query"):
        seeded.context("maya", "  ")
    with pytest.raises(InvalidInputError, match="budget"):
        seeded.context("maya", "hiking", budget_tokens=0)
    with pytest.raises(InvalidInputError, match="kind"):
        seeded.beliefs("maya", kind="horoscope")
    with pytest.raises(InvalidInputError, match="statement"):
        seeded.edit(seeded.beliefs("maya")[0].id, "  ")


def test_ingesting_a_file_with_one_bad_line_writes_nothing(
    seeded: SelfModel, db_path: Path, tmp_path: Path
) -> None:
    path = tmp_path / "chat.jsonl"
    path.write_text(
        '{"user": "maya", "content": "I love tea.", "id": "t1"}\n'
        '{"user": "maya", "content": "", "id": "t2"}\n'
    )
    before = row_counts(db_path)
    with pytest.raises(InvalidInputError, match="empty"):
        seeded.ingest(read_conversation_file(path))
    assert row_counts(db_path) == before


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"", "empty"),
        (b"\xff\xfe\x00binary", "UTF-8"),
        (b'{"user": "maya", "content": "hi"}\nnot json at all\n', ":2 is neither JSON nor JSONL"),
        (
            b'{"speaker_a": "A", "speaker_b": "B", "session_1": [], '
            b'"session_1_date_time": "yesterday"}',
            "session_1_date_time",
        ),
        (b'{"hello": "world"}', "not a list of messages"),
        (b'[{"content": "no user"}]', "no 'user'"),
        (b"[1, 2, 3]", "JSON object"),
    ],
)
def test_files_that_are_not_what_they_claim_get_a_clear_error(
    tmp_path: Path, content: bytes, match: str
) -> None:
    path = tmp_path / "input.json"
    path.write_bytes(content)
    with pytest.raises(InvalidFileError, match=match):
        read_conversation_file(path)


def test_a_missing_file_is_an_invalid_file_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidFileError, match="does not exist"):
        read_conversation_file(tmp_path / "nope.jsonl")
