"""What the PostgreSQL store does beyond the contract both backends share: how it writes."""

from __future__ import annotations

from contextlib import closing
from dataclasses import replace

import numpy as np
import psycopg
from psycopg.conninfo import conninfo_to_dict

from selfmodel import SelfModel
from selfmodel.domain import BeliefEventType
from selfmodel.embedding import SentenceTransformerEmbedder
from selfmodel.storage import AsOf
from selfmodel.storage.postgres import PostgresStore
from tests.store_contract.records import belief, event, evidence, observation, trace
from tests.support.postgres import PostgresCluster
from tests.support.statements import PostgresStatements

# Every statement's plan in the server's log, each planned for any parameters.
GENERIC_PLANS_EXPLAINED = {
    "plan_cache_mode": "force_generic_plan",
    "session_preload_libraries": "auto_explain",
    "auto_explain.log_min_duration": "0",
    "auto_explain.log_analyze": "on",
}


def _explain_generic_plans(cluster: PostgresCluster, url: str) -> None:
    """Sessions opened on ``url`` from now on plan generically and log every plan."""
    database = conninfo_to_dict(url)["dbname"]
    with psycopg.connect(cluster.admin_url, autocommit=True) as conn:
        for setting, value in GENERIC_PLANS_EXPLAINED.items():
            conn.execute(f'ALTER DATABASE "{database}" SET {setting} = {value}')


def _logged_since(cluster: PostgresCluster, offset: int) -> str:
    with cluster.log.open() as log:
        log.seek(offset)
        return log.read()


def test_a_large_trace_is_stored_compressed_with_lz4(pg_url: str) -> None:
    # A context call's trace: tens of kB of candidates, well over the size PostgreSQL compresses.
    candidates = [
        {"id": f"bel_{i}", "text": "likes hiking " * 4, "score": i / 7} for i in range(300)
    ]
    with closing(PostgresStore(pg_url)) as store:
        ws = store.get_or_create_workspace("acme")
        stored = replace(
            trace(store.get_or_create_user(ws.id, "maya")), payload={"candidates": candidates}
        )
        store.insert_trace(stored)
        got = store.get_trace(ws.id, stored.id)
    assert got is not None and got.payload == stored.payload
    with psycopg.connect(pg_url) as conn:
        row = conn.execute(
            "SELECT pg_column_compression(payload) FROM traces WHERE id = %s", (stored.id,)
        ).fetchone()
    assert row == ("lz4",)


def test_a_read_of_one_users_rows_walks_the_index_to_them_in_a_generic_plan(
    pg_cluster: PostgresCluster, pg_url: str
) -> None:
    """Prepared statements are planned once for any parameters. Reading one user's vectors must
    not scan the workspace's rows and filter them (``= ANY(array)`` was planned so). The store's
    own read, planned generically, has its plan written to the server's log by auto_explain."""
    _explain_generic_plans(pg_cluster, pg_url)
    with closing(PostgresStore(pg_url)) as store:  # its sessions open with those settings
        ws = store.get_or_create_workspace("acme")
        users = [store.get_or_create_user(ws.id, name) for name in ("maya", "bob")]
        for user in users:
            with store.transaction():
                store.lock_user(ws.id, user.id)
                vectors = [(f"obs_{user.id}_{i}", np.ones(4, np.float32)) for i in range(20)]
                store.put_vectors(ws.id, user.id, "observation", "m", vectors)
        maya = users[0].id
        logged = pg_cluster.log.stat().st_size
        found = store.get_vectors_by_id(ws.id, [maya], "observation", "m", [f"obs_{maya}_3"])
    assert found.ids == [f"obs_{maya}_3"]
    plan = _logged_since(pg_cluster, logged)
    assert "SELECT item_id, vector FROM vectors" in plan and "Index Cond" in plan, plan
    assert "Rows Removed by Filter" not in plan, plan


def test_a_refresh_reads_a_beliefs_sources_by_the_belief_in_a_generic_plan(
    pg_cluster: PostgresCluster, pg_url: str
) -> None:
    """A changed belief comes with the messages supporting it: they must be found by the
    belief, not by filtering all of its user's evidence (a plan made before the table was
    analysed walked the index on the user's observations)."""
    _explain_generic_plans(pg_cluster, pg_url)
    with closing(PostgresStore(pg_url)) as store:  # its sessions open with those settings
        ws = store.get_or_create_workspace("acme")
        maya = store.get_or_create_user(ws.id, "maya")
        said = [observation(maya, f"I love tea, {i}.", minutes=i) for i in range(30)]
        beliefs = [belief(maya, f"Maya loves tea {i}") for i in range(3)]
        with store.transaction():
            store.lock_user(ws.id, maya.id)
            store.insert_observations(said)
            for b in beliefs:
                store.insert_belief(b)
                for o in said:
                    store.add_evidence(ws.id, maya.id, evidence(b.id, o.id))
        logged = pg_cluster.log.stat().st_size
        changed = store.list_beliefs_changed_since(ws.id, maya.id, 0, "m")
    assert all(len(ids) == 30 for ids in changed.supporting.values())
    plan = _logged_since(pg_cluster, logged)
    assert "FROM evidence e" in plan and "evidence_belief" in plan, plan
    assert "Rows Removed by Filter" not in plan, plan


