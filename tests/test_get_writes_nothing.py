"""GET requests write nothing: every GET route of the app, over real HTTP, on both backends.

The routes are read from the app itself, so a new GET route is covered (or this test fails and
asks for its path parameters). What a request ran is what the database saw between sending it
and its answer: SQLite's trace callback on every connection the store opens, PostgreSQL's own
statement log (tests/support/statements.py). Nothing else runs meanwhile: no background worker,
and the keys' last use is written when the server stops, not by the requests.
"""

from __future__ import annotations

import re

import httpx
from fastapi.routing import iter_route_contexts
from starlette.routing import BaseRoute

from selfmodel import SelfModel, Settings
from selfmodel.config import ServerSettings
from selfmodel.embedding import SentenceTransformerEmbedder
from selfmodel.mirror.access import link_token
from selfmodel.server import create_app
from selfmodel.tenancy import Scope
from tests.support.evaluation import raise_alert, record_run
from tests.support.server import new_workspace_key, running_server
from tests.support.statements import PostgresStatements, SQLiteStatements, is_write

WORKSPACE = "acme"
USER = "ada"
MESSAGES = [
    ("I'm training for the Berlin marathon next spring.", "2024-05-01T09:00:00Z"),
    ("I love hiking in the mountains with my dog Biscuit.", "2024-05-02T09:00:00Z"),
    ("I prefer short, direct answers.", "2024-05-03T09:00:00Z"),
]
# Several readings of one route where a parameter takes another path through the code.
VARIANTS: dict[str, list[dict[str, str]]] = {
    "/v1/users/{user}/beliefs": [{}, {"status": "all"}, {"area": "coach"}, {"context": "coach"}],
    "/v1/users/{user}/cards": [{}, {"open": "true"}],
    "/v1/users/{user}/prompts": [{}, {"open": "true"}],  # the deprecated path of /cards
    "/v1/users/{user}/profile": [{}, {"as_of": "2024-06-01T00:00:00Z"}],
    "/v1/users/{user}/outcomes": [{}, {"kind": "rating"}, {"trace_id": "trc_none", "limit": "1"}],
    "/v1/experiments": [{}, {"status": "running"}],
    "/v1/experiments/{experiment}/analysis": [
        {"metric": "rating"},
        {"metric": "thumbs_up", "pre_period_days": "0", "alpha": "0.1"},
    ],
    "/v1/users/{user}/beliefs-as-of": [{}, {"status": "all", "valid_at": "2024-06-01T00:00:00Z"}],
}
# Routes that never touch the database (documentation, liveness, static files).
NO_DATABASE = {
    "/openapi.json",
    "/docs",
    "/docs/oauth2-redirect",
    "/redoc",
    "/healthz",
    "/mirror/static/{name}",
    "/inspector/static/{name}",
    "/inspector/sign-in",
}
# Values of a path parameter that differ for one route.
ROUTE_VALUES = {"/inspector/static/{name}": {"name": "inspector.css"}}
# The key's use is written at shutdown; an hour is longer than this test runs.
NEVER_DURING_THE_TEST_S = 3600.0


def get_routes(routes: list[BaseRoute]) -> list[str]:
    """The path of every route that answers GET (the API's, the Mirror's, the docs'), in
    included routers too."""
    return sorted(str(r.path) for r in iter_route_contexts(routes) if "GET" in (r.methods or ()))


def seed(engine: SelfModel) -> dict[str, str]:
    """A user with beliefs, a trace, a Mirror link, a card and an eval run: values for every
    path parameter."""
    engine.observe(
        USER,
        [{"content": text, "occurred_at": at, "speaker": "Ada"} for text, at in MESSAGES],
        area="coach",
    )
    belief = engine.beliefs(USER)[0]
    trace = engine.context(USER, "what is she training for?")
    link = engine.create_mirror_link(USER)
    engine.push_cards(USER, [{"statement": "Ada likes green tea"}])
    experiment = engine.create_experiment("pers", [{"name": "off"}, {"name": "on"}])
    engine.assignment(USER, experiment.name)
    engine.record_outcome(USER, "rating", value=4)
    return {
        "experiment": experiment.name,
        "user": USER,
        "belief_id": belief.id,
        "trace_id": trace.trace_id,
        "item_id": trace.items[0].id,
        "run_id": record_run(engine.store, engine.workspace).id,
        "alert_id": raise_alert(engine).id,
        "token": link_token(engine, link),
        "name": "mirror.css",
    }


