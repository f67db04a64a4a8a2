"""The engine end to end on a real SQLite file with the real embedding model."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from selfmodel import (
    BeliefEventType,
    BeliefOrigin,
    BeliefStatus,
    EvidenceStance,
    InvalidInputError,
    SelfModel,
)
from selfmodel.embedding import Embedder, SentenceTransformerEmbedder
from tests.support.sqlite_files import row_counts

MAYA = [
    {
        "id": "m1",
        "content": "I love hiking in the mountains.",
        "occurred_at": "2024-03-02T09:00:00Z",
    },
    {
        "id": "m2",
        "content": "I'm a nurse at the children's hospital.",
        "occurred_at": "2024-03-02T09:01:00Z",
    },
    {
        "id": "m3",
        "role": "assistant",
        "content": "Great! How can I help?",
        "occurred_at": "2024-03-02T09:02:00Z",
    },
    {"id": "m4", "content": "I prefer short answers.", "occurred_at": "2024-03-02T09:03:00Z"},
]


def _statements(sm: SelfModel, user: str = "maya") -> list[str]:
    return [b.statement for b in sm.beliefs(user)]


def test_observe_stores_observations_and_infers_beliefs_about_the_speaker(sm: SelfModel) -> None:
    result = sm.observe("maya", MAYA)
    assert len(result.new_observation_ids) == 4
    assert result.created, "first-person statements should yield beliefs"
    statements = " | ".join(_statements(sm))
    assert "hiking" in statements
    for belief in sm.beliefs("maya"):
        assert 0.0 < belief.confidence < 1.0
        assert belief.origin in (BeliefOrigin.INFERRED, BeliefOrigin.STATED)


def test_assistant_messages_are_stored_but_never_become_beliefs(sm: SelfModel) -> None:
    sm.observe("maya", {"role": "assistant", "content": "I love helping people plan trips."})
    assert sm.beliefs("maya") == []
    assert len(sm.export("maya")["observations"]) == 1


def test_every_belief_answers_why_with_evidence_and_history(sm: SelfModel) -> None:
    sm.observe("maya", MAYA)
    belief = next(b for b in sm.beliefs("maya") if "hiking" in b.statement)
    detail = sm.belief(belief.id)
    assert detail.evidence[0].evidence.stance == EvidenceStance.SUPPORTS
    assert "hiking" in detail.evidence[0].observation.content
    assert detail.history[0].type == BeliefEventType.CREATED
    assert detail.history[0].observation_id == detail.evidence[0].observation.id


def test_reingesting_the_same_external_ids_changes_nothing(sm: SelfModel, db_path: Path) -> None:
    sm.observe("maya", MAYA)
    before = row_counts(db_path)
    again = sm.observe("maya", MAYA)
    assert again.new_observation_ids == []
    assert again.duplicates == len(MAYA)
    assert row_counts(db_path) == before


def test_an_empty_message_id_is_refused_as_the_api_refuses_it(sm: SelfModel, db_path: Path) -> None:
    """An empty id would be one id for every message sending it (the second was dropped as a
    duplicate of the first): refused, nothing stored."""
    sm.observe("maya", "I live in Lisbon.")
    before = row_counts(db_path)
    with pytest.raises(InvalidInputError, match="id"):
        sm.observe("maya", [{"content": "I love jazz.", "id": ""}])
    assert row_counts(db_path) == before


def test_saying_the_same_thing_again_reinforces_instead_of_duplicating(sm: SelfModel) -> None:
    sm.observe("maya", "I love hiking in the mountains.", at="2024-03-02T09:00:00Z")
    first = next(b for b in sm.beliefs("maya") if "hiking" in b.statement)
    result = sm.observe("maya", "I really love hiking in the mountains.", at="2024-03-20T09:00:00Z")
    assert first.id in result.reinforced
    hiking = [b for b in sm.beliefs("maya") if "hiking" in b.statement]
    assert len(hiking) == 1
    assert hiking[0].confidence > first.confidence
    assert hiking[0].support_count == 2
    assert [e.type for e in sm.history(first.id)] == [
        BeliefEventType.CREATED,
        BeliefEventType.REINFORCED,
    ]


def test_context_returns_a_block_items_and_a_stored_trace(sm: SelfModel) -> None:
    sm.observe("maya", MAYA)
    result = sm.context("maya", "What outdoor activities does she enjoy?", budget_tokens=200)
    assert "hiking" in result.text
    assert result.items and result.items[0].reason
    assert 0 < result.tokens <= 200
    trace = sm.trace(result.trace_id)
    assert trace.query == "What outdoor activities does she enjoy?"
    assert trace.payload["chosen"][0]["id"] == result.items[0].id
    assert trace.payload["candidates"]


def test_context_respects_a_tight_budget(sm: SelfModel) -> None:
    sm.observe("maya", MAYA)
    result = sm.context("maya", "hiking", budget_tokens=40)
    assert result.tokens <= 40
    assert len(result.items) >= 1


def test_confirm_holds_the_belief_and_records_who_changed_it(sm: SelfModel) -> None:
    sm.observe("maya", MAYA)
    belief = sm.beliefs("maya")[0]
    confirmed = sm.confirm(belief.id)
    assert confirmed.origin == BeliefOrigin.CONFIRMED
    assert confirmed.confidence >= 0.95
    last = sm.history(belief.id)[-1]
    assert last.type == BeliefEventType.CONFIRMED and last.cause == "user"


def test_rejected_belief_is_not_reinferred_from_new_mentions(sm: SelfModel) -> None:
    sm.observe("maya", "I love hiking in the mountains.", at="2024-03-02T09:00:00Z")
    hiking = next(b for b in sm.beliefs("maya") if "hiking" in b.statement)
    sm.reject(hiking.id)
    sm.observe("maya", "I love hiking in the mountains!", at="2024-03-05T09:00:00Z")
    assert all("hiking" not in s for s in _statements(sm))
    assert sm.belief(hiking.id).belief.status == BeliefStatus.REJECTED


def test_edit_rewrites_the_statement_and_keeps_the_old_wording_in_history(sm: SelfModel) -> None:
    sm.observe("maya", MAYA)
    belief = next(b for b in sm.beliefs("maya") if "nurse" in b.statement)
    edited = sm.edit(belief.id, "Maya is a paediatric nurse")
    assert edited.statement == "Maya is a paediatric nurse"
    assert edited.origin == BeliefOrigin.EDITED
    event = sm.history(belief.id)[-1]
    assert event.type == BeliefEventType.EDITED
    assert event.details["previous"] == belief.statement
    result = sm.context("maya", "what is her job?", budget_tokens=200)
    assert "paediatric" in result.text


def test_export_contains_everything_about_the_user(sm: SelfModel) -> None:
    sm.observe("maya", MAYA)
    data = sm.export("maya")
    assert data["user"]["external_id"] == "maya"
    assert len(data["observations"]) == 4
    assert data["beliefs"] and data["evidence"] and data["history"]


def test_forget_leaves_no_trace_of_the_user_in_the_database_file(
    sm: SelfModel, db_path: Path
) -> None:
    secret = "Zanzibarian-marmalade"
    sm.observe("maya", [f"I love {secret} on toast.", "I'm a nurse."])
    sm.observe("tom", "I love chess.")
    sm.context("maya", f"what about {secret}?")
    counts = sm.forget("maya")
    assert counts.total > 0
    # Every table, every byte: neither the user's id nor their words survive, in the file or WAL.
    for path in db_path.parent.iterdir():
        if path.name.startswith(db_path.name):
            data = path.read_bytes()
            assert secret.encode() not in data, path.name
            assert b"maya" not in data, path.name
    assert [u.external_id for u in sm.users()] == ["tom"]
    assert "chess" in " ".join(_statements(sm, "tom"))


def test_workspaces_are_isolated(sm: SelfModel) -> None:
    sm.observe("maya", "I love hiking.")
    other = sm.in_workspace("other-product")
    assert other.users() == []
    with pytest.raises(Exception) as excinfo:
        other.beliefs("maya")
    assert type(excinfo.value).__name__ == "UserNotFoundError"
    belief_id = sm.beliefs("maya")[0].id
    with pytest.raises(Exception) as excinfo:
        other.belief(belief_id)
    assert type(excinfo.value).__name__ == "BeliefNotFoundError"


class _HeldMessages(Embedder):
    """The real embedder, except that a pass over the messages being observed waits (up to
    10 s) until the statements drawn from them have been embedded."""

    def __init__(self, inner: SentenceTransformerEmbedder, messages: list[str]) -> None:
        self.inner = inner
        self.name = inner.name
        self.messages = messages
        self.messages_started = threading.Event()
        self.statements_embedded = threading.Event()
        self.messages_waited = False

    @property
    def dim(self) -> int:
        return self.inner.dim

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if list(texts) == self.messages:
            self.messages_started.set()
            self.messages_waited = self.statements_embedded.wait(10)
        elif self.messages_started.is_set():
            self.statements_embedded.set()
        return self.inner.embed(texts)


def test_statements_are_embedded_while_the_messages_are(
    tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    messages = ["I adopted a puppy called Max last week.", "I love hiking in the Alps."]
    held = _HeldMessages(embedder, messages)
    with SelfModel.open(str(tmp_path / "held.db"), embedder=held) as sm:
        sm.observe("maya", messages)
        assert held.messages_waited  # the statements did not wait for the messages' pass
        assert sm.beliefs("maya")


class _Recording(Embedder):
    """The real embedder, recording the texts of every call."""

    def __init__(self, inner: SentenceTransformerEmbedder) -> None:
        self.inner = inner
        self.name = inner.name
        self.calls: list[list[str]] = []

    @property
    def dim(self) -> int:
        return self.inner.dim

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(list(texts))
        return self.inner.embed(texts)


def test_a_chat_turn_is_embedded_with_its_statements_in_one_pass(
    tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    message = "I adopted a puppy called Max last week."
    recording = _Recording(embedder)
    with SelfModel.open(str(tmp_path / "one-pass.db"), embedder=recording) as sm:
        sm.observe("maya", message)
        (call,) = [c for c in recording.calls if message in c]
        assert len(call) > 1  # the message and what was read from it, together
        assert sm.beliefs("maya")
        found = sm.context("maya", "Does she have a pet?").text
    assert "Max" in found
