"""The Mirror at real volume: a person with about three hundred messages behind them reads their
first screen in a minute, reaches every belief by its URL, answers the questions the model has,
and every page passes axe-core with no serious or critical violation.

The person's history is generated here (tests/support/mirror_volume.py), observed by the real
engine on SQLite, served by uvicorn, read by Debian's Chromium; every answer is checked through
the HTTP API, as the product would see it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from selfmodel import SelfModel
from selfmodel.embedding import SentenceTransformerEmbedder
from selfmodel.mirror.screens import QUOTES_SHOWN
from tests.support.browser import (
    ARTIFACTS,
    DESKTOP,
    PHONE,
    accessibility_problems,
    chromium,
    screenshot,
)
from tests.support.mirror import MirrorWorld, build_world
from tests.support.mirror_volume import seed_volume
from tests.support.server import running_server

pytestmark = pytest.mark.slow

USER, NAME = "rue", "Rue"
# The documented bound (docs/mirror.md): the first screen of this person, at 375 px, is shorter
# than this. Version 1 of the Mirror drew 40,929 px for a third of this history.
PHONE_HEIGHT_BOUND_PX = 7_000
DESKTOP_HEIGHT_BOUND_PX = 5_500

World = tuple[MirrorWorld, str]


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder
) -> Iterator[World]:
    db = tmp_path_factory.mktemp("mirror-volume") / "mirror.db"
    with SelfModel.open(str(db), embedder=embedder) as engine:
        w = build_world(engine)
        messages = seed_volume(w.engine, USER, NAME)
        assert messages >= 250  # "a few hundred messages"
        with running_server(w.app) as base_url:
            yield w, base_url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as b:
        yield b


def api(world: World) -> httpx.Client:
    w, base_url = world
    return httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {w.write_key}"})


def open_mirror(world: World, browser: Browser, **ctx: object) -> Page:
    with api(world) as client:
        link = client.post(f"/v1/users/{USER}/mirror-link", json={}).raise_for_status().json()
    context = browser.new_context(viewport=PHONE, **ctx)  # type: ignore[arg-type]
    page = context.new_page()
    page.goto(link["url"])
    page.wait_for_url("**/mirror/")
    return page


def belief(world: World, belief_id: str) -> dict:
    with api(world) as client:
        return client.get(f"/v1/beliefs/{belief_id}").raise_for_status().json()


def height(page: Page) -> int:
    return int(page.evaluate("document.documentElement.scrollHeight"))


def record(name: str, value: object) -> None:
    """Keep a measurement beside the screenshots (test-artifacts/mirror/measurements.json)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / "measurements.json"
    known = json.loads(path.read_text()) if path.exists() else {}
    known[name] = value
    path.write_text(json.dumps(known, indent=2, sort_keys=True))


def test_the_first_screen_is_the_person_and_stays_short(world: World, browser: Browser) -> None:
    page = open_mirror(world, browser)
    # In reading order: the profile, what changed, the questions, then everything else.
    order = page.locator("main > section").evaluate_all("els => els.map(e => e.className)")
    assert order[:4] == ["about", "recent", "asks", "everything"], order
    about = page.locator("section.about")
    expect(about.locator(".fact", has_text="Where you live")).to_contain_text("Porto")
    expect(about.locator(".fact", has_text="Where you live")).to_contain_text("before: Lisbon")
    expect(about.locator(".fact", has_text="What you do")).to_contain_text("Product designer")
    expect(about.locator(".fact", has_text="Where you work")).to_contain_text("Fieldnote")
    expect(about.locator(".about-people")).to_contain_text("Your husband is Sam")
    expect(about.locator(".about-people")).to_contain_text("Your sister is Ines")
    expect(about.locator(".about-pets")).to_contain_text("You have a cat named Miso")
    expect(about.locator(".about-into")).to_contain_text("pottery")
    expect(about.locator(".about-answers")).to_contain_text("short")
    # The first thing the page says about the person is the profile, not small talk.
    assert "You are" not in (about.locator(".fact").first.text_content() or "")

    phone = height(page)
    screenshot(page, "volume-home-phone")
    page.set_viewport_size(DESKTOP)
    desktop = height(page)
    screenshot(page, "volume-home-desktop")
    record("home_height_px", {"375": phone, "1280": desktop})
    assert phone < PHONE_HEIGHT_BOUND_PX
    assert desktop < DESKTOP_HEIGHT_BOUND_PX

    # Every group is ranked and capped; "show more" is a plain link (no script needed).
    likes = page.locator("div.kind", has_text="What you like")
    shown = likes.locator("li.belief-row").count()
    assert shown == 3
    more = likes.get_by_role("link", name="more: what you like")
    hidden = int((more.text_content() or "").split()[1])
    more.click()
    page.wait_for_url("**more=preference**")
    group = page.locator("div.kind", has_text="What you like").locator("li.belief-row")
    expect(group).to_have_count(shown + hidden)
    # Ranked by confidence × evidence (the same order as the profile's lists).
    with api(world) as client:
        listed = client.get(f"/v1/users/{USER}/beliefs", params={"limit": 500}).json()["items"]
    score = {b["id"]: b["confidence"] * (1 + b["support_count"]) for b in listed}
    ranked = [score[i] for i in group.evaluate_all("els => els.map(e => e.id)")]
    assert ranked == sorted(ranked, reverse=True)
    assert ranked[0] > ranked[-1]

    # The search box filters on the server.
    page.get_by_label("Search what we believe").fill("pottery")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url("**q=pottery**")
    rows = page.locator("section.everything li.belief-row")
    assert rows.count() >= 2
    expect(page.locator("section.set-aside")).to_have_count(0)  # the results include it
    for text in rows.locator("a.statement-link").all_text_contents():
        assert "pottery" in text.lower()


