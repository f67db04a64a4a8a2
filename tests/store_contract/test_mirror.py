"""``MirrorStore``: links, resonance cards (stored as prompts), the signing secret."""

from __future__ import annotations

from datetime import timedelta

import pytest

from selfmodel.domain import User, Workspace
from selfmodel.domain.time import utcnow
from selfmodel.errors import StorageError
from selfmodel.storage import MirrorStore, Store
from tests.store_contract.records import card, mirror_link


# -- links and the signing secret --------------------------------------------------------------
def test_mirror_links_revoke_and_secrets_are_stored_once(
    store: MirrorStore, ws: Workspace, maya: User
) -> None:
    link = mirror_link(maya)
    store.insert_mirror_link(link)
    assert store.get_mirror_link(ws.id, link.id) == link
    assert store.get_mirror_link("ws_other", link.id) is None
    assert store.revoke_mirror_links(ws.id, maya.id, utcnow()) == 1
    assert store.revoke_mirror_links(ws.id, maya.id, utcnow()) == 0
    assert store.mirror_secret(ws.id, "first") == "first"
    assert store.mirror_secret(ws.id, "second") == "first"


def test_one_link_is_revoked_by_id_and_the_others_stay_live(
    store: Store, ws: Workspace, maya: User
) -> None:
    bob = store.get_or_create_user(ws.id, "bob")
    first, second, his = mirror_link(maya), mirror_link(maya), mirror_link(bob)
    for link in (first, second, his):
        store.insert_mirror_link(link)
    at = utcnow()
    assert store.revoke_mirror_links(ws.id, maya.id, at, link_id=first.id) == 1
    assert store.revoke_mirror_links(ws.id, maya.id, at, link_id=his.id) == 0  # not hers
    revoked = store.get_mirror_link(ws.id, first.id)
    assert revoked is not None and revoked.revoked_at == at
    assert store.get_mirror_link(ws.id, second.id) == second
    assert store.revoke_mirror_links(ws.id, maya.id, at) == 1  # the one still live
    assert store.get_mirror_link(ws.id, his.id) == his


def test_each_workspace_keeps_its_own_secret(store: Store, ws: Workspace) -> None:
    other = store.get_or_create_workspace("other")
    assert store.mirror_secret(ws.id, "ours") == "ours"
    assert store.mirror_secret(other.id, "theirs") == "theirs"


# -- resonance cards ---------------------------------------------------------------------------
def test_cards_are_listed_oldest_first_and_answered_once(
    store: MirrorStore, ws: Workspace, maya: User
) -> None:
    later, earlier = card(maya, "I run at dawn", seconds=5), card(maya, "I like tea")
    store.insert_prompts([later, earlier])
    assert store.list_prompts(ws.id, maya.id, open_only=True) == [earlier, later]
    answered = earlier.model_copy(update={"answered_at": utcnow(), "selected": True})
    assert store.answer_prompt(answered) is True
    assert store.answer_prompt(answered) is False
    assert store.list_prompts(ws.id, maya.id, open_only=True) == [later]
    assert store.list_prompts(ws.id, maya.id)[0].selected is True
    declined = later.model_copy(update={"answered_at": utcnow(), "selected": False})
    assert store.answer_prompt(declined) is True
    assert store.list_prompts(ws.id, maya.id)[1].selected is False
    assert store.list_prompts("ws_other", maya.id) == []


def test_a_card_without_an_answer_cannot_be_answered(store: MirrorStore, maya: User) -> None:
    open_card = card(maya)
    store.insert_prompts([open_card])
    with pytest.raises(StorageError):
        store.answer_prompt(open_card)
    answered_late = open_card.model_copy(
        update={"answered_at": utcnow() + timedelta(minutes=1), "selected": True}
    )
    assert store.answer_prompt(answered_late) is True
