"""Revision: fold candidate beliefs into a user's self-model the way a careful person would.

For each candidate, in the order the evidence happened:
1. if it negates something ("I no longer…"), find the beliefs it contradicts and weaken them —
   superseding one when its confidence falls below even odds and the contradiction is newer;
2. if an equivalent belief exists, reinforce it (more evidence, higher confidence) instead of
   creating a twin; a belief the user rejected absorbs the evidence but stays rejected, and one
   the user confirmed stays where the user put it;
3. otherwise create a new belief.

Every change is an event in the belief's history with its cause. Evidence links are keyed by
(belief, observation, stance), so processing the same observation twice changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from selfmodel.domain import (
    Belief,
    BeliefEvent,
    BeliefEventType,
    BeliefOrigin,
    BeliefStatus,
    Evidence,
    EvidenceStance,
    Observation,
    new_id,
)
from selfmodel.domain.time import utcnow
from selfmodel.extraction import CandidateBelief
from selfmodel.revision.confidence import (
    EvidenceState,
    confidence,
    evidence_weight,
)
from selfmodel.storage import BeliefFilter, Store

# Cosine similarity (all-MiniLM-L6-v2) above which two statements are taken to say the same thing.
# Paraphrases of one fact about one person score 0.85-0.95; related but different facts about the
# same person ("loves hiking" / "loves camping") score 0.6-0.8.
DUPLICATE_SIMILARITY = 0.86
# A negation must be at least this close to a belief to count as contradicting it.
CONTRADICTION_SIMILARITY = 0.78
# A contradicted inferred belief is superseded once its confidence falls below even odds.
SUPERSEDE_BELOW = 0.5

USER_ORIGINS = (BeliefOrigin.CONFIRMED, BeliefOrigin.EDITED)
BELIEF_VECTORS = "belief"


@dataclass
class RevisionOutcome:
    """What one revision pass changed, by belief id."""

    created: list[str] = field(default_factory=list)
    reinforced: list[str] = field(default_factory=list)
    contradicted: list[str] = field(default_factory=list)
    superseded: list[str] = field(default_factory=list)

    def merge(self, other: RevisionOutcome) -> None:
        self.created += other.created
        self.reinforced += other.reinforced
        self.contradicted += other.contradicted
        self.superseded += other.superseded


@dataclass
class _Known:
    """The user's revisable beliefs with their vectors, kept in step as the pass changes them."""

    beliefs: list[Belief]
    vectors: np.ndarray

    def best_match(
        self, vector: np.ndarray, statuses: tuple[BeliefStatus, ...]
    ) -> tuple[int, float]:
        if not self.beliefs:
            return -1, 0.0
        sims = self.vectors @ vector
        order = np.argsort(-sims)
        for idx in order:
            if self.beliefs[int(idx)].status in statuses:
                return int(idx), float(sims[idx])
        return -1, 0.0

    def add(self, belief: Belief, vector: np.ndarray) -> None:
        self.beliefs.append(belief)
        self.vectors = (
            vector[None, :] if self.vectors.size == 0 else np.vstack([self.vectors, vector])
        )


