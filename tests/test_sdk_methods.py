"""The library methods the SDK gained — queued work, the Mirror, timeline, decay, policy — over a
real uvicorn socket on 127.0.0.1, each compared with what the library itself says."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from selfmodel import SelfModel
from selfmodel.client import AsyncClient, Client
from selfmodel.client import _methods as sdk_methods
from selfmodel.domain import BeliefEventType, IssuedMirrorLink, MirrorLink, ResonanceCard
from selfmodel.domain import Scope as KeyScope
from selfmodel.domain.retention import RetentionPolicy
from selfmodel.errors import (
    CardNotFoundError,
    InvalidInputError,
    MirrorLinkNotFoundError,
    PermissionDeniedError,
    UserNotFoundError,
    WaitTimeoutError,
)
from selfmodel.server import create_app
from tests.support.server import new_workspace_key, running_server

MARATHON = "I'm training for the Berlin marathon in April."
EMAIL_TEXT = "Write to me at ada@example.com please."


@pytest.fixture
def quiet_server(sm: SelfModel) -> Iterator[str]:
    """The API with no worker: queued work waits until a test runs it."""
    with running_server(create_app(sm)) as url:
        yield url


@pytest.fixture
def client(quiet_server: str, sm: SelfModel) -> Iterator[Client]:
    with Client(quiet_server, new_workspace_key(sm.store, "acme")) as c:
        yield c


def acme(sm: SelfModel) -> SelfModel:
    return sm.in_workspace("acme")


def test_wait_for_returns_once_a_worker_has_done_the_queued_work(
    client: Client, sm: SelfModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Short server-side waits, so the client has to ask several times before the work is done.
    monkeypatch.setattr(sdk_methods, "WAIT_PER_REQUEST_S", 0.2)
    queued = client.observe("ada", MARATHON, wait=False)
    assert queued.job_id and client.beliefs("ada") == []
    worker = threading.Timer(0.8, lambda: acme(sm).process_jobs("test-worker"))
    worker.start()
    started = time.monotonic()
    try:
        client.wait_for(queued.new_observation_ids, timeout=20)
    finally:
        worker.join()
    assert time.monotonic() - started >= 0.7
    assert [b.id for b in client.beliefs("ada")] == [b.id for b in acme(sm).beliefs("ada")] != []
    client.wait_for([])  # nothing to wait for: no request, no error


def test_wait_for_times_out_while_work_is_still_queued(client: Client) -> None:
    queued = client.observe("ada", MARATHON, wait=False)
    started = time.monotonic()
    with pytest.raises(WaitTimeoutError) as timed_out:
        client.wait_for(queued.new_observation_ids, timeout=0.5)
    assert 0.5 <= time.monotonic() - started < 10
    assert timed_out.value.details["status"] == 504
    assert timed_out.value.details["job_ids"] == [queued.job_id]


def test_wait_endpoint_refuses_out_of_range_waits(quiet_server: str, sm: SelfModel) -> None:
    key = new_workspace_key(sm.store, "acme", KeyScope.READ)
    headers = {"Authorization": f"Bearer {key}"}
    for body in ({"observation_ids": []}, {"observation_ids": ["obs_1"], "timeout": 61}):
        answer = httpx.post(f"{quiet_server}/v1/observations/wait", json=body, headers=headers)
        assert answer.status_code == 422, answer.text


def test_mirror_link_from_the_sdk_opens_the_mirror_until_revoked(
    client: Client, sm: SelfModel
) -> None:
    client.observe("ada", "I love hiking.")
    link = client.create_mirror_link("ada", ttl_s=600)
    assert isinstance(link, IssuedMirrorLink)
    assert link.user_id == client.user("ada").id and link.url.endswith(link.path)
    assert (link.expires_at - link.created_at).total_seconds() == 600
    # What the engine recorded is this link, and the URL really opens the Mirror.
    assert acme(sm).mirror_link(link.id) == MirrorLink(**link.model_dump(exclude={"url", "path"}))
    assert httpx.get(link.url).status_code == 200
    assert client.revoke_mirror_links("ada", link.id) == 1
    assert httpx.get(link.url).status_code == 403
    client.create_mirror_link("ada")
    client.create_mirror_link("ada")
    assert client.revoke_mirror_links("ada") == 2
    with pytest.raises(MirrorLinkNotFoundError):
        client.revoke_mirror_links("ada", "mlk_missing")
    with pytest.raises(UserNotFoundError):
        client.create_mirror_link("nobody")
    with pytest.raises(InvalidInputError):
        client.create_mirror_link("ada", ttl_s=1)


def test_resonance_cards_pushed_listed_and_answered_through_the_sdk(
    client: Client, sm: SelfModel
) -> None:
    client.observe("ada", "Hi!")
    pushed = client.push_cards(
        "ada",
        ["Ada sings in a choir", {"statement": "Ada prefers short answers", "kind": "preference"}],
        source="article:7",
    )
    assert all(isinstance(p, ResonanceCard) for p in pushed)
    assert [(p.kind.value, p.source) for p in pushed] == [
        ("fact", "article:7"),
        ("preference", "article:7"),
    ]
    assert client.cards("ada", open_only=True) == pushed == acme(sm).cards("ada")
    choir, short = pushed
    answered = client.answer_cards("ada", {choir.id: True, short.id: False})
    assert {p.id: p.selected for p in answered} == {choir.id: True, short.id: False}
    selected = next(p for p in answered if p.selected)
    assert selected.belief_id and client.belief(selected.belief_id).belief.statement == (
        "Ada sings in a choir"
    )
    assert client.cards("ada", open_only=True) == []
    assert client.answer_cards("ada", {choir.id: False}) == []  # answered cards stay answered
    with pytest.raises(CardNotFoundError):
        client.answer_cards("ada", {"prm_missing": True})
    with pytest.raises(InvalidInputError):
        client.push_cards("ada", [f"Ada likes number {n}" for n in range(21)])


def test_timeline_and_reads_as_of_a_moment_match_the_library(client: Client, sm: SelfModel) -> None:
    client.observe("ada", "I live in Oslo.", at="2024-03-01T10:00:00Z")
    (belief,) = client.beliefs("ada")
    client.confirm(belief.id)
    assert client.timeline("ada") == acme(sm).timeline("ada")
    assert [e.type for e in client.timeline("ada")][:2] == [
        BeliefEventType.CONFIRMED,
        BeliefEventType.CREATED,
    ]
    moment = datetime(2024, 3, 2, tzinfo=UTC)
    assert client.beliefs("ada", now=moment) == acme(sm).beliefs("ada", now=moment)
    remote = client.context("ada", "where does she live?", now=moment, moments=False)
    local = acme(sm).context("ada", "where does she live?", now=moment, moments=False)
    assert remote.text == local.text and "Oslo" in remote.text
    assert remote.items and all(item.item_type == "belief" for item in remote.items)
    with pytest.raises(UserNotFoundError):
        client.timeline("nobody")


def test_decay_over_http_records_fading_once(client: Client) -> None:
    client.observe("ada", "I love hiking.", at="2020-01-01T10:00:00Z")
    (belief,) = client.beliefs("ada", now=datetime(2020, 1, 2, tzinfo=UTC))
    changed = client.decay("ada", now=datetime(2024, 1, 1, tzinfo=UTC))
    assert [(b.id, b.status.value) for b in changed] == [(belief.id, "decayed")]
    assert changed[0].confidence < belief.confidence
    assert client.history(belief.id)[-1].type == BeliefEventType.DECAYED
    assert client.decay("ada", now="2024-01-01T00:00:00Z") == []  # already written down
    with pytest.raises(UserNotFoundError):
        client.decay("nobody")


def test_pii_policy_is_set_with_an_admin_key_only(
    client: Client, quiet_server: str, sm: SelfModel
) -> None:
    client.observe("ada", EMAIL_TEXT)
    client.set_pii_policy("keep")
    client.observe("bob", EMAIL_TEXT)
    stored = [o["content"] for o in client.export("bob")["observations"]]
    assert stored == [EMAIL_TEXT]
    assert "ada@example.com" not in client.export("ada")["observations"][0]["content"]
    with pytest.raises(InvalidInputError):
        client.set_pii_policy("shout")
    writer_key = new_workspace_key(sm.store, "acme", KeyScope.WRITE)
    with Client(quiet_server, writer_key) as writer, pytest.raises(PermissionDeniedError):
        writer.set_pii_policy("redact")


def test_retention_and_the_audit_log_through_the_sdk_match_the_library(
    client: Client, sm: SelfModel
) -> None:
    assert client.retention_policy() == RetentionPolicy()
    changed = client.set_retention_policy({"observations_max_age_days": 30})
    assert changed == acme(sm).retention_policy() == RetentionPolicy(observations_max_age_days=30)
    assert client.set_retention_policy(RetentionPolicy()) == RetentionPolicy()  # whole
    with pytest.raises(InvalidInputError):
        client.set_retention_policy({"inactive_user_days": 0})
    client.set_retention_policy({"inactive_user_days": 365})
    report = client.run_retention(dry_run=True)
    assert report.dry_run and report.deletions == [] and report.workspace == "acme"
    client.observe("ada", MARATHON)
    client.observe("bob", MARATHON)
    client.forget("ada")
    client.forget("bob")
    records = client.audit_log()
    assert records == acme(sm).audit_log() and len(records) == 2
    assert client.audit_log(user="bob") == [records[1]]
    assert client.audit_log(after=records[0].id) == [records[1]]
    assert client.audit_log(limit=1) == [records[0]]


def test_profile_keeps_accepting_as_of_with_a_deprecation_warning(client: Client) -> None:
    client.observe("ada", "I live in Oslo.", at="2024-03-01T10:00:00Z")
    moment = datetime(2024, 3, 10, tzinfo=UTC)
    with pytest.warns(DeprecationWarning, match="as_of is deprecated") as caught:
        old = client.profile("ada", as_of=moment)
    assert caught[0].filename == __file__  # the warning points at the caller's line
    assert old == client.profile("ada", now=moment)
    with pytest.raises(TypeError):
        client.conflicts("ada", moment, now=moment)


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_async_client_has_the_new_methods_too(
    quiet_server: str, sm: SelfModel, anyio_backend: str
) -> None:
    key = new_workspace_key(sm.store, "acme")
    async with AsyncClient(quiet_server, key) as client:
        queued = await client.observe("ada", MARATHON, wait=False)
        with pytest.raises(WaitTimeoutError):
            await client.wait_for(queued.new_observation_ids, timeout=0.2)
        await client.push_cards("ada", ["Ada runs marathons"])
        (card,) = await client.cards("ada", open_only=True)
        (answered,) = await client.answer_cards("ada", {card.id: True})
        assert answered.selected and answered.belief_id
        link = await client.create_mirror_link("ada")
        assert await client.revoke_mirror_links("ada", link.id) == 1
        assert (await client.timeline("ada"))[0].belief_id == answered.belief_id
