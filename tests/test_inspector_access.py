"""The Inspector over a real socket: who may sign in, what a session may see (its own workspace,
on every route), CSRF, and bad input answered with a clear page — never a server error.

The real app on uvicorn, a real SQLite file and the real model; httpx as the browser.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from markupsafe import escape

from selfmodel import SelfModel
from selfmodel.domain.debugging import Verdict
from selfmodel.embedding import SentenceTransformerEmbedder
from selfmodel.inspector.access import SESSION_COOKIE
from selfmodel.inspector.screens import USERS_PAGE
from selfmodel.mirror.access import SESSION_COOKIE as MIRROR_COOKIE
from selfmodel.mirror.access import link_token, open_link
from selfmodel.server import create_app
from selfmodel.tenancy import Scope, Tenancy
from tests.support.inspector import (
    DEMO_QUERY,
    TIMEOUT_S,
    belief_id,
    csrf_of,
    observe_demo,
    signed_in,
)
from tests.support.mirror import seed_person
from tests.support.server import new_workspace_key, running_server

pytestmark = pytest.mark.slow

RIVAL_SECRET = "Eve keeps the launch codes in the blue teapot."


@dataclass
class World:
    app: FastAPI
    base_url: str
    engine: SelfModel  # workspace "acme"
    admin: str
    trace_id: str
    hiking: str  # a belief of maya's the trace left out
    moment: str  # an observation of maya's
    rival_admin: str
    rival_trace: str
    rival_belief: str
    rival_moment: str


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory, exact_embedder: SentenceTransformerEmbedder
) -> Iterator[World]:
    db = tmp_path_factory.mktemp("inspector") / "inspector.db"
    # docs/debugging.md's story: hiking at the budget's edge, a tie bfloat16 can turn.
    with SelfModel.open(str(db), embedder=exact_embedder) as base:
        acme, rival = base.in_workspace("acme"), base.in_workspace("rival")
        observe_demo(acme)
        trace = acme.context("maya", DEMO_QUERY)
        seed_person(rival, "eve", "Eve")
        rival.observe("eve", {"content": RIVAL_SECRET, "id": "eve-secret"})
        rival_trace = rival.context("eve", "where are the launch codes?")
        app = create_app(base)
        with running_server(app) as base_url:
            yield World(
                app=app,
                base_url=base_url,
                engine=acme,
                admin=new_workspace_key(base.store, "acme", Scope.ADMIN),
                trace_id=trace.trace_id,
                hiking=belief_id(acme, "maya", "loves hiking"),
                moment=acme.export("maya")["observations"][0]["id"],
                rival_admin=new_workspace_key(base.store, "rival", Scope.ADMIN),
                rival_trace=rival_trace.trace_id,
                rival_belief=rival.beliefs("eve")[0].id,
                rival_moment=rival.export("eve")["observations"][0]["id"],
            )


@pytest.fixture
def operator(world: World) -> Iterator[tuple[httpx.Client, str]]:
    client, csrf = signed_in(world.base_url, world.admin)
    with closing(client):
        yield client, csrf


def anonymous(world: World) -> httpx.Client:
    return httpx.Client(base_url=world.base_url, timeout=TIMEOUT_S)


def sign_in_with(client: httpx.Client, key: str) -> httpx.Response:
    form = client.get("/inspector/sign-in")
    return client.post("/inspector/sign-in", data={"csrf": csrf_of(form.text), "key": key})


def test_only_a_live_admin_key_signs_in(world: World) -> None:
    tenancy = Tenancy(world.engine.store)
    workspace = world.engine.workspace
    revoked = tenancy.mint_key(workspace, Scope.ADMIN)
    tenancy.revoke_key(workspace, revoked.record.id)
    refused = {
        "read": (new_workspace_key(world.engine.store, "acme", Scope.READ), 403),
        "write": (new_workspace_key(world.engine.store, "acme", Scope.WRITE), 403),
        "unknown": ("smk_" + "x" * 43, 401),
        "revoked": (revoked.secret, 401),
        "empty": ("", 401),
    }
    with anonymous(world) as client:
        for name, (key, status) in refused.items():
            answer = sign_in_with(client, key)
            assert answer.status_code == status, name
            assert "text/html" in answer.headers["content-type"]
            assert f"{SESSION_COOKIE}=" not in answer.headers.get("set-cookie", ""), name
            assert 'role="alert"' in answer.text
        assert "admin key" in sign_in_with(client, refused["read"][0]).text
        signed = sign_in_with(client, world.admin)
    assert signed.status_code == 303 and signed.headers["location"] == "/inspector/"
    cookie = next(
        c for c in signed.headers.get_list("set-cookie") if c.startswith(f"{SESSION_COOKIE}=")
    ).lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/inspector" in cookie
    assert world.admin not in signed.headers.get("set-cookie", "")


def test_the_sign_in_form_needs_its_own_csrf_token(world: World) -> None:
    with anonymous(world) as client:
        bare = client.post("/inspector/sign-in", data={"key": world.admin})
        client.get("/inspector/sign-in")  # the cookie, but not the token in the form
        forged = client.post("/inspector/sign-in", data={"key": world.admin, "csrf": "forged"})
    assert (bare.status_code, forged.status_code) == (403, 403)
    assert f"{SESSION_COOKIE}=" not in forged.headers.get("set-cookie", "")


def test_without_a_session_pages_send_to_sign_in_and_forms_are_refused(world: World) -> None:
    with anonymous(world) as client:
        for path in (
            "/inspector/",
            "/inspector/users/maya",
            "/inspector/traces?user=maya",
            f"/inspector/traces/{world.trace_id}",
            f"/inspector/traces/{world.trace_id}/why-not?item={world.hiking}",
            f"/inspector/traces/{world.trace_id}/replay",
            f"/inspector/traces/{world.trace_id}/lineage/{world.hiking}",
            "/inspector/audit?since=2024-01-01",
        ):
            answer = client.get(path)
            assert answer.status_code == 303, path
            target = urlsplit(answer.headers["location"])
            assert target.path == "/inspector/sign-in"
            assert parse_qs(target.query)["next"] == [path]
            assert "maya" not in answer.text.lower()
        for path in (f"/inspector/traces/{world.trace_id}/replay", "/inspector/sign-out"):
            assert client.post(path, data={"csrf": "x"}).status_code == 401, path
        client.cookies.set(SESSION_COOKIE, "not-a-session")
        assert client.get("/inspector/").status_code == 303


def test_signing_in_returns_to_the_page_asked_for_and_nowhere_else(world: World) -> None:
    with anonymous(world) as client:
        for asked, lands in (
            ("/inspector/users/maya", "/inspector/users/maya"),
            ("https://evil.example/", "/inspector/"),
            ("//evil.example/inspector/", "/inspector/"),
            ("/v1/users", "/inspector/"),
        ):
            form = client.get("/inspector/sign-in", params={"next": asked})
            signed = client.post(
                "/inspector/sign-in",
                data={"csrf": csrf_of(form.text), "key": world.admin, "next": asked},
            )
            assert signed.headers["location"] == lands, asked


def inspector_routes(app: FastAPI) -> set[tuple[str, str]]:
    return {
        (method, str(route.path))
        for route in iter_route_contexts(app.routes)
        if str(route.path).startswith("/inspector")
        for method in route.methods or ()
    }


# Routes that show no one's data: signing in, and the stylesheet.
PUBLIC = {
    ("GET", "/inspector/sign-in"),
    ("POST", "/inspector/sign-in"),
    ("GET", "/inspector/static/{name}"),
}


def other_workspace_requests(world: World) -> dict[tuple[str, str], list[str]]:
    """For every route that names a user, trace or item: URLs naming one of the rival's."""
    mine, theirs = world.trace_id, world.rival_trace
    items = (world.rival_belief, world.rival_moment)
    return {
        ("GET", "/inspector/users/{user:path}"): ["/inspector/users/eve"],
        ("GET", "/inspector/traces"): ["/inspector/traces?user=eve"],
        ("GET", "/inspector/traces/{trace_id}"): [f"/inspector/traces/{theirs}"],
        ("GET", "/inspector/traces/{trace_id}/why-not"): [
            f"/inspector/traces/{theirs}/why-not?item={world.hiking}",
            *(f"/inspector/traces/{mine}/why-not?item={i}" for i in items),
        ],
        ("GET", "/inspector/traces/{trace_id}/replay"): [f"/inspector/traces/{theirs}/replay"],
        ("POST", "/inspector/traces/{trace_id}/replay"): [f"/inspector/traces/{theirs}/replay"],
        ("GET", "/inspector/traces/{trace_id}/lineage/{item_id}"): [
            f"/inspector/traces/{theirs}/lineage/{world.rival_belief}",
            *(f"/inspector/traces/{mine}/lineage/{i}" for i in items),
        ],
        # None names anything: the users page and the audit are of the session's own workspace.
        ("GET", "/inspector/"): [],
        ("GET", "/inspector/audit"): [],
        ("POST", "/inspector/sign-out"): [],
    }


