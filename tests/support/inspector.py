"""Inspector test setup: the demo conversation observed, a context call that leaves a belief out,
and an operator signed in over HTTP with an admin key."""

from __future__ import annotations

import json
import re
from importlib import resources

import httpx

from selfmodel.engine import SelfModel

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
DEMO_USER = "maya"
# The question of docs/debugging.md's story: its answer never mentions hiking.
DEMO_QUERY = "what could she do this weekend to relax?"
# Replays and why-not compute again (the first builds the index from history): not instant.
TIMEOUT_S = 60.0


def observe_demo(engine: SelfModel, user: str = DEMO_USER) -> None:
    """The demo conversation (``selfmodel demo``), observed for ``user``."""
    source = resources.files("selfmodel") / "data" / "demo_conversation.jsonl"
    lines = source.read_text(encoding="utf-8").splitlines()
    messages = [
        {k: v for k, v in json.loads(line).items() if k != "user"} for line in lines if line
    ]
    engine.observe(user, messages)


def belief_id(engine: SelfModel, user: str, needle: str) -> str:
    """The id of ``user``'s current belief whose statement contains ``needle``."""
    return next(b.id for b in engine.beliefs(user) if needle in b.statement)


def signed_in(base_url: str, key: str) -> tuple[httpx.Client, str]:
    """An operator's client signed in with ``key`` (it must be an admin key), and the session's
    CSRF token as the pages carry it."""
    client = httpx.Client(base_url=base_url, timeout=TIMEOUT_S)
    form = client.get("/inspector/sign-in")
    signed = client.post(
        "/inspector/sign-in", data={"csrf": csrf_of(form.text), "key": key, "next": ""}
    )
    assert signed.status_code == 303, signed.text
    home = client.get("/inspector/")
    assert home.status_code == 200, home.text
    return client, csrf_of(home.text)


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, html
    return found.group(1)


__all__ = [
    "DEMO_QUERY",
    "DEMO_USER",
    "TIMEOUT_S",
    "belief_id",
    "csrf_of",
    "observe_demo",
    "signed_in",
]
