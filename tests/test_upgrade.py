"""A database written by the previous release opens, migrates, and loses nothing.

``tests/fixtures/upgrade`` holds a database made by the release before schema 7 and what that
release exported from it (``scripts/make_upgrade_fixture.py`` says how it was made). The current
code opens a copy, migrates it to the current schema, and must export the same data.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from selfmodel import SelfModel
from selfmodel.domain import BeliefFrame
from selfmodel.domain.time import utcnow
from selfmodel.embedding.sentence_transformers import SentenceTransformerEmbedder
from selfmodel.storage.migrations import SCHEMA_VERSION
from selfmodel.tenancy import Tenancy

if TYPE_CHECKING:
    import psycopg

FIXTURE = Path(__file__).parent / "fixtures" / "upgrade"
# Computed at read time from the evidence and the clock, so they move as the fixture ages.
READ_TIME_FIELDS = ("confidence", "status")
# Export sections newer than the fixture (checked on their own below).
NEWER_SECTIONS = ("outcomes", "exposures")


def comparable(export: dict[str, Any]) -> dict[str, Any]:
    data = {k: v for k, v in export.items() if k not in ("exported_at", "traces", *NEWER_SECTIONS)}
    data["beliefs"] = [
        {
            **{k: v for k, v in b.items() if k not in READ_TIME_FIELDS},
            # A frame field added since takes its default: nothing the old release had is lost.
            "frame": BeliefFrame.model_validate(b["frame"]).model_dump(mode="json"),
        }
        for b in data["beliefs"]
    ]
    return data


def test_a_database_from_the_previous_release_migrates_with_nothing_lost(
    tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    expected = json.loads((FIXTURE / "export.json").read_text(encoding="utf-8"))
    assert expected["schema_version"] < SCHEMA_VERSION  # the fixture predates this schema
    db = tmp_path / "selfmodel.db"
    shutil.copy(FIXTURE / "selfmodel.db", db)
    with SelfModel.open(str(db), embedder=embedder) as sm:
        assert sm.store.schema_version == SCHEMA_VERSION
        assert sorted(u.external_id for u in sm.users()) == sorted(expected["users"])
        for user, exported in expected["users"].items():
            migrated = sm.export(user)
            assert comparable(migrated) == comparable(exported), user
            assert migrated["outcomes"] == []  # schema 10: none recorded yet
            assert migrated["exposures"] == []  # schema 11: no experiment yet
        assert sm.alerts() == []  # schema 12: no alert raised yet
        # What the old release stored keeps working: its key, its Mirror link, its vectors.
        assert [k.name for k in Tenancy(sm.store).keys(sm.workspace)] == ["fixture"]
        assert sm.context("maya", "What does she do to relax?").items
        sm.observe("maya", "I just joined a choir.")  # and the new schema takes writes
        sm.record_outcome("maya", "returned", value=12)
        assert [o.value for o in sm.outcomes("maya")] == [12.0]
        sm.create_experiment(
            "pers", [{"name": "off", "config": {"personalized": False}}, {"name": "on"}]
        )
        assert sm.assignment("maya", "pers").variant in {"off", "on"}
        sm.forget("tom")
        assert [u.external_id for u in sm.users()] == ["maya"]


def test_evidence_in_a_migrated_database_outlives_its_observation(
    tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    """Schema 9 drops the cascade from observations to evidence (SQLite rebuilds the table): the
    old release's evidence survives a retention deletion of the messages it quotes."""
    db = tmp_path / "selfmodel.db"
    shutil.copy(FIXTURE / "selfmodel.db", db)
    with SelfModel.open(str(db), embedder=embedder) as sm:
        evidence_before = sm.export("maya")["evidence"]
        assert evidence_before
        sm.set_retention_policy({"observations_max_age_days": 1})
        sm.run_retention(now=utcnow() + timedelta(days=2))
        exported = sm.export("maya")
        assert exported["observations"] == []
        assert [e["observation_id"] for e in exported["evidence"]] == [
            e["observation_id"] for e in evidence_before
        ]
        assert all(e["quote"] for e in exported["evidence"])