def test_a_session_sees_its_own_workspace_only_on_every_route(world: World, operator) -> None:
    client, csrf = operator
    requests = other_workspace_requests(world)
    assert inspector_routes(world.app) - PUBLIC == set(requests), "name the new route's ids here"
    for (method, _), urls in requests.items():
        for url in urls:
            if method == "GET":
                answer = client.get(url)
            else:
                answer = client.post(url, data={"csrf": csrf, "budget_tokens": "500"})
            assert answer.status_code == 404, url
            assert "text/html" in answer.headers["content-type"]
            assert "launch codes" not in answer.text and "Eve" not in answer.text, url
    users = client.get("/inspector/").text
    assert "/inspector/users/maya" in users and "eve" not in users
    # And the rival's own session sees the rival's user, and nothing of acme.
    rival, _ = signed_in(world.base_url, world.rival_admin)
    with closing(rival):
        assert "/inspector/users/eve" in rival.get("/inspector/").text
        assert rival.get(f"/inspector/traces/{world.trace_id}").status_code == 404
        assert rival.get("/inspector/users/maya").status_code == 404
        audit = rival.get("/inspector/audit").text
        assert "Audit of workspace rival" in audit
        assert world.trace_id not in audit and "maya" not in audit


def test_forms_without_the_session_csrf_token_are_refused(world: World, operator) -> None:
    client, csrf = operator
    replay = f"/inspector/traces/{world.trace_id}/replay"
    for data in ({}, {"csrf": "forged"}, {"csrf": csrf[:-1]}):
        assert client.post(replay, data={**data, "budget_tokens": "500"}).status_code == 403
        assert client.post("/inspector/sign-out", data=data).status_code == 403
    assert client.get("/inspector/").status_code == 200  # still signed in
    assert client.post(replay, data={"csrf": csrf}).status_code == 200


