"""Debugging a context call: the self-model as it was, replay and diff, "why not X?", lineage.

Every trace records the version of the self-model it read — each user's revision, which every
write that holds the user moves and stamps on what it writes — so the rows a call saw can be read
back exactly from the store's history (``belief_versions``, revision-stamped observations,
evidence and vectors, ``vector_history``). See docs/debugging.md for the story and the two times
(record time and valid time) kept apart.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from math import isfinite
from typing import Any

import numpy as np

from selfmodel.domain import (
    Belief,
    BeliefStatus,
    ContextItem,
    EvidenceStance,
    TraceRecord,
    User,
)
from selfmodel.domain.debugging import (
    BeliefAsOf,
    Extraction,
    ItemChange,
    Lineage,
    ModelAsOf,
    ReplayResult,
    SignalChange,
    Verdict,
    WhyNot,
)
from selfmodel.domain.time import to_utc, utcnow
from selfmodel.engine.base import parse_enum
from selfmodel.engine.reading import Reading
from selfmodel.engine.rebuilding import extractor_named, rebuilt_scope
from selfmodel.errors import (
    InvalidInputError,
    NotFoundError,
    ReplayUnavailableError,
    UserNotFoundError,
)
from selfmodel.retrieval import RankingConfig, Retriever, Scope
from selfmodel.retrieval.index import OBSERVATION, ScopeIndex, is_chatter
from selfmodel.retrieval.retriever import BudgetStep, Choice
from selfmodel.revision.confidence import as_of, current_status
from selfmodel.storage import AsOf

# The fields of a trace's payload that are the choice itself: a replay under the recorded
# configuration must reproduce each exactly.
CHOICE_FIELDS = (
    "matched_query",
    "temporal",
    "request",
    "indexed_items",
    "candidates",
    "chosen",
    "covered_moments",
    "withheld_moments",
    "text",
    "tokens",
)
# The fields a replay on a rebuilt self-model compares: the rest name items by id, and the
# rebuilt beliefs have new ones (chosen items compare by evidence and text, held moments by id).
REBUILT_FIELDS = (
    "matched_query",
    "temporal",
    "request",
    "indexed_items",
    "chosen",
    "covered_moments",
    "text",
    "tokens",
)
# How a replay matched the items of the two blocks (``ReplayResult.compared_by``).
BY_ID = "id"
BY_EVIDENCE = "evidence_and_text"
# What a replay may change, beside the ranking weights (``RankingConfig``). ``personalized``:
# whether the call read the self-model (an experiment's control reads an empty one).
CALL_SETTINGS = ("budget_tokens", "limit", "moments", "personalized")
# Ranking settings the arithmetic needs above a floor (a half-life divides; a pool of none ranks
# nothing); weights may be anything finite.
RANKING_FLOORS: dict[str, float] = {
    "recency_half_life_days": 1e-9,
    "candidate_pool": 1,
    "rrf_k": 0,
}


@dataclass(frozen=True)
class _Recomputed:
    """A traced call computed again: its choice, the payload a trace of it would record (as
    JSON reads it back), and what it was computed from."""

    choice: Choice
    payload: dict[str, Any]
    call: Any  # the retriever's analysed call
    index: ScopeIndex
    ranking: RankingConfig


class Debugging(Reading):
    """Reading the past: beliefs as of a moment or a trace, replay, why-not, lineage."""

    # -- the self-model as it was ------------------------------------------------------------
    def beliefs_as_of(
        self,
        user: str,
        *,
        at: datetime | None = None,
        trace_id: str | None = None,
        valid_at: datetime | None = None,
        status: BeliefStatus | str | Sequence[BeliefStatus | str] | None = BeliefStatus.ACTIVE,
    ) -> ModelAsOf:
        """The user's beliefs as they were: what had been written by record time ``at`` (or
        what trace ``trace_id`` read), read at valid time ``valid_at`` (default: ``at``, or
        the trace's ``now``). ``status`` as for ``beliefs`` (``None``: every status).

        Raises ``UserNotFoundError`` for a forgotten user: nothing of them is kept, past or
        present.
        """
        if at is not None and trace_id is not None:
            raise InvalidInputError("give at or trace_id, not both")
        u = self.user(user)
        wanted = _statuses(status)
        revision: int | None = None
        if trace_id is not None:
            trace = self.trace(trace_id)
            revision = _revisions(trace).get(u.id)
            if revision is None:
                raise InvalidInputError(
                    f"trace {trace_id!r} did not read user {user!r}", field="user"
                )
            recorded_at = trace.created_at
            moment = to_utc(valid_at) if valid_at else _trace_now(trace)
            read = AsOf(revisions={u.id: revision})
        else:
            recorded_at = to_utc(at) if at else utcnow()
            moment = to_utc(valid_at) if valid_at else recorded_at
            read = AsOf(recorded_at=recorded_at)
        store = self._c.store
        supports: dict[str, list[str]] = {}
        contradicts: dict[str, list[str]] = {}
        for e in store.evidence_as_of(self.workspace.id, u.id, read):
            side = supports if e.stance is EvidenceStance.SUPPORTS else contradicts
            side.setdefault(e.belief_id, []).append(e.observation_id)
        beliefs = [as_of(b, moment) for b in store.beliefs_as_of(self.workspace.id, u.id, read)]
        return ModelAsOf(
            user_id=u.id,
            valid_at=moment,
            recorded_at=recorded_at,
            revision=revision,
            trace_id=trace_id,
            beliefs=[
                BeliefAsOf(
                    belief=b,
                    supported_by=supports.get(b.id, []),
                    contradicted_by=contradicts.get(b.id, []),
                )
                for b in beliefs
                if not wanted or b.status in wanted
            ],
        )

    # -- replay ------------------------------------------------------------------------------
    def replay(self, trace_id: str, config: Mapping[str, Any] | None = None) -> ReplayResult:
        """Compute trace ``trace_id``'s context call again against the self-model as it was,
        under its recorded configuration or with ``config`` laid over it, and diff the two.

        ``config`` has the shape of a trace's config: ``{"ranking": {"keyword_weight": 0},
        "budget_tokens": 500, "limit": 5, "moments": False}``; anything left out keeps the
        recorded value. ``{"extractor": "local"}`` (or ``"llm"``) rebuilds the users' self-model
        from the same observations with that extractor, in a throwaway store, and compares
        items by their evidence and text (their ids are new). The embedder cannot change (the
        past's vectors are of one model).
        """
        trace = self.trace(trace_id)
        overrides = dict(config or {})
        if "extractor" in overrides:
            return self._replay_rebuilt(trace, overrides)
        merged = _merged_config(trace.config, overrides, self._c.embedder.name)
        payload = self._recompute(trace, merged).payload
        differences = [f for f in CHOICE_FIELDS if payload.get(f) != trace.payload.get(f)]
        return self._result(trace, merged, overrides, payload, differences, BY_ID)

    def _replay_rebuilt(self, trace: TraceRecord, overrides: dict[str, Any]) -> ReplayResult:
        """The call again on its users' self-model rebuilt with another extractor."""
        extractor = extractor_named(self._c, overrides["extractor"])
        rest = {k: v for k, v in overrides.items() if k != "extractor"}
        merged = _merged_config(trace.config, rest, self._c.embedder.name)
        merged["extractor"] = extractor.name
        scope = self._scope(trace)
        revisions = _revisions(trace)
        missing = [u.id for u in scope.users if u.id not in revisions]
        if missing:
            raise ReplayUnavailableError(f"trace {trace.id!r} records no revision of {missing}")
        for u in scope.users:
            found = self._c.store.get_user(self.workspace.id, u.external_id)
            if found is None or found.id != u.id:
                # Forgotten: nothing of them may be read again, not even to rebuild.
                raise UserNotFoundError(f"user {u.external_id!r} of this trace was forgotten")
        with rebuilt_scope(self._c, scope, revisions, extractor) as rebuilt:
            index = (
                rebuilt.index
                if merged.get("personalized", True)
                else ScopeIndex([], np.zeros((0, self._c.embedder.dim), dtype=np.float32))
            )
            payload = self._run(trace, merged, rebuilt.retriever, rebuilt.scope, index).payload
        differences = [
            f for f in REBUILT_FIELDS if _stable(f, payload) != _stable(f, trace.payload)
        ]
        return self._result(trace, merged, overrides, payload, differences, BY_EVIDENCE)

    def _result(
        self,
        trace: TraceRecord,
        merged: dict[str, Any],
        overrides: dict[str, Any],
        payload: dict[str, Any],
        differences: list[str],
        compared_by: str,
    ) -> ReplayResult:
        before = trace.payload.get("chosen", [])
        after = payload["chosen"]
        items = _item_changes(before, after, _evidence_key if compared_by == BY_EVIDENCE else None)
        return ReplayResult(
            trace_id=trace.id,
            config=merged,
            recorded_config=trace.config,
            overrides=overrides,
            reproduced=not differences,
            differences=differences,
            compared_by=compared_by,
            gained=[i.id for i in items if i.change == "gained"],
            lost=[i.id for i in items if i.change == "lost"],
            items=items,
            chosen=[ContextItem.model_validate(item) for item in after],
            tokens_before=int(trace.payload.get("tokens", 0)),
            tokens_after=int(payload["tokens"]),
            text_before=str(trace.payload.get("text", "")),
            text_after=str(payload["text"]),
            model_version=trace.payload.get("model_version", {}),
        )

    def _recompute(self, trace: TraceRecord, config: dict[str, Any]) -> _Recomputed:
        """The call of ``trace`` computed again under ``config``, on the index as it was."""
        retriever = self._c.retriever
        scope = self._scope(trace)
        index = (
            self._index_then(trace, scope)
            if config.get("personalized", True)
            else ScopeIndex([], np.zeros((0, retriever.embedder.dim), dtype=np.float32))
        )
        return self._run(trace, config, retriever, scope, index)

    def _run(
        self,
        trace: TraceRecord,
        config: dict[str, Any],
        retriever: Retriever,
        scope: Scope,
        index: ScopeIndex,
    ) -> _Recomputed:
        """The call of ``trace`` computed under ``config`` on ``index``."""
        ranking = RankingConfig(**config["ranking"])
        recorded = trace.payload.get("query_vector")
        vector = None
        if recorded and retriever.matched_query(scope, trace.query, ranking) == trace.payload.get(
            "matched_query"
        ):
            # The vector the call used: embedding again may differ in the last bits.
            vector = np.frombuffer(base64.b64decode(recorded), dtype=np.float32)
        call = retriever.call_again(
            scope,
            trace.query,
            _trace_now(trace),
            ranking,
            moments=bool(config["moments"]),
            query_vector=vector,
        )
        choice, payload, _ = retriever.recompute(
            call, index, ranking, budget_tokens=int(config["budget_tokens"]), limit=config["limit"]
        )
        # As the store hands a payload back (JSON), so the comparison is of like with like.
        return _Recomputed(choice, json.loads(json.dumps(payload)), call, index, ranking)

    def _scope(self, trace: TraceRecord) -> Scope:
        users = trace.payload.get("users")
        if not users or "model_version" not in trace.payload:
            raise ReplayUnavailableError(
                f"trace {trace.id!r} was recorded before traces kept the model version they"
                " read; it can be read, not replayed"
            )
        return Scope(
            self.workspace.id,
            tuple(
                User(
                    id=u["id"],
                    workspace_id=self.workspace.id,
                    external_id=u["external_id"],
                    display_name=u["display_name"],
                    created_at=trace.created_at,
                )
                for u in users
            ),
            trace.payload.get("area_id"),
        )

    def _index_then(self, trace: TraceRecord, scope: Scope) -> ScopeIndex:
        revisions = _revisions(trace)
        missing = [u.id for u in scope.users if u.id not in revisions]
        if missing:
            raise ReplayUnavailableError(f"trace {trace.id!r} records no revision of {missing}")
        return self._c.retriever.index_as_of(scope, revisions)

    # -- why not X? --------------------------------------------------------------------------
    def why_not(self, trace_id: str, item_id: str) -> WhyNot:
        """Why belief or observation ``item_id`` was (not) in the block of trace ``trace_id``:
        whether it existed, was in scope and current then; else where each retriever ranked
        it, its score against the cutoff, and whether diversity or the budget removed it."""
        trace = self.trace(trace_id)
        merged = _merged_config(trace.config, {}, self._c.embedder.name)
        scope = self._scope(trace)
        item_type, owner = self._item_owner(item_id)
        revisions = _revisions(trace)
        if owner not in revisions:
            return _verdict(
                trace,
                item_id,
                item_type,
                Verdict.NOT_IN_SCOPE,
                "it is about another user than the ones this call read",
            )
        early = self._state_then(trace, scope, item_id, item_type, owner, revisions[owner])
        if early is not None:
            return early
        if not merged.get("personalized", True):
            return _verdict(
                trace,
                item_id,
                item_type,
                Verdict.NOT_PERSONALIZED,
                "the call ran with personalization off (an experiment's control): it read"
                " no one's self-model",
                {"experiments": trace.config.get("experiments", [])},
            )
        again = self._recompute(trace, merged)
        choice, budget = again.choice, int(merged["budget_tokens"])
        offered = [*choice.profile, *choice.ranked[: choice.wanted]]
        walk = self._c.retriever.budget_walk(again.index, offered, budget, scope)
        return _placement(
            trace,
            item_id,
            item_type,
            choice,
            again.index,
            self._c.retriever.full_ranking(again.call, again.index, again.ranking),
            budget,
            {c.index: step for c, step in zip(offered, walk, strict=True)},
        )

    def _item_owner(self, item_id: str) -> tuple[str, str]:
        """(item type, user id) of a belief or observation of this workspace."""
        belief = self._c.store.get_belief(self.workspace.id, item_id)
        if belief is not None:
            return "belief", belief.user_id
        found = self._c.store.get_observations(self.workspace.id, [item_id])
        if found:
            return OBSERVATION, found[0].user_id
        raise NotFoundError(f"no belief or observation {item_id!r} in this workspace")

    def _state_then(
        self,
        trace: TraceRecord,
        scope: Scope,
        item_id: str,
        item_type: str,
        owner: str,
        revision: int,
    ) -> WhyNot | None:
        """A verdict read from the item's own state at the call, if that settles it."""
        store, ws = self._c.store, self.workspace.id
        then = AsOf(revisions={owner: revision})
        now = _trace_now(trace)
        area = scope.area_id

        def say(verdict: Verdict, text: str, **details: Any) -> WhyNot:
            return _verdict(trace, item_id, item_type, verdict, text, details)

        if item_type == "belief":
            belief = next(
                (b for b in store.beliefs_as_of(ws, owner, then) if b.id == item_id), None
            )
            if belief is None:
                return say(Verdict.NOT_YET, "the belief did not exist yet when the call ran")
            status = current_status(belief, now)
            if status is BeliefStatus.REJECTED:
                return say(Verdict.REJECTED, "the user had rejected it", status=status.value)
            if status is BeliefStatus.SUPERSEDED:
                return say(
                    Verdict.SUPERSEDED,
                    "it had been superseded"
                    + (f" by {belief.superseded_by}" if belief.superseded_by else ""),
                    superseded_by=belief.superseded_by,
                    valid_to=belief.valid_to.isoformat() if belief.valid_to else None,
                )
            if status is BeliefStatus.DECAYED:
                return say(
                    Verdict.DECAYED,
                    "its evidence had faded: it was decayed at the call's moment",
                    last_evidence_at=_iso(belief.last_evidence_at),
                )
            if "after_rejection" in belief.metadata:
                return say(
                    Verdict.AWAITING_USER,
                    "it came back after the user rejected it and waits for their answer",
                )
            if area is not None and belief.area_id not in (None, area):
                return say(Verdict.NOT_IN_SCOPE, "it belongs to another area")
        else:
            observation = next(
                (o for o in store.observations_as_of(ws, owner, then) if o.id == item_id), None
            )
            if observation is None:
                return say(Verdict.NOT_YET, "the observation had not been recorded yet")
            if area is not None and observation.area_id not in (None, area):
                return say(Verdict.NOT_IN_SCOPE, "it happened in another area")
            if not trace.config.get("moments", True):
                return say(
                    Verdict.MOMENTS_OFF, "the call asked the self-model alone (moments=False)"
                )
            if is_chatter(observation.content):
                return say(Verdict.WITHHELD, "it only asks or chats: never a moment of a block")
        return None

    # -- lineage -----------------------------------------------------------------------------
    def lineage(self, trace_id: str, item_id: str) -> Lineage:
        """From an item of trace ``trace_id`` to its belief (then and now), every event of its
        history, its evidence observations, and the extractions that produced it."""
        trace = self.trace(trace_id)
        item_type, owner = self._item_owner(item_id)
        revisions = _revisions(trace)
        store, ws = self._c.store, self.workspace.id
        if item_type == OBSERVATION:
            # A raw moment is its own evidence: it came from the product, not from an extractor.
            return Lineage(
                trace_id=trace.id,
                item_id=item_id,
                item_type=item_type,
                observation=store.get_observations(ws, [item_id])[0],
            )
        then: Belief | None = None
        if owner in revisions:
            then = next(
                (
                    b
                    for b in store.beliefs_as_of(
                        ws, owner, AsOf(revisions={owner: revisions[owner]})
                    )
                    if b.id == item_id
                ),
                None,
            )
        detail = self.belief(item_id)
        return Lineage(
            trace_id=trace.id,
            item_id=item_id,
            item_type=item_type,
            belief_then=then,
            belief_now=detail.belief,
            history=detail.history,
            evidence=detail.evidence,
            extractions=[
                _extraction(e)
                for e in detail.history
                if e.observation_id or e.details.get("extractor")
            ],
        )


# -- helpers ---------------------------------------------------------------------------------
def _statuses(
    status: BeliefStatus | str | Sequence[BeliefStatus | str] | None,
) -> tuple[BeliefStatus, ...]:
    if status is None:
        return ()
    if isinstance(status, (str, BeliefStatus)):
        return (parse_enum(BeliefStatus, status, "status"),)
    return tuple(parse_enum(BeliefStatus, s, "status") for s in status)


def _revisions(trace: TraceRecord) -> dict[str, int]:
    version = trace.payload.get("model_version")
    if not isinstance(version, dict):
        raise ReplayUnavailableError(
            f"trace {trace.id!r} was recorded before traces kept the model version they read"
        )
    return {str(k): int(v) for k, v in version.get("revisions", {}).items()}


def _trace_now(trace: TraceRecord) -> datetime:
    return datetime.fromisoformat(trace.payload["now"])


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at else None


def _merged_config(
    recorded: Mapping[str, Any], overrides: Mapping[str, Any], embedder: str
) -> dict[str, Any]:
    """The recorded configuration with ``overrides`` laid over it, checked."""
    allowed = {"ranking", "embedder", "extractor", *CALL_SETTINGS}
    unknown = sorted(set(overrides) - allowed)
    if unknown:
        raise InvalidInputError(
            f"unknown configuration keys {unknown}; allowed: {sorted(allowed)}", field="config"
        )
    ranking_fields = {f.name: f for f in fields(RankingConfig)}
    ranking = dict(recorded.get("ranking", {}))
    changes = overrides.get("ranking", {})
    if not isinstance(changes, Mapping):
        raise InvalidInputError("config.ranking must be an object of weights", field="config")
    for name, value in changes.items():
        field = ranking_fields.get(name)
        if field is None:
            raise InvalidInputError(
                f"unknown ranking setting {name!r}; known: {sorted(ranking_fields)}",
                field="config",
            )
        ranking[name] = _typed(f"ranking.{name}", value, type(getattr(RankingConfig(), name)))
    merged = {
        "ranking": ranking,
        "embedder": recorded.get("embedder", embedder),
        "budget_tokens": recorded.get("budget_tokens"),
        "limit": recorded.get("limit"),
        "moments": recorded.get("moments", True),
    }
    if "embedder" in overrides and overrides["embedder"] != merged["embedder"]:
        raise InvalidInputError(
            "a replay cannot change the embedder: the vectors of the past are of "
            f"{merged['embedder']!r}, the only model this engine has (another extractor can"
            " be replayed: config.extractor)",
            field="config",
        )
    if merged["embedder"] != embedder:
        raise InvalidInputError(
            f"the trace was computed with embedder {merged['embedder']!r}; this engine uses"
            f" {embedder!r}",
            field="config",
        )
    if "budget_tokens" in overrides:
        merged["budget_tokens"] = _typed("budget_tokens", overrides["budget_tokens"], int)
        if merged["budget_tokens"] <= 0:
            raise InvalidInputError("budget_tokens must be positive", field="config")
    if "limit" in overrides:
        limit = overrides["limit"]
        merged["limit"] = None if limit is None else _typed("limit", limit, int)
        if merged["limit"] is not None and merged["limit"] <= 0:
            raise InvalidInputError("limit must be positive", field="config")
    if "moments" in overrides:
        merged["moments"] = _typed("moments", overrides["moments"], bool)
    # Calls under an experiment record its variants and whether they read the self-model.
    if "experiments" in recorded:
        merged["experiments"] = recorded["experiments"]
    if "personalized" in recorded:
        merged["personalized"] = recorded["personalized"]
    if "personalized" in overrides:
        merged["personalized"] = _typed("personalized", overrides["personalized"], bool)
    try:
        RankingConfig(**ranking)
    except TypeError as exc:
        raise InvalidInputError(f"the trace's ranking config is unreadable: {exc}") from exc
    for name, least in RANKING_FLOORS.items():
        if ranking[name] < least:
            raise InvalidInputError(f"ranking.{name} must be at least {least}", field="config")
    return merged


def _typed(name: str, value: Any, kind: type) -> Any:
    """``value`` as ``kind`` (an int is a fine float; a bool is not a number)."""
    if kind is bool:
        if isinstance(value, bool):
            return value
    elif kind is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool) and isfinite(value):
            return float(value)
    elif kind is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    raise InvalidInputError(f"{name} must be a {kind.__name__}, not {value!r}", field="config")


