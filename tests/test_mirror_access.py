"""Who can open which Mirror: links, sessions, revocation, CSRF, and isolation between people;
and the Mirror's writes behave like the API's others (Idempotency-Key, error body and statuses).

The real app in-process (httpx ASGI transport) on a real SQLite file and the real model; crafted
links also over a real socket (uvicorn), as a prober would send them.
"""

from __future__ import annotations

import base64
import json
import logging
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import aclosing, contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.routing import APIRoute

from selfmodel import SelfModel, Settings
from selfmodel.config import MirrorSettings
from selfmodel.domain import MirrorLink
from selfmodel.embedding import SentenceTransformerEmbedder
from selfmodel.errors import BeliefNotFoundError
from selfmodel.mirror import create_mirror_router
from selfmodel.mirror.access import SESSION_COOKIE, link_token
from selfmodel.mirror.pages import MAX_FORM_BYTES
from selfmodel.mirror.tokens import Claims, Purpose, sign
from selfmodel.server.errors import answer_status
from tests.support.mirror import MirrorWorld, build_world, seed_person, world_of
from tests.support.server import asgi_client, running_server
from tests.support.stores import copy_of_store, filled_store

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
CARDS = {"statements": [{"statement": "Ada likes green tea"}], "source": "article:42"}

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def seeded(
    request: pytest.FixtureRequest, embedder: SentenceTransformerEmbedder
) -> Iterator[tuple[str, MirrorWorld]]:
    """Ada and Bob seeded once, in a store each test gets a copy of, and the world's keys."""
    built: list[MirrorWorld] = []

    def seed(engine: SelfModel) -> None:
        built.append(build_world(engine))
        seed_person(built[0].engine, "ada", "Ada")
        seed_person(built[0].engine, "bob", "Bob")

    with filled_store(request, "sqlite", embedder, seed) as location:
        yield location, built[0]


@pytest.fixture
def world(
    request: pytest.FixtureRequest,
    seeded: tuple[str, MirrorWorld],
    tmp_path: Path,
    embedder: SentenceTransformerEmbedder,
) -> Iterator[MirrorWorld]:
    location, original = seeded
    with (
        copy_of_store(request, location, tmp_path) as copy,
        SelfModel.open(copy, embedder=embedder) as engine,
    ):
        yield world_of(engine, original.write_key, original.read_key)


@pytest.fixture
async def api(world: MirrorWorld) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(world.app, world.write_key) as client:
        yield client


async def mint(api: httpx.AsyncClient, user: str, **body: object) -> dict:
    response = await api.post(f"/v1/users/{user}/mirror-link", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def visitor(world: MirrorWorld, link: dict) -> tuple[httpx.AsyncClient, str]:
    """A browser-less visitor who opened ``link``: a client with the session cookie, and CSRF."""
    client = asgi_client(world.app)
    opened = await client.get(link["path"])
    assert opened.status_code == 200, opened.text
    home = await client.get("/mirror/")
    match = CSRF.search(home.text)
    assert match, home.text
    return client, match.group(1)


async def test_minting_a_link_needs_a_write_key_of_the_workspace(world, api) -> None:
    async with asgi_client(world.app, world.read_key) as reader:
        refused = await reader.post("/v1/users/ada/mirror-link", json={})
    assert refused.status_code == 403
    async with asgi_client(world.app) as anonymous:
        assert (await anonymous.post("/v1/users/ada/mirror-link", json={})).status_code == 401
    link = await mint(api, "ada", ttl_s=600)
    assert link["url"].endswith(link["path"]) and link["path"].startswith("/mirror/open/")
    expires = datetime.fromisoformat(link["expires_at"])
    assert timedelta(seconds=590) < expires - datetime.now(UTC) <= timedelta(seconds=600)


async def test_minting_refuses_unknown_users_and_silly_lifetimes(api) -> None:
    unknown = await api.post("/v1/users/nobody/mirror-link", json={})
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "user_not_found")
    for ttl in (0, 10, 10**9, "soon"):
        bad = await api.post("/v1/users/ada/mirror-link", json={"ttl_s": ttl})
        assert bad.status_code == 422, ttl