def test_a_migrated_database_reads_its_older_beliefs_as_of_any_moment_since(
    tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    """Beliefs written before versions were kept read as they are, from the start; what is
    written after the upgrade is versioned, and a call made after it replays exactly."""
    db = tmp_path / "selfmodel.db"
    shutil.copy(FIXTURE / "selfmodel.db", db)
    with SelfModel.open(str(db), embedder=embedder) as sm:
        upgraded = utcnow()
        before = sm.beliefs("maya", status=None, now=upgraded)
        trace = sm.context("maya", "What does she do to relax?").trace_id
        sm.observe("maya", "I just joined a choir.")

        then = sm.beliefs_as_of("maya", at=upgraded, status=None)
        assert [b.belief for b in then.beliefs] == before
        assert len(sm.beliefs_as_of("maya", at=utcnow(), status=None).beliefs) > len(before)
        assert sm.replay(trace).reproduced


@contextmanager
def _older_postgres(pg_url: str, version: int, at: datetime) -> Iterator[psycopg.Connection[Any]]:
    """The database emptied and migrated only to ``version``, with workspace ws_1 in it."""
    import psycopg
    from psycopg.rows import dict_row

    from selfmodel.storage.postgres import apply_migrations

    with psycopg.connect(pg_url, row_factory=dict_row, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        conn.execute("SET TIME ZONE 'UTC'")
        apply_migrations(conn, up_to=version)
        conn.execute(
            "INSERT INTO workspaces (id, name, created_at) VALUES ('ws_1', 'acme', %s)", (at,)
        )
        yield conn


def test_each_belief_of_an_older_postgres_database_becomes_its_first_version(
    pg_url: str,
) -> None:
    """Schema 13 keeps every belief's state at the upgrade as its first version (revision 0),
    field for field, on PostgreSQL too (the SQLite fixture above covers SQLite)."""

    from selfmodel.domain import (
        Belief,
        BeliefFrame,
        BeliefKind,
        BeliefOrigin,
        BeliefStatus,
        Occasion,
        new_id,
    )
    from selfmodel.storage import AsOf
    from selfmodel.storage.postgres import PostgresDialect, PostgresStore
    from selfmodel.storage.sql_base import marks
    from selfmodel.storage.sql_rows import BELIEF_COLUMNS, belief_params

    at = utcnow()
    with _older_postgres(pg_url, 10, at) as conn:
        conn.execute(
            "INSERT INTO users (workspace_id, id, external_id, created_at)"
            " VALUES ('ws_1', 'usr_1', 'maya', %s)",
            (at,),
        )
        old = Belief(
            id=new_id("bel"),
            workspace_id="ws_1",
            user_id="usr_1",
            statement="Maya loves tea",
            kind=BeliefKind.PREFERENCE,
            confidence=0.5244245618759783,
            origin=BeliefOrigin.STATED,
            status=BeliefStatus.ACTIVE,
            created_at=at - timedelta(days=3),
            updated_at=at - timedelta(days=1),
            valid_from=at - timedelta(days=3),
            evidence_logit=0.123456789012345678,
            last_evidence_at=at - timedelta(days=1),
            support_count=2,
            frame=BeliefFrame(topics=("tea",)),
            occasions=(Occasion(day="2024-03-02", at=at - timedelta(days=3), support=1.0),),
            metadata={"why": "fixture"},
        )
        conn.execute(
            f"INSERT INTO beliefs ({', '.join(BELIEF_COLUMNS)})"
            f" VALUES ({marks(len(BELIEF_COLUMNS))})".replace("?", "%s"),
            belief_params(PostgresDialect(), old),
        )
    store = PostgresStore(pg_url)
    try:
        assert store.schema_version == SCHEMA_VERSION
        assert store.get_belief("ws_1", old.id) == old
        assert store.beliefs_as_of("ws_1", "usr_1", AsOf(revisions={"usr_1": 0})) == [old]
        before_creation = AsOf(recorded_at=old.created_at - timedelta(seconds=1))
        assert store.beliefs_as_of("ws_1", "usr_1", before_creation) == []
    finally:
        store.close()


def test_a_postgres_database_of_schema_13_keeps_its_traces_and_revisions(pg_url: str) -> None:
    """Schema 14 keeps trace payloads as written (json, no longer jsonb) and gives users the
    revision retention last deleted at: traces, their lookups and the revisions survive."""
    from psycopg.types.json import Jsonb

    from selfmodel.storage.postgres import PostgresStore

    at = utcnow()
    payload = {"chosen": [{"id": "bel_1", "text": "Maya loves tea"}], "z": 1, "a": [None, 2.5]}
    with _older_postgres(pg_url, 13, at) as conn:
        conn.execute(
            "INSERT INTO users (workspace_id, id, external_id, created_at, revision)"
            " VALUES ('ws_1', 'usr_1', 'maya', %s, 7)",
            (at,),
        )
        conn.execute(
            "INSERT INTO traces (workspace_id, id, query, latency_ms, config, payload, created_at)"
            " VALUES ('ws_1', 'trc_1', 'tea?', 1.5, '{}', %s, %s)",
            (Jsonb(payload), at),
        )
        conn.execute(
            "INSERT INTO trace_users (workspace_id, user_id, trace_id) VALUES ('ws_1', 'usr_1',"
            " 'trc_1')"
        )
    store = PostgresStore(pg_url)
    try:
        assert store.schema_version == SCHEMA_VERSION
        trace = store.get_trace("ws_1", "trc_1")
        assert trace is not None and trace.payload == payload
        assert store.item_uses("ws_1", "usr_1", "bel_1").traces == 1
        assert store.item_uses("ws_1", "usr_1", "bel_2").traces == 0
        (mark,) = store.scope_watermark("ws_1", ["usr_1"])
        assert (mark.revision, mark.pruned_revision) == (7, 0)
    finally:
        store.close()