def test_history_held_back_in_a_transaction_goes_before_a_write_that_touches_its_table(
    pg_url: str,
) -> None:
    """An event appended in a transaction travels with the next write (one round trip), unless
    that write reads or changes the events: then it is written first, so the write sees it."""
    with closing(PostgresStore(pg_url)) as store:
        ws = store.get_or_create_workspace("acme")
        maya = store.get_or_create_user(ws.id, "maya")
        tea = belief(maya, "Maya loves tea")
        with store.transaction():
            store.lock_user(ws.id, maya.id)
            store.insert_belief(tea)
            store.append_event(event(tea, BeliefEventType.CREATED))
            store.lock_user(ws.id, maya.id)  # carries the event (and the version) with it
            store.update_belief(tea)
            # A write that has a WITH of its own (history copy + upsert) takes the version in it.
            store.put_vectors(ws.id, maya.id, "belief", "m", [(tea.id, np.ones(4, np.float32))])
            store.append_event(event(tea, BeliefEventType.REINFORCED, seconds=1))
            deleted = store._x(
                "DELETE FROM belief_events WHERE workspace_id = ? AND belief_id = ?",
                (ws.id, tea.id),
            )
        assert deleted == 2
        assert store.list_events(ws.id, belief_id=tea.id) == []
        assert store.get_vectors(ws.id, [maya.id], "belief", "m").ids == [tea.id]
        versions = store.beliefs_as_of(ws.id, maya.id, AsOf(revisions={maya.id: 2}))
        assert versions == [tea]


def test_a_read_of_other_tables_carries_the_rows_held_back_and_a_read_of_theirs_sees_them(
    pg_cluster: PostgresCluster, pg_url: str
) -> None:
    """Held rows ride in the WITH of the next read that does not look at their table (one
    round trip fewer); a read of their table runs after them, so it finds them."""
    statements = PostgresStatements(pg_cluster, pg_url)
    with closing(PostgresStore(pg_url)) as store:
        ws = store.get_or_create_workspace("acme")
        maya = store.get_or_create_user(ws.id, "maya")
        tea = belief(maya, "Maya loves tea")
        statements.take()
        with store.transaction():
            store.lock_user(ws.id, maya.id)
            store.insert_belief(tea)
            assert store.list_evidence(ws.id, [tea.id]) == []  # carries the belief
            assert store.get_belief(ws.id, tea.id) == tea  # its table: sent before
        ran = statements.take()
    assert [s.split()[0] for s in ran] == ["BEGIN", "UPDATE", "WITH", "SELECT", "COMMIT"], ran
    assert "INSERT INTO beliefs" in ran[2] and "FROM evidence" in ran[2]


def test_more_rows_held_back_than_one_statement_takes_are_all_written(pg_url: str) -> None:
    """A statement takes at most 65,535 parameters: a long batch of new messages is sent in
    as many statements as it needs, every row of it."""
    with closing(PostgresStore(pg_url)) as store:
        ws = store.get_or_create_workspace("acme")
        maya = store.get_or_create_user(ws.id, "maya")
        batch = [observation(maya, f"message {i}", minutes=i) for i in range(5_000)]
        with store.transaction():
            store.lock_user(ws.id, maya.id)
            assert len(store.insert_observations(batch, new_ids=True)) == 5_000
        assert len(store.list_observations(ws.id, [maya.id])) == 5_000


def test_an_observe_sends_its_writes_in_one_statement_after_reading_the_beliefs(
    pg_cluster: PostgresCluster, pg_url: str, embedder: SentenceTransformerEmbedder
) -> None:
    """What an observe costs in round trips: the user with what they said before, BEGIN, the
    lock, the user's beliefs (carrying the new message), the writes, COMMIT. A new belief's
    row, version, vector, evidence and event and the message's vector go in one statement; a
    reinforced belief's update carries its evidence."""
    statements = PostgresStatements(pg_cluster, pg_url)
    with SelfModel.open(pg_url, embedder=embedder) as sm:
        sm.observe("ana", "I live in Lisbon.")
        statements.take()
        learned = sm.observe("ana", "I love jazz on weekends.")
        new = statements.take()
        again = sm.observe("ana", "I love jazz on weekends.")
        reinforced = statements.take()
        assert learned.created and again.reinforced == learned.created
        ana = sm.user("ana")
        model = sm._c.embedder.name
        messages = sm.store.get_vectors(sm.workspace.id, [ana.id], "observation", model)
        assert len(messages.ids) == 3  # every message's vector was written
    heads = [s.split()[0] for s in new]
    assert heads == ["SELECT", "BEGIN", "UPDATE", "WITH", "WITH", "COMMIT"], new
    assert "INSERT INTO observations" in new[3] and "FROM beliefs" in new[3]
    for table in ("beliefs", "belief_versions", "vectors", "evidence", "belief_events"):
        assert f"INSERT INTO {table} " in new[4], table
    heads = [s.split()[0] for s in reinforced]
    assert heads == ["SELECT", "BEGIN", "UPDATE", "WITH", "WITH", "WITH", "COMMIT"], reinforced
    assert "INSERT INTO evidence" in reinforced[4] and "UPDATE beliefs" in reinforced[4]