def _evidence_key(item: Mapping[str, Any]) -> str:
    """An item as both stores know it: a moment by its id (kept), a belief by its text and
    the observations it covers."""
    if item["item_type"] == OBSERVATION:
        return str(item["id"])
    return json.dumps([item["text"], sorted(item.get("evidence_ids", []))])


def _stable(name: str, payload: Mapping[str, Any]) -> Any:
    """A payload field without the ids of beliefs, which a rebuilt self-model renames."""
    value = payload.get(name)
    if name == "chosen":
        return [_evidence_key(item) for item in value or []]
    if name == "covered_moments":
        return sorted(m["moment"] for m in value or [])
    return value


def _item_changes(
    before: list[dict[str, Any]],
    after: list[dict[str, Any]],
    key: Callable[[Mapping[str, Any]], str] | None = None,
) -> list[ItemChange]:
    """Each item of either block: gained, lost or kept, with rank, score, tokens and the
    signals that moved. Ordered as the new block, then what was lost (in its old order).
    ``key``: what makes two items the same (default: their id)."""
    key = key or (lambda item: str(item["id"]))
    old = {key(item): (rank, item) for rank, item in enumerate(before, start=1)}
    new = {key(item): (rank, item) for rank, item in enumerate(after, start=1)}
    changes: list[ItemChange] = []
    for same in [*new, *(i for i in old if i not in new)]:
        was = old.get(same)
        now = new.get(same)
        item = (now or was)[1]  # type: ignore[index]
        signals: dict[str, SignalChange] = {}
        if was and now:
            a, b = was[1].get("signals", {}), now[1].get("signals", {})
            for name in sorted(set(a) | set(b)):
                if a.get(name) != b.get(name):
                    signals[name] = SignalChange(before=a.get(name), after=b.get(name))
        changes.append(
            ItemChange(
                id=item["id"],
                item_type=item["item_type"],
                text=item["text"],
                evidence_ids=list(item.get("evidence_ids", [])),
                change="kept" if was and now else ("gained" if now else "lost"),
                rank_before=was[0] if was else None,
                rank_after=now[0] if now else None,
                score_before=was[1]["score"] if was else None,
                score_after=now[1]["score"] if now else None,
                tokens_before=was[1]["tokens"] if was else None,
                tokens_after=now[1]["tokens"] if now else None,
                signals=signals,
            )
        )
    return changes