def filled(template: str, values: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        assert name in values, f"GET {template}: give a value for {{{name}}} in seed()"
        return values[name]

    return re.sub(r"{(\w+)(?::\w+)?}", value, template)


def test_get_requests_write_nothing(
    db_location: str,
    statements: SQLiteStatements | PostgresStatements,
    embedder: SentenceTransformerEmbedder,
) -> None:
    settings = Settings(server=ServerSettings(key_usage_flush_s=NEVER_DURING_THE_TEST_S))
    with SelfModel.open(
        db_location, embedder=embedder, workspace=WORKSPACE, settings=settings
    ) as engine:
        values = seed(engine)
        key = new_workspace_key(engine.store, WORKSPACE, Scope.ADMIN)
        app = create_app(engine)
        routes = get_routes(app.routes)
        assert {"/v1/workspace", "/v1/users/{user}/cards", "/mirror/"} <= set(routes)
        writes: dict[str, list[str]] = {}
        with (
            running_server(app) as base,
            httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}) as client,
        ):
            # The Mirror's pages need the session its link opens (itself one of the GETs), the
            # Inspector's the session the admin key signs in to (a POST).
            client.get(filled("/mirror/open/{token}", values)).raise_for_status()
            form = client.get("/inspector/sign-in").text
            csrf = re.search(r'name="csrf" value="([^"]+)"', form)
            assert csrf is not None
            signed = client.post("/inspector/sign-in", data={"csrf": csrf.group(1), "key": key})
            assert signed.status_code == 303, signed.text
            variants = VARIANTS | {
                "/inspector/": [{}, {"q": "ad"}, {"after": "a"}],
                "/inspector/users/{user:path}": [{}, {"beliefs": "all"}],
                "/inspector/traces": [{"user": USER}, {"user": USER, "before": values["trace_id"]}],
                "/inspector/traces/{trace_id}/why-not": [{"item": values["belief_id"]}],
                "/inspector/traces/{trace_id}/replay": [{}, {"budget_tokens": "50", "item": "x"}],
            }
            statements.take()
            for template in routes:
                for params in variants.get(template, [{}]):
                    path = filled(template, values | ROUTE_VALUES.get(template, {}))
                    response = client.get(path, params=params)
                    assert response.status_code == 200, f"GET {template}: {response.text[:300]}"
                    ran = statements.take()
                    if template not in NO_DATABASE:
                        # Reads are seen too, so no connection escapes the count.
                        assert ran, f"GET {template}: no statement seen; is each connection hooked?"
                    found = [s for s in ran if is_write(s)]
                    if found:
                        writes[f"GET {template} {params}"] = found
            assert writes == {}, "GET requests wrote:\n" + "\n".join(
                f"{route}: {sql}" for route, sqls in writes.items() for sql in sqls
            )
            (used,) = engine.store.list_api_keys(engine.workspace.id)
            assert used.last_used_at is None, "a request wrote its key's last use"

            # The count sees writes when there are some: a POST through the same server.
            observed = client.post(
                f"/v1/users/{USER}/observations", json={"messages": [{"content": "I like tea."}]}
            )
            assert observed.status_code == 201, observed.text
            assert any(is_write(s) and "observations" in s for s in statements.take())
        # The server has stopped: the uses it kept in memory were written on the way out.
        (used,) = engine.store.list_api_keys(engine.workspace.id)
        assert used.last_used_at is not None


def test_the_statement_classifier_tells_writes_from_reads() -> None:
    writes = [
        "INSERT INTO api_keys (id) VALUES (?)",
        "  update api_keys SET last_used_at = ? WHERE id = ?",
        "DELETE FROM idempotency_keys WHERE key = ?",
        "BEGIN IMMEDIATE",
        "SELECT id FROM users WHERE id = $1 FOR NO KEY UPDATE",
        "WITH gone AS (DELETE FROM jobs RETURNING id) SELECT count(*) FROM gone",
        "CREATE TABLE IF NOT EXISTS selfmodel_schema (version INTEGER NOT NULL)",
        "PRAGMA journal_mode = WAL",
        "PRAGMA wal_checkpoint(TRUNCATE)",
        "SELECT pg_advisory_xact_lock($1)",
    ]
    reads = [
        "SELECT * FROM beliefs WHERE updated_at >= ? ORDER BY updated_at",
        "SELECT k.*, w.name AS ws_name FROM api_keys k JOIN workspaces w ON w.id = k.workspace_id",
        "BEGIN",
        "PRAGMA user_version",
        "SET TIME ZONE 'UTC'",
    ]
    assert [s for s in writes if not is_write(s)] == []
    assert [s for s in reads if is_write(s)] == []
