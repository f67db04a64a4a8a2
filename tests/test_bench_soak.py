"""``selfmodel bench serve --soak``: real servers, a real worker killed and restarted, real HTTP,
then a reconciliation — and proof that the reconciliation does fail on a store that diverged."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from selfmodel import SelfModel
from selfmodel.bench.reconcile import Ledger, Reconciliation, reconcile
from selfmodel.cli import app
from selfmodel.embedding import SentenceTransformerEmbedder
from selfmodel.storage import open_store
from tests.support.postgres import PostgresCluster

runner = CliRunner()

SOAK_S = "4"
KILL_EVERY_S = "1"
WORKSPACE = "ledgered"
KEPT = "keeper"
FORGOTTEN = "leaver"
MESSAGES = [
    ("m1", "I love hiking on weekends.", "2024-03-01T09:00:00+00:00"),
    ("m2", "I work as a nurse.", "2024-03-01T09:05:00+00:00"),
    ("m3", "I love hiking on weekends.", "2024-03-02T09:00:00+00:00"),
]


@pytest.mark.slow
def test_soak_with_a_killed_worker_loses_and_duplicates_nothing_on_both_backends(
    tmp_path: Path, pg_cluster: PostgresCluster
) -> None:
    out = tmp_path / "soak.json"
    with pg_cluster.database() as url:
        result = runner.invoke(
            app,
            [
                "bench", "serve", "--soak", SOAK_S, "--kill-every", KILL_EVERY_S,
                "--concurrency", "2", "--pg-url", url, "--pg-processes", "1",
                "--json", str(out),
            ],
        )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert set(report["backends"]) == {"sqlite", "postgresql"}
    for backend in report["backends"].values():
        assert backend["errors"] == 0, backend["error_samples"]
        # The worker really was killed, at least once while it held a job.
        assert backend["kills"] >= 1 and backend["kills_mid_job"] >= 1
        rows = backend["rows"]
        for kind in ("observe", "resend", "context", "beliefs", "forget"):
            assert rows[kind]["requests"] > 0, kind
        found = backend["reconciliation"]
        assert (found["lost"], found["duplicated"], found["forget_leftovers"]) == (0, 0, 0)
        assert backend["jobs"] > 0 and backend["forgotten_users"] > 0
    assert "lost 0, duplicated 0" in result.output


# -- the reconciliation can fail -----------------------------------------------------------------
@pytest.fixture(scope="module")
def ledgered_store(
    tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder
) -> tuple[Path, Ledger]:
    """A SQLite store written through the queue as the soak writes, and the ledger of what its
    client was told; the store is closed, so copies of the file are whole."""
    path = tmp_path_factory.mktemp("ledgered") / "selfmodel.db"
    ledger = Ledger()
    with SelfModel.open(str(path), workspace=WORKSPACE, embedder=embedder) as sm:
        for user in (KEPT, FORGOTTEN):
            for message_id, content, at in MESSAGES:
                message = {"id": f"{user}-{message_id}", "content": content, "occurred_at": at}
                result = sm.observe(user, [message], wait=False)
                ledger.observed(user, result.user_id, [message["id"]], result.job_id)
        while sm.process_jobs("tests"):
            pass
        sm.forget(FORGOTTEN)
        ledger.forget(FORGOTTEN)
    return path, ledger


def _reconciled(path: Path, ledger: Ledger) -> Reconciliation:
    store = open_store(str(path))
    try:
        workspace = store.get_workspace(WORKSPACE)
        assert workspace is not None
        return reconcile(store, workspace.id, ledger)
    finally:
        store.close()


def _copy_row(db: sqlite3.Connection, table: str, where: str, **changes: object) -> None:
    """Insert a copy of the first row of ``table`` matching ``where``, with ``changes``."""
    db.row_factory = sqlite3.Row
    row = dict(db.execute(f"SELECT * FROM {table} WHERE {where} LIMIT 1").fetchone())
    row.update(changes)
    columns = ", ".join(row)
    db.execute(
        f"INSERT INTO {table} ({columns}) VALUES ({', '.join('?' * len(row))})", [*row.values()]
    )


def _lose_an_observation(db: sqlite3.Connection) -> None:
    # Its evidence stays (foreign keys are off in this connection): that is dangling too.
    db.execute("DELETE FROM observations WHERE external_id = ?", (f"{KEPT}-m2",))


def _store_a_message_twice(db: sqlite3.Connection) -> None:
    db.execute("DROP INDEX observations_external")
    _copy_row(db, "observations", f"external_id = '{KEPT}-m1'", id="obs_copy")


def _replay_a_creation(db: sqlite3.Connection) -> None:
    # The nurse belief, from one observation, created again with its evidence link.
    nurse = db.execute("SELECT id FROM beliefs WHERE statement LIKE '%nurse%'").fetchone()[0]
    _copy_row(db, "beliefs", f"id = '{nurse}'", id="bel_copy")
    _copy_row(db, "evidence", f"belief_id = '{nurse}'", belief_id="bel_copy")


def _record_an_event_twice(db: sqlite3.Connection) -> None:
    _copy_row(db, "belief_events", "observation_id IS NOT NULL", id="evt_copy")


def _link_an_observation_twice(db: sqlite3.Connection) -> None:
    _copy_row(db, "evidence", "stance = 'supports'", stance="contradicts")


def _count_a_day_twice(db: sqlite3.Connection) -> None:
    db.execute("UPDATE beliefs SET support_count = support_count + 1 WHERE status = 'active'")


def _leave_a_job_unfinished(db: sqlite3.Connection) -> None:
    db.execute("UPDATE jobs SET status = 'dead' WHERE id = (SELECT min(id) FROM jobs)")


def _leave_a_forgotten_user(db: sqlite3.Connection) -> None:
    _copy_row(db, "users", f"external_id = '{KEPT}'", id="usr_copy", external_id=FORGOTTEN)


@pytest.mark.parametrize(
    ("tamper", "expected"),
    [
        # The nurse belief loses its only day of support with it.
        (
            _lose_an_observation,
            {"lost_observations": 1, "dangling_evidence": 1, "miscounted_support": 1},
        ),
        (_store_a_message_twice, {"duplicated_observations": 1}),
        (_replay_a_creation, {"duplicated_beliefs": 1}),
        (_record_an_event_twice, {"duplicated_events": 1}),
        (_link_an_observation_twice, {"duplicated_evidence": 1}),
        (_count_a_day_twice, {"miscounted_support": 2}),
        (_leave_a_job_unfinished, {"unfinished_jobs": 1}),
        (_leave_a_forgotten_user, {"forget_leftovers": 1}),
    ],
)
def test_reconciliation_reports_each_kind_of_divergence_in_a_tampered_copy(
    ledgered_store: tuple[Path, Ledger],
    tmp_path: Path,
    tamper: Callable[[sqlite3.Connection], None],
    expected: dict[str, int],
) -> None:
    original, ledger = ledgered_store
    assert _reconciled(original, ledger).clean  # the untouched store reconciles
    copy = tmp_path / "tampered.db"
    shutil.copy(original, copy)
    db = sqlite3.connect(copy)
    with db:
        tamper(db)
    db.close()

    found = _reconciled(copy, ledger)

    counts = {k: v for k, v in found.as_dict().items() if isinstance(v, int) and v}
    counts.pop("lost", None)
    counts.pop("duplicated", None)
    assert counts == expected
    assert not found.clean and found.examples
