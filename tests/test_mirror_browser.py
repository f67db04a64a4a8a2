"""The Mirror in a real browser: a person with only a link understands and corrects their model.

Chromium (Debian's) via Playwright, against the real app on a real uvicorn socket. Every click is
checked through the HTTP API, the way the product would see the change.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from selfmodel import SelfModel
from selfmodel.embedding import SentenceTransformerEmbedder
from tests.support.browser import DESKTOP, PHONE, chromium, screenshot
from tests.support.mirror import (
    DENIAL,
    FIRST_SAID,
    PROFILE_MESSAGES,
    MirrorWorld,
    build_world,
    seed_person,
    seed_profile,
    seed_raised_again,
)
from tests.support.server import running_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder
) -> Iterator[tuple[MirrorWorld, str]]:
    db = tmp_path_factory.mktemp("mirror") / "mirror.db"
    with SelfModel.open(str(db), embedder=embedder) as engine:
        w = build_world(engine)
        with running_server(w.app) as base_url:
            yield w, base_url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as b:
        yield b


def api(world: tuple[MirrorWorld, str]) -> httpx.Client:
    w, base_url = world
    return httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {w.write_key}"})


def open_mirror(world: tuple[MirrorWorld, str], browser: Browser, user: str, **ctx: object) -> Page:
    """Mint a link through the API and open it in a fresh browser context."""
    with api(world) as client:
        link = client.post(f"/v1/users/{user}/mirror-link", json={}).raise_for_status().json()
    context = browser.new_context(viewport=DESKTOP, accept_downloads=True, **ctx)  # type: ignore[arg-type]
    page = context.new_page()
    page.goto(link["url"])
    page.wait_for_url("**/mirror/")
    return page


def belief_page(page: Page, belief_id: str) -> Page:
    """Go to a belief's own page by its URL (stable: it is what the first screen links to)."""
    base = page.url.split("/mirror/")[0]
    response = page.goto(f"{base}/mirror/beliefs/{belief_id}")
    assert response is not None and response.status == 200
    return page


def home(page: Page) -> Page:
    page.goto(page.url.split("/mirror/")[0] + "/mirror/")
    return page


def belief_of(world: tuple[MirrorWorld, str], belief_id: str) -> dict:
    with api(world) as client:
        return client.get(f"/v1/beliefs/{belief_id}").raise_for_status().json()


def statement_id(world: tuple[MirrorWorld, str], user: str, needle: str) -> str:
    w, _ = world
    return next(b.id for b in w.engine.beliefs(user) if needle in b.statement)


def test_person_confirms_rejects_rewords_and_outdates_beliefs(world, browser) -> None:
    w, _ = world
    seed_person(w.engine, "ada", "Ada")
    marathon = statement_id(world, "ada", "marathon")
    answers = statement_id(world, "ada", "answers")
    nurse = statement_id(world, "ada", "nurse")
    hiking = statement_id(world, "ada", "hiking")
    page = open_mirror(world, browser, "ada")
    expect(page.get_by_role("heading", name="What we understand about you")).to_be_visible()
    screenshot(page, "home-desktop")
    page.set_viewport_size(PHONE)
    screenshot(page, "home-phone")
    page.set_viewport_size(DESKTOP)

    # Why: the belief's own page, linked from the first screen, quotes it with its date.
    page.locator(f"a[href$='/beliefs/{marathon}']").first.click()
    page.wait_for_url(f"**/mirror/beliefs/{marathon}")
    expect(page.locator("blockquote")).to_contain_text("Berlin marathon")
    expect(page.locator(".quote-meta time").first).to_have_text(FIRST_SAID)
    expect(page.locator(".explained").first).to_contain_text("We've heard this once, on")
    screenshot(page, "belief-desktop")
    page.set_viewport_size(PHONE)
    screenshot(page, "belief-phone")
    page.set_viewport_size(DESKTOP)

    page.get_by_role("button", name="This is me").click()
    expect(page.locator("#notice")).to_have_text("Thanks — marked as true of you.")
    detail = belief_of(world, marathon)
    assert detail["belief"]["origin"] == "confirmed"
    assert [e["type"] for e in detail["history"]][-1] == "confirmed"
    expect(page.locator(".story li").last).to_contain_text("You confirmed it.")

    belief_page(page, answers).get_by_role("button", name="Not me").click()
    expect(page.locator("#notice")).to_contain_text("won't be used")
    assert belief_of(world, answers)["belief"]["status"] == "rejected"
    expect(home(page).locator(".set-aside")).to_contain_text("You prefer short")

    edit = belief_page(page, nurse).locator("details.edit")
    edit.locator("summary").click()
    edit.get_by_label("Say it the way you would").fill("I work as a nurse, mostly day shifts now")
    edit.get_by_role("button", name="Save wording").click()
    expect(page.locator("#notice")).to_have_text("Saved in your words.")
    detail = belief_of(world, nurse)
    assert detail["belief"]["statement"] == "I work as a nurse, mostly day shifts now"
    assert detail["history"][-1]["type"] == "edited"

    belief_page(page, hiking).get_by_role("button", name="No longer true").click()
    expect(page.locator("#notice")).to_have_text("Marked as no longer true.")
    assert belief_of(world, hiking)["belief"]["status"] == "superseded"
    home(page)
    screenshot(page, "after-corrections-desktop")
    page.set_viewport_size(PHONE)
    screenshot(page, "after-corrections-phone")


