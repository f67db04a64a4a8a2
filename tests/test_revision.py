"""Revision on real text: merging, contradiction and change, decay, and the user's last word."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from selfmodel import BeliefEventType, BeliefOrigin, BeliefStatus, EvidenceStance, SelfModel
from selfmodel.domain import Belief, Role
from selfmodel.embedding import SentenceTransformerEmbedder
from selfmodel.engine.understanding import statement_vectors
from selfmodel.extraction.base import CandidateBelief, ExtractionRequest
from selfmodel.extraction.local import LocalExtractor
from selfmodel.revision import Reviser
from selfmodel.revision.confidence import KIND_POLICIES
from selfmodel.revision.reviser import MERGEABLE
from selfmodel.revision.traits import Traits
from selfmodel.storage import AsOf, BeliefFilter, Store

JUNE = "2023-06-01T10:00:00Z"
JULY = "2023-07-03T10:00:00Z"
AUGUST = "2023-08-14T10:00:00Z"
OCTOBER = "2023-10-02T10:00:00Z"


# Reads see the self-model as of a moment (default: now); these histories are from 2023.
READ_AT = datetime(2023, 8, 14, 12, tzinfo=UTC)


def about(sm: SelfModel, word: str, user: str = "tom", **kwargs: object) -> list[Belief]:
    kwargs.setdefault("now", READ_AT)
    return [b for b in sm.beliefs(user, **kwargs) if word in b.statement]  # type: ignore[arg-type]


def one(sm: SelfModel, word: str, user: str = "tom", **kwargs: object) -> Belief:
    found = about(sm, word, user, **kwargs)
    assert len(found) == 1, [b.statement for b in found]
    return found[0]


# --- duplicates ------------------------------------------------------------------------------


def test_a_paraphrase_reinforces_the_belief_instead_of_creating_a_twin(sm: SelfModel) -> None:
    sm.observe("tom", "I'm a software engineer.", at=JUNE)
    first = one(sm, "software engineer")
    result = sm.observe("tom", "I work as a software engineer.", at=JULY)
    assert result.reinforced == [first.id] and result.created == []
    merged = one(sm, "software engineer")
    assert merged.support_count == 2 and merged.confidence > first.confidence


def test_related_but_different_facts_stay_separate_beliefs(sm: SelfModel) -> None:
    sm.observe("tom", "I love hiking in the mountains.", at=JUNE)
    sm.observe("tom", "I love camping in the mountains.", at=JULY)
    assert len(about(sm, "in the mountains")) == 2


def test_the_same_kind_of_outing_on_different_dates_is_two_experiences(sm: SelfModel) -> None:
    sm.observe("tom", "I went to a pride parade last week.", at=JULY)
    sm.observe("tom", "I went to a pride parade last week.", at=AUGUST)
    parades = about(sm, "pride parade")
    assert len(parades) == 2
    assert {b.valid_from for b in parades} == {
        datetime(2023, 6, 26, tzinfo=UTC),
        datetime(2023, 8, 7, tzinfo=UTC),
    }


# --- contradiction and change ----------------------------------------------------------------


def test_a_newer_negation_supersedes_the_old_belief_and_both_stay_inspectable(
    sm: SelfModel,
) -> None:
    sm.observe("tom", "I smoke a pack a day.", at=JUNE)
    old = one(sm, "smokes")
    result = sm.observe("tom", "I quit smoking.", at=AUGUST)
    assert result.superseded == [old.id]
    assert about(sm, "smokes a pack") == []  # no longer in the active model
    detail = sm.belief(old.id)
    assert detail.belief.status == BeliefStatus.SUPERSEDED
    assert detail.belief.valid_to == datetime(2023, 8, 14, 10, tzinfo=UTC)
    assert detail.belief.confidence < old.confidence
    successor = sm.belief(detail.belief.superseded_by or "")
    assert "quit smoking" in successor.belief.statement
    stances = {(e.evidence.stance, e.observation.content) for e in detail.evidence}
    assert (EvidenceStance.CONTRADICTS, "I quit smoking.") in stances
    assert [e.type for e in detail.history] == [BeliefEventType.CREATED, BeliefEventType.SUPERSEDED]


def test_a_hedged_negation_only_weakens(sm: SelfModel) -> None:
    sm.observe("tom", "I smoke a pack a day.", at=JUNE)
    sm.observe("tom", "I smoke a pack a day.", at=JULY)  # said twice: stronger
    old = one(sm, "smokes")
    sm.observe("tom", "Maybe I quit smoking.", at=AUGUST)
    weakened = sm.belief(old.id)
    assert weakened.belief.status == BeliefStatus.ACTIVE
    assert weakened.belief.confidence < old.confidence
    assert weakened.history[-1].type == BeliefEventType.WEAKENED


def test_moving_city_replaces_where_the_user_lives(sm: SelfModel) -> None:
    sm.observe("tom", "I live in Paris.", at=JUNE)
    paris = one(sm, "Paris")
    result = sm.observe("tom", "I moved to Berlin last month.", at=AUGUST)
    assert result.superseded == [paris.id]
    old = sm.belief(paris.id).belief
    assert old.status == BeliefStatus.SUPERSEDED
    assert "Berlin" in sm.belief(old.superseded_by or "").belief.statement


def test_living_in_one_city_and_working_in_another_is_no_contradiction(sm: SelfModel) -> None:
    sm.observe("tom", "I live in Paris.", at=JUNE)
    sm.observe("tom", "I work at Acme Robotics in Berlin.", at=AUGUST)
    assert one(sm, "Paris").status == BeliefStatus.ACTIVE


# --- decay -----------------------------------------------------------------------------------


def test_moods_fade_within_weeks_while_identities_barely_move(sm: SelfModel) -> None:
    sm.observe("tom", ["I'm exhausted today.", "I am a nurse."], at=JULY)
    said = datetime(2023, 7, 3, 10, tzinfo=UTC)
    mood, nurse = one(sm, "exhausted", now=said), one(sm, "nurse", now=said)
    later = datetime(2023, 9, 1, tzinfo=UTC)
    changed = {b.id: b for b in sm.decay("tom", now=later)}
    assert changed[mood.id].status == BeliefStatus.DECAYED
    assert about(sm, "exhausted") == []
    faded_nurse = changed[nurse.id]
    assert faded_nurse.status == BeliefStatus.ACTIVE
    prior = KIND_POLICIES[nurse.kind].prior
    assert prior < faded_nurse.confidence < nurse.confidence
    assert sm.history(mood.id)[-1].type == BeliefEventType.DECAYED


def test_decay_moves_confidence_monotonically_toward_the_prior(sm: SelfModel) -> None:
    sm.observe("tom", "I'm planning a trip to Japan.", at=JULY)
    start = datetime(2023, 7, 3, 10, tzinfo=UTC)
    plan = one(sm, "Japan", now=start)
    prior = KIND_POLICIES[plan.kind].prior
    seen = [plan.confidence]
    for days in (10, 30, 90, 400):
        for b in sm.decay("tom", now=start + timedelta(days=days)):
            seen.append(b.confidence)
    assert seen == sorted(seen, reverse=True)
    assert all(c >= prior for c in seen)
    assert sm.belief(plan.id).belief.status == BeliefStatus.DECAYED


def test_a_decayed_belief_said_again_is_revived_not_duplicated(sm: SelfModel) -> None:
    sm.observe("tom", "I'm planning a trip to Japan.", at=JUNE)
    plan = one(sm, "Japan")
    sm.decay("tom", now=datetime(2024, 6, 1, tzinfo=UTC))
    assert about(sm, "Japan") == []
    result = sm.observe("tom", "I'm planning a trip to Japan.", at="2024-06-02T10:00:00Z")
    assert result.reinforced == [plan.id]
    assert one(sm, "Japan").status == BeliefStatus.ACTIVE


# --- the user has the last word --------------------------------------------------------------


def test_a_confirmed_belief_never_decays(sm: SelfModel) -> None:
    sm.observe("tom", "I'm exhausted today.", at=JULY)
    confirmed = sm.confirm(one(sm, "exhausted", now=datetime(2023, 7, 3, 10, tzinfo=UTC)).id)
    assert sm.decay("tom", now=datetime(2030, 1, 1, tzinfo=UTC)) == []
    assert one(sm, "exhausted").confidence == confirmed.confidence


def test_a_confirmed_belief_is_not_superseded_by_inference(sm: SelfModel) -> None:
    sm.observe("tom", "I live in Paris.", at=JUNE)
    paris = sm.confirm(one(sm, "Paris").id)
    sm.observe("tom", "I moved to Berlin last month.", at=AUGUST)
    sm.observe("tom", "I no longer live in Paris.", at=AUGUST)
    held = sm.belief(paris.id)
    assert held.belief.status == BeliefStatus.ACTIVE
    assert held.belief.confidence == paris.confidence
    assert held.belief.contradict_count >= 1
    assert held.history[-1].type == BeliefEventType.CONTRADICTED


def test_rejected_belief_is_not_reinferred_when_the_same_words_are_reingested(
    sm: SelfModel,
) -> None:
    said = "I started pottery last week."
    sm.observe("tom", {"id": "chat-1", "content": said}, at=JULY)
    rejected = sm.reject(one(sm, "pottery").id)
    # The same sentence again under new ids, on another day (so "last week" resolves elsewhere
    # and the statement's wording changes), and in other spacing and case.
    sm.observe("tom", {"id": "import-7", "content": said}, at=AUGUST)
    sm.observe("tom", {"id": "import-8", "content": "i started  pottery last week"}, at=AUGUST)
    assert about(sm, "pottery") == []
    detail = sm.belief(rejected.id)
    assert detail.belief.status == BeliefStatus.REJECTED
    assert len(detail.evidence) == 3  # kept visible: "why did you think that?"


def test_rejected_belief_is_not_reinferred_when_extraction_is_rerun(
    sm: SelfModel, embedder: SentenceTransformerEmbedder
) -> None:
    sm.observe("tom", ["I started pottery last week.", "I love jazz."], at=JULY)
    rejected = sm.reject(one(sm, "pottery").id)
    user = sm.user("tom")
    observations = sm.store.list_observations(sm.workspace.id, [user.id])
    requests = [ExtractionRequest(observation=o, subject="tom") for o in observations]
    candidates = LocalExtractor().extract(requests)
    # A later extractor version words it differently: still the same evidence.
    pottery = next(c for c in candidates if "pottery" in c.statement)
    reworded = CandidateBelief(
        **{**pottery.model_dump(), "statement": "tom has taken up ceramics as a hobby"}
    )
    candidates.append(reworded)
    vectors = statement_vectors(embedder, [c.statement for c in candidates], ["tom"])
    with sm.store.transaction():
        outcome = Reviser(sm.store, embedder.name).apply(
            sm.workspace.id, user.id, candidates, {o.id: o for o in observations}, vectors
        )
    assert outcome.created == []
    assert about(sm, "pottery") == [] and about(sm, "ceramics") == []
    assert sm.belief(rejected.id).belief.status == BeliefStatus.REJECTED


def test_new_evidence_in_other_words_may_still_create_a_belief_after_a_rejection(
    sm: SelfModel,
) -> None:
    sm.observe("tom", "I started pottery last week.", at=JULY)
    sm.reject(one(sm, "pottery").id)
    sm.observe("tom", "I bought my own pottery wheel and kiln.", at=AUGUST)
    assert [b.origin for b in about(sm, "pottery wheel")] == [BeliefOrigin.INFERRED]


def test_assistant_turns_never_count_as_evidence_for_revision(sm: SelfModel) -> None:
    sm.observe("tom", "I live in Paris.", at=JUNE)
    sm.observe("tom", {"role": Role.ASSISTANT.value, "content": "I moved to Berlin."}, at=AUGUST)
    assert one(sm, "Paris").status == BeliefStatus.ACTIVE


# --- what a pass hands on --------------------------------------------------------------------


class _ComparingTraits(Traits):
    """Traits that, handed the pass's beliefs, record them beside what the store lists."""

    def __init__(self, store: Store, embedder: SentenceTransformerEmbedder) -> None:
        super().__init__(store, embedder)
        self.seen: list[tuple[list[Belief], list[Belief]]] = []

    def refresh(
        self, workspace_id: str, user_id: str, name: str, beliefs: Sequence[Belief]
    ) -> list[str]:
        listed = self.store.list_beliefs(
            workspace_id, BeliefFilter(user_ids=(user_id,), statuses=MERGEABLE)
        )
        self.seen.append((list(beliefs), listed))
        return super().refresh(workspace_id, user_id, name, beliefs)


