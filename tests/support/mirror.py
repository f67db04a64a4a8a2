"""Mirror test setup: the real app on a real store, a workspace key, seeded people."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI

from selfmodel.engine import SelfModel
from selfmodel.server.app import create_app
from selfmodel.server.keys import Scope
from tests.support.server import new_workspace_key

WORKSPACE = "acme"
# What a person might have told a coaching app over a few sessions.
SEED_MESSAGES = [
    ("I'm training for the Berlin marathon in April.", "2025-01-12T08:30:00Z"),
    ("I love hiking in the mountains with my dog.", "2025-02-03T19:10:00Z"),
    ("I prefer short, direct answers.", "2025-02-20T12:00:00Z"),
    ("I work as a nurse on night shifts.", "2025-03-01T07:45:00Z"),
    ("I value quiet mornings before work.", "2025-03-15T06:50:00Z"),
]


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