def test_person_adds_a_belief_in_their_own_words(world, browser) -> None:
    w, _ = world
    seed_person(w.engine, "bea", "Bea")
    page = open_mirror(world, browser, "bea")
    page.get_by_text("Add something in your own words").click()
    page.get_by_label("What should we know about you?").fill("I am learning Portuguese")
    page.get_by_label("What kind of thing is it?").select_option("goal")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.locator("#notice")).to_have_text("Added in your words.")
    # Said back to the person, like everything the Mirror shows; stored in their own words.
    expect(page.locator("div.kind", has_text="What you're working towards")).to_contain_text(
        "You are learning Portuguese"
    )
    with api(world) as client:
        listed = client.get("/v1/users/bea/beliefs").raise_for_status().json()["items"]
    added = next(b for b in listed if b["statement"] == "I am learning Portuguese")
    assert (added["kind"], added["origin"]) == ("goal", "edited")


def test_about_you_leads_with_the_profile_and_asks_which_claim_is_true_now(world, browser) -> None:
    w, _ = world
    seed_profile(w.engine, "hal", "Hal")
    page = open_mirror(world, browser, "hal")
    about = page.locator("section.about")
    expect(about.get_by_role("heading", name="About you", exact=True)).to_be_visible()
    # The first section of the page, before the belief groups.
    assert page.locator("main section").first.get_attribute("class") == "about"
    home = about.locator(".fact", has_text="Where you live")
    expect(home).to_contain_text("Edinburgh")
    expect(home).to_contain_text("since")
    expect(home).to_contain_text("before: London")
    expect(about.locator(".fact", has_text="What you do")).to_contain_text("Nurse")
    expect(about.locator(".about-pets")).to_contain_text("You have a dog named Biscuit")
    expect(about.locator(".about-answers")).to_contain_text("You want the assistant to keep")
    question = page.locator("section.asks .question")
    liked, denied = PROFILE_MESSAGES[-1][1], DENIAL[1]
    if (liked.year, liked.month) == (denied.year, denied.month):
        asked = "You said you like jazz, and later that you don't — which is true now?"
    else:
        asked = (
            f"You said you like jazz in {liked:%B}, and in {denied:%B} that you don't"
            " — which is true now?"
        )
    expect(question.locator(".question-text")).to_have_text(asked)
    screenshot(page, "about-desktop")
    page.set_viewport_size(PHONE)
    screenshot(page, "about-phone")
    page.set_viewport_size(DESKTOP)

    # One click answers it: the later one is true now, the earlier one ends.
    question.get_by_role("button", name="This is true now: You don't like jazz").click()
    expect(page.locator("#notice")).to_have_text(
        "Thanks — we'll go by what's true now and set the other aside."
    )
    expect(page.locator(".question")).to_have_count(0)
    expect(page.locator(".set-aside")).to_contain_text("You like jazz")
    with api(world) as client:
        assert client.get("/v1/users/hal/conflicts").raise_for_status().json() == []
        everything = client.get("/v1/users/hal/beliefs", params={"status": "all"})
    held = everything.raise_for_status().json()["items"]
    denial = next(b for b in held if b["statement"] == "Hal doesn't like jazz")
    liked = next(b for b in held if b["statement"] == "Hal likes jazz")
    assert (denial["origin"], denial["status"]) == ("confirmed", "active")
    assert (liked["status"], liked["superseded_by"]) == ("superseded", denial["id"])