def test_the_beliefs_a_pass_hands_to_the_traits_are_those_the_store_holds(
    sm: SelfModel, embedder: SentenceTransformerEmbedder
) -> None:
    """Creation, paraphrase, continuation in one sitting, contradiction, a hedge, a moved facet,
    a rejection said again, a confirmed belief contradicted, decay and revival, a name: after
    every pass the traits are drawn from exactly the rows a fresh read would give."""
    traits = _ComparingTraits(sm.store, embedder)
    sm = SelfModel(replace(sm._c, traits=traits), sm.workspace)
    sm.observe("tom", ["I'm a software engineer.", "I love hiking in the mountains."], at=JUNE)
    sm.observe("tom", ["I live in Paris.", "I smoke a pack a day."], at=JUNE)
    sm.observe("tom", "I started pottery last week.", at=JUNE)
    sm.reject(one(sm, "pottery").id)
    sm.confirm(one(sm, "software engineer").id)
    sm.observe("tom", "I'm hunting for a studio space.", at="2023-07-03T10:00:00Z")
    sm.observe("tom", "Found one with great light!", at="2023-07-03T10:02:00Z")
    sm.observe("tom", ["I work as a software engineer.", "Maybe I quit smoking."], at=JULY)
    sm.observe("tom", ["I went hiking again in the mountains.", "Hi, I'm Tom."], at=JULY)
    sm.observe("tom", ["I quit smoking.", "I moved to Berlin last month."], at=AUGUST)
    sm.observe("tom", ["I started pottery last week.", "I'm not an engineer."], at=AUGUST)
    sm.observe("tom", "I'm exhausted today.", at=AUGUST)
    sm.decay("tom", now=datetime(2023, 10, 1, tzinfo=UTC))
    sm.observe("tom", "Hiking in the mountains again!", at=OCTOBER)
    sm.observe("tom", "I'm exhausted today.", at=OCTOBER)  # the decayed mood, revived
    assert len(traits.seen) >= 8
    for handed, listed in traits.seen:
        assert handed == listed
    statuses = {b.status for _, listed in traits.seen for b in listed}
    assert statuses == {BeliefStatus.ACTIVE, BeliefStatus.REJECTED, BeliefStatus.DECAYED}