class Reviser:
    """Applies candidates to one user's beliefs in the store (call inside a transaction)."""

    def __init__(self, store: Store, embedding_model: str) -> None:
        self.store = store
        self.embedding_model = embedding_model

    def _load(self, workspace_id: str, user_id: str) -> _Known:
        beliefs = self.store.list_beliefs(
            workspace_id,
            BeliefFilter(
                user_ids=(user_id,), statuses=(BeliefStatus.ACTIVE, BeliefStatus.REJECTED)
            ),
        )
        stored = self.store.get_vectors(
            workspace_id, [user_id], BELIEF_VECTORS, self.embedding_model
        )
        by_id = dict(zip(stored.ids, stored.matrix, strict=True))
        kept = [b for b in beliefs if b.id in by_id]
        matrix = np.stack([by_id[b.id] for b in kept]) if kept else np.zeros((0, 0), np.float32)
        return _Known(kept, matrix)

    def apply(
        self,
        workspace_id: str,
        user_id: str,
        candidates: Sequence[CandidateBelief],
        observations: dict[str, Observation],
        statement_vectors: dict[str, np.ndarray],
    ) -> RevisionOutcome:
        """Fold ``candidates`` in; ``statement_vectors`` has a vector per statement and negation."""
        known = self._load(workspace_id, user_id)
        outcome = RevisionOutcome()
        ordered = sorted(candidates, key=lambda c: observations[c.observation_id].occurred_at)
        for candidate in ordered:
            observation = observations[candidate.observation_id]
            superseded_ids: list[str] = []
            if candidate.contradicts:
                superseded_ids = self._contradict(
                    known, candidate, observation, statement_vectors[candidate.contradicts], outcome
                )
            vector = statement_vectors[candidate.statement]
            idx, similarity = known.best_match(vector, (BeliefStatus.ACTIVE, BeliefStatus.REJECTED))
            if idx >= 0 and similarity >= DUPLICATE_SIMILARITY:
                self._reinforce(known, idx, candidate, observation, outcome)
                continue
            belief = self._create(workspace_id, user_id, candidate, observation, vector)
            known.add(belief, vector)
            outcome.created.append(belief.id)
            for old_id in superseded_ids:
                self._link_successor(workspace_id, old_id, belief.id)
        return outcome

    # -- the three moves ---------------------------------------------------------------------
    def _create(
        self,
        workspace_id: str,
        user_id: str,
        candidate: CandidateBelief,
        observation: Observation,
        vector: np.ndarray,
    ) -> Belief:
        now = utcnow()
        weight = evidence_weight(
            observation.kind, candidate.strength, stated=candidate.origin == BeliefOrigin.STATED
        )
        state = EvidenceState().add(weight, observation.occurred_at, candidate.kind)
        belief = Belief(
            id=new_id("bel"),
            workspace_id=workspace_id,
            user_id=user_id,
            context_id=observation.context_id,
            statement=candidate.statement,
            kind=candidate.kind,
            confidence=confidence(state, candidate.kind),
            origin=candidate.origin,
            status=BeliefStatus.ACTIVE,
            valid_from=candidate.valid_from or observation.occurred_at,
            evidence_logit=state.logit_sum,
            last_evidence_at=state.at,
            support_count=1,
            created_at=now,
            updated_at=now,
        )
        self.store.insert_belief(belief)
        self.store.put_vectors(
            workspace_id, user_id, BELIEF_VECTORS, self.embedding_model, [(belief.id, vector)]
        )
        self._link(belief, candidate, observation, EvidenceStance.SUPPORTS, weight)
        self._event(belief, BeliefEventType.CREATED, observation, None, belief.confidence)
        return belief

    def _reinforce(
        self,
        known: _Known,
        idx: int,
        candidate: CandidateBelief,
        observation: Observation,
        outcome: RevisionOutcome,
    ) -> None:
        belief = known.beliefs[idx]
        weight = evidence_weight(
            observation.kind, candidate.strength, stated=candidate.origin == BeliefOrigin.STATED
        )
        if not self._link(belief, candidate, observation, EvidenceStance.SUPPORTS, weight):
            return  # this observation already supports it: nothing new was learnt
        if belief.status == BeliefStatus.REJECTED:
            # The user said "not me": keep the evidence visible, never revive the belief.
            updated = belief.model_copy(update={"updated_at": utcnow()})
            self.store.update_belief(updated)
            known.beliefs[idx] = updated
            return
        state = EvidenceState(belief.evidence_logit, belief.last_evidence_at).add(
            weight, observation.occurred_at, belief.kind
        )
        new_confidence = (
            belief.confidence if belief.origin in USER_ORIGINS else confidence(state, belief.kind)
        )
        updated = belief.model_copy(
            update={
                "evidence_logit": state.logit_sum,
                "last_evidence_at": state.at,
                "support_count": belief.support_count + 1,
                "confidence": new_confidence,
                "updated_at": utcnow(),
            }
        )
        self.store.update_belief(updated)
        known.beliefs[idx] = updated
        self._event(
            updated, BeliefEventType.REINFORCED, observation, belief.confidence, new_confidence
        )
        outcome.reinforced.append(belief.id)

    def _contradict(
        self,
        known: _Known,
        candidate: CandidateBelief,
        observation: Observation,
        negated_vector: np.ndarray,
        outcome: RevisionOutcome,
    ) -> list[str]:
        """Weaken every active belief the candidate negates; returns the ids it superseded."""
        superseded: list[str] = []
        if not known.beliefs:
            return superseded
        sims = known.vectors @ negated_vector
        for idx in np.flatnonzero(sims >= CONTRADICTION_SIMILARITY):
            belief = known.beliefs[int(idx)]
            if belief.status != BeliefStatus.ACTIVE:
                continue
            weight = evidence_weight(observation.kind, candidate.strength, supports=False)
            if not self._link(belief, candidate, observation, EvidenceStance.CONTRADICTS, weight):
                continue
            changes: dict[str, object] = {
                "contradict_count": belief.contradict_count + 1,
                "updated_at": utcnow(),
            }
            if belief.origin in USER_ORIGINS:
                # The user has the last word: record the contradiction, change nothing else.
                updated = belief.model_copy(update=changes)
                event = BeliefEventType.CONTRADICTED
            else:
                state = EvidenceState(belief.evidence_logit, belief.last_evidence_at).add(
                    weight, observation.occurred_at, belief.kind
                )
                new_confidence = confidence(state, belief.kind)
                newer = belief.last_evidence_at is None or (
                    observation.occurred_at >= belief.last_evidence_at
                )
                changes.update(
                    evidence_logit=state.logit_sum,
                    last_evidence_at=state.at,
                    confidence=new_confidence,
                )
                if newer and new_confidence < SUPERSEDE_BELOW:
                    changes.update(status=BeliefStatus.SUPERSEDED, valid_to=observation.occurred_at)
                    event = BeliefEventType.SUPERSEDED
                    superseded.append(belief.id)
                    outcome.superseded.append(belief.id)
                else:
                    event = BeliefEventType.WEAKENED
                updated = belief.model_copy(update=changes)
            self.store.update_belief(updated)
            known.beliefs[int(idx)] = updated
            self._event(
                updated,
                event,
                observation,
                belief.confidence,
                updated.confidence,
                details={"negation": candidate.statement},
            )
            outcome.contradicted.append(belief.id)
        return superseded

    def _link_successor(self, workspace_id: str, old_id: str, new_id_: str) -> None:
        old = self.store.get_belief(workspace_id, old_id)
        if old is not None:
            self.store.update_belief(old.model_copy(update={"superseded_by": new_id_}))

    # -- records -----------------------------------------------------------------------------
    def _link(
        self,
        belief: Belief,
        candidate: CandidateBelief,
        observation: Observation,
        stance: EvidenceStance,
        weight: float,
    ) -> bool:
        return self.store.add_evidence(
            belief.workspace_id,
            belief.user_id,
            Evidence(
                belief_id=belief.id,
                observation_id=observation.id,
                stance=stance,
                weight=weight,
                span_start=candidate.span_start,
                span_end=candidate.span_end,
                quote=candidate.quote,
                created_at=utcnow(),
            ),
        )

    def _event(
        self,
        belief: Belief,
        type_: BeliefEventType,
        observation: Observation | None,
        before: float | None,
        after: float | None,
        *,
        cause: str = "observation",
        details: dict[str, object] | None = None,
        at: datetime | None = None,
    ) -> None:
        self.store.append_event(
            BeliefEvent(
                id=new_id("evt"),
                workspace_id=belief.workspace_id,
                user_id=belief.user_id,
                belief_id=belief.id,
                type=type_,
                at=at or utcnow(),
                cause=cause,
                observation_id=observation.id if observation else None,
                confidence_before=before,
                confidence_after=after,
                details=dict(details or {}),
            )
        )