def ask_again(world: tuple[MirrorWorld, str], browser: Browser, user: str, name: str):
    """Open the Mirror of a person with a claim raised again after a rejection; its question."""
    w, _ = world
    rejected, raised = seed_raised_again(w.engine, user, name)
    page = open_mirror(world, browser, user)
    asked = page.locator("section.asks li.recheck")
    expect(asked).to_have_count(1)
    expect(asked.locator(".question-text")).to_have_text(
        "You told us “You are a huge fan of heavy metal” wasn't you."
        " Recently you said “Heavy metal is your favourite music” — is it you now?"
    )
    return page, asked, rejected, raised


def test_a_claim_raised_again_after_a_rejection_is_asked_and_a_no_sets_it_aside(
    world, browser
) -> None:
    page, asked, rejected, raised = ask_again(world, browser, "ivy", "Ivy")
    screenshot(page, "raised-again-desktop")
    page.set_viewport_size(PHONE)
    screenshot(page, "raised-again-phone")
    page.set_viewport_size(DESKTOP)
    asked.get_by_role("button", name="No, not me: Heavy metal is your favourite music").click()
    expect(page.locator("#notice")).to_contain_text("won't be used")
    expect(page.locator("li.recheck")).to_have_count(0)
    assert belief_of(world, raised)["belief"]["status"] == "rejected"
    assert belief_of(world, rejected)["belief"]["status"] == "rejected"
    with api(world) as client:
        assert client.get("/v1/users/ivy/profile").raise_for_status().json()["questions"] == []


def test_a_claim_raised_again_after_a_rejection_is_asked_and_a_yes_confirms_it(
    world, browser
) -> None:
    page, asked, _, raised = ask_again(world, browser, "jo", "Jo")
    asked.get_by_role("button", name="Yes, that's me: Heavy metal is your favourite music").click()
    expect(page.locator("#notice")).to_have_text("Thanks — marked as true of you.")
    assert belief_of(world, raised)["belief"]["origin"] == "confirmed"
    with api(world) as client:
        assert client.get("/v1/users/jo/profile").raise_for_status().json()["questions"] == []
    expect(page.locator("li.recheck")).to_have_count(0)


def test_selected_resonance_cards_become_evidence_and_unselected_ones_do_not(
    world, browser
) -> None:
    w, _ = world
    seed_person(w.engine, "cy", "Cy")
    with api(world) as client:
        pushed = (
            client.post(
                "/v1/users/cy/cards",
                json={
                    "source": "article:sleep",
                    "statements": [
                        {"statement": "Cy feels most creative late at night", "kind": "identity"},
                        {"statement": "Cy enjoys team sports", "kind": "preference"},
                    ],
                },
            )
            .raise_for_status()
            .json()["cards"]
        )
    page = open_mirror(world, browser, "cy")
    expect(page.get_by_role("heading", name="Does any of this sound like you?")).to_be_visible()
    screenshot(page, "resonance-desktop")
    page.set_viewport_size(PHONE)
    screenshot(page, "resonance-phone")
    page.set_viewport_size(DESKTOP)
    page.get_by_label("You feel most creative late at night").check()
    page.get_by_role("button", name="Save my answers").click()
    expect(page.locator("#notice")).to_have_text("Thanks — your answers were recorded.")
    expect(page.get_by_role("heading", name="Does any of this sound like you?")).to_have_count(0)

    with api(world) as client:
        answered = {
            c["statement"]: c
            for c in client.get("/v1/users/cy/cards").raise_for_status().json()["cards"]
        }
        chosen = answered["Cy feels most creative late at night"]
        skipped = answered["Cy enjoys team sports"]
        assert chosen["selected"] is True and chosen["belief_id"]
        assert skipped["selected"] is False and skipped["belief_id"] is None
        detail = client.get(f"/v1/beliefs/{chosen['belief_id']}").raise_for_status().json()
        beliefs = client.get("/v1/users/cy/beliefs").raise_for_status().json()["items"]
    assert detail["evidence"][0]["observation"]["kind"] == "selection"
    assert detail["belief"]["confidence"] > 0.8
    assert not any("team sports" in b["statement"] for b in beliefs)
    assert {p["id"] for p in pushed} == {chosen["id"], skipped["id"]}