def _verdict(
    trace: TraceRecord,
    item_id: str,
    item_type: str,
    verdict: Verdict,
    explanation: str,
    details: dict[str, Any] | None = None,
) -> WhyNot:
    return WhyNot(
        trace_id=trace.id,
        item_id=item_id,
        item_type=item_type,
        verdict=verdict,
        explanation=explanation,
        details=details or {},
    )


def _placement(
    trace: TraceRecord,
    item_id: str,
    item_type: str,
    choice: Choice,
    index: ScopeIndex,
    everything: list[Any],
    budget: int,
    turns: dict[int, BudgetStep],
) -> WhyNot:
    """Where an item that was in the index fell, stage by stage of the choice."""
    doc = index.get(item_id)
    if doc is None:
        return _verdict(
            trace,
            item_id,
            item_type,
            Verdict.NOT_YET,
            "it was not in the index then: no vector had been stored for it yet",
        )
    position = index.documents.index(doc)
    chosen = [c for c, _ in choice.chosen]
    rest = [c for c in chosen if not c.signals.get("profile")]
    cutoff = min((c.score for c in rest), default=None)
    details: dict[str, Any] = {"indexed_items": len(index), "cutoff_score": cutoff}
    mine = next((c for c in everything if c.index == position), None)
    if mine is not None:
        details |= {
            "score": mine.score,
            "signals": mine.signals,
            "dense_rank": int(mine.signals["dense_rank"]),
            "keyword_rank": int(mine.signals["keyword_rank"]) or None,
            "overall_rank": everything.index(mine) + 1,
        }
        if rest:
            last = min(rest, key=lambda c: c.score)
            details["signals_of_cutoff"] = last.signals
            details["cutoff_item"] = index.documents[last.index].id

    def say(verdict: Verdict, text: str) -> WhyNot:
        return _verdict(trace, item_id, item_type, verdict, text, details)

    if any(c.index == position for c in chosen):
        return say(Verdict.CHOSEN, "it was chosen")
    if mine is None:
        if index.is_withheld[position]:
            return say(
                Verdict.WITHHELD,
                "it is evidence of a belief the user rejected (or held for their answer):"
                " kept out of every block",
            )
        holders = [
            index.documents[int(b)].id
            for b, m in zip(index.stand_in_beliefs, index.stand_in_moments, strict=True)
            if int(m) == position
        ]
        if holders:
            details["held_by"] = holders
            return say(
                Verdict.HELD_BY_BELIEF,
                f"a current belief holds this moment and stands in for it ({', '.join(holders)})",
            )
        if doc.belief is not None and current_status(doc.belief, _trace_now(trace)) is not (
            BeliefStatus.ACTIVE
        ):
            return say(Verdict.DECAYED, "its evidence had faded by the call's moment")
        return say(Verdict.MOMENTS_OFF, "the call asked the self-model alone (moments=False)")
    missed = _missed_by(details)
    in_pool = next((c for c in choice.candidates if c.index == position), None)
    if in_pool is None:
        return say(
            Verdict.BELOW_POOL,
            f"ranked #{details['overall_rank']} of {len(everything)}, below the"
            f" {len(choice.candidates)} candidates considered{missed}; score"
            f" {mine.score:.4f} against the cutoff {_fmt(cutoff)}",
        )
    diverse = next((c for c in choice.diverse if c.index == position), None)
    if diverse is None:
        # Maximal marginal relevance picks as many items as it was asked for: one ranked within
        # that many by score was passed over for being close to what it had picked; one below
        # was never reached.
        in_profile = {c.index for c in choice.profile}
        pool = [c.index for c in choice.candidates if c.index not in in_profile]
        by_score = pool.index(position) + 1
        details["score_rank"] = by_score
        if by_score > len(choice.diverse):
            return say(
                Verdict.RANK_CUTOFF,
                f"ranked #{by_score} by score; the call took {choice.wanted} (diversity"
                f" weighed the best {len(choice.diverse)}){missed}; score {mine.score:.4f}"
                f" against the cutoff {_fmt(cutoff)}",
            )
        closest = _closest_chosen(index, position, choice.diverse)
        if closest:
            details["closest_chosen"], details["similarity"] = closest
        return say(
            Verdict.DIVERSITY,
            f"ranked #{by_score} by score, but maximal marginal relevance passed it over:"
            " too close to what it had picked"
            + (f" ({closest[0]}, cosine {closest[1]:.2f})" if closest else ""),
        )
    covered = next((m for m in choice.covered if m["moment"] == item_id), None)
    if covered is not None:
        details["held_by"] = [covered["held_by"]]
        return say(
            Verdict.HELD_BY_BELIEF,
            f"belief {covered['held_by']} in the running already holds this moment",
        )
    rank = next(i for i, c in enumerate(choice.ranked, start=1) if c.index == position)
    details["rank"] = rank
    if rank > choice.wanted:
        return say(
            Verdict.RANK_CUTOFF,
            f"ranked #{rank} after diversity; the call took {choice.wanted}{missed}; score"
            f" {mine.score:.4f} against the cutoff {_fmt(cutoff)}",
        )
    turn = turns[position]
    details |= {
        "budget_tokens": budget,
        "tokens_used": choice.used,
        "line_tokens": turn.cost,
        "tokens_used_at_its_turn": turn.used_before,
    }
    return say(
        Verdict.BUDGET,
        f"ranked #{rank}, but its line ({turn.cost} tokens and a newline) did not fit: "
        f"{turn.used_before} of the {budget}-token budget were used when its turn came",
    )