async def test_opening_a_link_sets_a_strict_httponly_session_cookie(world, api) -> None:
    link = await mint(api, "ada")
    async with asgi_client(world.app) as client:
        opened = await client.get(link["path"])
        assert opened.status_code == 200
        cookie = opened.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie and "path=/mirror" in cookie
        assert opened.headers["referrer-policy"] == "no-referrer"
        home = await client.get("/mirror/")
    assert home.status_code == 200
    assert "You are training for the Berlin marathon" in home.text
    assert "Bob" not in home.text


async def test_without_a_session_every_page_is_refused(world) -> None:
    async with asgi_client(world.app) as client:
        belief = world.engine.beliefs("ada")[0]
        for path in (
            "/mirror/",
            "/mirror/timeline",
            "/mirror/export",
            "/mirror/delete",
            f"/mirror/beliefs/{belief.id}",
        ):
            response = await client.get(path)
            assert response.status_code == 400, path
            assert "not a working link" in response.text


async def test_tampered_link_is_refused_with_a_page(world, api) -> None:
    link = await mint(api, "ada")
    body, mac = link["path"].rsplit("/", 1)[1].split(".")
    forged_mac = ("A" if mac[0] != "A" else "B") + mac[1:]
    async with asgi_client(world.app) as client:
        for token in (f"{body}.{forged_mac}", f"{body}x.{mac}", "not-a-token", "a.b", "x" * 5000):
            response = await client.get(f"/mirror/open/{token}")
            assert response.status_code in (400, 403), token
            assert "text/html" in response.headers["content-type"]
            assert SESSION_COOKIE not in response.headers.get("set-cookie", "")


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def claims_of(token: str) -> dict:
    body = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


def crafted_tokens(token: str, secret: str) -> list[str]:
    """What a prober makes of a real link ``token``: claims of the wrong type under its
    signature, no signature, base64 that is not, and claims of the wrong type signed with the
    workspace's own ``secret`` (a leaked secret, or a bug of ours, must not reach the database
    either)."""
    claims = claims_of(token)
    mac = token.split(".")[1]
    wrong = [
        {**claims, name: value}
        for name in claims
        for value in ([claims[name]], {"x": claims[name]}, 42, None, True, "x\x00y")
    ]
    unsigned = [b64(json.dumps(c).encode()) for c in wrong]
    signed = [
        sign(secret, purpose, replace(Claims(**claims), **{name: [claims[name]]}))
        for purpose in Purpose
        for name in ("workspace_id", "user_id", "link_id", "csrf", "expires_at")
    ]
    return [
        *(f"{body}.{mac}" for body in unsigned),
        f"{b64(json.dumps([claims]).encode())}.{mac}",
        f"{b64(b'42')}.{mac}",
        f"{b64(json.dumps({**claims, 'admin': True}).encode())}.{mac}",
        f"{token.split('.')[0]}.",
        token.split(".")[0],
        f"{unsigned[0]}.",
        *signed,
        "A.B",
        "!!!!.$$$$",
        f"{b64(bytes([0xFF, 0xFE, 0xFD]))}.{mac}",
        f"{b64(b'{')}.{mac}",
    ]


