"""Reading the self-model: beliefs with their evidence and history, context, traces, export."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from selfmodel.deprecation import renamed_keyword
from selfmodel.domain import (
    Belief,
    BeliefDetail,
    BeliefEvent,
    BeliefKind,
    BeliefStatus,
    ContextResult,
    EvidenceDetail,
    EvidenceStance,
    TraceRecord,
    new_id,
)
from selfmodel.domain.profile import Conflict, Profile
from selfmodel.domain.records import DEFAULT_TRACES, MAX_TRACES
from selfmodel.domain.text import check_text
from selfmodel.domain.time import to_utc, utcnow
from selfmodel.engine.base import (
    EngineBase,
    parse_enum,
)
from selfmodel.engine.experiments import enter_experiments
from selfmodel.errors import (
    InvalidInputError,
    TraceNotFoundError,
)
from selfmodel.experiments.definition import context_settings
from selfmodel.retrieval import Scope
from selfmodel.revision.confidence import as_of
from selfmodel.revision.profile import build_profile
from selfmodel.storage import BeliefFilter
from selfmodel.telemetry import (
    CONTEXT_SPAN,
    SEARCH_MEMORY,
    SpanRecorder,
    experiment_attributes,
)

# 2: resonance cards under "cards" (were "prompts"), observations and beliefs carry "area_id"
# (was "context_id").
EXPORT_FORMAT = "selfmodel.export/2"


class Reading(EngineBase):
    """Everything that reads the self-model (``context`` records a trace, nothing else)."""

    # -- reading the self-model --------------------------------------------------------------
    def beliefs(
        self,
        user: str,
        *,
        kind: BeliefKind | str | None = None,
        status: BeliefStatus | str | Sequence[BeliefStatus | str] | None = BeliefStatus.ACTIVE,
        area: str | None = None,
        min_confidence: float | None = None,
        limit: int | None = None,
        now: datetime | None = None,
        context: str | None = None,
    ) -> list[Belief]:
        """The user's beliefs, newest first, as of ``now`` (default: the present).

        Confidence and status are what they are at that moment: a belief whose evidence has
        faded reads as ``decayed`` without anything having to run (docs/confidence.md).
        ``status=None`` means every status. ``area``: only the beliefs of that area and the
        global ones (``context`` is its deprecated name).
        """
        area = renamed_keyword(area, context, new="area", old="context")
        u = self.user(user)
        wanted: tuple[BeliefStatus, ...]
        if status is None:
            wanted = ()
        elif isinstance(status, (str, BeliefStatus)):
            wanted = (parse_enum(BeliefStatus, status, "status"),)
        else:
            wanted = tuple(parse_enum(BeliefStatus, s, "status") for s in status)
        area_id = None
        if area is not None:
            place = self._c.store.get_context(self.workspace.id, area)
            if place is None:
                return []
            area_id = place.id
        if min_confidence is not None and not 0.0 <= min_confidence <= 1.0:
            raise InvalidInputError("min_confidence must be within [0, 1]")
        # Active and decayed are read together: which one a belief is depends on the moment.
        read = set(wanted)
        if read & {BeliefStatus.ACTIVE, BeliefStatus.DECAYED}:
            read |= {BeliefStatus.ACTIVE, BeliefStatus.DECAYED}
        moment = to_utc(now) if now else utcnow()
        found = [
            as_of(b, moment)
            for b in self._c.store.list_beliefs(
                self.workspace.id,
                BeliefFilter(
                    user_ids=(u.id,),
                    statuses=tuple(sorted(read)),
                    kinds=(parse_enum(BeliefKind, kind, "kind"),) if kind is not None else (),
                    context_id=area_id,  # the storage layer's name for the area
                ),
            )
        ]
        found = [
            b
            for b in found
            if (not wanted or b.status in wanted)
            and (min_confidence is None or b.confidence >= min_confidence)
        ]
        return found[:limit] if limit is not None else found

    def profile(self, user: str, *, now: datetime | None = None) -> Profile:
        """The layer above single beliefs: current facets and what they replaced, people, pets,
        interests, likes, values, goals, how to answer, and open conflicts (as of ``now``)."""
        u = self.user(user)
        moment = to_utc(now) if now else utcnow()
        beliefs = self._c.store.list_beliefs(
            self.workspace.id, BeliefFilter(user_ids=(u.id,), statuses=())
        )
        return build_profile(u, beliefs, self._supporters(beliefs), moment)

    def conflicts(self, user: str, *, now: datetime | None = None) -> list[Conflict]:
        """Active beliefs that deny each other: questions for the user, not two truths."""
        return self.profile(user, now=now).conflicts

    def _supporters(self, beliefs: Sequence[Belief]) -> dict[str, set[str]]:
        """Observation id -> the beliefs it supports (only for observations some belief
        disputes: what conflicts are made of)."""
        disputed = {o for b in beliefs for o in b.metadata.get("conflicting_observations", [])}
        if not disputed:
            return {}
        out: dict[str, set[str]] = {}
        for e in self._c.store.list_evidence(self.workspace.id, [b.id for b in beliefs]):
            if e.stance is EvidenceStance.SUPPORTS and e.observation_id in disputed:
                out.setdefault(e.observation_id, set()).add(e.belief_id)
        return out

    def belief(self, belief_id: str) -> BeliefDetail:
        """A belief with its evidence (and the observations quoted, while they are kept) and its
        full history."""
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
                EvidenceDetail(evidence=e, observation=observations.get(e.observation_id))
                for e in evidence
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
        area: str | None = None,
        limit: int | None = None,
        now: datetime | None = None,
        moments: bool = True,
        context: str | None = None,
    ) -> ContextResult:
        """A prompt-ready block about ``user`` (or several users) for ``query``, and its trace.

        ``area`` reads that area's beliefs and observations plus the global ones (``context`` is
        its deprecated name). ``moments=False`` draws the block from the self-model alone
        (profile and beliefs, no raw observations): what the model knows, without the transcript
        behind it.
        """
        area = renamed_keyword(area, context, new="area", old="context")  # warns at the caller
        with self._c.telemetry.span(CONTEXT_SPAN, SEARCH_MEMORY, self.workspace) as span:
            result = self._context(span, user, query, budget_tokens, area, limit, now, moments)
            span.set(
                {
                    "selfmodel.trace_id": result.trace_id,
                    "selfmodel.items": len(result.items),
                    "selfmodel.tokens": result.tokens,
                    "selfmodel.budget_tokens": result.budget_tokens,
                    "selfmodel.latency_ms": result.latency_ms,
                    **experiment_attributes(result.config),
                }
            )
            return result

    def _context(
        self,
        span: SpanRecorder,
        user: str | Sequence[str],
        query: str,
        budget_tokens: int | None,
        area: str | None,
        limit: int | None,
        now: datetime | None,
        moments: bool,
    ) -> ContextResult:
        if not isinstance(query, str) or not query.strip():
            raise InvalidInputError("query must be a non-empty string")
        check_text(query, "query")
        check_text(area, "area")
        budget = (
            budget_tokens
            if budget_tokens is not None
            else self._c.settings.retrieval.default_budget_tokens
        )
        if budget <= 0:
            raise InvalidInputError("budget_tokens must be positive")
        if limit is not None and limit <= 0:
            raise InvalidInputError("limit must be positive")
        # A name given twice is one user (twice, the trace named them twice and its write
        # failed on the store's key).
        names = [user] if isinstance(user, str) else list(dict.fromkeys(user))
        if not names:
            raise InvalidInputError("at least one user is needed")
        span.set(
            {
                "selfmodel.users": len(names),
                "selfmodel.limit": limit,
                "selfmodel.area_given": area is not None,
            }
        )
        # The users, their watermarks (the index's refresh starts from them) and whether any
        # experiment runs, in one read.
        start = self._c.store.start_context(self.workspace.id, names)
        found = {user.external_id: (user, mark) for user, mark in start.users}
        for name in names:
            if name not in found:
                raise self._no_user(name)
        users = tuple(found[name][0] for name in names)
        # Only users found are named: an unknown or refused id is not echoed into traces.
        span.set(self._c.telemetry.user_attributes(self.workspace, [u.external_id for u in users]))
        area_id = None
        if area is not None:
            place = self._c.store.get_context(self.workspace.id, area)
            area_id = place.id if place else new_id("ctx")  # unknown area: only global beliefs
        # A user in running experiments gets their variants' configuration (a call about
        # several users is about no one's variant: it runs as asked).
        configs, experiments = (
            enter_experiments(self, users[0])
            if len(users) == 1 and start.experiments_running
            else ([], [])
        )
        run = context_settings(self._c.retriever.config, configs)
        return self._c.retriever.context(
            Scope(self.workspace.id, users, area_id, tuple(found[n][1] for n in names)),
            query,
            budget_tokens=run.budget_tokens if run.budget_tokens is not None else budget,
            limit=limit,
            now=now,
            config=run.ranking,
            moments=run.moments if run.moments is not None else moments,
            personalized=run.personalized,
            experiments=experiments,
            on_choice=lambda choice: span.set(
                {
                    "selfmodel.candidates": len(choice.candidates),
                    "selfmodel.profile_items": len(choice.profile),
                }
            ),
        )

    def trace(self, trace_id: str) -> TraceRecord:
        found = self._c.store.get_trace(self.workspace.id, trace_id)
        if found is None:
            raise TraceNotFoundError(f"no trace {trace_id!r} in workspace {self.workspace.name!r}")
        return found

    def traces(
        self, user: str, *, limit: int = DEFAULT_TRACES, before: str | None = None
    ) -> list[TraceRecord]:
        """The user's context calls, newest first: ``limit`` of them (1 to ``MAX_TRACES``), older
        than trace ``before`` when given (the last of the previous page).

        Raises ``TraceNotFoundError`` for a ``before`` that is not a trace of this workspace.
        """
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_TRACES:
            raise InvalidInputError(f"limit must be from 1 to {MAX_TRACES}", field="limit")
        u = self.user(user)
        older = None if before is None else self.trace(before)
        return self._c.store.recent_traces(self.workspace.id, u.id, limit=limit, before=older)

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
            "format": EXPORT_FORMAT,
            "exported_at": utcnow().isoformat(),
            "workspace": self.workspace.name,
            "user": u.model_dump(mode="json"),
            "observations": [
                o.model_dump(mode="json") for o in store.list_observations(ws, [u.id])
            ],
            "beliefs": [b.model_dump(mode="json") for b in beliefs],
            "evidence": [e.model_dump(mode="json") for e in evidence],
            "history": [e.model_dump(mode="json") for e in store.list_events(ws, user_id=u.id)],
            "cards": [c.model_dump(mode="json") for c in store.list_prompts(ws, u.id)],
            # Traces quote the user's queries and words; forget deletes them, export shows them.
            "traces": [_trace_json(t, u.id) for t in store.list_traces(ws, u.id)],
            "outcomes": [o.model_dump(mode="json") for o in store.list_outcomes(ws, u.id)],
            "exposures": [
                x.model_dump(mode="json") for x in store.list_exposures(ws, user_id=u.id)
            ],
        }


def _trace_json(trace: TraceRecord, user_id: str) -> dict[str, Any]:
    """A trace for the user's export. One that read other users too is named, not shown: its
    query and payload may quote them."""
    if set(trace.user_ids) != {user_id}:
        return {"id": trace.id, "created_at": trace.created_at.isoformat(), "shared": True}
    return {
        **asdict(trace),
        "user_ids": list(trace.user_ids),
        "created_at": trace.created_at.isoformat(),
        "shared": False,
    }
