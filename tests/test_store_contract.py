"""The storage contract: every backend (SQLite, PostgreSQL) passes the very same tests."""

from __future__ import annotations

import threading
from datetime import timedelta

import numpy as np
import pytest

from selfmodel.domain import (
    ApiKey,
    Belief,
    BeliefEvent,
    BeliefEventType,
    BeliefKind,
    BeliefOrigin,
    BeliefStatus,
    Evidence,
    EvidenceStance,
    Observation,
    Scope,
    User,
    Workspace,
    new_id,
)
from selfmodel.domain.mirror import MirrorLink, ResonanceCard
from selfmodel.domain.time import utcnow
from selfmodel.errors import StorageError
from selfmodel.storage import BeliefFilter, Store, TraceRecord
from tests.support.rows import rows_of_user


@pytest.fixture
def ws(store: Store) -> Workspace:
    return store.get_or_create_workspace("acme")


@pytest.fixture
def maya(store: Store, ws: Workspace) -> User:
    return store.get_or_create_user(ws.id, "maya")


def _obs(user: User, content: str, external_id: str | None = None, minutes: int = 0) -> Observation:
    at = utcnow() + timedelta(minutes=minutes)
    return Observation(
        id=new_id("obs"),
        workspace_id=user.workspace_id,
        user_id=user.id,
        content=content,
        occurred_at=at,
        recorded_at=at,
        external_id=external_id,
        metadata={"n": minutes},
    )


def _belief(user: User, statement: str, **changes: object) -> Belief:
    now = utcnow()
    fields: dict[str, object] = {
        "id": new_id("bel"),
        "workspace_id": user.workspace_id,
        "user_id": user.id,
        "statement": statement,
        "kind": BeliefKind.PREFERENCE,
        "confidence": 0.7,
        "origin": BeliefOrigin.INFERRED,
        "status": BeliefStatus.ACTIVE,
        "created_at": now,
        "updated_at": now,
        "metadata": {"why": "test"},
    }
    fields.update(changes)
    return Belief.model_validate(fields)


# -- workspaces, users, contexts ---------------------------------------------------------------
def test_workspaces_are_created_once_listed_by_name_and_keep_settings(store: Store) -> None:
    first = store.get_or_create_workspace("zeta")
    assert store.get_or_create_workspace("zeta") == first
    store.get_or_create_workspace("alpha")
    assert [w.name for w in store.list_workspaces()] == ["alpha", "zeta"]
    updated = store.update_workspace_settings(first.id, {"pii_policy": "keep"})
    assert updated.settings == {"pii_policy": "keep"}
    assert store.get_workspace("zeta") == updated
    assert store.get_workspace("nope") is None


def test_updating_settings_of_an_unknown_workspace_is_an_error(store: Store) -> None:
    with pytest.raises(StorageError):
        store.update_workspace_settings("ws_missing", {})


def test_users_are_unique_per_workspace_and_isolated_between_workspaces(
    store: Store, ws: Workspace, maya: User
) -> None:
    assert store.get_or_create_user(ws.id, "maya") == maya
    other = store.get_or_create_workspace("other")
    elsewhere = store.get_or_create_user(other.id, "maya")
    assert elsewhere.id != maya.id
    store.get_or_create_user(ws.id, "Bob")
    assert [u.external_id for u in store.list_users(ws.id)] == ["Bob", "maya"]  # byte order
    assert store.get_user(ws.id, "maya") == maya
    assert store.get_user_by_id(ws.id, maya.id) == maya
    assert store.get_user_by_id(other.id, maya.id) is None


def test_contexts_are_created_once(store: Store, ws: Workspace) -> None:
    ctx = store.get_or_create_context(ws.id, "work")
    assert store.get_or_create_context(ws.id, "work") == ctx
    assert store.get_context(ws.id, "work") == ctx
    assert store.get_context(ws.id, "home") is None