@contextmanager
def errors_logged() -> Iterator[list[logging.LogRecord]]:
    """ERROR records of selfmodel's and uvicorn's loggers while the block runs (caught by a
    handler of our own: ``selfmodel serve`` may have stopped their propagation)."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.ERROR)
    handler.emit = records.append  # type: ignore[method-assign]
    loggers = [logging.getLogger(name) for name in ("selfmodel", "uvicorn", "uvicorn.error")]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield records
    finally:
        for logger in loggers:
            logger.removeHandler(handler)


async def test_crafted_tokens_are_refused_with_a_page_never_a_server_error(world, api) -> None:
    link = await mint(api, "ada")
    tokens = crafted_tokens(link["path"].rsplit("/", 1)[1], world.engine.mirror_secret())
    with errors_logged() as errors, running_server(world.app) as base_url:
        async with httpx.AsyncClient(base_url=base_url) as client:
            for token in tokens:
                opened = await client.get(f"/mirror/open/{token}")
                client.cookies.set(SESSION_COOKIE, token)
                resumed = await client.get("/mirror/")
                client.cookies.clear()
                for response in (opened, resumed):
                    assert response.status_code in (400, 403), (token, response.text)
                    assert "text/html" in response.headers["content-type"]
                    assert SESSION_COOKIE not in response.headers.get("set-cookie", "")
    assert [r.getMessage() for r in errors] == []


async def test_expired_link_is_refused_with_410(world) -> None:
    ada = world.engine.user("ada")
    past = datetime.now(UTC) - timedelta(minutes=5)
    link = MirrorLink(
        id="mlk_expired",
        workspace_id=world.engine.workspace.id,
        user_id=ada.id,
        created_at=past - timedelta(hours=1),
        expires_at=past,
    )
    world.engine.store.insert_mirror_link(link)
    async with asgi_client(world.app) as client:
        response = await client.get(f"/mirror/open/{link_token(world.engine, link)}")
    assert response.status_code == 410
    assert "This link has expired" in response.text


async def test_revoking_a_link_refuses_it_and_ends_open_sessions(world, api) -> None:
    link = await mint(api, "ada")
    client, _ = await visitor(world, link)
    async with aclosing(client):
        revoked = await api.delete(f"/v1/users/ada/mirror-links/{link['id']}")
        assert revoked.json() == {"revoked": 1}
        assert (await client.get("/mirror/")).status_code == 403
        reopened = await client.get(link["path"])
        assert reopened.status_code == 403 and "no longer works" in reopened.text
    other = await api.delete(f"/v1/users/bob/mirror-links/{link['id']}")
    assert other.status_code == 404  # Bob cannot revoke (or learn about) Ada's links


async def test_forms_without_the_session_csrf_token_are_refused(world, api) -> None:
    link = await mint(api, "ada")
    belief = world.engine.beliefs("ada")[0]
    client, csrf = await visitor(world, link)
    async with aclosing(client):
        for data in ({}, {"csrf": "forged"}, {"csrf": csrf[:-1]}):
            response = await client.post(f"/mirror/beliefs/{belief.id}/reject", data=data)
            assert response.status_code == 403
        ok = await client.post(f"/mirror/beliefs/{belief.id}/reject", data={"csrf": csrf})
        assert ok.status_code == 303
    assert world.engine.belief(belief.id).belief.status.value == "rejected"


async def test_a_check_in_needs_the_csrf_token_and_a_yes_or_no(world, api) -> None:
    link = await mint(api, "ada")
    belief = world.engine.beliefs("ada")[0]
    path = f"/mirror/beliefs/{belief.id}/check-in"
    client, csrf = await visitor(world, link)
    async with aclosing(client):
        forged = await client.post(path, data={"csrf": "forged", "answer": "no"})
        assert forged.status_code == 403
        unclear = await client.post(path, data={"csrf": csrf, "answer": "maybe"})
        assert unclear.status_code == 422
        assert world.engine.belief(belief.id).belief.status.value == "active"
        no = await client.post(path, data={"csrf": csrf, "answer": "no"})
        assert no.status_code == 303
    detail = world.engine.belief(belief.id)
    assert detail.belief.status.value == "superseded"
    assert detail.history[-1].details["check_in"] == "no"


async def test_a_belief_page_shows_the_persons_own_belief_and_its_story(world, api) -> None:
    link = await mint(api, "ada")
    belief = next(b for b in world.engine.beliefs("ada") if "marathon" in b.statement)
    client, _ = await visitor(world, link)
    async with aclosing(client):
        page = await client.get(f"/mirror/beliefs/{belief.id}")
    assert page.status_code == 200
    assert "You are training for the Berlin marathon" in page.text
    assert "How this came about" in page.text and "Berlin marathon" in page.text
    assert page.headers["content-security-policy"].startswith("default-src 'none'")


async def test_a_belief_page_says_how_often_the_ai_was_told_it(world, api) -> None:
    link = await mint(api, "ada")
    belief = next(b for b in world.engine.beliefs("ada") if "marathon" in b.statement)
    client, _ = await visitor(world, link)
    async with aclosing(client):
        before = await client.get(f"/mirror/beliefs/{belief.id}")
        for _ in range(2):
            world.engine.context("ada", "Which marathon is Ada training for?")
        world.engine.context("bob", "Which marathon is Ada training for?")  # not Ada's block
        after = await client.get(f"/mirror/beliefs/{belief.id}")
    assert "So far the AI has not been told this." in before.text
    assert "So far the AI was told this 2 times" in after.text
    assert world.engine.belief_uses("ada", belief.id).blocks == 2
    with pytest.raises(BeliefNotFoundError):
        world.engine.belief_uses("bob", belief.id)


async def test_link_token_cannot_be_used_as_the_session_cookie(world, api) -> None:
    link = await mint(api, "ada")
    token = link["path"].rsplit("/", 1)[1]
    async with asgi_client(world.app) as client:
        client.cookies.set(SESSION_COOKIE, token, path="/mirror")
        assert (await client.get("/mirror/")).status_code == 403


def mirror_routes(world: MirrorWorld) -> list[tuple[str, str]]:
    """Every Mirror page and form, from the same factory the app includes."""
    return [
        (method, route.path)
        for route in create_mirror_router(lambda request: world.engine, answer_status).routes
        if isinstance(route, APIRoute) and route.path.startswith("/mirror/")
        for method in sorted(route.methods)
        # Opening takes a token, not a session; signing out is tested on its own.
        if route.path not in ("/mirror/open/{token}", "/mirror/static/{name}", "/mirror/signout")
    ]


async def test_a_session_for_ada_can_never_reach_bob(world, api) -> None:
    bob_beliefs = world.engine.beliefs("bob")
    bob_card = world.engine.push_cards("bob", ["Bob sings in a choir"])[0]
    before = world.engine.export("bob")
    link = await mint(api, "ada")
    client, csrf = await visitor(world, link)
    routes = mirror_routes(world)
    assert len(routes) >= 10  # every page and form, so a new route is covered automatically
    async with aclosing(client):
        # Settling takes a second belief: another of Bob's.
        others = bob_beliefs[1:] + bob_beliefs[:1]
        for method, path in routes:
            for bob_belief, bob_other in zip(bob_beliefs, others, strict=True):
                url = path.replace("{belief_id}", bob_belief.id)
                form = {
                    "csrf": csrf,
                    "statement": "Bob is a fraud",
                    "kind": "fact",
                    "shown": bob_card.id,
                    "selected": bob_card.id,
                    "over": bob_other.id,
                    "answer": "yes",
                }
                if url.endswith("/delete"):
                    form["confirm"] = "nope"  # Ada's own delete is tested below
                data = form if method == "POST" else None
                response = await client.request(method, url, data=data)
                assert response.status_code in (200, 303, 404, 422), (method, url)
                for b in bob_beliefs:
                    assert b.statement not in response.text, (method, url)
                assert "Bob sings" not in response.text
        # Ada deleting everything deletes only Ada.
        gone = await client.post("/mirror/delete", data={"csrf": csrf, "confirm": "delete"})
        assert gone.status_code == 200
    after = world.engine.export("bob")
    assert [b["statement"] for b in after["beliefs"]] == [b["statement"] for b in before["beliefs"]]
    assert after["history"] == before["history"]
    assert after["observations"] == before["observations"]
    assert world.engine.cards("bob", open_only=True) == [bob_card]
    assert all(b["status"] == "active" for b in after["beliefs"])
    assert world.engine.users() == [world.engine.user("bob")]


async def test_the_card_form_answers_at_its_new_path_and_at_the_old_one(world, api) -> None:
    """A page loaded before the rename posts to /mirror/prompts: that still records the answer."""
    first, second = world.engine.push_cards("ada", ["Ada sings in a choir", "Ada plays chess"])
    client, csrf = await visitor(world, await mint(api, "ada"))
    async with aclosing(client):
        home = await client.get("/mirror/")
        assert 'action="/mirror/cards"' in home.text and "sing in a choir" in home.text
        for path, card in (("/mirror/cards", first), ("/mirror/prompts", second)):
            form = {"csrf": csrf, "shown": card.id, "selected": card.id}
            answered = await client.post(path, data=form)
            assert answered.status_code == 303, (path, answered.text)
    assert [c.selected for c in world.engine.cards("ada")] == [True, True]


async def test_settling_takes_two_of_the_persons_own_beliefs(world, api) -> None:
    ada, ada_too = world.engine.beliefs("ada")[:2]
    bob = world.engine.beliefs("bob")[0]
    before = {b.id: world.engine.belief(b.id).belief for b in (ada, ada_too, bob)}
    client, csrf = await visitor(world, await mint(api, "ada"))

    async def settle(true_id: str, over: str | None) -> httpx.Response:
        form = {"csrf": csrf, **({"over": over} if over is not None else {})}
        return await client.post(f"/mirror/beliefs/{true_id}/settle", data=form)

    async with aclosing(client):
        # Bob's belief on either side answers as not found, and nothing of either changes.
        for true_id, over in ((ada.id, bob.id), (bob.id, ada.id), (ada.id, "bel_missing")):
            response = await settle(true_id, over)
            assert response.status_code == 404, (true_id, over)
            assert bob.statement not in response.text
        for over in (None, "", ada.id):
            assert (await settle(ada.id, over)).status_code == 422, over
        for data in ({"over": ada_too.id}, {"over": ada_too.id, "csrf": "forged"}):
            forged = await client.post(f"/mirror/beliefs/{ada.id}/settle", data=data)
            assert forged.status_code == 403
        assert {b: world.engine.belief(b).belief for b in before} == before
        done = await settle(ada.id, ada_too.id)
        assert done.status_code == 303 and "notice=settled" in done.headers["location"]
    kept, ended = world.engine.belief(ada.id).belief, world.engine.belief(ada_too.id).belief
    assert (kept.origin.value, kept.status.value) == ("confirmed", "active")
    assert (ended.status.value, ended.superseded_by) == ("superseded", ada.id)


async def test_a_session_cannot_be_moved_to_another_workspace(world, api) -> None:
    other = world.engine.in_workspace("other")
    other.observe("ada", "I love sailing.")
    link = await mint(api, "ada")
    client, _ = await visitor(world, link)
    async with aclosing(client):
        home = await client.get("/mirror/")
    assert "sailing" not in home.text


async def test_signing_out_ends_the_session(world, api) -> None:
    client, csrf = await visitor(world, await mint(api, "ada"))
    async with aclosing(client):
        out = await client.post("/mirror/signout", data={"csrf": csrf})
        assert out.status_code == 200 and "signed out" in out.text
        assert (await client.get("/mirror/")).status_code == 400


async def test_export_downloads_under_the_persons_name_in_any_script(world, api) -> None:
    """Header values are Latin-1: a user id outside it ("Zoë-李") names the download in both
    forms of RFC 6266, an ASCII ``filename`` and the exact ``filename*``."""
    world.engine.observe("Zoë-李", "I love green tea.")
    client, _ = await visitor(world, await mint(api, "Zoë-李"))
    async with aclosing(client):
        exported = await client.get("/mirror/export")
    assert exported.status_code == 200, exported.text
    assert exported.headers["content-disposition"] == (
        'attachment; filename="selfmodel-Zoe-_.json";'
        " filename*=UTF-8''selfmodel-Zo%C3%AB-%E6%9D%8E.json"
    )
    assert exported.json()["user"]["external_id"] == "Zoë-李"


async def test_pushing_cards_twice_with_one_key_pushes_them_once(world, api) -> None:
    headers = {"Idempotency-Key": "cards-1"}
    first = await api.post("/v1/users/ada/cards", json=CARDS, headers=headers)
    again = await api.post("/v1/users/ada/cards", json=CARDS, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert [p.statement for p in world.engine.cards("ada")] == ["Ada likes green tea"]

    other = {"statements": [{"statement": "Ada likes black coffee"}]}
    reused = await api.post("/v1/users/ada/cards", json=other, headers=headers)
    assert reused.status_code == 409
    assert reused.json()["error"]["code"] == "idempotency_conflict"
    assert len(world.engine.cards("ada")) == 1


async def test_a_retried_mint_answers_the_same_link_without_storing_its_token(api, db_path) -> None:
    headers = {"Idempotency-Key": "link-1"}
    first = await api.post("/v1/users/ada/mirror-link", json={"ttl_s": 600}, headers=headers)
    again = await api.post("/v1/users/ada/mirror-link", json={"ttl_s": 600}, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    # The token is a bearer secret: signed again for the replay, never kept in the store.
    token = first.json()["url"].rsplit("/", 1)[-1]
    stored = b"".join(p.read_bytes() for p in db_path.parent.glob(f"{db_path.name}*"))
    assert token.encode() not in stored
    fresh = await api.post("/v1/users/ada/mirror-link", json={"ttl_s": 600})
    assert fresh.json()["id"] != first.json()["id"]
    longer = await api.post("/v1/users/ada/mirror-link", json={"ttl_s": 900}, headers=headers)
    assert longer.status_code == 409


async def test_a_retried_revocation_replays_its_first_answer(api) -> None:
    link = await mint(api, "ada")
    headers = {"Idempotency-Key": "revoke-1"}
    url = f"/v1/users/ada/mirror-links/{link['id']}"
    first = await api.delete(url, headers=headers)
    again = await api.delete(url, headers=headers)
    # Done again, the second would revoke nothing (0); replayed, it says what the first did.
    assert first.json() == again.json() == {"revoked": 1}
    assert again.headers["Idempotent-Replayed"] == "true"
    assert (await api.delete(url)).json() == {"revoked": 0}


async def test_a_failed_mirror_write_frees_its_key_and_answers_the_error_body(api) -> None:
    headers = {"Idempotency-Key": "nobody-1"}
    for _ in range(2):
        missing = await api.post("/v1/users/nobody/mirror-link", json={}, headers=headers)
        assert missing.status_code == 404 and "Idempotent-Replayed" not in missing.headers
        assert missing.json()["error"]["code"] == "user_not_found"
        assert set(missing.json()["error"]) == {"code", "message", "details"}


async def test_mirror_pages_answer_errors_with_the_apis_statuses(world, api) -> None:
    client, csrf = await visitor(world, await mint(api, "ada"))
    async with aclosing(client):
        huge = {"csrf": csrf, "statement": "x" * (MAX_FORM_BYTES + 1)}
        too_big = await client.post("/mirror/beliefs", data=huge)
        empty = await client.post("/mirror/beliefs", data={"csrf": csrf})
    # payload_too_large is 413 through the API, so it is 413 on a page too (not a generic 422).
    assert too_big.status_code == 413 and "larger than the Mirror accepts" in too_big.text
    assert empty.status_code == 422
    assert too_big.headers["content-type"].startswith("text/html")


async def test_every_page_says_what_the_beliefs_are_used_for_and_who_sees_them(
    db_path, embedder: SentenceTransformerEmbedder
) -> None:
    settings = Settings(mirror=MirrorSettings(mirror_product_name="Coachly"))
    with SelfModel.open(str(db_path), embedder=embedder, settings=settings) as engine:
        w = build_world(engine)
        seed_person(w.engine, "ada", "Ada")
        async with asgi_client(w.app, w.write_key) as api:
            link = await mint(api, "ada")
        client, _ = await visitor(w, link)
        belief = w.engine.beliefs("ada")[0]
        async with aclosing(client):
            for path in ("/mirror/", "/mirror/timeline", f"/mirror/beliefs/{belief.id}"):
                page = (await client.get(path)).text
                assert "Nothing here is shared" not in page
                assert "shapes the answers you get in Coachly" in page, path
                assert "The people who run Coachly can see this data" in page
                assert 'href="/mirror/export"' in page and 'href="/mirror/delete"' in page
