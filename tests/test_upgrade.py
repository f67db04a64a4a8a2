"""A database written by the previous release opens, migrates, and loses nothing.

``tests/fixtures/upgrade`` holds a database made by the release before schema 7 and what that
release exported from it (``scripts/make_upgrade_fixture.py`` says how it was made). The current
code opens a copy, migrates it to the current schema, and must export the same data.
"""

from __future__ import annotations

import json
import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

from selfmodel import SelfModel
from selfmodel.domain.time import utcnow
from selfmodel.embedding.sentence_transformers import SentenceTransformerEmbedder
from selfmodel.storage.migrations import SCHEMA_VERSION
from selfmodel.tenancy import Tenancy

FIXTURE = Path(__file__).parent / "fixtures" / "upgrade"
# Computed at read time from the evidence and the clock, so they move as the fixture ages.
READ_TIME_FIELDS = ("confidence", "status")
# Export sections newer than the fixture (checked on their own below).
NEWER_SECTIONS = ("outcomes", "exposures")


def comparable(export: dict[str, Any]) -> dict[str, Any]:
    data = {k: v for k, v in export.items() if k not in ("exported_at", "traces", *NEWER_SECTIONS)}
    data["beliefs"] = [
        {k: v for k, v in b.items() if k not in READ_TIME_FIELDS} for b in data["beliefs"]
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
