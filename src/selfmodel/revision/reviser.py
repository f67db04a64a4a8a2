"""Revision: fold candidate beliefs into a user's self-model the way a careful person would.

For each candidate, in the order the evidence happened:
0. if it comes from the same evidence as a belief the user rejected — the same sentence of the
   same user, whatever the observation id, date or extractor version — it is filed as more
   evidence of the rejected belief and does nothing else (the user already said "not me");
1. it may **contradict** active beliefs, found by meaning, never by phrasing: a denial or a
   reported change ("I don't like running anymore", "I quit coffee") contradicts the affirmative
   beliefs it denies; an affirmation contradicts an earlier denial; and a new value of a
   single-valued facet (where someone lives, works, what they do, their diet…) replaces the old
   value whatever the wording ("relocated to Manchester", "home is now Edinburgh");
2. if an equivalent belief exists — same polarity, same meaning (paraphrases included), same
   facet value — it is **reinforced** (one more occasion) instead of getting a twin; a belief the
   user rejected absorbs the same sentence but stays rejected, one the user confirmed stays where
   the user put it, and a decayed one becomes active again;
3. otherwise a new belief is created.

Every change is an event in the belief's history with its cause. Evidence links are keyed by
(belief, observation, stance), so processing the same observation twice changes nothing.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from selfmodel.domain import (
    Belief,
    BeliefEventType,
    BeliefFrame,
    BeliefKind,
    BeliefOrigin,
    BeliefStatus,
    Evidence,
    EvidenceStance,
    Facet,
    Observation,
    new_id,
)
from selfmodel.domain.time import utcnow
from selfmodel.extraction import CandidateBelief
from selfmodel.extraction.lexicon import lexicon, taken_up_instead
from selfmodel.revision.confidence import (
    AFTER_REJECTION_CONFIDENCE,
    USER_ORIGINS,
    against_occasions,
    confidence,
    evidence_logit,
    evidence_units,
    latest,
    masses,
    support_occasions,
    with_evidence,
)
from selfmodel.revision.history import record_event
from selfmodel.storage import BELIEF_VECTORS, Store

# Cosine similarity (all-MiniLM-L6-v2, statements without the person's name: see
# ``extraction.wording.core``) at or above which two statements of the same polarity say the
# same thing. With a shared topic lemma ("running" in "loves running" / "really enjoys going for
# runs") the bar is lower than without one. Short statements that swap one thing for another
# ("loves hiking / camping in the mountains", 0.85) are never one claim (``says_the_same``), which
# lets the bars sit low enough for the longer accounts people give to merge when restated
# ("keen on counseling or working in mental health" / "looking into counseling and mental health
# as a career", 0.72). Measured by tests/test_revision_thresholds.py on eleven paraphrase pairs
# and eleven pairs of different facts, through the real extractor: 10 of 11 paraphrases merge
# ("hates crowded places" / "can't stand crowds" does not), none of the different facts do. On
# LoCoMo 26 + 30 (in-sample) lowering the bars from 0.86 / 0.72 took beliefs per 100 turns from
# 54.4 / 45.3 to 51.8 / 43.4 and recall@10 of the context from 0.774 to 0.790.
DUPLICATE_SIMILARITY = 0.77
DUPLICATE_SIMILARITY_SAME_TOPIC = 0.62
# Two experiences are the same event only if their dates agree within this tolerance: "went to a
# pride parade (week of 26 June)" and "went to a pride parade (week of 7 August)" are two parades.
SAME_EVENT_TOLERANCE = timedelta(days=7)
# A denial contradicts an affirmative belief this close to the claim it denies; with a shared topic
# lemma ("no longer drinks coffee" / "has an espresso every morning") a looser match will do.
CONTRADICTION_SIMILARITY = 0.80
CONTRADICTION_SIMILARITY_SAME_TOPIC = 0.55
# A message that carries on the previous one of the same sitting (within SAME_SITTING, at least
# this close in meaning) extends its belief instead of starting another; a statement grows to at
# most MAX_EXTENDED_CHARS this way (its vector stays the first part's: the
# belief stands in for each moment it was read from, so retrieval still finds the rest).
SAME_SITTING = timedelta(minutes=30)
# Only accounts of what happened or how things are carry on; what a person likes, is, values or
# aims for stays a belief of its own (so it can be reinforced or denied on its own).
NARRATIVE_KINDS = frozenset(
    [BeliefKind.EXPERIENCE, BeliefKind.FACT, BeliefKind.STATE, BeliefKind.OPINION]
)
CONTINUATION_SIMILARITY = 0.55
MAX_EXTENDED_CHARS = 400
# A contradicted inferred belief is superseded once its confidence falls below even odds.
SUPERSEDE_BELOW = 0.5
# How close a new statement must be to a rejected belief (with a shared topic) to count as the
# same claim coming back: looser than a duplicate, since the user already said "not me".
REJECTION_ECHO_SIMILARITY = 0.6

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
    traits: list[str] = field(default_factory=list)  # traits created or updated
    # The user's beliefs of ``MERGEABLE`` statuses once the pass has run, newest id first (as
    # ``list_beliefs`` orders them): what the traits are drawn from, without reading them again.
    revisable: list[Belief] = field(default_factory=list)

    def merge(self, other: RevisionOutcome) -> None:
        self.created += other.created
        self.reinforced += other.reinforced
        self.contradicted += other.contradicted
        self.superseded += other.superseded
        self.traits += other.traits


@dataclass
class _Known:
    """The user's revisable beliefs with their vectors, kept in step as the pass changes them."""

    beliefs: list[Belief]
    vectors: np.ndarray
    # Beliefs of the user without a stored vector yet: nothing can merge into them, but they
    # are the user's all the same (see ``revisable``).
    unvectored: list[Belief] = field(default_factory=list)
    # Normalised sentence → index of the rejected belief that sentence once supported.
    rejected_sources: dict[str, int] = field(default_factory=dict)
    # Observations stored by the unit of work this pass runs in: no evidence can cite them but
    # what this pass links, so its links to them are kept here instead of asked of the store.
    new_observations: frozenset[str] = frozenset()
    linked: set[tuple[str, str, EvidenceStance]] = field(default_factory=set)

    def revisable(self) -> list[Belief]:
        """Every belief of ``MERGEABLE`` status as the pass left it, ordered as the store
        lists them (id, newest first)."""
        mergeable = [b for b in (*self.beliefs, *self.unvectored) if b.status in MERGEABLE]
        return sorted(mergeable, key=lambda b: b.id, reverse=True)

    def similarities(self, vector: np.ndarray) -> np.ndarray:
        if not self.beliefs:
            return np.zeros(0, dtype=np.float32)
        similarities: np.ndarray = self.vectors @ vector
        return similarities

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