# -- observations ------------------------------------------------------------------------------
def test_observations_round_trip_in_time_order_and_skip_known_external_ids(
    store: Store, maya: User
) -> None:
    late, early = _obs(maya, "second", "e2", minutes=5), _obs(maya, "first", "e1", minutes=1)
    assert store.insert_observations([late, early]) == [late, early]
    again = _obs(maya, "first again", "e1")
    assert store.insert_observations([again]) == []
    listed = store.list_observations(maya.workspace_id, [maya.id])
    assert [o.content for o in listed] == ["first", "second"]
    assert listed[0] == early  # every field survives the round trip
    assert store.list_observations(maya.workspace_id, [maya.id], limit=1) == [early]
    assert store.existing_external_ids(maya.workspace_id, maya.id, ["e1", "e3"]) == {"e1"}
    got = store.get_observations(maya.workspace_id, [late.id, "obs_missing"])
    assert got == [late]
    assert store.get_observations("ws_other", [late.id]) == []


def test_the_turns_just_before_a_moment_are_the_latest_ones_oldest_first(
    store: Store, maya: User
) -> None:
    turns = [_obs(maya, f"turn {n}", minutes=n) for n in range(5)]
    store.insert_observations(turns)
    before = store.list_observations_before(maya.workspace_id, maya.id, turns[4].occurred_at, 2)
    assert [o.content for o in before] == ["turn 2", "turn 3"]
    assert store.list_observations_before(maya.workspace_id, maya.id, turns[0].occurred_at, 2) == []


# -- beliefs, evidence, history ----------------------------------------------------------------
def test_beliefs_are_filtered_by_status_kind_context_and_confidence_newest_first(
    store: Store, ws: Workspace, maya: User
) -> None:
    ctx = store.get_or_create_context(ws.id, "work")
    a = _belief(maya, "likes tea", confidence=0.9)
    b = _belief(maya, "is a nurse", kind=BeliefKind.IDENTITY, area_id=ctx.id)
    c = _belief(maya, "liked coffee", status=BeliefStatus.SUPERSEDED, confidence=0.3)
    for belief in (a, b, c):
        store.insert_belief(belief)
    everyone = BeliefFilter(user_ids=(maya.id,), statuses=())
    newest_first = sorted((a.id, b.id, c.id), reverse=True)  # ids are time-ordered
    assert [x.id for x in store.list_beliefs(ws.id, everyone)] == newest_first
    active = store.list_beliefs(ws.id, BeliefFilter(user_ids=(maya.id,)))
    assert {x.id for x in active} == {a.id, b.id}
    identity = BeliefFilter(user_ids=(maya.id,), kinds=(BeliefKind.IDENTITY,))
    assert store.list_beliefs(ws.id, identity) == [b]
    elsewhere = BeliefFilter(user_ids=(maya.id,), context_id="ctx_other")
    assert store.list_beliefs(ws.id, elsewhere) == [a]
    sure = BeliefFilter(user_ids=(maya.id,), min_confidence=0.8)
    assert store.list_beliefs(ws.id, sure) == [a]
    assert len(store.list_beliefs(ws.id, BeliefFilter(user_ids=(maya.id,), limit=1))) == 1
    assert store.list_beliefs(ws.id, BeliefFilter(user_ids=())) == []


def test_a_belief_update_rewrites_it_and_an_unknown_belief_cannot_be_updated(
    store: Store, ws: Workspace, maya: User
) -> None:
    belief = _belief(maya, "likes tea")
    store.insert_belief(belief)
    changed = belief.model_copy(
        update={"confidence": 0.2, "status": BeliefStatus.DECAYED, "support_count": 3}
    )
    store.update_belief(changed)
    assert store.get_belief(ws.id, belief.id) == changed
    assert store.get_belief("ws_other", belief.id) is None
    with pytest.raises(StorageError):
        store.update_belief(_belief(maya, "never stored"))