def test_a_mirror_cookie_cannot_open_the_inspector_nor_the_other_way_round(
    world: World, operator
) -> None:
    client, _ = operator
    link = world.engine.create_mirror_link("maya")
    _, mirror_cookie = open_link(world.engine, link_token(world.engine, link))
    inspector_cookie = client.cookies[SESSION_COOKIE]
    with anonymous(world) as other:
        other.cookies.set(SESSION_COOKIE, mirror_cookie)
        assert other.get("/inspector/").status_code == 303
        other.cookies.set(MIRROR_COOKIE, inspector_cookie)
        assert other.get("/mirror/").status_code == 403


def test_revoking_the_key_or_signing_out_ends_the_session(world: World) -> None:
    tenancy = Tenancy(world.engine.store)
    minted = tenancy.mint_key(world.engine.workspace, Scope.ADMIN, name="short-lived")
    client, csrf = signed_in(world.base_url, minted.secret)
    with closing(client):
        tenancy.revoke_key(world.engine.workspace, minted.record.id)
        ended = client.get("/inspector/")
        assert ended.status_code == 303 and "ended=revoked" in ended.headers["location"]
        notice = client.get(ended.headers["location"])
        assert "key was revoked" in notice.text
    client, csrf = signed_in(world.base_url, world.admin)
    with closing(client):
        out = client.post("/inspector/sign-out", data={"csrf": csrf})
        assert out.status_code == 303
        assert client.get("/inspector/").status_code == 303


def test_bad_input_gets_a_clear_page_never_a_server_error(world: World, operator) -> None:
    client, csrf = operator
    trace = f"/inspector/traces/{world.trace_id}"
    missing = {
        "/inspector/users/nobody": "no user",
        "/inspector/traces/trc_01a2b3c4d5e6f7a8b9c0d1e2": "no trace",
        "/inspector/traces?user=nobody": "no user",
        "/inspector/traces?user=maya&before=trc_01a2b3c4d5e6f7a8b9c0d1e2": "no trace",
        f"{trace}/why-not?item=bel_01a2b3c4d5e6f7a8b9c0d1e2": "no belief or observation",
        f"{trace}/lineage/obs_nothing": "no belief or observation",
        "/inspector/traces/" + "x" * 5_000: "no such trace",
        f"{trace}/why-not?item=bel%00x": "no such belief",
        "/inspector/users/%00": "no such user",
    }
    for url, says in missing.items():
        answer = client.get(url)
        assert answer.status_code == 404, url
        assert says in answer.text.lower(), url
    asked = client.get(f"{trace}/why-not?item=")
    assert asked.status_code == 422 and "say which belief or observation" in asked.text.lower()
    bad_forms = {
        "ranking.keyword_weight=lots": ({"ranking.keyword_weight": "lots"}, "must be a number"),
        "budget_tokens=1.5": ({"budget_tokens": "1.5"}, "must be a whole number"),
        "budget_tokens=-5": ({"budget_tokens": "-5"}, "budget_tokens must be positive"),
        "moments=maybe": ({"moments": "maybe"}, "must be true or false"),
        "json not json": ({"config": "{budget: 5"}, "the JSON box is not JSON"),
        "json not an object": ({"config": "[1, 2]"}, "must hold an object"),
        "json unknown key": ({"config": '{"temperature": 2}'}, "unknown configuration keys"),
        "json other embedder": ({"config": '{"embedder": "bge"}'}, "cannot change the embedder"),
        "json bad weight": ({"config": '{"ranking": {"rrf_k": -1}}'}, "must be at least"),
    }
    for name, (data, says) in bad_forms.items():
        answer = client.post(f"{trace}/replay", data={"csrf": csrf, **data})
        assert answer.status_code == 422, name
        error = re.search(r'class="error" role="alert">([^<]+)', answer.text)
        assert error and says in error.group(1), (name, answer.text[-2000:])
        # The editor comes back as typed, ready to correct.
        assert 'action="/inspector/traces/' in answer.text
    too_big = client.post(f"{trace}/replay", data={"csrf": csrf, "config": "x" * 20_000})
    assert too_big.status_code == 413