def test_timeline_tells_the_story_newest_first(world, browser) -> None:
    w, _ = world
    seed_person(w.engine, "dev", "Dev")
    w.engine.confirm(statement_id(world, "dev", "marathon"))
    page = open_mirror(world, browser, "dev")
    page.get_by_role("link", name="Timeline").click()
    expect(page.get_by_role("heading", name="How your picture changed")).to_be_visible()
    first = page.locator("li.event").first
    expect(first).to_contain_text("You confirmed")
    expect(first).to_contain_text("marathon")
    screenshot(page, "timeline-desktop")
    page.set_viewport_size(PHONE)
    screenshot(page, "timeline-phone")


def test_export_downloads_everything_and_delete_needs_confirmation(world, browser) -> None:
    w, _ = world
    seed_person(w.engine, "eve", "Eve")
    page = open_mirror(world, browser, "eve")
    page.get_by_role("link", name="Your data").click()
    screenshot(page, "data-desktop")
    page.set_viewport_size(PHONE)
    screenshot(page, "data-phone")
    page.set_viewport_size(DESKTOP)
    with page.expect_download() as info:
        page.get_by_role("link", name="Download my data").click()
    exported = json.loads(Path(info.value.path()).read_text())
    assert exported["user"]["external_id"] == "eve"
    assert len(exported["observations"]) == len(w.engine.export("eve")["observations"])

    page.get_by_label("Type delete to confirm").fill("yes")
    page.get_by_role("button", name="Delete everything").click()
    expect(page.locator("#confirm-error")).to_be_visible()
    with api(world) as client:
        assert client.get("/v1/users/eve").status_code == 200

    page.get_by_label("Type delete to confirm").fill("delete")
    page.get_by_role("button", name="Delete everything").click()
    expect(page.get_by_role("heading", name="Everything is deleted")).to_be_visible()
    screenshot(page, "deleted-desktop")
    with api(world) as client:
        assert client.get("/v1/users/eve").status_code == 404
    page.goto(page.url.replace("/delete", "/"))
    expect(page.get_by_role("heading", name="This is not a working link")).to_be_visible()


def test_core_actions_work_without_javascript_and_by_keyboard(world, browser) -> None:
    w, _ = world
    seed_person(w.engine, "fay", "Fay")
    marathon = statement_id(world, "fay", "marathon")
    page = open_mirror(world, browser, "fay", java_script_enabled=False)
    # Reached from the first screen by keyboard alone: tab to its link, Enter, tab to the button.
    link = page.locator(f"a[href$='/beliefs/{marathon}']").first
    link.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/mirror/beliefs/{marathon}")
    button = page.get_by_role("button", name="This is me")
    button.focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**notice=confirmed**")
    assert belief_of(world, marathon)["belief"]["origin"] == "confirmed"
    # Every form control has an accessible name.
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll('input:not([type=hidden]), textarea, select,'
                + ' button')].filter(el => !(el.labels && el.labels.length)
                && !el.getAttribute('aria-label') && !el.textContent.trim()).length"""
    )
    assert unlabelled == 0


def test_refused_links_show_a_clear_page(world, browser) -> None:
    w, _ = world
    seed_person(w.engine, "gus", "Gus")
    with api(world) as client:
        link = client.post("/v1/users/gus/mirror-link", json={}).raise_for_status().json()
        client.delete(f"/v1/users/gus/mirror-links/{link['id']}").raise_for_status()
    page = browser.new_page(viewport=PHONE)
    response = page.goto(link["url"])
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", name="This link no longer works")).to_be_visible()
    screenshot(page, "refused-phone")
    tampered = link["url"][:-3] + ("AAA" if not link["url"].endswith("AAA") else "BBB")
    response = page.goto(tampered)
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", name="This link cannot be trusted")).to_be_visible()
    page.close()
