"""``SelfModel``: the engine that ties storage, extraction, revision and retrieval together.

One ``SelfModel`` is bound to one workspace; ``in_workspace`` and ``for_workspace`` give a sibling
bound to another that shares the same store, model and warm indexes (the HTTP server binds each
request with ``for_workspace`` to the workspace its key was found in). Its features live in one
module each: observing, background jobs, reading, debugging (the past, replay, why-not),
corrections, the Mirror, outcomes, experiments, retention, monitoring (drift, personalization,
the joined report), evaluation (eval runs, drift checks, alerts), and the audit over all of
them.
"""

from __future__ import annotations

from typing import Any

from selfmodel.config import MAX_MIRROR_LINK_TTL_S, MIN_MIRROR_LINK_TTL_S, Settings
from selfmodel.domain import Workspace
from selfmodel.embedding import Embedder, embedder_from_settings
from selfmodel.engine.auditing import Auditing
from selfmodel.engine.base import (
    MAX_STATEMENT_CHARS,
    MAX_USER_ID_CHARS,
    Components,
    extractor_from_settings,
)
from selfmodel.engine.corrections import Corrections
from selfmodel.engine.debugging import Debugging
from selfmodel.engine.evaluation import DriftCheck, Evaluation
from selfmodel.engine.experiments import Experiments
from selfmodel.engine.jobs import BackgroundWork
from selfmodel.engine.mirror import (
    MAX_CARD_SOURCE_CHARS,
    MAX_CARDS_PER_CALL,
    MirrorFeatures,
)
from selfmodel.engine.observing import IngestSummary
from selfmodel.engine.outcomes import Outcomes
from selfmodel.engine.reading import Reading
from selfmodel.engine.retention import Retention
from selfmodel.engine.unit_of_work import UnitsOfWork
from selfmodel.errors import WorkspaceNotFoundError
from selfmodel.extraction import Extractor
from selfmodel.extraction.language import Language
from selfmodel.retrieval import RankingConfig, Retriever, TokenCounter
from selfmodel.revision import Reviser
from selfmodel.revision.traits import Traits
from selfmodel.storage import Store, open_store
from selfmodel.telemetry import Telemetry


class SelfModel(
    Auditing,
    BackgroundWork,
    Debugging,
    Reading,
    Corrections,
    MirrorFeatures,
    Outcomes,
    Experiments,
    Retention,
    Evaluation,
):
    """A persistent self-model for every user of a product, bound to one workspace."""

    @classmethod
    def open(
        cls,
        location: str | Store | None = None,
        *,
        workspace: str | None = None,
        settings: Settings | None = None,
        embedder: Embedder | None = None,
        extractor: Extractor | None = None,
        ranking: RankingConfig | None = None,
        tracer_provider: Any | None = None,
    ) -> SelfModel:
        """Open (creating if needed) the store at ``location`` (default: ``SELFMODEL_DB``): a
        SQLite file path, a ``postgresql://`` URL, or a ``Store`` already open (closed with the
        engine). ``ranking`` replaces the default ranking weights (e.g. to evaluate a variant).
        ``tracer_provider``: an OpenTelemetry ``TracerProvider`` for selfmodel's spans instead of
        the global one (docs/debugging.md)."""
        settings = settings or Settings()
        store = (
            location
            if isinstance(location, Store)
            else open_store(str(location or settings.database.db))
        )
        try:
            embedder = embedder or embedder_from_settings(settings.embedding)
            language = Language(settings.extraction.spacy_model)
            extractor = extractor or extractor_from_settings(settings.extraction, language)
            ws = store.get_or_create_workspace(workspace or settings.database.workspace)
        except BaseException:
            store.close()
            raise
        retriever = Retriever(store, embedder, TokenCounter(), config=ranking, language=language)
        components = Components(
            settings=settings,
            store=store,
            embedder=embedder,
            extractor=extractor,
            retriever=retriever,
            reviser=Reviser(store, embedder.name),
            traits=Traits(store, embedder),
            units=UnitsOfWork(store),
            telemetry=Telemetry(settings.telemetry, tracer_provider),
        )
        return cls(components, ws)

    def for_workspace(self, workspace: Workspace) -> SelfModel:
        """A view of the same store bound to ``workspace``, as found (reads and writes nothing).

        The HTTP server binds each request this way to the workspace its key was found in.
        """
        return SelfModel(self._c, workspace)

    def in_workspace(self, name: str) -> SelfModel:
        """A view of the same store bound to workspace ``name`` (created if missing)."""
        return SelfModel(self._c, self._c.store.get_or_create_workspace(name))

    def in_existing_workspace(self, name: str) -> SelfModel:
        """A view of the same store bound to workspace ``name``, which must exist."""
        found = self._c.store.get_workspace(name)
        if found is None:
            raise WorkspaceNotFoundError(f"no workspace {name!r}")
        return SelfModel(self._c, found)

    def close(self) -> None:
        self._c.store.close()

    def __enter__(self) -> SelfModel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = [
    "MAX_CARDS_PER_CALL",
    "MAX_CARD_SOURCE_CHARS",
    "MAX_MIRROR_LINK_TTL_S",
    "MAX_STATEMENT_CHARS",
    "MAX_USER_ID_CHARS",
    "MIN_MIRROR_LINK_TTL_S",
    "DriftCheck",
    "IngestSummary",
    "SelfModel",
    "extractor_from_settings",
]