def test_show_more_and_search_work_without_javascript(world: World, browser: Browser) -> None:
    page = open_mirror(world, browser, java_script_enabled=False)
    group = page.locator("div.kind", has_text="What you've done").locator("li.belief-row")
    expect(group).to_have_count(3)
    page.get_by_role("link", name="more: what you've done").click()
    page.wait_for_url("**more=experience**")
    assert group.count() > 3
    page.get_by_label("Search what we believe").fill("jazz")
    page.keyboard.press("Enter")
    page.wait_for_url("**q=jazz**")
    found = page.locator("section.everything a.statement-link").all_text_contents()
    assert found and all("jazz" in text.lower() for text in found)


def test_every_belief_page_is_reachable_by_its_url(world: World, browser: Browser) -> None:
    page = open_mirror(world, browser)
    base = page.url.split("/mirror/")[0]
    with api(world) as client:
        everything = client.get(
            f"/v1/users/{USER}/beliefs", params={"status": "all", "limit": 500}
        ).json()["items"]
    assert len(everything) >= 40
    for b in everything:
        response = page.request.get(f"{base}/mirror/beliefs/{b['id']}")
        assert response.status == 200, b
        body = response.text()
        assert 'class="belief-title"' in body
        assert "How sure we are" in body and "How this came about" in body
    # A trait rests on many days: its page quotes the newest few, and every one on request.
    trait = next(b for b in everything if b["statement"] == "Rue is into pottery")
    page.goto(f"{base}/mirror/beliefs/{trait['id']}")
    expect(page.locator("ul.quotes > li")).to_have_count(QUOTES_SHOWN)
    page.get_by_role("link", name="Show all").click()
    page.wait_for_url("**quotes=all**")
    assert page.locator("ul.quotes > li").count() > QUOTES_SHOWN
    screenshot(page, "volume-trait-phone")
    # A liking said on many days tells its repeats in one sentence.
    liking = next(b for b in everything if b["statement"] == "Rue loves pottery")
    page.goto(f"{base}/mirror/beliefs/{liking['id']}")
    expect(page.locator(".story")).to_contain_text("It came up again on")
    assert page.locator(".story li").count() <= 4
    # One of them as the person sees it.
    page.goto(f"{base}/mirror/beliefs/{everything[0]['id']}")
    screenshot(page, "volume-belief-phone")
    page.set_viewport_size(DESKTOP)
    screenshot(page, "volume-belief-desktop")


def test_a_conflict_card_resolves_into_a_correction(world: World, browser: Browser) -> None:
    page = open_mirror(world, browser)
    question = page.locator("section.asks .question", has_text="coffee")
    expect(question.locator(".question-text")).to_contain_text("You said you love coffee in")
    expect(question.locator(".question-text")).to_contain_text("which is true now?")
    question.get_by_role("button", name="This is true now: You don't like coffee").click()
    expect(page.locator("#notice")).to_contain_text("we'll go by what's true now")
    expect(page.locator("section.asks .question", has_text="coffee")).to_have_count(0)
    with api(world) as client:
        assert client.get(f"/v1/users/{USER}/conflicts").raise_for_status().json() == []
        held = client.get(
            f"/v1/users/{USER}/beliefs", params={"status": "all", "limit": 500}
        ).json()["items"]
    denial = next(b for b in held if b["statement"] == "Rue doesn't like coffee")
    liked = next(b for b in held if b["statement"] == "Rue loves coffee")
    assert (denial["origin"], denial["status"]) == ("confirmed", "active")
    assert (liked["status"], liked["superseded_by"]) == ("superseded", denial["id"])


def test_a_stale_plan_is_asked_and_its_answer_ends_it(world: World, browser: Browser) -> None:
    page = open_mirror(world, browser)
    plan = page.locator("section.asks li.plan", has_text="half marathon")
    expect(plan).to_contain_text("that date has passed")
    plan.get_by_role("button", name="It's over").click()
    expect(page.locator("#notice")).to_have_text("Marked as no longer true.")
    with api(world) as client:
        held = client.get(
            f"/v1/users/{USER}/beliefs", params={"status": "all", "limit": 500}
        ).json()["items"]
    ended = next(b for b in held if "half marathon" in b["statement"])
    assert ended["status"] == "superseded"