@pytest.mark.parametrize("stored_here", [True, False])
def test_an_observation_counts_once_for_a_belief_whether_or_not_it_is_new(
    db_location: str, embedder: SentenceTransformerEmbedder, stored_here: bool
) -> None:
    """Two candidates from one message saying the same thing: one belief, one piece of
    evidence. For a message the pass's own unit stored, the pass remembers what it linked
    instead of asking the store (its rows may not have been sent yet); both ways agree."""
    with SelfModel.open(db_location, embedder=embedder) as sm:
        sm.observe("tom", "I love jazz.", at=JULY, wait=False)  # stored, not understood
        user = sm.user("tom")
        (message,) = sm.store.list_observations(sm.workspace.id, [user.id])
        (said,) = LocalExtractor().extract([ExtractionRequest(observation=message, subject="tom")])
        twice = [said, said.model_copy(update={"quote": None})]
        vectors = statement_vectors(embedder, [said.statement], ["tom"])
        with sm.store.transaction():
            sm.store.lock_user(sm.workspace.id, user.id)
            outcome = Reviser(sm.store, embedder.name).apply(
                sm.workspace.id,
                user.id,
                twice,
                {message.id: message},
                vectors,
                new_observations=[message.id] if stored_here else (),
            )
        (jazz,) = about(sm, "jazz")
        assert outcome.created == [jazz.id] and outcome.reinforced == []
        assert jazz.support_count == 1
        assert [e.evidence.observation_id for e in sm.belief(jazz.id).evidence] == [message.id]


