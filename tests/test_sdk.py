"""The SDK against a real uvicorn socket on 127.0.0.1 (and in-process for the retry tests)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from selfmodel import (
    Belief,
    BeliefDetail,
    BeliefNotFoundError,
    ContextResult,
    ObserveResult,
    SelfModel,
    UserNotFoundError,
)
from selfmodel.client import AsyncClient, Client
from selfmodel.domain import Facet
from selfmodel.domain.profile import Conflict, Profile
from selfmodel.errors import (
    AuthenticationError,
    InvalidInputError,
    PayloadTooLargeError,
    PermissionDeniedError,
    ServiceUnavailableError,
)
from selfmodel.server import create_app
from selfmodel.tenancy import Scope as KeyScope
from tests.support.server import new_workspace_key, running_server

MARATHON = "I'm training for the Berlin marathon in April."
WAIT_FOR_WORKER_S = 20.0


@pytest.fixture
def server(sm: SelfModel) -> Iterator[str]:
    with running_server(create_app(sm, background_worker=True)) as url:
        yield url


@pytest.fixture
def client(server: str, sm: SelfModel) -> Iterator[Client]:
    with Client(server, new_workspace_key(sm.store, "acme")) as c:
        yield c


def test_sdk_speaks_the_library_api_over_a_socket(client: Client) -> None:
    result = client.observe("ada", [MARATHON, {"content": "I love hiking.", "id": "m2"}])
    assert isinstance(result, ObserveResult) and len(result.new_observation_ids) == 2
    beliefs = client.beliefs("ada")
    assert beliefs and all(isinstance(b, Belief) for b in beliefs)
    detail = client.belief(beliefs[0].id)
    assert isinstance(detail, BeliefDetail) and detail.history
    assert client.history(beliefs[0].id) == detail.history
    ctx = client.context("ada", "what is she training for?", budget_tokens=200)
    assert isinstance(ctx, ContextResult) and "marathon" in ctx.text.lower()
    assert client.trace(ctx.trace_id).query == "what is she training for?"
    assert client.confirm(beliefs[0].id).origin.value == "confirmed"
    edited = client.edit(beliefs[0].id, "Ada runs marathons")
    assert edited.statement == "Ada runs marathons"
    assert client.reject(edited.id).status.value == "rejected"
    added = client.add_belief("ada", "Ada owns a red bike", kind="fact")
    assert client.mark_outdated(added.id).status.value == "superseded"
    assert len(client.beliefs("ada", status=None)) >= len(beliefs)
    assert [u.external_id for u in client.users()] == ["ada"]
    assert client.export("ada")["user"]["external_id"] == "ada"
    assert client.forget("ada").total > 0
    with pytest.raises(UserNotFoundError):
        client.user("ada")


def test_sdk_reads_the_profile_and_conflicts_as_domain_types(client: Client, sm: SelfModel) -> None:
    client.observe("ada", "I live in Oslo.", at="2024-03-01T10:00:00Z")
    client.observe("ada", "I like jazz.", at="2024-03-02T10:00:00Z")
    liked = next(b for b in client.beliefs("ada") if b.statement.endswith("likes jazz"))
    client.confirm(liked.id)
    client.observe("ada", "I don't like jazz.", at="2024-03-09T10:00:00Z")
    moment = datetime(2024, 3, 10, 12, tzinfo=UTC)
    profile = client.profile("ada", now=moment)
    assert isinstance(profile, Profile) and profile.as_of == moment
    assert profile.facets[Facet.RESIDENCE].value == "Oslo"
    conflicts = client.conflicts("ada", now=moment)
    assert conflicts and all(isinstance(c, Conflict) for c in conflicts)
    assert conflicts == profile.conflicts
    assert conflicts == sm.in_workspace("acme").conflicts("ada", now=moment)
    with pytest.raises(UserNotFoundError):
        client.profile("nobody")


def test_sdk_settles_a_conflict_in_one_call(client: Client) -> None:
    client.observe("ada", "I like jazz.", at="2024-03-02T10:00:00Z")
    liked = next(b for b in client.beliefs("ada") if b.statement.endswith("likes jazz"))
    client.confirm(liked.id)
    client.observe("ada", "I don't like jazz.", at="2024-03-09T10:00:00Z")
    (conflict,) = client.conflicts("ada")
    denial = conflict.against if conflict.belief.id == liked.id else conflict.belief
    kept, ended = client.settle(denial.id, liked.id)
    assert isinstance(kept, Belief) and isinstance(ended, Belief)
    assert (kept.id, kept.origin.value, kept.confidence) == (denial.id, "confirmed", 0.98)
    assert (ended.id, ended.status.value, ended.superseded_by) == (liked.id, "superseded", kept.id)
    assert client.conflicts("ada") == []
    with pytest.raises(BeliefNotFoundError):
        client.settle("bel_missing", kept.id)
    with pytest.raises(InvalidInputError):
        client.settle(kept.id, kept.id)


def test_sdk_raises_the_library_error_classes(client: Client, server: str, sm: SelfModel) -> None:
    with pytest.raises(BeliefNotFoundError) as missing:
        client.belief("bel_missing")
    assert missing.value.details["status"] == 404
    with pytest.raises(PayloadTooLargeError):
        client.observe("ada", "x" * (sm.settings.limits.max_message_chars + 1))
    with Client(server, "smk_wrong") as stranger, pytest.raises(AuthenticationError):
        stranger.users()
    reader_key = new_workspace_key(sm.store, "acme", KeyScope.READ)
    with Client(server, reader_key) as reader, pytest.raises(PermissionDeniedError):
        reader.observe("ada", "hello")


def test_in_process_worker_processes_queued_observations(client: Client) -> None:
    queued = client.observe("ada", MARATHON, wait=False)
    assert queued.created == []
    deadline = time.monotonic() + WAIT_FOR_WORKER_S
    while not client.beliefs("ada"):
        assert time.monotonic() < deadline, "the in-process worker never processed the job"
        time.sleep(0.05)


def test_unreachable_server_is_service_unavailable_after_retries() -> None:
    with (
        Client("http://127.0.0.1:9", "smk_x", max_retries=1) as nowhere,
        pytest.raises(ServiceUnavailableError),
    ):
        nowhere.users()


class FlakyFront:
    """A real ASGI layer in front of the app that answers 503 to the first ``failures`` calls."""

    def __init__(self, app: ASGIApp, failures: int) -> None:
        self.app = app
        self.failures = failures
        self.seen = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.seen += 1
            if self.seen <= self.failures:
                await send(
                    {
                        "type": "http.response.start",
                        "status": 503,
                        "headers": [(b"retry-after", b"0"), (b"content-type", b"application/json")],
                    }
                )
                await send(
                    {
                        "type": "http.response.body",
                        "body": b'{"error": {"code": '
                        b'"service_unavailable", "message": "busy", "details": {}}}',
                    }
                )
                return
        await self.app(scope, receive, send)


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_async_client_retries_503_and_applies_a_write_once(
    sm: SelfModel, anyio_backend: str
) -> None:
    front = FlakyFront(create_app(sm), failures=2)
    key = new_workspace_key(sm.store, "acme")
    transport = httpx.ASGITransport(app=front)
    async with AsyncClient("http://sdk", key, transport=transport) as client:
        result = await client.observe("ada", MARATHON)
        assert front.seen == 3 and len(result.new_observation_ids) == 1
        assert len((await client.export("ada"))["observations"]) == 1
        assert (await client.profile("ada", now="2024-05-01T00:00:00Z")).user_id
        assert await client.conflicts("ada") == []
        tea = await client.add_belief("ada", "Ada likes tea")
        coffee = await client.add_belief("ada", "Ada likes coffee")
        kept, ended = await client.settle(tea.id, coffee.id)
        assert (kept.id, ended.superseded_by) == (tea.id, tea.id)
        with pytest.raises(BeliefNotFoundError):
            await client.settle(tea.id, "bel_missing")
    gives_up = FlakyFront(create_app(sm), failures=10)
    transport = httpx.ASGITransport(app=gives_up)
    async with AsyncClient("http://sdk", key, transport=transport, max_retries=2) as client:
        with pytest.raises(ServiceUnavailableError):
            await client.users()
    assert gives_up.seen == 3