def test_the_same_evidence_link_is_stored_once(store: Store, ws: Workspace, maya: User) -> None:
    (obs,) = store.insert_observations([_obs(maya, "I love tea.")])
    belief = _belief(maya, "loves tea")
    store.insert_belief(belief)
    link = Evidence(
        belief_id=belief.id,
        observation_id=obs.id,
        stance=EvidenceStance.SUPPORTS,
        weight=1.2,
        created_at=utcnow(),
        span_start=0,
        span_end=11,
        quote="I love tea.",
    )
    assert store.add_evidence(ws.id, maya.id, link) is True
    assert store.add_evidence(ws.id, maya.id, link) is False
    contra = link.model_copy(
        update={"stance": EvidenceStance.CONTRADICTS, "created_at": utcnow() + timedelta(seconds=1)}
    )
    assert store.add_evidence(ws.id, maya.id, contra) is True
    assert store.list_evidence(ws.id, [belief.id]) == [link, contra]
    assert store.list_evidence(ws.id, []) == []


def test_history_lists_events_oldest_first_by_belief_or_user(
    store: Store, ws: Workspace, maya: User
) -> None:
    belief = _belief(maya, "loves tea")
    store.insert_belief(belief)
    events = [
        BeliefEvent(
            id=new_id("evt"),
            workspace_id=ws.id,
            user_id=maya.id,
            belief_id=belief.id,
            type=kind,
            at=utcnow() + timedelta(seconds=i),
            cause="test",
            confidence_after=0.5,
            details={"i": i},
        )
        for i, kind in enumerate((BeliefEventType.CREATED, BeliefEventType.REINFORCED))
    ]
    for event in reversed(events):
        store.append_event(event)
    assert store.list_events(ws.id, belief_id=belief.id) == events
    assert store.list_events(ws.id, user_id=maya.id) == events
    assert store.list_events("ws_other", user_id=maya.id) == []


# -- vectors and traces ------------------------------------------------------------------------
def test_vectors_round_trip_as_float32_and_a_second_put_replaces(
    store: Store, ws: Workspace, maya: User
) -> None:
    rng = np.random.default_rng(7)
    a, b = rng.standard_normal(8).astype(np.float32), rng.standard_normal(8).astype(np.float32)
    store.put_vectors(ws.id, maya.id, "belief", "m", [("bel_b", b), ("bel_a", a)])
    store.put_vectors(ws.id, maya.id, "belief", "m", [("bel_a", b)])
    got = store.get_vectors(ws.id, [maya.id], "belief", "m")
    assert got.ids == ["bel_a", "bel_b"]
    assert got.matrix.dtype == np.float32
    np.testing.assert_array_equal(got.matrix, np.stack([b, b]))
    assert store.get_vectors(ws.id, [maya.id], "belief", "other-model").ids == []
    assert store.get_vectors(ws.id, [], "belief", "m").ids == []


def test_traces_round_trip_with_all_their_users(store: Store, ws: Workspace, maya: User) -> None:
    bob = store.get_or_create_user(ws.id, "bob")
    trace = TraceRecord(
        id=new_id("trc"),
        workspace_id=ws.id,
        user_ids=(maya.id, bob.id),
        query="what to cook",
        created_at=utcnow(),
        latency_ms=12.5,
        config={"k": 1},
        payload={"chosen": ["x"]},
    )
    store.insert_trace(trace)
    got = store.get_trace(ws.id, trace.id)
    assert got is not None
    assert set(got.user_ids) == {maya.id, bob.id}
    assert (got.query, got.config, got.payload) == (trace.query, trace.config, trace.payload)
    assert store.get_trace("ws_other", trace.id) is None


# -- transactions ------------------------------------------------------------------------------
def test_a_failed_transaction_writes_nothing_even_when_nested(
    store: Store, ws: Workspace, maya: User
) -> None:
    with pytest.raises(RuntimeError), store.transaction():
        store.insert_observations([_obs(maya, "outer write")])
        with store.transaction():
            store.insert_belief(_belief(maya, "inner write"))
        raise RuntimeError("crash after both writes")
    assert store.list_observations(ws.id, [maya.id]) == []
    assert store.list_beliefs(ws.id, BeliefFilter(user_ids=(maya.id,), statuses=())) == []