def _as_stored(sm: SelfModel, user: str = "tom") -> dict[str, object]:
    """What the store holds about ``user``, ids replaced by what they name (ids are random)."""
    data = sm.export(user)
    said = {o["id"]: o["content"] for o in data["observations"]}
    stated = {b["id"]: b["statement"] for b in data["beliefs"]}
    u = sm.user(user)
    ws = sm.workspace.id
    model = sm._c.embedder.name
    vectors = {
        kind: sorted(names[i] for i in sm.store.get_vectors(ws, [u.id], kind, model).ids)
        for kind, names in (("observation", said), ("belief", stated))
    }
    return {
        "beliefs": sorted(
            (
                b["statement"],
                b["status"],
                b["support_count"],
                b["contradict_count"],
                round(b["confidence"], 6),
                stated.get(b["superseded_by"] or ""),
            )
            for b in data["beliefs"]
        ),
        "evidence": sorted(
            (stated[e["belief_id"]], said[e["observation_id"]], e["stance"])
            for e in data["evidence"]
        ),
        "history": sorted((stated[e["belief_id"]], e["type"]) for e in data["history"]),
        "vectors": vectors,
        "as_of": [
            sorted(
                (b.statement, b.status.value)
                for b in sm.store.beliefs_as_of(ws, u.id, AsOf(revisions={u.id: r}))
            )
            for r in range(u_revision(sm, u.id) + 1)
        ],
    }