# Two statements are about the same topic when most of what they mention is shared: "loves
# running" / "enjoys going for runs" (run), not "loves hiking in the mountains" / "loves camping in
# the mountains" (one shared topic of three).
SAME_TOPIC_OVERLAP = 0.6
# A denial and what it denies need share only half their topics ("quit smoking" against "smokes
# a pack a day"): the claim's closeness decides the rest.
DENIAL_TOPIC_OVERLAP = 0.5


def _shares_topic(
    known: BeliefFrame, new: BeliefFrame, overlap: float = SAME_TOPIC_OVERLAP
) -> bool:
    mine, theirs = set(known.topics), set(new.topics)
    return bool(mine and theirs) and len(mine & theirs) / len(mine | theirs) >= overlap


# Statements that mention at most this many topics between them are short enough for one word
# swapped for another to be the whole point ("loves hiking / camping in the mountains").
SUBSTITUTION_TOPICS = 4


def says_the_same(known: BeliefFrame, new: BeliefFrame, similarity: float) -> bool:
    """Whether two statements of the same polarity (frames, and the cosine of their wordings
    without the name) are one claim: close enough in meaning — closer when they share no topic —
    about the same people, and not one thing said in place of another."""
    if known.related and new.related and set(known.related) != set(new.related):
        return False  # about different people ("my sister" / "my brother")
    if _substitutes(known, new):
        return False  # "drinks coffee every morning" / "drinks tea every morning"
    shared = _shares_topic(known, new)
    return similarity >= (DUPLICATE_SIMILARITY_SAME_TOPIC if shared else DUPLICATE_SIMILARITY)


def _substitutes(known: BeliefFrame, new: BeliefFrame) -> bool:
    """Each statement mentions something the other does not, and they are short: one thing said
    in place of another ("reads / writes science fiction"), however close the sentences read. In
    longer accounts each side naturally mentions things the other leaves out."""
    mine, theirs = set(known.topics), set(new.topics)
    return bool(mine - theirs and theirs - mine) and len(mine | theirs) <= SUBSTITUTION_TOPICS


