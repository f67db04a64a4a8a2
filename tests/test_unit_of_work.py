"""Every write goes through the unit of work: the user is held before their rows change.

The stores here are the real SQLite and PostgreSQL stores with a thin recording layer: it notes
which users the current transaction has locked and checks each write statement against it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import psycopg
import pytest

from selfmodel import SelfModel
from selfmodel.domain.time import utcnow
from selfmodel.interface import DEPRECATED_METHODS
from selfmodel.storage import Store
from selfmodel.storage.postgres import PostgresStore
from selfmodel.storage.sqlite import SQLiteStore

WRITE_VERBS = ("INSERT", "UPDATE", "DELETE")
# Traces record what a read returned (append-only, never revised): a read must not queue
# behind a user's revisions to write one. Creating a user cannot hold the user before it exists.
# A user's first exposure to an experiment is recorded by a read (context, assignment) the same
# way, once, and never revised.
UNHELD_WRITES = (
    "INTO traces",
    "INTO trace_users",
    "INSERT INTO users",
    "INTO experiment_exposures",
)

# The public methods of SelfModel that write a user's rows; everything else only reads (or is
# workspace-level). Kept complete by test_every_public_method_is_classified.
USER_WRITES = {
    "observe",
    "ingest",
    "process_jobs",
    "run_job",
    "confirm",
    "reject",
    "edit",
    "mark_outdated",
    "settle",
    "add_belief",
    "set_display_name",
    "decay",
    "forget",
    "push_cards",
    "answer_cards",
    "check_in",
    "create_mirror_link",
    "revoke_mirror_links",
    "run_retention",
    "record_outcome",
}
NOT_USER_WRITES = {
    "open",
    "belief_uses",
    "close",
    "warm_up",  # loads the models; writes nothing
    "in_workspace",
    "in_existing_workspace",
    "for_workspace",
    "store",
    "settings",
    "users",
    "user",
    "user_by_id",
    "beliefs",
    "belief",
    "history",
    "timeline",
    "context",
    "profile",
    "conflicts",
    "drift",
    "export",
    "trace",
    "traces",
    "wait_for",
    "cards",
    "mirror_link",
    "mirror_secret",
    "set_pii_policy",
    "retention_policy",
    "set_retention_policy",
    "audit_log",
    "outcomes",
    # Experiments are the workspace's; a user's exposure is recorded like a trace (above).
    "create_experiment",
    "experiments",
    "experiment",
    "stop_experiment",
    "assignment",
    "exposures",
    "analyze_experiment",
    "personalization",
    "report",
    "audit",  # reads only (it replays traces, as replay does)
    # Eval runs, alerts and the drift-check schedule are the workspace's, never a user's rows.
    "eval_runs",
    "eval_run",
    "eval_items",
    "alerts",
    "alert",
    "resolve_alert",
    "request_drift_check",
    "check_drift",
    "report_html",
    "set_alert_webhook",
    # The past, read again: a replay recomputes a call and writes no trace.
    "beliefs_as_of",
    "replay",
    "why_not",
    "lineage",
}


class Violations:
    """What the recording layer saw: writes of users the transaction did not hold."""

    def __init__(self) -> None:
        self.unheld: list[str] = []
        self.locks = 0
        self.writes = 0


def recording(base: type[Store], seen: Violations) -> type[Store]:
    """``base`` with every write checked against the users its transaction has locked."""
    local = threading.local()

    class Recording(base):  # type: ignore[misc, valid-type]
        @contextmanager
        def transaction(self) -> Iterator[None]:
            outer = getattr(local, "held", None) is None
            if outer:
                local.held = set()
            try:
                with super().transaction():
                    yield
            finally:
                if outer:
                    local.held = None

        def lock_user(self, workspace_id: str, user_id: str) -> None:
            seen.locks += 1
            held = getattr(local, "held", None)
            assert held is not None, "lock_user outside a transaction"
            held.add(user_id)
            super().lock_user(workspace_id, user_id)

        def _execute(self, sql: str, params: Any) -> int:
            statement = " ".join(sql.split())
            if statement.upper().startswith(WRITE_VERBS) and not any(
                marker in statement for marker in UNHELD_WRITES
            ):
                seen.writes += 1
                held = getattr(local, "held", None) or set()
                users = {p for p in params if isinstance(p, str) and p.startswith("usr_")}
                if users - held:
                    seen.unheld.append(f"{statement[:90]} (users {sorted(users - held)})")
            return int(super()._execute(sql, params))

    return Recording


def exercise_every_write(sm: SelfModel) -> None:
    """Call each method in USER_WRITES the way a product would."""
    sm.observe("maya", "I'm training for the Berlin marathon in April.")
    sm.observe("maya", "I love hiking in the Alps.", wait=False)
    sm.process_jobs("w1")
    sm.observe("maya", "Hiking with my sister is my favourite weekend.", wait=False)
    job = sm.store.claim_jobs("w2", 1, 60.0)[0]
    sm.run_job(job, "w2")
    sm.ingest([])
    beliefs = sm.beliefs("maya")
    assert len(beliefs) >= 2
    first, second = beliefs[0], beliefs[1]
    sm.confirm(first.id)
    sm.edit(first.id, "Maya is training for a marathon in Berlin.")
    sm.reject(second.id)
    added = sm.add_belief("maya", "Maya prefers mornings for long runs.")
    other = sm.add_belief("maya", "Maya prefers evenings for long runs.")
    sm.settle(added.id, other.id)
    sm.mark_outdated(added.id)
    sm.set_display_name("maya", "Maya")
    sm.decay("maya", now=utcnow() + timedelta(days=400))
    cards = sm.push_cards("maya", ["Maya runs to clear her head."])
    sm.answer_cards("maya", {cards[0].id: True})
    checked = sm.beliefs("maya")[0]
    sm.check_in("maya", checked.id, holds=True)
    sm.check_in("maya", checked.id, holds=False)
    with pytest.deprecated_call():  # the old names do the same, under the same unit of work
        old = sm.push_prompts("maya", ["Maya swims on Sundays."])
        sm.answer_prompts("maya", {old[0].id: False})
    link = sm.create_mirror_link("maya")
    sm.revoke_mirror_links("maya", link.id)
    # A running experiment: its exposures are the only writes of a read (UNHELD_WRITES).
    sm.create_experiment(
        "pers", [{"name": "off", "config": {"personalized": False}}, {"name": "on"}]
    )
    sm.assignment("maya", "pers")
    answered = sm.context("maya", "What is she training for?")
    sm.record_outcome("maya", "rating", trace_id=answered.trace_id, value=4, id="r-1")
    sm.record_outcome("maya", "rating", trace_id=answered.trace_id, value=4, id="r-1")  # a retry
    sm.record_outcome("maya", "returned", value=3)
    sm.set_retention_policy({"observations_max_age_days": 30, "traces_max_age_days": 30})
    expired = sm.run_retention(now=utcnow() + timedelta(days=31))
    # The trace quoting her messages goes with them, or with the trace policy.
    assert "observations" in {d.action.value for d in expired.deletions}
    sm.forget("maya")
    sm.observe("tom", "I play chess on Sundays.")
    sm.set_retention_policy({"inactive_user_days": 1})
    inactive = sm.run_retention(now=utcnow() + timedelta(days=2))
    assert [d.user for d in inactive.deletions if d.action.value == "inactive_user"] == ["tom"]
    assert len(sm.audit_log()) == len(expired.deletions) + 2  # and the forget


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_every_write_path_holds_the_user(
    backend: str, request: pytest.FixtureRequest, tmp_path: Any, embedder: Any
) -> None:
    seen = Violations()
    if backend == "postgres":
        store = recording(PostgresStore, seen)(request.getfixturevalue("pg_url"))
    else:
        store = recording(SQLiteStore, seen)(tmp_path / "selfmodel.db")
    with SelfModel.open(store, embedder=embedder) as sm:
        exercise_every_write(sm)
    assert seen.writes > 50 and seen.locks >= len(USER_WRITES)
    assert seen.unheld == []


def test_the_recorder_catches_a_write_that_skips_the_unit(tmp_path: Any, embedder: Any) -> None:
    """The check above can fail: a user row written outside a unit of work is reported."""
    seen = Violations()
    store = recording(SQLiteStore, seen)(tmp_path / "selfmodel.db")
    with SelfModel.open(store, embedder=embedder) as sm:
        sm.observe("maya", "I love hiking in the Alps.")
        user = sm.user("maya")
        sm.store.set_display_name(sm.workspace.id, user.id, "Maya")  # straight to the store
    assert len(seen.unheld) == 1 and "UPDATE users" in seen.unheld[0]


def test_every_public_method_is_classified() -> None:
    public = {name for name in dir(SelfModel) if not name.startswith("_")}
    assert public - set(DEPRECATED_METHODS) == USER_WRITES | NOT_USER_WRITES, (
        "classify new SelfModel methods in USER_WRITES (and exercise them above) or NOT_USER_WRITES"
    )
    # A deprecated name is classified as what it now calls (and exercised above with it).
    assert set(DEPRECATED_METHODS) <= public
    for old, new in DEPRECATED_METHODS.items():
        assert new in USER_WRITES | NOT_USER_WRITES, (old, new)


def test_concurrent_corrections_on_postgres_lose_no_update(pg_url: str, embedder: Any) -> None:
    """An edit and a rejection of one belief race. The test holds the user's row lock from a
    connection of its own until both calls are waiting for it, the edit first, then lets go: the
    rejection commits second and must build on the edit (the belief is read again under the
    lock), so the edited statement stays."""
    with SelfModel.open(pg_url, embedder=embedder) as sm:
        sm.observe("maya", "I keep bees.")
        user = sm.user("maya")
        for n in range(3):
            belief = sm.add_belief("maya", f"Maya keeps bees on her roof (hive {n}).")
            edited = f"Maya keeps two hives of bees on her roof (round {n})."
            errors: list[BaseException] = []

            def run(work: Any, *args: Any, errors: list[BaseException] = errors) -> None:
                try:
                    work(*args)
                except BaseException as exc:  # reported below, not swallowed
                    errors.append(exc)

            with psycopg.connect(pg_url, autocommit=False) as holder:
                holder.execute("SELECT id FROM users WHERE id = %s FOR NO KEY UPDATE", (user.id,))
                threads = [
                    threading.Thread(target=run, args=(sm.edit, belief.id, edited)),
                    threading.Thread(target=run, args=(sm.reject, belief.id)),
                ]
                # The edit queues first, so it commits first and the rejection must build on it.
                for waiting, thread in enumerate(threads, start=1):
                    thread.start()
                    wait_for_lock_waiters(pg_url, waiting)
                holder.rollback()  # let both go
            for thread in threads:
                thread.join(timeout=30)
            assert errors == []
            final = sm.belief(belief.id).belief
            events = [e.type.value for e in sm.history(belief.id)]
            assert final.statement == edited, f"round {n}: the edit was overwritten ({events})"
            assert events[-2:] == ["edited", "rejected"]
            assert final.status.value == "rejected"
            edit_event = next(e for e in sm.history(belief.id) if e.type.value == "edited")
            # The edit's "previous" is what the belief said when the edit was applied.
            assert edit_event.details["previous"] == f"Maya keeps bees on her roof (hive {n})."


def wait_for_lock_waiters(url: str, count: int, timeout_s: float = 20.0) -> None:
    """Block until ``count`` backends of this database wait on a row lock."""
    deadline = time.monotonic() + timeout_s
    with psycopg.connect(url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND wait_event_type = 'Lock'"
            ).fetchone()
            if row and row[0] >= count:
                return
            time.sleep(0.02)
    raise AssertionError(f"{count} lock waiters never appeared")