def u_revision(sm: SelfModel, user_id: str) -> int:
    (revision,) = sm.store.user_revisions(sm.workspace.id, [user_id])
    return revision


def test_a_conversation_leaves_the_same_model_on_both_backends(
    tmp_path: Path, pg_url: str, embedder: SentenceTransformerEmbedder
) -> None:
    """PostgreSQL sends rows the caller vouches are new with a later statement of the unit of
    work; SQLite writes them at once. Learning, reinforcing, contradicting, a batch, a
    correction and a queued job leave the same beliefs, evidence, history, vectors and past."""
    day = datetime(2023, 7, 3, 10, tzinfo=UTC)
    stored = []
    for location in (str(tmp_path / "selfmodel.db"), pg_url):
        with SelfModel.open(location, embedder=embedder) as sm:
            sm.observe(
                "tom",
                [
                    {"content": "I work as a nurse at the children's hospital."},
                    {"content": "I love jazz."},
                    {"content": "I have two cats."},
                ],
                at=day.isoformat(),
            )
            for later, said in ((10, "I really love jazz."), (30, "I don't like jazz anymore.")):
                sm.observe("tom", said, at=(day + timedelta(days=later)).isoformat())
            sm.add_belief("tom", "Tom plays the cello")
            sm.observe("tom", "I'm training for a marathon.", wait=False)
            sm.process_jobs("test-worker")
            stored.append(_as_stored(sm))
    sqlite, postgres = stored
    assert sqlite == postgres
    kinds = {kind for _, kind in sqlite["history"]}  # type: ignore[attr-defined]
    assert {"created", "reinforced", "superseded"} <= kinds  # every move ran
