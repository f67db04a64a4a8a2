"""Mirror test setup: the real app on a real store, a workspace key, seeded people."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI

from selfmodel.engine import SelfModel
from selfmodel.server.app import create_app
from selfmodel.tenancy import Scope
from tests.support.server import new_workspace_key

WORKSPACE = "acme"
# What a person might have told a coaching app over a few sessions.
# Said in the last few weeks (relative to today): reads see beliefs as of now, and a plan
# months old has faded by then (docs/confidence.md).
_TODAY = datetime.now(UTC).replace(hour=8, minute=30, second=0, microsecond=0)
SEED_MESSAGES = [
    ("I'm training for the Berlin marathon next spring.", _TODAY - timedelta(days=30)),
    ("I love hiking in the mountains with my dog.", _TODAY - timedelta(days=25)),
    ("I prefer short, direct answers.", _TODAY - timedelta(days=20)),
    ("I work as a nurse on night shifts.", _TODAY - timedelta(days=15)),
    ("I value quiet mornings before work.", _TODAY - timedelta(days=10)),
]
# A life with facets that moved, a pet by name, and a confirmed like said against later.
PROFILE_MESSAGES = [
    ("I live in London.", _TODAY - timedelta(days=60)),
    ("Home is now Edinburgh.", _TODAY - timedelta(days=30)),
    ("I work as a nurse at the Royal Infirmary.", _TODAY - timedelta(days=28)),
    ("Our dog Biscuit loves the beach.", _TODAY - timedelta(days=26)),
    ("Please keep your answers short.", _TODAY - timedelta(days=24)),
    ("I like jazz.", _TODAY - timedelta(days=20)),
]
DENIAL = ("I don't like jazz.", _TODAY - timedelta(days=5))
# A claim the person rejects, then says again in other words on another day.
REJECTED_CLAIM = ("I'm a huge fan of heavy metal.", _TODAY - timedelta(days=20))
RAISED_AGAIN = ("Heavy metal is my favourite music.", _TODAY - timedelta(days=10))
# How the Mirror shows the day the first message was said ("12 Jan 2025").
FIRST_SAID = f"{SEED_MESSAGES[0][1].day} {SEED_MESSAGES[0][1]:%b %Y}"


@dataclass
class MirrorWorld:
    """The app and what tests need to drive and check it."""

    app: FastAPI
    engine: SelfModel  # bound to WORKSPACE
    write_key: str
    read_key: str


def build_world(engine: SelfModel) -> MirrorWorld:
    store = engine.store
    write_key = new_workspace_key(store, WORKSPACE, Scope.WRITE)
    read_key = new_workspace_key(store, WORKSPACE, Scope.READ)
    return world_of(engine, write_key, read_key)


def world_of(engine: SelfModel, write_key: str, read_key: str) -> MirrorWorld:
    """The world of a store ``build_world`` made (a copy of one, say), with its keys."""
    return MirrorWorld(
        app=create_app(engine),
        engine=engine.in_existing_workspace(WORKSPACE),
        write_key=write_key,
        read_key=read_key,
    )


def seed_person(engine: SelfModel, user: str, name: str) -> list[str]:
    """Observe the seed conversation for ``user`` (speaking as ``name``); returns belief ids."""
    engine.observe(
        user,
        [
            {"content": text, "occurred_at": at, "speaker": name, "id": f"{user}-{i}"}
            for i, (text, at) in enumerate(SEED_MESSAGES)
        ],
    )
    return [b.id for b in engine.beliefs(user)]


def seed_profile(engine: SelfModel, user: str, name: str) -> None:
    """Observe ``PROFILE_MESSAGES`` for ``user``, confirm the like, then observe ``DENIAL``: a
    profile with a moved residence, a job, a named dog and one open conflict."""
    engine.observe(
        user,
        [
            {"content": text, "occurred_at": at, "speaker": name, "id": f"{user}-p{i}"}
            for i, (text, at) in enumerate(PROFILE_MESSAGES)
        ],
    )
    liked = next(b for b in engine.beliefs(user) if b.statement.endswith("likes jazz"))
    engine.confirm(liked.id)
    text, at = DENIAL
    engine.observe(user, {"content": text, "occurred_at": at, "speaker": name, "id": f"{user}-d"})


def seed_raised_again(engine: SelfModel, user: str, name: str) -> tuple[str, str]:
    """Observe ``REJECTED_CLAIM``, reject its belief, then observe ``RAISED_AGAIN``: a claim
    raised again after a rejection, held back until the person answers. Returns the ids of the
    rejected belief and of the one raised again."""
    text, at = REJECTED_CLAIM
    engine.observe(user, {"content": text, "occurred_at": at, "speaker": name, "id": f"{user}-r"})
    (rejected,) = engine.beliefs(user)
    engine.reject(rejected.id)
    text, at = RAISED_AGAIN
    engine.observe(user, {"content": text, "occurred_at": at, "speaker": name, "id": f"{user}-a"})
    (asked,) = engine.profile(user).questions
    return rejected.id, asked.belief_id