def test_a_committed_transaction_is_visible_to_another_connection(
    store: Store, db_location: str, ws: Workspace, maya: User
) -> None:
    from selfmodel.storage import open_store

    with store.transaction():
        store.insert_observations([_obs(maya, "kept")])
    other = open_store(db_location)
    try:
        assert [o.content for o in other.list_observations(ws.id, [maya.id])] == ["kept"]
    finally:
        other.close()


# -- forgetting --------------------------------------------------------------------------------
def test_delete_user_leaves_no_row_of_the_user_and_spares_everyone_else(
    store: Store, db_location: str, ws: Workspace, maya: User
) -> None:
    from selfmodel.domain import JobKind

    bob = store.get_or_create_user(ws.id, "bob")
    for user in (maya, bob):
        (obs,) = store.insert_observations([_obs(user, "I love tea.", "x1")])
        belief = _belief(user, "loves tea")
        store.insert_belief(belief)
        store.add_evidence(
            ws.id,
            user.id,
            Evidence(
                belief_id=belief.id,
                observation_id=obs.id,
                stance=EvidenceStance.SUPPORTS,
                weight=1.0,
                created_at=utcnow(),
            ),
        )
        store.append_event(
            BeliefEvent(
                id=new_id("evt"),
                workspace_id=ws.id,
                user_id=user.id,
                belief_id=belief.id,
                type=BeliefEventType.CREATED,
                at=utcnow(),
                cause="test",
            )
        )
        store.put_vectors(ws.id, user.id, "belief", "m", [(belief.id, np.ones(4, np.float32))])
        store.enqueue_job(
            ws.id, user.id, JobKind.UNDERSTAND, {"observation_ids": [obs.id]}, max_attempts=3
        )
        store.insert_mirror_link(
            MirrorLink(
                id=new_id("mln"),
                workspace_id=ws.id,
                user_id=user.id,
                created_at=utcnow(),
                expires_at=utcnow() + timedelta(hours=1),
            )
        )
        store.insert_prompts(
            [
                ResonanceCard(
                    id=new_id("prm"),
                    workspace_id=ws.id,
                    user_id=user.id,
                    statement="I like tea",
                    kind=BeliefKind.PREFERENCE,
                    created_at=utcnow(),
                )
            ]
        )
    shared = TraceRecord(
        id=new_id("trc"),
        workspace_id=ws.id,
        user_ids=(maya.id, bob.id),
        query="tea?",
        created_at=utcnow(),
        latency_ms=1.0,
        payload={"text": "Maya loves tea"},
    )
    store.insert_trace(shared)
    before = rows_of_user(db_location, maya.id)
    assert before.keys() >= {"observations", "beliefs", "evidence", "vectors", "jobs", "users"}

    counts = store.delete_user(ws.id, maya.id)

    assert rows_of_user(db_location, maya.id) == {}
    assert counts.total >= sum(before.values())
    assert store.get_trace(ws.id, shared.id) is None  # it quoted Maya
    assert store.get_user(ws.id, "maya") is None
    assert len(store.list_observations(ws.id, [bob.id])) == 1
    assert rows_of_user(db_location, bob.id).keys() >= {"beliefs", "evidence", "jobs"}


# -- service tables (Mirror, API keys, idempotency) ---------------------------------------------
def test_mirror_links_revoke_and_secrets_are_stored_once(
    store: Store, ws: Workspace, maya: User
) -> None:
    link = MirrorLink(
        id=new_id("mln"),
        workspace_id=ws.id,
        user_id=maya.id,
        created_at=utcnow(),
        expires_at=utcnow() + timedelta(hours=1),
    )
    store.insert_mirror_link(link)
    assert store.get_mirror_link(ws.id, link.id) == link
    assert store.revoke_mirror_links(ws.id, maya.id, utcnow()) == 1
    assert store.revoke_mirror_links(ws.id, maya.id, utcnow()) == 0
    assert store.mirror_secret(ws.id, "first") == "first"
    assert store.mirror_secret(ws.id, "second") == "first"


