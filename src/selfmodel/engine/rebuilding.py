"""A traced call's self-model rebuilt under another extractor, in a throwaway store.

A replay under another ranking reads the past from the store's history; a replay under another
extractor cannot: the beliefs of the past came from the recorded extractor. So the same
observations (those the call's users had at the trace's revision) go through the real pipeline
again — extract, embed, revise — into a temporary SQLite file that is deleted afterwards. The
real store is only read. Observation ids are kept, so moments and evidence compare across the
two stores; the rebuilt beliefs have new ids (docs/debugging.md, "Another extractor or
embedder").
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path

from selfmodel.domain import Observation, User
from selfmodel.engine.base import Components, extractor_from_settings
from selfmodel.engine.understanding import prepare, revise
from selfmodel.engine.unit_of_work import UnitsOfWork
from selfmodel.errors import ConfigurationError, InvalidInputError
from selfmodel.extraction import Extractor
from selfmodel.retrieval import Retriever, Scope, TokenCounter
from selfmodel.retrieval.index import ScopeIndex
from selfmodel.revision import Reviser
from selfmodel.revision.traits import Traits
from selfmodel.storage import AsOf, open_store

# Extractors a replay can construct by name (config.py's ``ExtractionSettings.extractor``).
EXTRACTORS = ("local", "llm")


@dataclass(frozen=True)
class Rebuilt:
    """The scope rebuilt: its retriever (over the throwaway store), scope and index."""

    retriever: Retriever
    scope: Scope
    index: ScopeIndex


def extractor_named(c: Components, name: object) -> Extractor:
    """The engine's own extractor if it has that name, else one built from the settings."""
    if not isinstance(name, str) or name not in EXTRACTORS:
        raise InvalidInputError(
            f"unknown extractor {name!r}; a replay can rebuild under {list(EXTRACTORS)}",
            field="config",
        )
    if c.extractor.name == name:
        return c.extractor
    try:
        return extractor_from_settings(
            c.settings.extraction.model_copy(update={"extractor": name}), c.retriever.language
        )
    except ConfigurationError as exc:
        raise InvalidInputError(
            f"cannot build extractor {name!r} from this engine's settings: {exc}", field="config"
        ) from exc


@contextmanager
def rebuilt_scope(
    c: Components, scope: Scope, revisions: dict[str, int], extractor: Extractor
) -> Iterator[Rebuilt]:
    """The users of ``scope`` rebuilt from their observations at ``revisions`` with
    ``extractor``, in a temporary SQLite store that is gone when the block exits."""
    with tempfile.TemporaryDirectory(prefix="selfmodel-replay-") as folder:
        store = open_store(str(Path(folder) / "replay.db"))
        try:
            retriever = Retriever(
                store, c.embedder, TokenCounter(), config=c.retriever.config,
                language=c.retriever.language,
            )  # fmt: skip
            parts = Components(
                settings=c.settings,
                store=store,
                embedder=c.embedder,
                extractor=extractor,
                retriever=retriever,
                reviser=Reviser(store, c.embedder.name),
                traits=Traits(store, c.embedder),
                units=UnitsOfWork(store),
                telemetry=c.telemetry,
            )
            ws = store.get_or_create_workspace(scope.workspace_id)
            # The area keeps its real id as its name: the observations' area maps onto it.
            area = store.get_or_create_context(ws.id, scope.area_id) if scope.area_id else None
            users: list[User] = []
            for user in scope.users:
                then = c.store.observations_as_of(
                    scope.workspace_id, user.id, AsOf(revisions={user.id: revisions[user.id]})
                )
                users.append(_replay_user(parts, ws.id, user, then, area.id if area else None))
            again = Scope(ws.id, tuple(users), area.id if area else None)
            ids = [u.id for u in users]
            now = dict(zip(ids, store.user_revisions(ws.id, ids), strict=True))
            yield Rebuilt(retriever, again, retriever.index_as_of(again, now))
        finally:
            store.close()


def _replay_user(
    c: Components,
    workspace_id: str,
    user: User,
    observations: list[Observation],
    area_id: str | None,
) -> User:
    """``user``'s observations observed again, one recorded batch (one observe call) at a
    time in the order they were recorded, as the real pipeline saw them."""
    store = c.store
    u = store.get_or_create_user(workspace_id, user.external_id)
    ordered = sorted(observations, key=lambda o: (o.recorded_at, o.occurred_at, o.id))
    for _, batch in groupby(ordered, key=lambda o: o.recorded_at):
        placed = [
            o.model_copy(
                update={
                    "workspace_id": workspace_id,
                    "user_id": u.id,
                    "area_id": area_id if o.area_id else None,
                }
            )
            for o in batch
        ]
        prepared = prepare(c, u, placed)  # slow work before the lock, as observe does
        with c.units.begin() as unit:
            unit.hold(workspace_id, u.id)
            inserted = store.insert_observations(placed)
            if inserted:
                revise(c, prepared.narrowed(u, inserted))
        u = store.get_user(workspace_id, user.external_id) or u
    return u
