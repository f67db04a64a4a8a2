"""Revision: fold candidate beliefs into a user's self-model the way a careful person would.

For each candidate, in the order the evidence happened:
0. if it comes from the same evidence as a belief the user rejected — the same sentence of the
   same user, whatever the observation id, date or extractor version — it is filed as more
   evidence of the rejected belief and does nothing else (the user already said "not me");
1. if it negates something ("I no longer…"), or sets an exclusive attribute to a new value ("moved
   to Berlin" after "lives in Paris", see ``slots``), weaken the beliefs it contradicts —
   superseding one when its confidence falls below even odds and the contradiction is newer;
2. if an equivalent belief exists, reinforce it (more evidence, higher confidence) instead of
   creating a twin; a belief the user rejected absorbs the evidence but stays rejected, one the
   user confirmed stays where the user put it, and a decayed one becomes active again;
3. otherwise create a new belief.

Every change is an event in the belief's history with its cause. Evidence links are keyed by
(belief, observation, stance), so processing the same observation twice changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from selfmodel.domain import (
    Belief,
    BeliefEventType,
    BeliefKind,
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
from selfmodel.revision.history import record_event
from selfmodel.revision.slots import SlotValue, conflicts, slot_value
from selfmodel.storage import BeliefFilter, Store

# Cosine similarity (all-MiniLM-L6-v2) at or above which two statements say the same thing.
# Measured on 20 paraphrase pairs and 20 related-but-different pairs about one named person
# (docs/confidence.md, "Duplicates"): paraphrases median 0.94, 10th percentile 0.89, lowest 0.78
# ("hates crowded places" / "can't stand crowds"); different facts median 0.80, 90th percentile
# 0.92 ("reads" / "writes science fiction" 0.93, "lives in" / "works in Berlin" 0.92, "hiking" /
# "camping in the mountains" 0.91). The shared name lifts every pair, so the line sits high: at
# 0.90, 85% of paraphrases merge and 20% of different facts do (at the earlier 0.86: 90% / 45%).
# Merging two different facts loses one of them, a missed merge only leaves a weaker twin, so we
# err toward keeping them apart.
DUPLICATE_SIMILARITY = 0.90
# Two experiences are the same event only if their dates agree within this tolerance: "went to a
# pride parade (week of 26 June)" and "went to a pride parade (week of 7 August)" score 0.95.
SAME_EVENT_TOLERANCE = timedelta(days=7)
# A negation must be at least this close to a belief to count as contradicting it.
CONTRADICTION_SIMILARITY = 0.78
# A contradicted inferred belief is superseded once its confidence falls below even odds.
SUPERSEDE_BELOW = 0.5

USER_ORIGINS = (BeliefOrigin.CONFIRMED, BeliefOrigin.EDITED)
BELIEF_VECTORS = "belief"
# Statuses a candidate can merge into. A decayed belief said again is revived; a rejected one
# absorbs the evidence and stays rejected; a superseded one is over and a new belief starts.
MERGEABLE = (BeliefStatus.ACTIVE, BeliefStatus.REJECTED, BeliefStatus.DECAYED)


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
    # Normalised sentence → index of the rejected belief that sentence once supported.
    rejected_sources: dict[str, int] = field(default_factory=dict)

    def ranked(self, vector: np.ndarray, minimum: float) -> list[tuple[int, float]]:
        """Indices of beliefs at least ``minimum`` similar to ``vector``, most similar first."""
        if not self.beliefs:
            return []
        sims = self.vectors @ vector
        order = np.argsort(-sims, kind="stable")
        return [(int(i), float(sims[i])) for i in order if sims[i] >= minimum]

    def add(self, belief: Belief, vector: np.ndarray) -> None:
        self.beliefs.append(belief)
        self.vectors = (
            vector[None, :] if self.vectors.size == 0 else np.vstack([self.vectors, vector])
        )


def same_evidence_key(text: str) -> str:
    """A sentence reduced to what it says: case, spacing and end punctuation do not matter."""
    return " ".join(text.lower().split()).rstrip(".!?… ")


def _same_event(belief: Belief, candidate: CandidateBelief) -> bool:
    """False when both are experiences the text dates on days too far apart to be one event."""
    if (
        belief.kind != BeliefKind.EXPERIENCE
        or candidate.kind != BeliefKind.EXPERIENCE
        or candidate.valid_from is None
        or belief.valid_from is None
    ):
        return True
    return abs(candidate.valid_from - belief.valid_from) <= SAME_EVENT_TOLERANCE


class Reviser:
    """Applies candidates to one user's beliefs in the store (call inside a transaction)."""

    def __init__(self, store: Store, embedding_model: str) -> None:
        self.store = store
        self.embedding_model = embedding_model

    def _load(self, workspace_id: str, user_id: str) -> _Known:
        beliefs = self.store.list_beliefs(
            workspace_id, BeliefFilter(user_ids=(user_id,), statuses=MERGEABLE)
        )
        stored = self.store.get_vectors(
            workspace_id, [user_id], BELIEF_VECTORS, self.embedding_model
        )
        by_id = dict(zip(stored.ids, stored.matrix, strict=True))
        kept = [b for b in beliefs if b.id in by_id]
        matrix = np.stack([by_id[b.id] for b in kept]) if kept else np.zeros((0, 0), np.float32)
        known = _Known(kept, matrix)
        self._remember_rejected_sources(workspace_id, known)
        return known

    def _remember_rejected_sources(self, workspace_id: str, known: _Known) -> None:
        """Index the sentences that supported each rejected belief ("the same evidence")."""
        rejected = {
            b.id: i for i, b in enumerate(known.beliefs) if b.status == BeliefStatus.REJECTED
        }
        if not rejected:
            return
        evidence = [
            e
            for e in self.store.list_evidence(workspace_id, list(rejected))
            if e.stance == EvidenceStance.SUPPORTS
        ]
        unquoted = [e.observation_id for e in evidence if not e.quote]
        contents = (
            {o.id: o.content for o in self.store.get_observations(workspace_id, unquoted)}
            if unquoted
            else {}
        )
        for e in evidence:
            text = e.quote or contents.get(e.observation_id)
            if text:
                known.rejected_sources[same_evidence_key(text)] = rejected[e.belief_id]

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
            source = same_evidence_key(candidate.quote or observation.content)
            if source in known.rejected_sources:
                self._absorb_rejected(known, known.rejected_sources[source], candidate, observation)
                continue
            contradicted: list[int] = []
            if candidate.contradicts:
                contradicted = [
                    i
                    for i, _ in known.ranked(
                        statement_vectors[candidate.contradicts], CONTRADICTION_SIMILARITY
                    )
                ]
            new_slot = slot_value(candidate.statement)
            if new_slot is not None:
                contradicted += self._replaced_by(known, new_slot, contradicted)
            superseded_ids = self._contradict(known, contradicted, candidate, observation, outcome)
            vector = statement_vectors[candidate.statement]
            match = next(
                (
                    i
                    for i, _ in known.ranked(vector, DUPLICATE_SIMILARITY)
                    if known.beliefs[i].status in MERGEABLE
                    and i not in contradicted  # "no longer lives in Paris" ≈ "lives in Paris"
                    and _same_event(known.beliefs[i], candidate)
                ),
                None,
            )
            if match is not None:
                self._reinforce(known, match, candidate, observation, outcome)
                successor = known.beliefs[match].id
            else:
                belief = self._create(workspace_id, user_id, candidate, observation, vector)
                known.add(belief, vector)
                outcome.created.append(belief.id)
                successor = belief.id
            for old_id in superseded_ids:
                if old_id != successor:
                    self._link_successor(workspace_id, old_id, successor)
        return outcome

    @staticmethod
    def _replaced_by(known: _Known, new: SlotValue, already: list[int]) -> list[int]:
        """Active beliefs holding another value of the exclusive attribute ``new`` sets.

        Experiences are left alone: "moved to Paris in 2019" stays true after a move to Berlin.
        """
        return [
            i
            for i, belief in enumerate(known.beliefs)
            if i not in already
            and belief.status == BeliefStatus.ACTIVE
            and belief.kind != BeliefKind.EXPERIENCE
            and conflicts(new, slot_value(belief.statement))
        ]

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

    def _absorb_rejected(
        self, known: _Known, idx: int, candidate: CandidateBelief, observation: Observation
    ) -> None:
        """The user said "not me": keep the evidence visible, never revive the belief."""
        belief = known.beliefs[idx]
        weight = evidence_weight(
            observation.kind, candidate.strength, stated=candidate.origin == BeliefOrigin.STATED
        )
        if self._link(belief, candidate, observation, EvidenceStance.SUPPORTS, weight):
            updated = belief.model_copy(update={"updated_at": utcnow()})
            self.store.update_belief(updated)
            known.beliefs[idx] = updated

    def _reinforce(
        self,
        known: _Known,
        idx: int,
        candidate: CandidateBelief,
        observation: Observation,
        outcome: RevisionOutcome,
    ) -> None:
        belief = known.beliefs[idx]
        if belief.status == BeliefStatus.REJECTED:
            self._absorb_rejected(known, idx, candidate, observation)
            return
        weight = evidence_weight(
            observation.kind, candidate.strength, stated=candidate.origin == BeliefOrigin.STATED
        )
        if not self._link(belief, candidate, observation, EvidenceStance.SUPPORTS, weight):
            return  # this observation already supports it: nothing new was learnt
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
                "status": BeliefStatus.ACTIVE,  # a decayed belief said again is current again
                "updated_at": utcnow(),
            }
        )
        self.store.update_belief(updated)
        known.beliefs[idx] = updated
        self._event(
            updated,
            BeliefEventType.REINFORCED,
            observation,
            belief.confidence,
            new_confidence,
            details={"revived": True} if belief.status == BeliefStatus.DECAYED else None,
        )
        outcome.reinforced.append(belief.id)

    def _contradict(
        self,
        known: _Known,
        indices: Sequence[int],
        candidate: CandidateBelief,
        observation: Observation,
        outcome: RevisionOutcome,
    ) -> list[str]:
        """Weaken the active beliefs at ``indices``; returns the ids it superseded."""
        superseded: list[str] = []
        for idx in indices:
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
                details={
                    "negation": candidate.contradicts or candidate.statement,
                    "by": candidate.statement,
                },
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
        record_event(
            self.store,
            belief,
            type_,
            cause=cause,
            before=before,
            after=after,
            observation_id=observation.id if observation else None,
            details=dict(details or {}),
            at=at,
        )