def test_prompts_are_answered_once(store: Store, ws: Workspace, maya: User) -> None:
    prompt = ResonanceCard(
        id=new_id("prm"),
        workspace_id=ws.id,
        user_id=maya.id,
        statement="I like tea",
        kind=BeliefKind.PREFERENCE,
        created_at=utcnow(),
    )
    store.insert_prompts([prompt])
    assert store.list_prompts(ws.id, maya.id, open_only=True) == [prompt]
    answered = prompt.model_copy(update={"answered_at": utcnow(), "selected": True})
    assert store.answer_prompt(answered) is True
    assert store.answer_prompt(answered) is False
    assert store.list_prompts(ws.id, maya.id, open_only=True) == []
    assert store.list_prompts(ws.id, maya.id)[0].selected is True


def test_api_keys_are_found_by_hash_and_revoked_once(store: Store, ws: Workspace) -> None:
    key = ApiKey(
        id=new_id("key"),
        workspace_id=ws.id,
        prefix="sm_abc",
        scope=Scope.WRITE,
        created_at=utcnow(),
        name="ci",
    )
    store.insert_api_key(key, "hash-1")
    found = store.find_api_key("hash-1")
    assert found is not None and found[0] == key and found[1].id == ws.id
    assert store.find_api_key("hash-2") is None
    first = store.revoke_api_key(ws.id, key.id, utcnow())
    second = store.revoke_api_key(ws.id, key.id, utcnow() + timedelta(minutes=1))
    assert first is not None and second is not None and first.revoked_at == second.revoked_at
    assert store.revoke_api_key("ws_other", key.id, utcnow()) is None
    used = utcnow()
    store.touch_api_key(key.id, used)
    # A process flushing an older use later does not move the last use back.
    store.touch_api_key(key.id, used - timedelta(minutes=5))
    assert store.list_api_keys(ws.id)[0].last_used_at == used


def test_an_idempotency_key_is_reserved_once_replayed_and_released(
    store: Store, ws: Workspace
) -> None:
    old = utcnow() - timedelta(days=1)
    assert store.reserve_idempotency_key(ws.id, "k1", "h", expired_before=old) is None
    pending = store.reserve_idempotency_key(ws.id, "k1", "h", expired_before=old)
    assert pending is not None and pending.status_code == 0
    store.complete_idempotency_key(ws.id, "k1", 201, '{"ok":true}')
    done = store.reserve_idempotency_key(ws.id, "k1", "h", expired_before=old)
    assert done is not None and (done.status_code, done.response) == (201, '{"ok":true}')
    store.release_idempotency_key(ws.id, "k1")  # only in-flight reservations are released
    assert store.reserve_idempotency_key(ws.id, "k1", "h", expired_before=old) is not None
    assert store.reserve_idempotency_key(ws.id, "k2", "h", expired_before=old) is None
    store.release_idempotency_key(ws.id, "k2")
    assert store.reserve_idempotency_key(ws.id, "k2", "h", expired_before=old) is None
    future = utcnow() + timedelta(seconds=1)
    assert store.reserve_idempotency_key(ws.id, "k1", "h", expired_before=future) is None


def test_reads_on_other_threads_neither_wait_for_nor_see_an_open_write(
    store: Store, maya: User
) -> None:
    """A write transaction in progress on one thread does not hold up reads on others (they
    see the last commit), while the writing thread reads its own uncommitted rows."""
    opened, release = threading.Event(), threading.Event()
    seen_inside: list[int] = []

    def write() -> None:
        with store.transaction():
            store.insert_observations([_obs(maya, "I moved to Lisbon.", "w1")])
            seen_inside.append(len(store.list_observations(maya.workspace_id, [maya.id])))
            opened.set()
            release.wait(timeout=30)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        assert opened.wait(timeout=30)
        outside: list[int] = []
        reader = threading.Thread(
            target=lambda: outside.append(
                len(store.list_observations(maya.workspace_id, [maya.id]))
            )
        )
        reader.start()
        reader.join(timeout=10)
        assert not reader.is_alive(), "a read waited for another thread's open transaction"
        assert outside == [0]
        assert seen_inside == [1]
    finally:
        release.set()
        writer.join(timeout=30)
    assert len(store.list_observations(maya.workspace_id, [maya.id])) == 1
