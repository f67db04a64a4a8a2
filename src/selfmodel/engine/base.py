"""What every part of the engine shares: the components, the workspace, lookups, validation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from selfmodel.config import ExtractionSettings, Settings
from selfmodel.domain import Belief, BeliefEventType, User, Workspace
from selfmodel.domain.text import check_text
from selfmodel.embedding import Embedder
from selfmodel.engine.unit_of_work import UnitsOfWork
from selfmodel.errors import (
    BeliefNotFoundError,
    InvalidInputError,
    UserNotFoundError,
)
from selfmodel.extraction import Extractor
from selfmodel.extraction.language import Language
from selfmodel.retrieval import Retriever
from selfmodel.revision import Reviser
from selfmodel.revision.history import record_event
from selfmodel.revision.traits import Traits
from selfmodel.storage import Store
from selfmodel.telemetry import Telemetry

MAX_USER_ID_CHARS = 200
MAX_STATEMENT_CHARS = 1_000


def extractor_from_settings(
    settings: ExtractionSettings, language: Language | None = None
) -> Extractor:
    """The extractor the settings ask for (``language``: the parser it may share)."""
    if settings.extractor == "local":
        from selfmodel.extraction.local import LocalExtractor

        return LocalExtractor(language or Language(settings.spacy_model))
    from selfmodel.extraction.llm import LLMExtractor

    return LLMExtractor.from_settings(settings)


@dataclass
class Components:
    """Everything a workspace view shares: one store, one model, one set of warm indexes."""

    settings: Settings
    store: Store
    embedder: Embedder
    extractor: Extractor
    retriever: Retriever
    reviser: Reviser
    traits: Traits
    units: UnitsOfWork
    telemetry: Telemetry


class EngineBase:
    """A view of the engine bound to one workspace; the feature classes build on it."""

    def __init__(self, components: Components, workspace: Workspace) -> None:
        self._c = components
        self.workspace = workspace

    @property
    def store(self) -> Store:
        return self._c.store

    @property
    def settings(self) -> Settings:
        return self._c.settings

    def warm_up(self) -> None:
        """Load now what loads on first use, the embedding model and the language pipeline,
        so that no request pays for it: a server calls this before it takes traffic."""
        self._c.embedder.warm_up()  # a local model; an embedding service is not called
        self._c.retriever.language.parse(["warm up"])

    def users(self) -> list[User]:
        return self._c.store.list_users(self.workspace.id)

    def user(self, external_id: str) -> User:
        """A user by the product's own id."""
        found = self._c.store.get_user(self.workspace.id, external_id)
        if found is None:
            raise self._no_user(external_id)
        return found

    def _no_user(self, external_id: str) -> UserNotFoundError:
        return UserNotFoundError(f"no user {external_id!r} in workspace {self.workspace.name!r}")

    def user_by_id(self, user_id: str) -> User:
        """A user by selfmodel's own id (what Mirror sessions carry)."""
        found = self._c.store.get_user_by_id(self.workspace.id, user_id)
        if found is None:
            raise UserNotFoundError(f"no user with id {user_id!r} in this workspace")
        return found

    def _get_belief(self, belief_id: str) -> Belief:
        found = self._c.store.get_belief(self.workspace.id, belief_id)
        if found is None:
            raise BeliefNotFoundError(
                f"no belief {belief_id!r} in workspace {self.workspace.name!r}"
            )
        return found

    def _record(
        self,
        belief: Belief,
        event: BeliefEventType,
        before: float | None,
        after: float | None,
        *,
        cause: str,
        details: dict[str, Any] | None = None,
    ) -> None:
        """Append one event to the belief's history (inside the caller's transaction)."""
        record_event(
            self._c.store, belief, event, cause=cause, before=before, after=after, details=details
        )


def parse_enum(cls: Any, value: Any, field: str) -> Any:
    """``cls(value)``, or an ``InvalidInputError`` that lists the allowed values."""
    try:
        return cls(value)
    except ValueError:
        allowed = ", ".join(m.value for m in cls)
        raise InvalidInputError(
            f"{field} {value!r} is not one of: {allowed}", field=field
        ) from None


def check_user_id(user: Any) -> None:
    if not isinstance(user, str) or not user.strip():
        raise InvalidInputError("user must be a non-empty string (the product's own user id)")
    if len(user) > MAX_USER_ID_CHARS:
        raise InvalidInputError(f"user id is longer than {MAX_USER_ID_CHARS} characters")
    check_text(user, "user id")


def check_statement(statement: Any) -> str:
    if not isinstance(statement, str) or not statement.strip():
        raise InvalidInputError("statement must be a non-empty string")
    if len(statement) > MAX_STATEMENT_CHARS:
        raise InvalidInputError(f"statement is longer than {MAX_STATEMENT_CHARS} characters")
    check_text(statement, "statement")
    return statement.strip()
