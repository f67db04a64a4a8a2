"""Two overloaded words got distinct ones: the place an interaction happens is an **area** (it was
"context", which now means only the block handed to the model), and the Mirror's resonance cards
are **cards** (they were "prompts", which now means only what is sent to a language model).

For one release every old name still works: the library and the SDK map it to the new one with a
``DeprecationWarning`` pointing at the caller's line, the HTTP API accepts the old field,
parameter and paths (marked deprecated in its OpenAPI schema), and giving both an old and a new
name is a clear ``invalid_input``. The SDK and HTTP tests run over a real uvicorn socket.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from selfmodel import SelfModel
from selfmodel.client import AsyncClient, Client
from selfmodel.client._errors import error_from_response
from selfmodel.domain import Area, Belief, ResonanceCard
from selfmodel.errors import CardNotFoundError, InvalidInputError
from tests.support.server import new_workspace_key

COACHING = "I coach the under-12s football team on Saturdays."
OLD_KEYWORD = r"context= is deprecated: use area="
DEPRECATED_PATHS = {
    ("post", "/v1/users/{user}/prompts"),
    ("get", "/v1/users/{user}/prompts"),
    ("post", "/v1/users/{user}/prompts/answers"),
}


def acme(sm: SelfModel) -> SelfModel:
    return sm.in_workspace("acme")


def ids(beliefs: list[Belief]) -> list[str]:
    # Confidence is computed at the moment of each read, so two reads compare by identity.
    return [b.id for b in beliefs]


@pytest.fixture
def key(sm: SelfModel) -> str:
    return new_workspace_key(sm.store, "acme")


@pytest.fixture
def client(server: str, key: str) -> Iterator[Client]:
    with Client(server, key) as c:
        yield c


@pytest.fixture
def http(server: str, key: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server, headers={"Authorization": f"Bearer {key}"}) as c:
        yield c


# -- the library -------------------------------------------------------------------------------


def test_area_scopes_what_is_observed_and_read(sm: SelfModel) -> None:
    sm.observe("maya", COACHING, area="coach")
    sm.observe("maya", "I love hiking in the Alps.")
    coach_id = sm.export("maya")["observations"][0]["area_id"]
    assert coach_id is not None
    # The area's beliefs and the global ones; none in an area never used.
    assert {b.area_id for b in sm.beliefs("maya", area="coach")} == {coach_id, None}
    assert sm.beliefs("maya", area="nowhere") == []
    added = sm.add_belief("maya", "Maya prefers drills to matches.", area="coach")
    assert added.area_id == coach_id
    block = sm.context("maya", "How should I plan Saturday's session?", area="coach")
    assert added.id in {i.id for i in block.items}
    elsewhere = sm.context("maya", "How should I plan Saturday's session?", area="work")
    assert added.id not in {i.id for i in elsewhere.items}
    assert sm.trace(block.trace_id).payload["area_id"] == coach_id


def test_the_old_context_keyword_still_works_and_warns_at_the_callers_line(sm: SelfModel) -> None:
    with pytest.warns(DeprecationWarning, match=OLD_KEYWORD) as caught:
        sm.observe("maya", COACHING, context="coach")
    assert caught[0].filename == __file__
    coached = sm.beliefs("maya", area="coach")
    assert coached and coached[0].area_id is not None
    with pytest.warns(DeprecationWarning, match=OLD_KEYWORD):
        assert ids(sm.beliefs("maya", context="coach")) == ids(coached)
    with pytest.warns(DeprecationWarning, match=OLD_KEYWORD):
        added = sm.add_belief("maya", "Maya prefers drills to matches.", context="coach")
    assert added.area_id == coached[0].area_id
    query = "How should I plan Saturday's session?"
    with pytest.warns(DeprecationWarning, match=OLD_KEYWORD) as caught:
        old = sm.context("maya", query, context="coach")
    assert caught[0].filename == __file__
    assert old.text == sm.context("maya", query, area="coach").text


def test_the_old_and_new_keyword_together_are_refused_before_anything_is_written(
    sm: SelfModel,
) -> None:
    both: dict[str, Any] = {"area": "coach", "context": "coach"}
    calls = [
        lambda: sm.observe("maya", COACHING, **both),
        lambda: sm.add_belief("maya", "Maya coaches football.", **both),
        lambda: sm.beliefs("maya", **both),
        lambda: sm.context("maya", "coaching", **both),
    ]
    for call in calls:
        with pytest.raises(InvalidInputError, match=r"pass area= \(context= is its deprecated"):
            call()
    assert sm.users() == []


def test_the_old_card_methods_warn_and_do_what_the_new_ones_do(sm: SelfModel) -> None:
    sm.observe("ada", "Hi!")
    with pytest.warns(DeprecationWarning, match=r"push_prompts\(\) is deprecated") as caught:
        pushed = sm.push_prompts("ada", ["Ada sings in a choir", "Ada plays chess"])
    assert caught[0].filename == __file__
    assert all(isinstance(c, ResonanceCard) and c.id.startswith("prm_") for c in pushed)
    with pytest.warns(DeprecationWarning, match=r"prompts\(\) is deprecated: use cards\(\)"):
        assert sm.prompts("ada", open_only=True) == pushed == sm.cards("ada")
    with pytest.warns(DeprecationWarning, match=r"answer_prompts\(\) is deprecated"):
        answered = sm.answer_prompts("ada", {pushed[0].id: True})
    assert answered[0].selected and answered[0].belief_id
    assert sm.cards("ada", open_only=True) == [pushed[1]]
    with pytest.warns(DeprecationWarning), pytest.raises(CardNotFoundError):
        sm.answer_prompts("ada", {"prm_missing": True})


@pytest.mark.parametrize(
    ("module", "old", "new"),
    [
        ("selfmodel.domain", "Context", "Area"),
        ("selfmodel.domain.models", "Context", "Area"),
        ("selfmodel.domain", "ResonancePrompt", "ResonanceCard"),
        ("selfmodel.domain.mirror", "ResonancePrompt", "ResonanceCard"),
        ("selfmodel.errors", "PromptNotFoundError", "CardNotFoundError"),
    ],
)
def test_old_class_names_are_the_new_classes_with_a_warning(
    module: str, old: str, new: str
) -> None:
    home = importlib.import_module(module)
    with pytest.warns(DeprecationWarning, match=f"{module}.{old} is deprecated") as caught:
        found = getattr(home, old)
    assert found is getattr(home, new)
    assert caught[0].filename == __file__
    assert old not in getattr(home, "__all__", ())
    with pytest.raises(AttributeError, match="NoSuchName"):
        _ = home.NoSuchName


def test_importing_an_old_name_warns_at_the_import(sm: SelfModel) -> None:
    with pytest.warns(DeprecationWarning) as caught:
        from selfmodel.domain import Context
        from selfmodel.errors import PromptNotFoundError
    assert Context is Area and PromptNotFoundError is CardNotFoundError
    assert {w.filename for w in caught} == {__file__}
    # An old except clause still catches what the engine raises now.
    sm.observe("ada", "Hi!")
    sm.push_cards("ada", ["Ada plays go"])
    with pytest.raises(PromptNotFoundError):
        sm.answer_cards("ada", {"prm_missing": True})


def test_the_card_error_has_a_new_code_and_the_sdk_reads_the_old_one() -> None:
    assert CardNotFoundError.code == "card_not_found"
    for code in ("card_not_found", "prompt_not_found"):
        body = {"error": {"code": code, "message": "no card", "details": {}}}
        assert type(error_from_response(404, body)) is CardNotFoundError


# -- the SDK, over HTTP ------------------------------------------------------------------------


def test_the_sdk_speaks_the_new_names(client: Client, sm: SelfModel) -> None:
    client.observe("maya", COACHING, area="coach")
    coached = ids(client.beliefs("maya", area="coach"))
    assert coached == ids(acme(sm).beliefs("maya", area="coach")) != []
    added = client.add_belief("maya", "Maya prefers drills to matches.", area="coach")
    assert added.area_id == client.beliefs("maya", area="coach")[-1].area_id
    block = client.context("maya", "How should I plan Saturday's session?", area="coach")
    assert added.id in {i.id for i in block.items}
    (card,) = client.push_cards("maya", ["Maya coaches on Saturdays"])
    assert client.cards("maya") == [card] == acme(sm).cards("maya")
    (answered,) = client.answer_cards("maya", {card.id: True})
    assert answered.selected and answered.belief_id


def test_the_sdk_keeps_the_old_names_with_warnings_at_the_callers_line(client: Client) -> None:
    with pytest.warns(DeprecationWarning, match=OLD_KEYWORD) as caught:
        client.observe("maya", COACHING, context="coach")
    assert caught[0].filename == __file__
    coached = client.beliefs("maya", area="coach")
    with pytest.warns(DeprecationWarning, match=OLD_KEYWORD):
        assert ids(client.beliefs("maya", context="coach")) == ids(coached) != []
    with pytest.warns(DeprecationWarning, match=OLD_KEYWORD):
        added = client.add_belief("maya", "Maya prefers drills.", context="coach")
    assert added.area_id == coached[0].area_id
    with pytest.warns(DeprecationWarning, match=OLD_KEYWORD) as caught:
        old = client.context("maya", "Saturday's session?", context="coach")
    assert caught[0].filename == __file__
    assert old.text == client.context("maya", "Saturday's session?", area="coach").text
    with pytest.warns(DeprecationWarning, match=r"push_prompts\(\)") as caught:
        (card,) = client.push_prompts("maya", ["Maya coaches on Saturdays"])
    assert caught[0].filename == __file__
    with pytest.warns(DeprecationWarning, match=r"prompts\(\)"):
        assert client.prompts("maya") == [card] == client.cards("maya")
    with pytest.warns(DeprecationWarning, match=r"answer_prompts\(\)"):
        assert client.answer_prompts("maya", {card.id: False})[0].selected is False
    with pytest.raises(InvalidInputError, match="not both"):
        client.observe("maya", COACHING, area="coach", context="coach")


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_the_async_sdk_keeps_the_old_names_with_warnings_too(
    server: str, key: str, anyio_backend: str
) -> None:
    async with AsyncClient(server, key) as client:
        with pytest.warns(DeprecationWarning, match=OLD_KEYWORD) as caught:
            await client.observe("maya", COACHING, context="coach")
        assert caught[0].filename == __file__
        coached = await client.beliefs("maya", area="coach")
        with pytest.warns(DeprecationWarning, match=OLD_KEYWORD):
            assert ids(await client.beliefs("maya", context="coach")) == ids(coached) != []
        with pytest.warns(DeprecationWarning, match=OLD_KEYWORD):
            await client.context("maya", "Saturday's session?", context="coach")
        with pytest.warns(DeprecationWarning, match=OLD_KEYWORD):
            await client.add_belief("maya", "Maya prefers drills.", context="coach")
        with pytest.warns(DeprecationWarning, match=r"push_prompts\(\)") as caught:
            (card,) = await client.push_prompts("maya", ["Maya coaches on Saturdays"])
        assert caught[0].filename == __file__
        with pytest.warns(DeprecationWarning, match=r"prompts\(\)"):
            assert await client.prompts("maya") == [card] == await client.cards("maya")
        with pytest.warns(DeprecationWarning, match=r"answer_prompts\(\)"):
            (answered,) = await client.answer_prompts("maya", {card.id: True})
        assert answered.selected
        with pytest.raises(InvalidInputError, match="not both"):
            await client.context("maya", "coaching", area="coach", context="coach")


# -- the HTTP API ------------------------------------------------------------------------------


def test_the_old_field_and_parameter_are_read_as_area(http: httpx.Client, sm: SelfModel) -> None:
    observed = http.post(
        "/v1/users/maya/observations",
        json={"messages": [{"content": COACHING}], "context": "coach"},
    )
    assert observed.status_code == 201, observed.text
    coached = http.get("/v1/users/maya/beliefs", params={"area": "coach"}).json()["items"]
    assert coached and coached[0]["area_id"] and "context_id" not in coached[0]
    old = http.get("/v1/users/maya/beliefs", params={"context": "coach"}).json()["items"]
    assert [b["id"] for b in old] == [b["id"] for b in coached]
    added = http.post(
        "/v1/users/maya/beliefs", json={"statement": "Maya drills", "context": "coach"}
    )
    assert added.status_code == 201 and added.json()["area_id"] == coached[0]["area_id"]
    query = {"user": "maya", "query": "Saturday's session?"}
    by_old = http.post("/v1/context", json={**query, "context": "coach"}).json()
    by_new = http.post("/v1/context", json={**query, "area": "coach"}).json()
    assert by_old["text"] == by_new["text"]
    assert acme(sm).trace(by_old["trace_id"]).payload["area_id"] == coached[0]["area_id"]


def test_the_old_and_new_name_together_are_invalid_input(http: httpx.Client) -> None:
    both = {"area": "coach", "context": "coach"}
    answers = [
        http.post("/v1/users/maya/observations", json={"messages": [{"content": "Hi"}], **both}),
        http.post("/v1/users/maya/beliefs", json={"statement": "Maya drills", **both}),
        http.post("/v1/context", json={"user": "maya", "query": "q", **both}),
        http.get("/v1/users/maya/beliefs", params=both),
    ]
    for answer in answers:
        assert answer.status_code == 422, answer.text
        error = answer.json()["error"]
        assert error["code"] == "invalid_input" and error["details"] == {"field": "context"}
        assert error["message"] == "pass area (context is its deprecated name), not both"
    assert http.get("/v1/users").json()["items"] == []


def test_the_old_card_paths_answer_like_the_new_ones(http: httpx.Client) -> None:
    cards = {"statements": [{"statement": "Maya sings"}, {"statement": "Maya swims"}]}
    http.post("/v1/users/maya/observations", json={"messages": [{"content": "Hi!"}]})
    pushed = http.post("/v1/users/maya/prompts", json=cards)
    assert pushed.status_code == 201, pushed.text
    assert pushed.json()["prompts"] == pushed.json()["cards"]  # what old clients read
    sings, swims = pushed.json()["cards"]
    assert http.get("/v1/users/maya/prompts").json() == http.get("/v1/users/maya/cards").json()
    old = http.post("/v1/users/maya/prompts/answers", json={"answers": {sings["id"]: True}})
    new = http.post("/v1/users/maya/cards/answers", json={"answers": {swims["id"]: False}})
    assert old.status_code == new.status_code == 200
    assert old.json()["prompts"] == old.json()["cards"] and old.json()["cards"][0]["selected"]
    assert http.get("/v1/users/maya/cards", params={"open": "true"}).json()["cards"] == []
    missing = http.post("/v1/users/maya/cards/answers", json={"answers": {"prm_missing": True}})
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "card_not_found")


def test_openapi_marks_exactly_the_old_names_deprecated(http: httpx.Client) -> None:
    schema = http.get("/openapi.json").json()
    deprecated = {
        (method, path)
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if operation.get("deprecated")
    }
    assert deprecated == DEPRECATED_PATHS
    for method, path in DEPRECATED_PATHS:  # the same handlers: the same bodies and answers
        old = schema["paths"][path][method]
        new = schema["paths"][path.replace("/prompts", "/cards")][method]
        assert (old.get("requestBody"), old["responses"]) == (
            new.get("requestBody"),
            new["responses"],
        )
    components = schema["components"]["schemas"]
    for body in ("ObserveIn", "ContextIn", "NewBeliefIn"):
        fields = components[body]["properties"]
        assert fields["context"]["deprecated"] is True and "deprecated" not in fields["area"]
    for answer in ("CardsOut", "AnsweredOut"):
        assert components[answer]["properties"]["prompts"]["deprecated"] is True
    parameters = {
        p["name"]: p for p in schema["paths"]["/v1/users/{user}/beliefs"]["get"]["parameters"]
    }
    assert parameters["context"]["deprecated"] is True and "deprecated" not in parameters["area"]
    assert "context_id" not in components["Belief"]["properties"]
    assert "area_id" in components["Belief"]["properties"]
