"""The engine behind the Mirror: resonance cards as evidence, links, secrets, forgetting."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from selfmodel import SelfModel, Settings
from selfmodel.config import MirrorSettings
from selfmodel.domain import BeliefStatus, EvidenceStance, ObservationKind
from selfmodel.errors import (
    BeliefNotFoundError,
    CardNotFoundError,
    InvalidInputError,
    MirrorLinkNotFoundError,
    UserNotFoundError,
)


def known(sm: SelfModel, *users: str) -> None:
    """Users exist once observed; "Hi!" makes no belief."""
    for user in users:
        sm.observe(user, "Hi!")


def test_selected_card_creates_a_belief_backed_by_a_selection(sm: SelfModel) -> None:
    known(sm, "ada")
    cards = sm.push_cards(
        "ada",
        [{"statement": "Ada recharges by being alone", "kind": "identity"}, "Ada loves karaoke"],
        source="article:introverts",
    )
    answered = sm.answer_cards("ada", {cards[0].id: True, cards[1].id: False})
    assert [p.selected for p in answered] == [True, False]
    chosen = answered[0]
    detail = sm.belief(chosen.belief_id or "")
    assert detail.belief.statement == "Ada recharges by being alone"
    assert detail.belief.kind.value == "identity"
    assert detail.evidence[0].observation.kind == ObservationKind.SELECTION
    assert detail.evidence[0].observation.metadata["prompt_source"] == "article:introverts"
    assert [b.statement for b in sm.beliefs("ada")] == ["Ada recharges by being alone"]
    assert answered[1].belief_id is None and answered[1].observation_id is None


def test_selecting_a_card_reinforces_an_existing_belief_instead_of_duplicating_it(
    sm: SelfModel,
) -> None:
    sm.observe("ada", {"content": "I love hiking in the mountains.", "speaker": "Ada"})
    (existing,) = sm.beliefs("ada")
    (card,) = sm.push_cards("ada", [existing.statement])
    (answered,) = sm.answer_cards("ada", {card.id: True})
    assert answered.belief_id == existing.id
    after = sm.belief(existing.id)
    assert after.belief.confidence > existing.confidence
    assert after.history[-1].type.value == "reinforced"
    assert len(sm.beliefs("ada")) == 1


def test_answering_twice_changes_nothing_the_second_time(sm: SelfModel) -> None:
    known(sm, "ada")
    (card,) = sm.push_cards("ada", ["Ada is a morning person"])
    assert len(sm.answer_cards("ada", {card.id: True})) == 1
    assert sm.answer_cards("ada", {card.id: False}) == []
    assert sm.cards("ada")[0].selected is True
    observed = sm.store.list_observations(sm.workspace.id, [sm.user("ada").id])
    assert [o.kind for o in observed].count(ObservationKind.SELECTION) == 1


def test_someone_elses_card_is_not_found(sm: SelfModel) -> None:
    known(sm, "ada", "bob")
    (bobs,) = sm.push_cards("bob", ["Bob plays chess"])
    sm.push_cards("ada", ["Ada plays go"])
    with pytest.raises(CardNotFoundError):
        sm.answer_cards("ada", {bobs.id: True})
    assert sm.cards("bob", open_only=True) == [bobs]


def test_cards_for_a_user_never_observed_are_refused_and_create_no_user(sm: SelfModel) -> None:
    with pytest.raises(UserNotFoundError):
        sm.push_cards("ghost", ["Ghost haunts libraries"])
    assert sm.users() == []


@pytest.mark.parametrize(
    "statements",
    [[], [""], ["   "], ["x" * 1001], [{"statement": "ok", "kind": "mood"}], ["a"] * 21],
)
def test_bad_cards_are_refused_before_anything_is_stored(sm: SelfModel, statements) -> None:
    with pytest.raises(InvalidInputError):
        sm.push_cards("ada", statements)
    assert sm.users() == []


def test_links_expire_within_bounds_and_revoke_only_for_their_owner(sm: SelfModel) -> None:
    sm.observe("ada", "Hello")
    sm.observe("bob", "Hello")
    for ttl in (0, 59, 31 * 86_400):
        with pytest.raises(InvalidInputError):
            sm.create_mirror_link("ada", ttl_s=ttl)
    link = sm.create_mirror_link("ada", ttl_s=3600)
    with pytest.raises(MirrorLinkNotFoundError):
        sm.revoke_mirror_links("bob", link.id)
    assert sm.revoke_mirror_links("ada", link.id) == 1
    assert sm.revoke_mirror_links("ada", link.id) == 0
    assert sm.mirror_link(link.id).revoked_at is not None


def test_the_signing_secret_is_stable_per_workspace_unless_configured(db_path, embedder) -> None:
    with SelfModel.open(str(db_path), embedder=embedder) as a:
        first = a.mirror_secret()
        other = a.in_workspace("other").mirror_secret()
    with SelfModel.open(str(db_path), embedder=embedder) as b:
        assert b.mirror_secret() == first
    assert other != first and len(first) >= 32
    configured = Settings(mirror=MirrorSettings(mirror_secret="from-the-environment"))
    with SelfModel.open(str(db_path), embedder=embedder, settings=configured) as c:
        assert c.mirror_secret() == "from-the-environment"


def test_forget_removes_links_and_cards_and_export_includes_cards(sm: SelfModel, db_path) -> None:
    sm.observe("ada", "I love tea.")
    sm.create_mirror_link("ada")
    (card,) = sm.push_cards("ada", ["Ada prefers tea to coffee"])
    sm.answer_cards("ada", {card.id: True})
    assert [c["id"] for c in sm.export("ada")["cards"]] == [card.id]
    counts = sm.forget("ada").counts
    assert counts["mirror_links"] == 1 and counts["mirror_prompts"] == 1
    with sqlite3.connect(db_path) as conn:
        for table in ("mirror_links", "mirror_prompts"):
            assert conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] == 0


def test_timeline_is_newest_first(sm: SelfModel) -> None:
    sm.observe("ada", {"content": "I love tea.", "speaker": "Ada"})
    (belief,) = sm.beliefs("ada")
    sm.confirm(belief.id)
    assert [e.type.value for e in sm.timeline("ada")] == ["confirmed", "created"]


def said_weeks_ago(sm: SelfModel, user: str, text: str) -> str:
    """Observe ``text`` from ``user`` three weeks ago; the id of the one belief it makes."""
    at = datetime.now(UTC) - timedelta(days=21)
    sm.observe(user, {"content": text, "occurred_at": at, "speaker": user.capitalize()})
    (belief,) = [b for b in sm.beliefs(user) if b.statement.endswith(text.split()[-1].strip("."))]
    return belief.id


def test_a_yes_to_a_check_in_is_a_selection_that_raises_confidence(sm: SelfModel) -> None:
    belief_id = said_weeks_ago(sm, "ada", "I love sailing.")
    before = sm.belief(belief_id).belief
    after = sm.check_in("ada", belief_id, holds=True)
    assert after.status is BeliefStatus.ACTIVE
    assert after.confidence > before.confidence + 0.1
    detail = sm.belief(belief_id)
    newest = max(detail.evidence, key=lambda e: e.said_at)
    assert newest.observation is not None
    assert newest.observation.kind is ObservationKind.SELECTION
    assert newest.observation.source == "mirror"
    assert newest.evidence.stance is EvidenceStance.SUPPORTS
    assert detail.history[-1].details["check_in"] == "yes"


def test_a_no_to_a_check_in_is_a_selection_that_ends_the_belief(sm: SelfModel) -> None:
    belief_id = said_weeks_ago(sm, "ada", "I collect old maps.")
    ended = sm.check_in("ada", belief_id, holds=False)
    assert ended.status is BeliefStatus.SUPERSEDED
    assert ended.valid_to is not None
    detail = sm.belief(belief_id)
    against = [e for e in detail.evidence if e.evidence.stance is EvidenceStance.CONTRADICTS]
    assert [e.observation.kind for e in against if e.observation] == [ObservationKind.SELECTION]
    assert all(b.id != belief_id for b in sm.beliefs("ada"))
    # An ended belief is no longer asked about.
    with pytest.raises(InvalidInputError):
        sm.check_in("ada", belief_id, holds=True)


def test_a_check_in_on_someone_elses_belief_is_not_found(sm: SelfModel) -> None:
    bobs = said_weeks_ago(sm, "bob", "I love sailing.")
    known(sm, "ada")
    with pytest.raises(BeliefNotFoundError):
        sm.check_in("ada", bobs, holds=False)
    assert sm.belief(bobs).belief.status is BeliefStatus.ACTIVE