def test_a_check_in_answer_changes_the_model(world: World, browser: Browser) -> None:
    page = open_mirror(world, browser)
    checks = page.locator("section.asks li.check-in")
    expect(checks.first).to_be_visible()
    assert checks.count() <= 3

    def belief_id(item) -> str:
        href = item.get_by_role("link", name="Why we think this").get_attribute("href") or ""
        return href.rsplit("/", 1)[-1]

    first = checks.first
    chosen = belief_id(first)
    before = belief(world, chosen)["belief"]
    first.get_by_role("button", name="Yes, still me").click()
    expect(page.locator("#notice")).to_have_text("Thanks — noted that this is still you.")
    after = belief(world, chosen)
    assert after["belief"]["confidence"] > before["confidence"] + 0.1
    kinds = [e["observation"]["kind"] for e in after["evidence"] if e["observation"]]
    assert "selection" in kinds
    expect(page.locator(f"section.asks a[href$='/beliefs/{chosen}']")).to_have_count(0)

    second = page.locator("section.asks li.check-in").first
    dropped = belief_id(second)
    second.get_by_role("button", name="Not any more").click()
    expect(page.locator("#notice")).to_have_text("Marked as no longer true.")
    ended = belief(world, dropped)
    assert ended["belief"]["status"] == "superseded"
    against = [e for e in ended["evidence"] if e["evidence"]["stance"] == "contradicts"]
    assert [e["observation"]["kind"] for e in against] == ["selection"]


def test_a_check_in_is_answered_by_keyboard_alone_with_a_visible_focus_ring(
    world: World, browser: Browser
) -> None:
    page = open_mirror(world, browser)
    label = ""
    for _ in range(150):
        page.keyboard.press("Tab")
        label = page.evaluate("() => document.activeElement.getAttribute('aria-label') || ''")
        if label.startswith("Yes, still me: "):
            break
    assert label.startswith("Yes, still me: "), "no check-in answer is reachable with Tab"
    ring = page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement);"
        " return [s.outlineStyle, parseFloat(s.outlineWidth)]; }"
    )
    assert ring[0] != "none" and ring[1] >= 2, ring
    href = page.evaluate(
        "() => document.activeElement.closest('li.check-in')"
        ".querySelector('a[href*=\"/beliefs/\"]').getAttribute('href')"
    )
    chosen = href.rsplit("/", 1)[-1]
    with api(world) as client:
        before = len(client.get(f"/v1/users/{USER}/export").json()["observations"])
    page.keyboard.press("Enter")
    expect(page.locator("#notice")).to_have_text("Thanks — noted that this is still you.")
    with api(world) as client:
        after = client.get(f"/v1/users/{USER}/export").json()["observations"]
    assert len(after) == before + 1
    (answer,) = [o for o in after if o["metadata"].get("check_in") == chosen]
    assert answer["kind"] == "selection"


def test_no_mirror_page_has_a_serious_accessibility_violation(
    world: World, browser: Browser
) -> None:
    page = open_mirror(world, browser)
    base = page.url.split("/mirror/")[0]
    with api(world) as client:
        some = client.get(f"/v1/users/{USER}/beliefs", params={"limit": 1}).json()["items"][0]
        aside = client.get(
            f"/v1/users/{USER}/beliefs", params={"status": "superseded", "limit": 1}
        ).json()["items"]
    pages = {
        "home": "/mirror/",
        "home, one group in full": "/mirror/?more=preference",
        "home, searched": "/mirror/?q=jazz",
        "home, after an action": "/mirror/?notice=confirmed",
        "belief": f"/mirror/beliefs/{some['id']}",
        "belief set aside": f"/mirror/beliefs/{aside[0]['id']}" if aside else None,
        "timeline": "/mirror/timeline",
        "your data": "/mirror/delete",
        "not found": "/mirror/beliefs/bel_nobody",
    }
    found: dict[str, object] = {}
    for name, path in pages.items():
        if path is None:
            continue
        for viewport in (PHONE, DESKTOP):
            page.set_viewport_size(viewport)
            page.goto(base + path)
            found[f"{name} @ {viewport['width']}"] = accessibility_problems(page)
    # The pages seen without a session: a refused link, and the page after deleting.
    stranger = browser.new_page(viewport=PHONE)
    stranger.goto(base + "/mirror/")
    found["refused"] = accessibility_problems(stranger)
    stranger.close()
    page.goto(base + "/mirror/delete")
    page.get_by_label("Type delete to confirm").fill("delete")
    page.get_by_role("button", name="Delete everything").click()
    expect(page.get_by_role("heading", name="Everything is deleted")).to_be_visible()
    found["deleted"] = accessibility_problems(page)
    record("axe_serious_or_critical", {k: len(v) for k, v in found.items()})  # type: ignore[arg-type]
    assert all(not v for v in found.values()), json.dumps(found, indent=1)
