"""The Inspector in a real browser: an operator debugs an answer end to end.

docs/debugging.md's story, clicked through in Chromium (Debian's, via Playwright) against the
real app on a real uvicorn socket: sign in with the admin key, find the user, open the trace of
the answer that never mentioned hiking, ask why the hiking belief was not chosen, replay with a
larger budget so it gets in, read the diff, open the item's lineage; then the workspace's
audit (docs/audit.md) from the navigation. One browser launch; the screenshots (1280 px
wide) go to test-artifacts/inspector/ and illustrate the docs.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from selfmodel import SelfModel
from selfmodel.domain.debugging import Verdict
from selfmodel.embedding import SentenceTransformerEmbedder
from selfmodel.server import create_app
from selfmodel.tenancy import Scope
from tests.support.browser import (
    DESKTOP,
    INSPECTOR_ARTIFACTS,
    accessibility_problems,
    chromium,
    screenshot,
)
from tests.support.inspector import DEMO_QUERY, DEMO_USER, belief_id, observe_demo
from tests.support.server import new_workspace_key, running_server

pytestmark = pytest.mark.slow

# What the operator tries: a budget with room for every line the demo's self-model holds.
REPLAY_BUDGET = 1000


def shot(page: Page, name: str, *, full_page: bool = True) -> None:
    screenshot(page, name, INSPECTOR_ARTIFACTS, full_page=full_page)


def test_an_operator_finds_why_a_belief_was_left_out_and_a_replay_that_brings_it_in(
    tmp_path, exact_embedder: SentenceTransformerEmbedder
) -> None:
    # The story's figures are the model's own vectors: hiking sits at the budget's edge, in a
    # tie with pottery that bfloat16 rounding turns (SELFMODEL_EMBEDDING_PRECISION).
    with SelfModel.open(str(tmp_path / "inspector.db"), embedder=exact_embedder) as base:
        sm = base.in_workspace("acme")
        observe_demo(sm)
        sm.observe("someone-else", [{"content": "I collect vintage stamps."}])
        answer = sm.context(DEMO_USER, DEMO_QUERY)
        hiking = belief_id(sm, DEMO_USER, "loves hiking")
        assert hiking not in {i.id for i in answer.items}, "the story needs hiking left out"
        why = sm.why_not(answer.trace_id, hiking)
        assert why.verdict is not Verdict.CHOSEN
        replayed = sm.replay(answer.trace_id, {"budget_tokens": REPLAY_BUDGET})
        rank = next(r for r, c in enumerate(replayed.chosen, start=1) if c.id == hiking)
        admin = new_workspace_key(base.store, "acme", Scope.ADMIN)

        with running_server(create_app(base)) as base_url, chromium() as browser:
            page = browser.new_context(viewport=DESKTOP).new_page()
            page.set_default_timeout(60_000)  # a replay builds the past's index first

            # Signing in: the pages ask for it, then return to where the operator was going.
            page.goto(f"{base_url}/inspector/")
            page.wait_for_url("**/inspector/sign-in?**")
            page.get_by_label("Admin API key").fill(admin)
            shot(page, "sign-in")
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(f"{base_url}/inspector/")
            expect(page.get_by_role("heading", name="Users")).to_be_visible()

            # Finding the user, and the call that answered badly.
            page.get_by_label("Find a user").fill("may")
            page.get_by_role("button", name="Find").click()
            expect(page.locator("table.grid tbody tr")).to_have_count(1)
            shot(page, "users")
            page.get_by_role("link", name=DEMO_USER, exact=True).click()
            expect(page.get_by_role("heading", name="Recent context calls")).to_be_visible()
            expect(page.locator("table.beliefs")).to_contain_text("Maya loves hiking")
            shot(page, "user")
            page.get_by_role("link", name=DEMO_QUERY).click()
            page.wait_for_url(f"**/inspector/traces/{answer.trace_id}")
            expect(page.locator("table.items").first.locator("tbody tr")).to_have_count(
                len(answer.items)
            )
            assert accessibility_problems(page) == []
            shot(page, "trace", full_page=False)  # the first screen: the query, the items

            # Why not hiking? Asked of the beliefs Maya held then that the call left out.
            page.get_by_label("A belief the user held then, not chosen").select_option(hiking)
            page.get_by_role("button", name="Why not?").first.click()
            page.wait_for_url(f"**/why-not?item={hiking}")
            expect(page.locator(".verdict .tag")).to_have_text(why.verdict.value)
            expect(page.locator(".explanation")).to_contain_text(why.explanation[1:])
            shot(page, "why-not")

            # Replay with a larger budget: the editor shows the recorded configuration.
            page.get_by_role("link", name="Replay with another configuration").click()
            page.wait_for_url("**/replay?**")
            budget = page.get_by_label("budget_tokens", exact=True)
            expect(budget).to_have_value(str(answer.budget_tokens))
            budget.fill(str(REPLAY_BUDGET))
            page.get_by_role("button", name="Replay").click()
            expect(page.locator(".notice")).to_contain_text(f"now in the block, at rank {rank}")
            diff = page.locator("table.changes")
            expect(diff.locator("tr.change-gained")).to_have_count(len(replayed.gained))
            expect(diff.locator("tr.chased")).to_contain_text("Maya loves hiking")
            expect(page.locator(".diff .facts")).to_contain_text(
                f"{replayed.tokens_before} → {replayed.tokens_after}"
            )
            assert accessibility_problems(page) == []
            shot(page, "replay")

            # Where did it come from? Its lineage, from the diff.
            diff.locator("tr.chased").get_by_role("link", name="lineage").click()
            page.wait_for_url(f"**/lineage/{hiking}")
            expect(page.locator(".evidence")).to_contain_text("I love hiking in the mountains")
            lineage = sm.lineage(answer.trace_id, hiking)
            for extraction in lineage.extractions:
                expect(page.locator("section", has_text="Extraction")).to_contain_text(
                    str(extraction.version)
                )
            shot(page, "lineage")

            # The workspace's audit, from the navigation: the five problems and readiness.
            page.get_by_role("link", name="Audit", exact=True).click()
            page.wait_for_url(f"{base_url}/inspector/audit")
            expect(page.get_by_role("heading", name="Audit of workspace acme")).to_be_visible()
            expect(page.locator("section.problem")).to_have_count(6)
            assert page.evaluate("document.documentElement.scrollWidth") <= DESKTOP["width"]
            assert accessibility_problems(page) == []
            shot(page, "audit")
