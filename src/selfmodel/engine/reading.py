"""Reading the self-model: beliefs with their evidence and history, context, traces, export."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from selfmodel.domain import (
    Belief,
    BeliefDetail,
    BeliefEvent,
    BeliefKind,
    BeliefStatus,
    ContextResult,
    EvidenceDetail,
    new_id,
)
from selfmodel.domain.time import utcnow
from selfmodel.engine.base import (
    EngineBase,
    parse_enum,
)
from selfmodel.errors import (
    InvalidInputError,
    TraceNotFoundError,
)
from selfmodel.retrieval import Scope
from selfmodel.storage import BeliefFilter, TraceRecord


class Reading(EngineBase):
    """Everything that reads the self-model (``context`` records a trace, nothing else)."""

    # -- reading the self-model --------------------------------------------------------------
    def beliefs(
        self,
        user: str,
        *,
        kind: BeliefKind | str | None = None,
        status: BeliefStatus | str | Sequence[BeliefStatus | str] | None = BeliefStatus.ACTIVE,
        context: str | None = None,
        min_confidence: float | None = None,
        limit: int | None = None,
    ) -> list[Belief]:
        """The user's beliefs, newest first. ``status=None`` means every status."""
        u = self.user(user)
        statuses: tuple[BeliefStatus, ...]
        if status is None:
            statuses = ()
        elif isinstance(status, (str, BeliefStatus)):
            statuses = (parse_enum(BeliefStatus, status, "status"),)
        else:
            statuses = tuple(parse_enum(BeliefStatus, s, "status") for s in status)
        ctx_id = None
        if context is not None:
            ctx = self._c.store.get_context(self.workspace.id, context)
            if ctx is None:
                return []
            ctx_id = ctx.id
        if min_confidence is not None and not 0.0 <= min_confidence <= 1.0:
            raise InvalidInputError("min_confidence must be within [0, 1]")
        return self._c.store.list_beliefs(
            self.workspace.id,
            BeliefFilter(
                user_ids=(u.id,),
                statuses=statuses,
                kinds=(parse_enum(BeliefKind, kind, "kind"),) if kind is not None else (),
                context_id=ctx_id,
                min_confidence=min_confidence,
                limit=limit,
            ),
        )

    def belief(self, belief_id: str) -> BeliefDetail:
        """A belief with its evidence (and the observations quoted) and its full history."""
        belief = self._get_belief(belief_id)
        store = self._c.store
        evidence = store.list_evidence(self.workspace.id, [belief.id])
        observations = {
            o.id: o
            for o in store.get_observations(self.workspace.id, [e.observation_id for e in evidence])
        }
        return BeliefDetail(
            belief=belief,
            evidence=[
                EvidenceDetail(evidence=e, observation=observations[e.observation_id])
                for e in evidence
                if e.observation_id in observations
            ],
            history=store.list_events(self.workspace.id, belief_id=belief.id),
        )

    def history(self, belief_id: str) -> list[BeliefEvent]:
        return self._c.store.list_events(
            self.workspace.id, belief_id=self._get_belief(belief_id).id
        )

    # -- context -----------------------------------------------------------------------------
    def context(
        self,
        user: str | Sequence[str],
        query: str,
        *,
        budget_tokens: int | None = None,
        context: str | None = None,
        limit: int | None = None,
        now: datetime | None = None,
        moments: bool = True,
    ) -> ContextResult:
        """A prompt-ready block about ``user`` (or several users) for ``query``, and its trace.

        ``moments=False`` draws the block from the self-model alone (profile and beliefs, no raw
        observations): what the model knows, without the transcript behind it.
        """
        if not isinstance(query, str) or not query.strip():
            raise InvalidInputError("query must be a non-empty string")
        budget = (
            budget_tokens if budget_tokens is not None else self._c.settings.default_budget_tokens
        )
        if budget <= 0:
            raise InvalidInputError("budget_tokens must be positive")
        if limit is not None and limit <= 0:
            raise InvalidInputError("limit must be positive")
        names = [user] if isinstance(user, str) else list(user)
        if not names:
            raise InvalidInputError("at least one user is needed")
        users = tuple(self.user(name) for name in names)
        ctx_id = None
        if context is not None:
            ctx = self._c.store.get_context(self.workspace.id, context)
            ctx_id = ctx.id if ctx else new_id("ctx")  # unknown context: only global beliefs
        return self._c.retriever.context(
            Scope(self.workspace.id, users, ctx_id),
            query,
            budget_tokens=budget,
            limit=limit,
            now=now,
            moments=moments,
        )

    def trace(self, trace_id: str) -> TraceRecord:
        found = self._c.store.get_trace(self.workspace.id, trace_id)
        if found is None:
            raise TraceNotFoundError(f"no trace {trace_id!r} in workspace {self.workspace.name!r}")
        return found

    def timeline(self, user: str) -> list[BeliefEvent]:
        """Every change to the user's self-model, newest first."""
        u = self.user(user)
        return list(reversed(self._c.store.list_events(self.workspace.id, user_id=u.id)))

    # -- export -------------------------------------------------------------------
    def export(self, user: str) -> dict[str, Any]:
        """Everything stored about ``user``, as JSON-ready data."""
        u = self.user(user)
        store = self._c.store
        ws = self.workspace.id
        beliefs = store.list_beliefs(ws, BeliefFilter(user_ids=(u.id,), statuses=()))
        evidence = store.list_evidence(ws, [b.id for b in beliefs])
        return {
            "format": "selfmodel.export/1",
            "exported_at": utcnow().isoformat(),
            "workspace": self.workspace.name,
            "user": u.model_dump(mode="json"),
            "observations": [
                o.model_dump(mode="json") for o in store.list_observations(ws, [u.id])
            ],
            "beliefs": [b.model_dump(mode="json") for b in beliefs],
            "evidence": [e.model_dump(mode="json") for e in evidence],
            "history": [e.model_dump(mode="json") for e in store.list_events(ws, user_id=u.id)],
            "prompts": [p.model_dump(mode="json") for p in store.list_prompts(ws, u.id)],
        }
