"""The debugging routes over HTTP — beliefs as of a moment, replay, why-not, lineage — through the
SDK on a real uvicorn socket, each compared with what the library says; errors and isolation."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from selfmodel import SelfModel
from selfmodel.client import Client
from selfmodel.domain.debugging import Verdict
from selfmodel.domain.time import utcnow
from selfmodel.errors import InvalidInputError, TraceNotFoundError, UserNotFoundError
from tests.support.server import new_workspace_key

MESSAGES = [
    {"content": "I love hiking in the mountains.", "occurred_at": "2024-03-02T09:00:00Z"},
    {"content": "I'm training for a half marathon in June.", "occurred_at": "2024-03-02T09:05:00Z"},
    {"content": "I prefer short, direct answers.", "occurred_at": "2024-03-09T10:00:00Z"},
]


@pytest.fixture
def client(server: str, sm: SelfModel) -> Iterator[Client]:
    with Client(server, new_workspace_key(sm.store, "acme")) as c:
        yield c


def test_the_sdk_reads_the_past_as_the_library_does(client: Client, sm: SelfModel) -> None:
    lib = sm.in_workspace("acme")
    client.observe("ada", MESSAGES[:1])
    early = client.context("ada", "what does she enjoy?")
    moment = utcnow()
    client.observe("ada", MESSAGES[1:])
    late = client.context("ada", "what is she training for?", limit=2)

    by_trace = client.beliefs_as_of("ada", trace_id=early.trace_id, status=None)
    assert by_trace == lib.beliefs_as_of("ada", trace_id=early.trace_id, status=None)
    assert len(by_trace.beliefs) < len(client.beliefs("ada"))
    by_time = client.beliefs_as_of("ada", at=moment, valid_at="2024-03-02T10:00:00Z")
    assert by_time == lib.beliefs_as_of(
        "ada", at=moment, valid_at=by_time.valid_at, status="active"
    )

    replayed = client.replay(late.trace_id)
    assert replayed.reproduced and replayed == lib.replay(late.trace_id)
    changed = client.replay(late.trace_id, {"limit": 4, "ranking": {"keyword_weight": 0}})
    assert changed.gained and changed.config["limit"] == 4

    item = late.items[0].id
    assert client.why_not(late.trace_id, item).verdict is Verdict.CHOSEN
    assert client.why_not(late.trace_id, item) == lib.why_not(late.trace_id, item)
    assert client.lineage(late.trace_id, item) == lib.lineage(late.trace_id, item)


def test_the_sdk_pages_a_users_traces_newest_first_as_the_library_does(
    client: Client, sm: SelfModel
) -> None:
    lib = sm.in_workspace("acme")
    client.observe("ada", MESSAGES)
    client.observe("bob", MESSAGES[:1])
    asked = [client.context("ada", q).trace_id for q in ("hiking?", "training?", "answers?")]
    client.context("bob", "hiking?")
    first = client.traces("ada", limit=2)
    assert [t.id for t in first] == asked[:0:-1]
    assert first == lib.traces("ada", limit=2)
    rest = client.traces("ada", limit=2, before=first[-1].id)
    assert [t.id for t in rest] == asked[:1]
    assert rest[0] == client.trace(asked[0])
    assert client.traces("ada", before=rest[-1].id) == []
    with pytest.raises(TraceNotFoundError):
        client.traces("ada", before="trc_01a2b3c4d5e6f7a8b9c0d1e2")
    with pytest.raises(InvalidInputError):
        client.traces("ada", limit=0)
    with pytest.raises(UserNotFoundError):
        client.traces("nobody")


def test_bad_debugging_requests_get_typed_errors(client: Client) -> None:
    client.observe("ada", MESSAGES[:2])
    trace = client.context("ada", "hiking?").trace_id
    with pytest.raises(InvalidInputError):
        client.replay(trace, {"ranking": {"keyword_weight": "lots"}})
    with pytest.raises(InvalidInputError):
        client.beliefs_as_of("ada", at=utcnow(), trace_id=trace)
    with pytest.raises(TraceNotFoundError):
        client.replay("trc_01a2b3c4d5e6f7a8b9c0d1e2")
    with pytest.raises(UserNotFoundError):
        client.beliefs_as_of("nobody")


def test_another_workspaces_key_finds_nothing_on_the_debugging_routes(
    server: str, sm: SelfModel
) -> None:
    with Client(server, new_workspace_key(sm.store, "acme")) as mine:
        mine.observe("ada", MESSAGES[:2])
        result = mine.context("ada", "hiking?")
    item = result.items[0].id
    other = {"Authorization": f"Bearer {new_workspace_key(sm.store, 'rival')}"}
    with httpx.Client(base_url=server, headers=other) as http:
        answers = [
            http.get("/v1/users/ada/beliefs-as-of"),
            http.get("/v1/users/ada/beliefs-as-of", params={"trace_id": result.trace_id}),
            http.post(f"/v1/traces/{result.trace_id}/replay", json={}),
            http.get(f"/v1/traces/{result.trace_id}/why-not/{item}"),
            http.get(f"/v1/traces/{result.trace_id}/lineage/{item}"),
            http.get("/v1/users/ada/traces"),
        ]
        bad = http.post(f"/v1/traces/{result.trace_id}/replay", json={"config": {"x": 1}})
    assert [a.status_code for a in answers] == [404] * 6
    assert {a.json()["error"]["code"] for a in answers} <= {"user_not_found", "trace_not_found"}
    assert all("hiking" not in a.text for a in answers)
    assert bad.status_code == 404  # the trace is not found before the body is judged