def test_the_pages_show_what_the_library_says(world: World, operator) -> None:
    client, csrf = operator
    sm = world.engine
    recorded = sm.trace(world.trace_id)
    page = client.get(f"/inspector/traces/{world.trace_id}").text
    assert f"“{DEMO_QUERY}”" in page
    for item in recorded.payload["chosen"]:
        assert f"/inspector/traces/{world.trace_id}/lineage/{item['id']}" in page
    assert f'<option value="{world.hiking}">' in page  # askable: held then, not chosen
    assert page.count('id="cand-') == len(recorded.payload["candidates"])

    why = sm.why_not(world.trace_id, world.hiking)
    assert why.verdict is not Verdict.CHOSEN
    page = client.get(f"/inspector/traces/{world.trace_id}/why-not?item={world.hiking}").text
    assert f'<span class="tag">{why.verdict.value}</span>' in page
    assert str(escape(why.explanation[1:])) in page

    replayed = sm.replay(world.trace_id, {"budget_tokens": 1000})
    page = client.post(
        f"/inspector/traces/{world.trace_id}/replay",
        data={"csrf": csrf, "budget_tokens": "1000", "item": world.hiking},
    ).text
    rank = next(r for r, c in enumerate(replayed.chosen, 1) if c.id == world.hiking)
    assert f"now in the block, at rank {rank}" in page
    assert page.count("+ gained") == len(replayed.gained)
    assert f"{replayed.tokens_before} → {replayed.tokens_after}" in page
    exact = client.post(f"/inspector/traces/{world.trace_id}/replay", data={"csrf": csrf}).text
    assert "reproduced exactly" in exact

    lineage = sm.lineage(world.trace_id, world.hiking)
    page = client.get(f"/inspector/traces/{world.trace_id}/lineage/{world.hiking}").text
    assert all(e.evidence.observation_id in page for e in lineage.evidence)
    assert all(x.version and x.version in page for x in lineage.extractions)
    moment = client.get(f"/inspector/traces/{world.trace_id}/lineage/{world.moment}")
    assert moment.status_code == 200 and "A raw moment" in moment.text

    user = client.get("/inspector/users/maya").text
    assert all(b.id in user for b in sm.beliefs("maya"))
    assert world.trace_id in user
    for header in ("content-security-policy", "x-frame-options", "referrer-policy"):
        assert header in client.get("/inspector/users/maya").headers


def test_users_are_listed_by_id_a_page_at_a_time(world: World, operator) -> None:
    client, _ = operator
    store, ws = world.engine.store, world.engine.workspace.id
    for n in range(USERS_PAGE + 5):
        store.get_or_create_user(ws, f"page-{n:03d}")
    first = client.get("/inspector/", params={"q": "page-"}).text
    shown = re.findall(r'href="/inspector/users/(page-\d+)"', first)
    assert shown == [f"page-{n:03d}" for n in range(USERS_PAGE)]
    after = re.search(r'href="/inspector/\?q=page-&amp;after=([^"]+)"', first)
    assert after is not None
    rest = client.get("/inspector/", params={"q": "page-", "after": after.group(1)}).text
    assert re.findall(r'href="/inspector/users/(page-\d+)"', rest) == [
        f"page-{n:03d}" for n in range(USERS_PAGE, USERS_PAGE + 5)
    ]
    assert "after=" not in rest