def _missed_by(details: dict[str, Any]) -> str:
    if details.get("keyword_rank") is None:
        return f" (keywords missed it; meaning ranked it #{details.get('dense_rank', 0)})"
    return f" (meaning #{details.get('dense_rank')}, keywords #{details['keyword_rank']})"


def _closest_chosen(
    index: ScopeIndex, position: int, chosen: list[Any]
) -> tuple[str, float] | None:
    if not chosen:
        return None
    vectors = index.vectors
    similarities = [(float(vectors[position] @ vectors[c.index]), c.index) for c in chosen]
    best, at = max(similarities)
    return index.documents[at].id, best


def _fmt(value: float | None) -> str:
    return "none (nothing else was chosen)" if value is None else f"{value:.4f}"


def _extraction(event: Any) -> Extraction:
    recorded = event.details.get("extractor")
    name = version = prompt = None
    if isinstance(recorded, str):
        name, _, version = recorded.partition(":")
        if version.startswith("llm-"):
            prompt = version.removeprefix("llm-")
    return Extraction(
        event_id=event.id,
        event=event.type.value,
        at=event.at,
        observation_id=event.observation_id,
        extractor=recorded if isinstance(recorded, str) else None,
        name=name,
        version=version or None,
        prompt_version=prompt,
    )


__all__ = ["Debugging"]