def _same_value(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and a.casefold() == b.casefold()


class Reviser:
    """Applies candidates to one user's beliefs in the store (call inside a transaction)."""

    def __init__(self, store: Store, embedding_model: str) -> None:
        self.store = store
        self.embedding_model = embedding_model

    def _load(self, workspace_id: str, user_id: str) -> _Known:
        beliefs, stored = self.store.list_beliefs_with_vectors(
            workspace_id, user_id, MERGEABLE, self.embedding_model
        )
        by_id = dict(zip(stored.ids, stored.matrix, strict=True))
        kept = [b for b in beliefs if b.id in by_id]
        matrix = np.stack([by_id[b.id] for b in kept]) if kept else np.zeros((0, 0), np.float32)
        known = _Known(kept, matrix, [b for b in beliefs if b.id not in by_id])
        self._remember_rejected_sources(workspace_id, user_id, known)
        return known

    def _remember_rejected_sources(self, workspace_id: str, user_id: str, known: _Known) -> None:
        """Index the sentences that supported each rejected belief ("the same evidence")."""
        rejected = {
            b.id: i for i, b in enumerate(known.beliefs) if b.status == BeliefStatus.REJECTED
        }
        if not rejected:
            return
        evidence = [
            e
            for e in self.store.list_evidence(workspace_id, list(rejected), user_ids=[user_id])
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
        *,
        new_observations: Collection[str] = (),
    ) -> RevisionOutcome:
        """Fold ``candidates`` in; ``statement_vectors`` has a vector per statement and claim.

        ``new_observations``: those of ``observations`` the caller's unit of work stored (no
        evidence cites them yet: their links are not read back from the store).
        """
        known = self._load(workspace_id, user_id)
        known.new_observations = frozenset(new_observations)
        outcome = RevisionOutcome()
        ordered = sorted(candidates, key=lambda c: observations[c.observation_id].occurred_at)
        for candidate in ordered:
            if candidate.frame.facet is Facet.NAME:
                continue  # a self-introduction names the user (see engine.observing), no belief
            observation = observations[candidate.observation_id]
            source = same_evidence_key(candidate.quote or observation.content)
            if source in known.rejected_sources:
                self._absorb_rejected(known, known.rejected_sources[source], candidate, observation)
                continue
            vector = statement_vectors[candidate.statement]
            sims = known.similarities(vector)
            claim_sims = (
                known.similarities(statement_vectors[candidate.contradicts])
                if candidate.contradicts
                else sims
            )
            contradicted = self._contradicted(known, candidate, sims, claim_sims)
            replaced = self._replaced(known, candidate)
            match = self._equivalent(known, candidate, sims, exclude=set(contradicted))
            if match is None:
                match = self._echo_of_rejection(known, candidate, sims)
            if match is not None and known.beliefs[match].status == BeliefStatus.REJECTED:
                # Said again, on another occasion and in other words: ask, never override.
                self._absorb_rejected(known, match, candidate, observation)
                if not self._same_occasion_as_rejection(known.beliefs[match], observation):
                    belief = self._create(
                        known, workspace_id, user_id, candidate, observation, vector,
                        after_rejection=known.beliefs[match].id,
                    )  # fmt: skip
                    known.add(belief, vector)
                    outcome.created.append(belief.id)
                continue
            superseded = self._contradict(known, contradicted, candidate, observation, outcome)
            continued = (
                self._continued(known, candidate, observation, sims) if match is None else None
            )
            if match is not None:
                self._reinforce(known, match, candidate, observation, outcome)
                successor = known.beliefs[match]
            elif continued is not None:
                self._extend(known, continued, candidate, observation, outcome)
                successor = known.beliefs[continued]
            else:
                successor = self._create(
                    known, workspace_id, user_id, candidate, observation, vector
                )
                known.add(successor, vector)
                outcome.created.append(successor.id)
            superseded += self._replace(known, replaced, successor, observation, outcome)
            for old_id in superseded:
                if old_id != successor.id:
                    self._link_successor(known, old_id, successor.id)
        outcome.revisable = known.revisable()
        return outcome

    def answer(self, belief: Belief, observation: Observation, *, holds: bool) -> Belief:
        """The person answered "Is this still you?" about ``belief`` with ``observation`` (a
        selection): yes is support on that day, as strong as a selected card; no is as strong
        a contradiction, and the belief ends then (the person said it no longer holds)."""
        units = evidence_units(observation.kind, 1.0, stated=True)
        quote = observation.content
        link = CandidateBelief(
            statement=belief.statement,
            kind=belief.kind,
            observation_id=observation.id,
            origin=BeliefOrigin.STATED,
            quote=quote,
        )
        stance = EvidenceStance.SUPPORTS if holds else EvidenceStance.CONTRADICTS
        if not self._link(belief, link, observation, stance, units):
            return belief  # this answer was already counted
        at = observation.occurred_at
        if holds:
            occasions = with_evidence(belief.occasions, at, support=units)
            updated = self._restate(belief, occasions).model_copy(
                update={"status": BeliefStatus.ACTIVE}
            )
            event = BeliefEventType.REINFORCED
        else:
            occasions = with_evidence(belief.occasions, at, against=units)
            updated = self._restate(belief, occasions).model_copy(
                update={"status": BeliefStatus.SUPERSEDED, "valid_to": at}
            )
            event = BeliefEventType.SUPERSEDED
        self.store.update_belief(updated)
        self._event(
            updated,
            event,
            observation,
            belief.confidence,
            updated.confidence,
            cause="user",
            details={"check_in": "yes" if holds else "no"},
        )
        return updated

    # -- finding what a candidate touches ----------------------------------------------------
    @staticmethod
    def _equivalent(
        known: _Known, candidate: CandidateBelief, sims: np.ndarray, *, exclude: set[int]
    ) -> int | None:
        """The belief that says what ``candidate`` says (same polarity and meaning), if any."""
        frame = candidate.frame
        best: tuple[float, int] | None = None
        for position in np.argsort(-sims, kind="stable"):
            i = int(position)
            belief = known.beliefs[i]
            if (
                i in exclude
                or belief.frame.negated != frame.negated
                or belief.frame.trait is not None
                or not _same_event(belief, candidate)
            ):
                continue
            if frame.stance is not None or belief.frame.stance is not None:
                if _same_stance(frame.stance, belief.frame.stance):
                    return i  # "encourages Mel" is "encourages Melanie", whatever the sentence
                continue
            if frame.facet is not None and belief.frame.facet == frame.facet:
                if _same_value(belief.frame.value, frame.value):
                    return i  # same facet, same value: one belief, whatever the words
                continue
            if frame.facet is not None and belief.frame.facet is not None:
                continue  # two different facets are two different things
            if sims[i] < DUPLICATE_SIMILARITY_SAME_TOPIC:
                break  # sorted: nothing further can pass either bar
            if says_the_same(belief.frame, frame, float(sims[i])) and (
                best is None or sims[i] > best[0]
            ):
                best = (float(sims[i]), i)
        return best[1] if best else None

    @staticmethod
    def _continued(
        known: _Known, candidate: CandidateBelief, observation: Observation, sims: np.ndarray
    ) -> int | None:
        """The belief a candidate carries on, if any: read from the person's message just before
        in the same sitting, about the same thing ("I'm hunting for a studio space." … "Found one
        with great light!"). It is one thing said over two turns, so one belief."""
        frame = candidate.frame
        if frame.facet or frame.domain or frame.negated or candidate.kind not in NARRATIVE_KINDS:
            return None
        best: tuple[float, int] | None = None
        for i, belief in enumerate(known.beliefs):
            last = belief.last_evidence_at
            if (
                belief.status is not BeliefStatus.ACTIVE
                or belief.frame.trait or belief.frame.facet or belief.frame.domain
                or belief.frame.negated or belief.origin in USER_ORIGINS
                or belief.kind not in NARRATIVE_KINDS
                or last is None
                or not timedelta(0) <= observation.occurred_at - last <= SAME_SITTING
                or len(belief.statement) + len(candidate.statement) > MAX_EXTENDED_CHARS
                or sims[i] < CONTINUATION_SIMILARITY
            ):  # fmt: skip
                continue
            if best is None or sims[i] > best[0]:
                best = (float(sims[i]), i)
        return best[1] if best else None

    @staticmethod
    def _echo_of_rejection(
        known: _Known, candidate: CandidateBelief, sims: np.ndarray
    ) -> int | None:
        """A rejected belief this candidate says again in other words, if any: it may only be
        raised as a question, never create a belief of its own (see ``apply``)."""
        for i, belief in enumerate(known.beliefs):
            if (
                belief.status is BeliefStatus.REJECTED
                and belief.frame.negated == candidate.frame.negated
                and sims[i] >= REJECTION_ECHO_SIMILARITY
                and (
                    bool(set(belief.frame.topics) & set(candidate.frame.topics))
                    or sims[i] >= DUPLICATE_SIMILARITY
                )
            ):
                return i
        return None

    @staticmethod
    def _contradicted(
        known: _Known, candidate: CandidateBelief, sims: np.ndarray, claim_sims: np.ndarray
    ) -> list[int]:
        """Active beliefs of the opposite polarity that ``candidate`` denies or is denied by."""
        frame = candidate.frame
        found: list[int] = []
        for i, belief in enumerate(known.beliefs):
            if belief.status != BeliefStatus.ACTIVE or belief.frame.trait is not None:
                continue
            if frame.displaces and displaced_by(belief, frame):
                found.append(i)  # "I'm more into cycling now" ends "loves running"
                continue
            if belief.frame.negated == frame.negated:
                continue
            if belief.kind == BeliefKind.EXPERIENCE and not frame.negated:
                continue  # an affirmed event says nothing against an older denial of a habit
            # A denial is compared by the claim it denies; an affirmation against a denial by
            # its own words (embeddings barely register "not").
            similarity = float(claim_sims[i] if frame.negated else sims[i])
            bar = (
                CONTRADICTION_SIMILARITY_SAME_TOPIC
                if _shares_topic(belief.frame, candidate.frame, DENIAL_TOPIC_OVERLAP)
                else CONTRADICTION_SIMILARITY
            )
            if similarity >= bar:
                found.append(i)
        habit = _the_habit_meant(known, candidate)
        if habit is not None and habit not in found:
            found.append(habit)
        return found

    @staticmethod
    def _replaced(known: _Known, candidate: CandidateBelief) -> list[int]:
        """Active beliefs holding another value of the single-valued facet ``candidate`` sets.

        A denial of a facet value ("I don't live in London anymore") ends that value only. Beliefs
        of kind experience are left alone (a dated event stays true); a move, though, is read as
        where the person lives (a fact), so a later move ends it, with ``valid_to``.
        """
        frame = candidate.frame
        if frame.facet is None:
            return []
        found = []
        for i, belief in enumerate(known.beliefs):
            if (
                belief.status != BeliefStatus.ACTIVE
                or belief.frame.facet != frame.facet
                or belief.frame.negated
                or belief.kind == BeliefKind.EXPERIENCE
            ):
                continue
            same = _same_value(belief.frame.value, frame.value)
            if (frame.negated and same) or (not frame.negated and not same):
                found.append(i)
        return found

    @staticmethod
    def _same_occasion_as_rejection(rejected: Belief, observation: Observation) -> bool:
        day = observation.occurred_at.date().isoformat()
        return any(o.day == day for o in rejected.occasions)

    # -- the moves ---------------------------------------------------------------------------
    def _create(
        self,
        known: _Known,
        workspace_id: str,
        user_id: str,
        candidate: CandidateBelief,
        observation: Observation,
        vector: np.ndarray,
        *,
        after_rejection: str | None = None,
    ) -> Belief:
        now = utcnow()
        units = self._units(candidate, observation)
        occasions = with_evidence((), observation.occurred_at, support=units)
        value = confidence(occasions, candidate.kind)
        metadata: dict[str, Any] = {}
        if after_rejection is not None:
            value = min(value, AFTER_REJECTION_CONFIDENCE)
            metadata["after_rejection"] = after_rejection
        belief = Belief(
            id=new_id("bel"),
            workspace_id=workspace_id,
            user_id=user_id,
            area_id=observation.area_id,
            statement=candidate.statement,
            kind=candidate.kind,
            confidence=value,
            origin=candidate.origin,
            status=BeliefStatus.ACTIVE,
            valid_from=candidate.valid_from or observation.occurred_at,
            evidence_logit=evidence_logit(units, 0.0),
            last_evidence_at=observation.occurred_at,
            support_count=1,
            frame=candidate.frame,
            occasions=occasions,
            metadata=metadata,
            created_at=now,
            updated_at=now,
        )
        self.store.insert_belief(belief)
        self.store.put_vectors(
            workspace_id,
            user_id,
            BELIEF_VECTORS,
            self.embedding_model,
            [(belief.id, vector)],
            new_items=True,
        )
        self._link(belief, candidate, observation, EvidenceStance.SUPPORTS, units, known)
        self._event(
            belief,
            BeliefEventType.CREATED,
            observation,
            None,
            belief.confidence,
            details=_read_by(candidate),
        )
        return belief

    @staticmethod
    def _units(candidate: CandidateBelief, observation: Observation) -> float:
        return evidence_units(
            observation.kind, candidate.strength, stated=candidate.origin == BeliefOrigin.STATED
        )

    def _extend(
        self,
        known: _Known,
        idx: int,
        candidate: CandidateBelief,
        observation: Observation,
        outcome: RevisionOutcome,
    ) -> None:
        """Carry a belief on with what the next message of the same sitting adds."""
        belief = known.beliefs[idx]
        units = self._units(candidate, observation)
        if not self._link(belief, candidate, observation, EvidenceStance.SUPPORTS, units, known):
            return
        occasions = with_evidence(belief.occasions, observation.occurred_at, support=units)
        updated = self._restate(belief, occasions).model_copy(
            update={
                "statement": f"{belief.statement}; {_continuing(candidate.statement)}",
                "frame": _merged_frame(belief, candidate),
            }
        )
        self.store.update_belief(updated)
        known.beliefs[idx] = updated
        self._event(
            updated,
            BeliefEventType.REINFORCED,
            observation,
            belief.confidence,
            updated.confidence,
            details={"continued": candidate.statement, **_read_by(candidate)},
        )
        outcome.reinforced.append(belief.id)

    def _absorb_rejected(
        self, known: _Known, idx: int, candidate: CandidateBelief, observation: Observation
    ) -> None:
        """The user said "not me": keep the evidence visible, never revive the belief."""
        belief = known.beliefs[idx]
        units = self._units(candidate, observation)
        if self._link(belief, candidate, observation, EvidenceStance.SUPPORTS, units, known):
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
        units = self._units(candidate, observation)
        if not self._link(belief, candidate, observation, EvidenceStance.SUPPORTS, units, known):
            return  # this observation already supports it: nothing new was learnt
        occasions = with_evidence(belief.occasions, observation.occurred_at, support=units)
        updated = self._restate(belief, occasions)
        updated = updated.model_copy(
            update={
                "status": BeliefStatus.ACTIVE,  # a decayed belief said again is current again
                "frame": _merged_frame(belief, candidate),
            }
        )
        self.store.update_belief(updated)
        known.beliefs[idx] = updated
        self._event(
            updated,
            BeliefEventType.REINFORCED,
            observation,
            belief.confidence,
            updated.confidence,
            details={
                **({"revived": True} if belief.status == BeliefStatus.DECAYED else {}),
                **_read_by(candidate),
            },
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
        """Weaken the beliefs at ``indices``; returns the ids it superseded.

        A reported change ("anymore", "quit", "no longer") that is newer than the belief's latest
        support ends it outright; a plain contradiction lowers its confidence and supersedes it
        only below even odds. Beliefs the user confirmed or wrote only record the contradiction,
        and both are flagged as a conflict to ask the user about.
        """
        superseded: list[str] = []
        units = self._units(candidate, observation)
        for idx in indices:
            belief = known.beliefs[idx]
            if not self._link(
                belief, candidate, observation, EvidenceStance.CONTRADICTS, units, known
            ):
                continue
            newer = belief.last_evidence_at is None or (
                observation.occurred_at >= belief.last_evidence_at
            )
            if belief.origin in USER_ORIGINS:
                # The user has the last word: record the contradiction, change nothing else.
                updated = belief.model_copy(
                    update={
                        "contradict_count": belief.contradict_count + 1,
                        "metadata": _with_conflict(belief.metadata, observation.id),
                        "updated_at": utcnow(),
                    }
                )
                event = BeliefEventType.CONTRADICTED
            else:
                occasions = with_evidence(belief.occasions, observation.occurred_at, against=units)
                updated = self._restate(belief, occasions)
                # A plain contradiction ends the belief when it reports a change or leaves it
                # below even odds; a hedged one ("maybe I quit") only weighs against it.
                plain = candidate.strength >= 1.0
                ends = (
                    newer
                    and plain
                    and (candidate.frame.change or updated.confidence < SUPERSEDE_BELOW)
                )
                if ends:
                    updated = updated.model_copy(
                        update={
                            "status": BeliefStatus.SUPERSEDED,
                            "valid_to": candidate.valid_from or observation.occurred_at,
                        }
                    )
                    event = BeliefEventType.SUPERSEDED
                    superseded.append(belief.id)
                    outcome.superseded.append(belief.id)
                else:
                    updated = updated.model_copy(
                        update={"metadata": _with_conflict(belief.metadata, observation.id)}
                    )
                    event = BeliefEventType.WEAKENED
            self.store.update_belief(updated)
            known.beliefs[idx] = updated
            self._event(
                updated,
                event,
                observation,
                belief.confidence,
                updated.confidence,
                details={
                    "by": candidate.statement,
                    "change": candidate.frame.change,
                    **_read_by(candidate),
                },
            )
            outcome.contradicted.append(belief.id)
        return superseded

    def _replace(
        self,
        known: _Known,
        indices: Sequence[int],
        successor: Belief,
        observation: Observation,
        outcome: RevisionOutcome,
    ) -> list[str]:
        """A single-valued facet moved: the older value ends where the newer one begins.

        Which value is current follows the evidence dates, not arrival order: a value learnt late
        but said earlier is stored as past (superseded by the value said later). A denial ("I
        don't live in London anymore") ends the value it denies and names no successor. Returns
        the ids that ``successor`` superseded.
        """
        ended: list[str] = []
        for idx in indices:
            current = next(i for i, b in enumerate(known.beliefs) if b.id == successor.id)
            successor = known.beliefs[current]
            belief = known.beliefs[idx]
            if successor.status != BeliefStatus.ACTIVE or belief.status != BeliefStatus.ACTIVE:
                continue
            old_at = latest(belief.occasions) or belief.created_at
            new_at = latest(successor.occasions) or observation.occurred_at
            if successor.frame.negated or old_at <= new_at:
                older_idx, newer = idx, successor
            else:
                older_idx, newer = current, belief
            older = known.beliefs[older_idx]
            if older.origin in USER_ORIGINS:
                continue  # the user set it; a chat message does not move it
            ending = older.model_copy(
                update={
                    "status": BeliefStatus.SUPERSEDED,
                    "valid_to": _ended_at(older, newer, observation, successor.frame.negated),
                    "superseded_by": None if successor.frame.negated else newer.id,
                    "updated_at": utcnow(),
                }
            )
            self.store.update_belief(ending)
            known.beliefs[older_idx] = ending
            self._event(
                ending,
                BeliefEventType.SUPERSEDED,
                observation,
                older.confidence,
                ending.confidence,
                details={"facet": str(older.frame.facet), "replaced_by": newer.statement},
            )
            outcome.superseded.append(older.id)
            if older_idx == idx and not successor.frame.negated:
                ended.append(belief.id)
        return ended

    @staticmethod
    def _restate(belief: Belief, occasions: tuple[Any, ...]) -> Belief:
        """``belief`` with new evidence: confidence, counts and the evidence summary follow."""
        at = latest(occasions)
        support, against = masses(occasions, belief.kind, at) if at else (0.0, 0.0)
        return belief.model_copy(
            update={
                "occasions": occasions,
                "confidence": (
                    belief.confidence
                    if belief.origin in USER_ORIGINS
                    else confidence(occasions, belief.kind)
                ),
                "evidence_logit": evidence_logit(support, against),
                "last_evidence_at": at,
                "support_count": support_occasions(occasions),
                "contradict_count": against_occasions(occasions),
                "updated_at": utcnow(),
            }
        )

    def _link_successor(self, known: _Known, old_id: str, successor_id: str) -> None:
        """Name the belief a superseded one gave way to (the pass superseded it, so holds it)."""
        idx = next(i for i, b in enumerate(known.beliefs) if b.id == old_id)
        linked = known.beliefs[idx].model_copy(update={"superseded_by": successor_id})
        self.store.update_belief(linked)
        known.beliefs[idx] = linked

    # -- records -----------------------------------------------------------------------------
    def _link(
        self,
        belief: Belief,
        candidate: CandidateBelief,
        observation: Observation,
        stance: EvidenceStance,
        weight: float,
        known: _Known | None = None,
    ) -> bool:
        """Record that ``observation`` bears on ``belief``; False if it already did (the same
        observation counts once). ``known``: the pass it is part of."""
        evidence = Evidence(
            belief_id=belief.id,
            observation_id=observation.id,
            stance=stance,
            weight=weight if stance == EvidenceStance.SUPPORTS else -weight,
            span_start=candidate.span_start,
            span_end=candidate.span_end,
            quote=candidate.quote,
            created_at=utcnow(),
        )
        if known is None or observation.id not in known.new_observations:
            return self.store.add_evidence(belief.workspace_id, belief.user_id, evidence)
        key = (belief.id, observation.id, stance)
        if key in known.linked:
            return False
        known.linked.add(key)
        self.store.add_evidence(belief.workspace_id, belief.user_id, evidence, unseen=True)
        return True

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


def _read_by(candidate: CandidateBelief) -> dict[str, object]:
    """Which extractor (and version) proposed the candidate: lineage for every change it made."""
    return {"extractor": candidate.extractor} if candidate.extractor else {}


def _the_habit_meant(known: _Known, candidate: CandidateBelief) -> int | None:
    """ "I finally kicked the habit" names no habit: it is the one the person spoke of last."""
    frame = candidate.frame
    if not (frame.negated and frame.change and candidate.contradicts is None):
        return None
    if "habit" not in frame.topics:
        return None
    habits = [
        (belief.last_evidence_at, i)
        for i, belief in enumerate(known.beliefs)
        if belief.kind is BeliefKind.HABIT
        and belief.status is BeliefStatus.ACTIVE
        and not belief.frame.negated
        and belief.frame.trait is None
        and belief.last_evidence_at is not None
    ]
    return max(habits)[1] if habits else None


def displaced_by(belief: Belief, frame: BeliefFrame) -> bool:
    """Whether ``belief`` (a liking or habit) is one that a liking taken up in its place
    (``frame``, "I'm more into cycling now") ends: it names a pastime of the same kind and none
    of those the new liking names."""
    if (
        belief.frame.negated
        or belief.frame.displaces
        or belief.kind not in (BeliefKind.PREFERENCE, BeliefKind.HABIT)
    ):
        return False
    new = pastimes_of(frame)
    old = pastimes_of(belief.frame)
    return not old & new and any(taken_up_instead(n, o) for n in new for o in old)


def pastimes_of(frame: BeliefFrame) -> set[str]:
    kinds = lexicon().kind_of_pastime
    return {w for w in (*frame.interests, *frame.topics) if w in kinds}


def _merged_frame(belief: Belief, candidate: CandidateBelief) -> Any:
    """The belief's frame with what the new evidence adds (topics, people and pets)."""
    frame = belief.frame
    topics = tuple(dict.fromkeys((*frame.topics, *candidate.frame.topics)))
    related = tuple(dict.fromkeys((*frame.related, *candidate.frame.related)))
    if topics == frame.topics and related == frame.related:
        return frame
    return frame.model_copy(update={"topics": topics, "related": related})


def _ended_at(older: Belief, newer: Belief, observation: Observation, denied: bool) -> datetime:
    """When a replaced facet value stopped holding: when the new one began ("relocated last
    month"), never before the old one began, or when it was denied."""
    if denied:
        return observation.occurred_at
    began = newer.valid_from or latest(newer.occasions) or observation.occurred_at
    return max(began, older.valid_from) if older.valid_from else began


def _continuing(statement: str) -> str:
    """The next part of a statement carried on after a semicolon."""
    first = statement.split(" ", 1)[0]
    if first[:1].isupper() and first[1:2].islower() and first.lower() in ("it", "the", "this"):
        return first.lower() + statement[len(first) :]
    return statement


def _with_conflict(metadata: dict[str, Any], observation_id: str) -> dict[str, Any]:
    """Metadata recording that ``observation_id`` contradicts the belief (an open conflict)."""
    conflicts = list(metadata.get("conflicting_observations", []))
    if observation_id not in conflicts:
        conflicts.append(observation_id)
    return {**metadata, "conflicting_observations": conflicts}


def _same_stance(a: str | None, b: str | None) -> bool:
    """One stance toward one person: "encourages:Mel" and "encourages:Melanie" are the same
    (a name and the nickname it starts with), "encourages:Jon" and "values_support:Jon" not."""
    if a is None or b is None:
        return False
    kind_a, _, name_a = a.lower().partition(":")
    kind_b, _, name_b = b.lower().partition(":")
    short, long = sorted((name_a, name_b), key=len)
    return kind_a == kind_b and len(short) >= 3 and long.startswith(short)
